# One host's certificate for TLS migrations (migration.tls), put where its libvirt takes
# QEMU's migration TLS files from: migrate_tls_x509_cert_dir in qemu.conf, else
# /etc/pki/libvirt-migrate where it exists, else default_tls_x509_cert_dir, else
# /etc/pki/qemu (libvirt's own order). Rendered with ACTION (up|down), NODE, LAB_ID, ADDR (the
# host's lab address: a leg migrates to tcp://<address>, and the source's QEMU checks the
# destination's certificate against that address, so it is an IP subject alternative name),
# EXPECT_DIR (the local site: the directory the host's own qemu.conf names; "" on real hosts),
# QEMU_CONF, CA_NODE and CA_ADDR (the host keeping the lab's CA, tls-ca.sh; CA_ADDR "" when it is
# this one), CA_DIR, DAYS, KEY and KNOWN_HOSTS (see prelude.sh), SIGN (tls-sign.sh).
# The key is made here and never leaves the host: only its request goes to the CA's host. One
# key and certificate serve both ends: QEMU is the server on the destination and the client on
# the source, which libvirt's default migrate_tls_x509_verify = 1 asks for its certificate.
# Files this lab did not make are never touched: a directory that holds another PKI's fails
# the up, naming it. down removes what up put there (and the directory, if up made it).
set -eu
FILES="ca-cert.pem server-cert.pem server-key.pem client-cert.pem client-key.pem"
OWN=".miglab-$LAB_ID"
WORK=""
trap '[ -z "$WORK" ] || rm -rf "$WORK"' EXIT
say() { echo "tls[$NODE]: $*" >&2; }
fail() { echo "host $NODE: $*" >&2; exit 1; }

# The last uncommented `name = "value"` of qemu.conf.
conf_value() {
  sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"\\(.*\\)\"[[:space:]]*\$/\\1/p" "$QEMU_CONF" 2>/dev/null | tail -n1
}
libvirt_dir() {
  local d; d=$(conf_value migrate_tls_x509_cert_dir)
  if [ -n "$d" ]; then echo "$d"
  elif [ -d /etc/pki/libvirt-migrate ]; then echo /etc/pki/libvirt-migrate
  else d=$(conf_value default_tls_x509_cert_dir); echo "${d:-/etc/pki/qemu}"; fi
}
# The group QEMU runs as, which must read the keys: qemu.conf's, else the distribution's.
qemu_group() {
  local g; g=$(conf_value group)
  for g in $g libvirt-qemu qemu kvm; do getent group "$g" >/dev/null 2>&1 && { echo "$g"; return; }; done
  echo root
}

# The CA's host signs the request on stdin; prints the certificate, then the CA's.
sign() {
  local csr; csr=$(cat)
  { printf 'CA_DIR=%q\nNODE=%q\nSAN=%q\nDAYS=%q\nCSR=%q\n' "$CA_DIR" "$NODE" "IP:$ADDR, DNS:$NODE" "$DAYS" "$csr"
    printf '%s\n' "$SIGN"; } |
    if [ -z "$CA_ADDR" ]; then bash -s
    else
      # shellcheck disable=SC2086 # SSH_OPTS is a list of options
      ssh $SSH_OPTS -i "$KEY" "root@$CA_ADDR" bash -s
    fi
}

up() {
  command -v openssl >/dev/null || fail "openssl is not installed: install openssl (migration.tls makes its certificate with it)"
  local dir created=0 out grp ep err
  dir=$(libvirt_dir)
  if [ -n "$EXPECT_DIR" ] && [ "$dir" != "$EXPECT_DIR" ]; then
    fail "its libvirt takes migration TLS files from $dir, not from its own $EXPECT_DIR: the lab was built before miglab gave each host one; rebuild it (pulumi destroy, then pulumi up)"
  fi
  if [ -d "$dir" ] && [ ! -e "$dir/$OWN" ]; then
    for f in $FILES; do
      [ -e "$dir/$f" ] && fail "its libvirt takes migration TLS files from $dir, which holds $f that this lab did not make; miglab does not replace another PKI: move that directory's files aside, or point migrate_tls_x509_cert_dir in $QEMU_CONF at an empty directory and restart libvirtd, or remove migration.tls"
    done
  fi
  [ -d "$dir" ] || created=1
  if [ -e "$dir/$OWN" ]; then created=$(sed -n 's/^created=//p' "$dir/$OWN"); fi
  mkdir -p "$dir"
  # Made beside the files it replaces (the same filesystem, so each lands whole by rename).
  WORK=$(mktemp -d "$dir/.new.XXXXXX")
  err=$( (umask 077; openssl req -new -newkey rsa:3072 -nodes -keyout "$WORK/server-key.pem" -out "$WORK/req.pem" -subj "/O=miglab/CN=$NODE") 2>&1 >/dev/null) ||
    fail "openssl could not make its key: $err"
  out=$(sign < "$WORK/req.pem" 2>"$WORK/sign.err") ||
    fail "the lab's CA on $CA_NODE did not sign its certificate: $(tr '\n' ' ' < "$WORK/sign.err")"
  printf '%s\n' "$out" | awk -v cert="$WORK/server-cert.pem" -v ca="$WORK/ca-cert.pem" \
    '{ print > (n ? ca : cert) } /-----END CERTIFICATE-----/ { n++ }'
  # What the peers' QEMU will check: signed by the CA, for this address, for both ends.
  for ep in sslserver sslclient; do
    err=$(openssl verify -CAfile "$WORK/ca-cert.pem" -purpose "$ep" -verify_ip "$ADDR" "$WORK/server-cert.pem" 2>&1) ||
      fail "its new certificate does not verify as $ep for $ADDR: $err"
  done
  cp "$WORK/server-cert.pem" "$WORK/client-cert.pem"
  cp "$WORK/server-key.pem" "$WORK/client-key.pem"
  grp=$(qemu_group)
  chmod 644 "$WORK/ca-cert.pem" "$WORK/server-cert.pem" "$WORK/client-cert.pem"
  chgrp "$grp" "$WORK/server-key.pem" "$WORK/client-key.pem"
  chmod 640 "$WORK/server-key.pem" "$WORK/client-key.pem"
  # And what QEMU itself checks as it loads them (key usage, purpose, chain), where qemu-img is.
  if command -v qemu-img >/dev/null; then
    for ep in server client; do
      err=$(qemu-img info --object "tls-creds-x509,id=miglab-tls,dir=$WORK,endpoint=$ep,verify-peer=on" 'json:{"driver":"null-co"}' 2>&1 >/dev/null) ||
        fail "QEMU refuses its new certificate as the $ep end: $err"
    done
  fi
  # Marked first: an up that stops half way leaves files the next one knows as the lab's.
  printf 'created=%s\n' "$created" > "$dir/$OWN"
  for f in $FILES; do mv -f "$WORK/$f" "$dir/$f"; done
  if command -v restorecon >/dev/null; then restorecon -R "$dir" 2>/dev/null || true; fi
  say "certificate for $ADDR in $dir, signed by the lab's CA on $CA_NODE"
  printf '%s %s %s\n' "$NODE" "$dir" "$(openssl x509 -in "$dir/server-cert.pem" -noout -fingerprint -sha256 | sed 's/^.*=//')"
}

down() {
  local dir created
  dir=$(libvirt_dir)
  if [ ! -e "$dir/$OWN" ]; then say "nothing of lab $LAB_ID in $dir"; return 0; fi
  created=$(sed -n 's/^created=//p' "$dir/$OWN")
  for f in $FILES; do rm -f "$dir/$f"; done
  rm -rf "$dir"/.new.*
  rm -f "$dir/$OWN"
  if [ "$created" = 1 ]; then rmdir "$dir" 2>/dev/null || true; fi
  say "removed the lab's certificate from $dir"
}

case "$ACTION" in
  up) up ;;
  down) down ;;
  *) echo "tls-host: ACTION must be up or down" >&2; exit 2 ;;
esac
