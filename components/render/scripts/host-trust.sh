# Site ssh: installs (up) the lab's own key for host-to-host traffic (virsh's
# qemu+ssh, iperf3, the probe) on one node, with the recorded host keys of every
# node so those connections verify whom they reach; removes all of it (down).
# Rendered with ACTION, NODE, LAB_ID, KEY (private key path), PUB (public key
# line), KNOWN (known_hosts lines), PEERS (the nodes' lab addresses),
# KNOWN_HOSTS and CONFIG_FILE (an ssh_config.d file; libvirt's ssh transport
# takes no -o options). The private key comes on stdin, never in the command.
set -eu
AUTH=/root/.ssh/authorized_keys
TAG="miglab-$LAB_ID"
drop_auth() { # the lab key's line, from the file of root's authorized keys
  [ -f "$AUTH" ] || return 0
  grep -v " $TAG\$" "$AUTH" > "$AUTH.miglab" || true
  cat "$AUTH.miglab" > "$AUTH"; rm -f "$AUTH.miglab"
}
if [ "$ACTION" = up ]; then
  umask 077
  [ -d /root/.ssh ] || { mkdir -p /root/.ssh; touch "/root/.ssh/.$TAG-made"; }
  [ -f "$AUTH" ] || touch "/root/.ssh/.$TAG-auth-made" "$AUTH"
  cat > "$KEY.new"; mv "$KEY.new" "$KEY"
  grep -q "PRIVATE KEY" "$KEY" || { echo "node $NODE: the lab key did not arrive" >&2; exit 1; }
  printf '%s\n' "$PUB" > "$KEY.pub"
  printf '%s\n' "$KNOWN" > "$KNOWN_HOSTS"
  drop_auth
  # Only from the lab's own addresses.
  echo "from=\"$(echo $PEERS | tr ' ' ',')\" $(echo "$PUB" | awk '{print $1, $2}') $TAG" >> "$AUTH"
  umask 022
  mkdir -p "$(dirname "$CONFIG_FILE")"
  cat > "$CONFIG_FILE" <<EOF
# miglab lab $LAB_ID: how root reaches the lab's nodes (removed by pulumi destroy)
Host $PEERS
  User root
  IdentityFile $KEY
  IdentitiesOnly yes
  UserKnownHostsFile $KNOWN_HOSTS
  StrictHostKeyChecking yes
EOF
  echo "node $NODE: lab key $TAG installed, $(echo "$KNOWN" | grep -c .) host keys known" >&2
else
  drop_auth
  rm -f "$KEY" "$KEY.pub" "$KEY.new" "$KNOWN_HOSTS" "$CONFIG_FILE"
  if [ -f "/root/.ssh/.$TAG-auth-made" ]; then rm -f "/root/.ssh/.$TAG-auth-made"; [ -s "$AUTH" ] || rm -f "$AUTH"; fi
  if [ -f "/root/.ssh/.$TAG-made" ]; then rm -f "/root/.ssh/.$TAG-made"; rmdir /root/.ssh 2>/dev/null || true; fi
  echo "node $NODE: lab key $TAG removed" >&2
fi
