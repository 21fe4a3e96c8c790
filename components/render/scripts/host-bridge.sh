# Site ssh, topology same-subnet: puts the host's lab interface into a Linux bridge
# (up) so guests share its segment, or takes it out again (down). Rendered with
# ACTION, NODE, ADDR (the host's lab address), BRIDGE and STATE (where the uplink's
# name and routes are kept for down). The bridge takes the uplink's MAC, addresses
# and routes, so the host stays reachable at the same address throughout.
set -eu
# Moving the address may stall the SSH session that runs this for a moment: finish anyway.
trap '' HUP
v4_addrs() { ip -o -4 addr show dev "$1" | awk '{print $4}'; }
moved_routes() { ip -4 route show dev "$1" | grep -v ' proto kernel ' || true; }
move() { # addresses and routes from $1 to $2
  local routes; routes=$(moved_routes "$1")
  for a in $(v4_addrs "$1"); do ip addr del "$a" dev "$1"; ip addr add "$a" dev "$2"; done
  while read -r r; do if [ -n "$r" ]; then ip route replace $r dev "$2"; fi; done <<EOF
$routes
EOF
}
if [ "$ACTION" = up ]; then
  if ip -o -4 addr show dev "$BRIDGE" 2>/dev/null | grep -q " ${ADDR}/"; then
    echo "host $NODE: $BRIDGE holds $ADDR" >&2; exit 0
  fi
  dev=$(ip -o -4 addr show | awk -v a="$ADDR" '{split($4, p, "/"); if (p[1] == a) print $2}' | head -n1)
  [ -n "$dev" ] || { echo "host $NODE: no interface has the lab address $ADDR; hosts[].address must be an address the host has" >&2; exit 1; }
  mkdir -p "$STATE"; echo "$dev" > "$STATE/bridge-uplink"
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge stp_state 0 forward_delay 0
  ip link set "$BRIDGE" address "$(cat "/sys/class/net/$dev/address")"
  ip link set "$dev" master "$BRIDGE"
  ip link set "$BRIDGE" up
  move "$dev" "$BRIDGE"
  echo "host $NODE: $dev is in $BRIDGE, which holds $ADDR" >&2
else
  if [ -f "$STATE/bridge-uplink" ]; then
    dev=$(cat "$STATE/bridge-uplink")
    ip link set "$dev" nomaster 2>/dev/null || true
    ip link show "$BRIDGE" >/dev/null 2>&1 && move "$BRIDGE" "$dev"
    rm -f "$STATE/bridge-uplink"
  fi
  ip link del "$BRIDGE" 2>/dev/null || true
  rmdir "$STATE" /var/lib/miglab 2>/dev/null || true
  echo "host $NODE: $BRIDGE removed" >&2
fi
