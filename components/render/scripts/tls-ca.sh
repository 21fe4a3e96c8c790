# The lab's own certificate authority for TLS migrations (migration.tls), kept on one host
# (the first a TLS migration visits) in a directory only root reads. On the local site that
# host's namespace sees the lab's state directory on this machine, so the CA's key stays in
# it; on real hosts it stays on that host. Neither puts the key in Pulumi's state: the hosts
# send it their requests (tls-host.sh, tls-sign.sh). Rendered with ACTION (up|down), NODE,
# LAB_ID, CA_DIR and DAYS (the CA's validity).
# up: makes the CA unless one valid for 30 more days is there, and prints its certificate's
# SHA-256 fingerprint (a new CA re-issues every host's certificate). down: removes it.
set -eu
say() { echo "tls-ca[$NODE]: $*" >&2; }
command -v openssl >/dev/null || { echo "host $NODE: openssl is not installed: install openssl (the lab's migration CA is made with it)" >&2; exit 1; }

up() {
  umask 077
  mkdir -p "$CA_DIR"
  chmod 700 "$CA_DIR"
  if [ -s "$CA_DIR/ca-key.pem" ] && [ -s "$CA_DIR/ca-cert.pem" ] &&
    openssl x509 -in "$CA_DIR/ca-cert.pem" -noout -checkend $((30 * 86400)) >/dev/null 2>&1; then
    say "keeps the lab's CA in $CA_DIR"
  else
    # A config of its own: the machine's openssl.cnf may add extensions a CA must not have.
    cat > "$CA_DIR/ca.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
x509_extensions = ext
[dn]
O = miglab
CN = miglab $LAB_ID migration CA
[ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
    local err
    err=$(openssl req -x509 -new -newkey rsa:3072 -nodes -keyout "$CA_DIR/ca-key.pem.new" -out "$CA_DIR/ca-cert.pem.new" \
      -days "$DAYS" -sha256 -config "$CA_DIR/ca.cnf" 2>&1 >/dev/null) ||
      { echo "host $NODE: openssl could not make the lab's migration CA: $err" >&2; exit 1; }
    mv "$CA_DIR/ca-key.pem.new" "$CA_DIR/ca-key.pem"
    mv "$CA_DIR/ca-cert.pem.new" "$CA_DIR/ca-cert.pem"
    say "made the lab's CA in $CA_DIR"
  fi
  openssl x509 -in "$CA_DIR/ca-cert.pem" -noout -fingerprint -sha256 | sed 's/^.*=//'
}

down() {
  rm -rf "$CA_DIR"
  # The lab's directory on a real host, once nothing else of the lab is left in it.
  rmdir "${CA_DIR%/*}" 2>/dev/null || true
  say "removed the lab's CA"
}

case "$ACTION" in
  up) up ;;
  down) down ;;
  *) echo "tls-ca: ACTION must be up or down" >&2; exit 2 ;;
esac
