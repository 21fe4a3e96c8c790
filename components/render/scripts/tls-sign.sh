# Signs one host's certificate request with the lab's migration CA, on the host that keeps it
# (tls-ca.sh). tls-host.sh sends it there (bash -s), after lines setting CA_DIR, NODE (the
# host asking), SAN (its subject alternative names), DAYS and CSR (its request, PEM). Prints
# the certificate, then the CA's. The certificate serves both ends of a migration: QEMU is
# the TLS server on the destination and the client on the source.
set -eu
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
[ -s "$CA_DIR/ca-key.pem" ] || { echo "the lab's migration CA is not in $CA_DIR: pulumi up makes it (the lab's -tls-ca resource)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%s\n' "$CSR" > "$work/req.pem"
cat > "$work/ext.cnf" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = $SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
openssl x509 -req -in "$work/req.pem" -CA "$CA_DIR/ca-cert.pem" -CAkey "$CA_DIR/ca-key.pem" \
  -set_serial "0x$(openssl rand -hex 16)" -days "$DAYS" -sha256 -extfile "$work/ext.cnf" -out "$work/cert.pem" 2>"$work/err" ||
  { echo "signing the certificate of $NODE failed: $(tr '\n' ' ' < "$work/err")" >&2; exit 1; }
cat "$work/cert.pem" "$CA_DIR/ca-cert.pem"
