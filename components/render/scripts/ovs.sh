# Ensures (up) or removes (down) this host's Open vSwitch bridges: br-phy holds the
# uplink and carries the host's underlay address and default route; the overlay
# bridge holds a tunnel port to every peer (full mesh) and the guests.
#
# Loop-free by split horizon, as VXLAN/EVPN fabrics with ingress replication do: every
# tunnel port is `protected`, and OVS's normal (learning) switch never forwards between
# two protected ports. The mesh is full, so a frame that arrived from a peer has already
# been sent by its origin to every other peer; sending it on would only make it circle
# (a flood loops forever with three or more hosts). Local ports (guests, the overlay
# gateway) stay unprotected: broadcasts and ARP from them still reach every peer, and
# MACs are learned per tunnel port, i.e. per remote VTEP. Chosen over STP/RSTP, which
# would block whole tunnels (traffic between two hosts detouring through a third, and
# seconds of reconvergence whenever a host comes or goes), and over hand-written
# flows, which would re-implement the learning switch that NORMAL already is. Rendered
# with ACTION, NODE, OWN_DAEMONS, UPLINK, ADDR, GW, PEERS ("port:ip ..."), VNI,
# TUNNEL (vxlan|gre), BRIDGE, OVERLAY_GW (the overlay gateway's cidr, on one host),
# STATE (where a real host's uplink is remembered).
#
# UPLINK empty (real hosts): the interface that holds ADDR goes into br-phy, and its
# addresses and routes move there with it, so the host stays reachable at its address
# through the team's own routes; what it had (addresses, routes, checksum offload, IP
# forwarding) is kept in STATE and put back on down. A named UPLINK (the local site,
# whose nodes are thrown away) takes ADDR and the default route via GW instead.
set -eu
RUN=/run/openvswitch
v4_addrs() { ip -o -4 addr show dev "$1" | awk '{print $4}'; }
own_routes() { ip -4 route show dev "$1" | grep -v ' proto kernel ' || true; }

# A real host's uplink as it was before up: out of br-phy (which goes), with its addresses,
# routes, checksum offload and IP forwarding back; the remembered state goes too.
restore_uplink() {
  local up a r
  up=$(cat "$STATE/ovs-uplink")
  ovs-vsctl --if-exists del-br "$BRIDGE" 2>/dev/null || true
  ovs-vsctl --if-exists del-br br-phy 2>/dev/null || true
  while read -r a; do
    if [ -n "$a" ] && ! ip addr show dev "$up" | grep -q " $a "; then ip addr add "$a" dev "$up"; fi
  done < "$STATE/ovs-addrs"
  while read -r r; do
    # shellcheck disable=SC2086  # (a route's words, as ip printed them)
    if [ -n "$r" ]; then ip route replace $r dev "$up"; fi
  done < "$STATE/ovs-routes"
  if [ "$(cat "$STATE/ovs-tx" 2>/dev/null)" = on ]; then ethtool -K "$up" tx on >/dev/null 2>&1 || true; fi
  if [ -s "$STATE/ovs-ip-forward" ]; then sysctl -qw net.ipv4.ip_forward="$(cat "$STATE/ovs-ip-forward")"; fi
  rm -f "$STATE"/ovs-uplink "$STATE"/ovs-addrs "$STATE"/ovs-routes "$STATE"/ovs-tx "$STATE"/ovs-ip-forward
  rmdir "$STATE" /var/lib/miglab 2>/dev/null || true
}

start_daemons() {
  # Started directly, not with ovs-ctl: it would modprobe a kernel module this site lacks.
  mkdir -p "$RUN" /etc/openvswitch /var/log/openvswitch
  [ -f /etc/openvswitch/conf.db ] || ovsdb-tool create /etc/openvswitch/conf.db /usr/share/openvswitch/vswitch.ovsschema
  if ! alive "$(pidof_file $RUN/ovsdb-server.pid)"; then
    ovsdb-server /etc/openvswitch/conf.db --remote=punix:$RUN/db.sock --pidfile=$RUN/ovsdb-server.pid \
      --detach --log-file=/var/log/openvswitch/ovsdb-server.log
    ovs-vsctl --no-wait init
  fi
  if ! alive "$(pidof_file $RUN/ovs-vswitchd.pid)"; then
    ovs-vswitchd unix:$RUN/db.sock --pidfile=$RUN/ovs-vswitchd.pid --detach --log-file=/var/log/openvswitch/ovs-vswitchd.log
  fi
}

stop_daemons() {
  for d in ovs-vswitchd ovsdb-server; do
    pid=$(pidof_file "$RUN/$d.pid")
    if alive "$pid"; then kill "$pid"; for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done; fi
  done
}

if [ "$ACTION" = up ]; then
  [ "$OWN_DAEMONS" = 1 ] && start_daemons
  command -v ovs-vsctl >/dev/null || { echo "host $NODE: Open vSwitch is not installed: install openvswitch-switch" >&2; exit 1; }
  # The kernel datapath where the module exists (real hosts), the userspace one elsewhere.
  if [ -d /sys/module/openvswitch ] || modprobe -q openvswitch 2>/dev/null; then DP=system; else DP=netdev; fi
  if [ -z "$UPLINK" ]; then
    if [ -s "$STATE/ovs-uplink" ]; then
      UPLINK=$(cat "$STATE/ovs-uplink")
    else
      UPLINK=$(ip -o -4 addr show | awk -v a="${ADDR%/*}" '{split($4, p, "/"); if (p[1] == a) print $2}' | head -n1)
      [ -n "$UPLINK" ] || { echo "host $NODE: no interface has the lab address ${ADDR%/*}; hosts[].address must be an address the host has" >&2; exit 1; }
      [ "$UPLINK" != br-phy ] || { echo "host $NODE: br-phy already holds ${ADDR%/*} but miglab did not put it there; remove that bridge first" >&2; exit 1; }
      mkdir -p "$STATE"
      v4_addrs "$UPLINK" > "$STATE/ovs-addrs"; own_routes "$UPLINK" > "$STATE/ovs-routes"
      ethtool -k "$UPLINK" 2>/dev/null | awk '/^tx-checksumming:/ {print $2}' > "$STATE/ovs-tx"
      sysctl -n net.ipv4.ip_forward > "$STATE/ovs-ip-forward"
      echo "$UPLINK" > "$STATE/ovs-uplink"
      # A first up that fails puts the host back as it was: Pulumi keeps no state of a failed
      # create, so no destroy would.
      # shellcheck disable=SC2154  # (rc is set as the trap runs)
      trap 'rc=$?; if [ $rc -ne 0 ]; then echo "host $NODE: Open vSwitch setup failed: putting $UPLINK back" >&2; restore_uplink; fi; exit $rc' EXIT
    fi
    ovs-vsctl --may-exist add-br br-phy -- set bridge br-phy datapath_type=$DP \
      other-config:hwaddr="\"$(cat "/sys/class/net/$UPLINK/address")\""
    ovs-vsctl --may-exist add-port br-phy "$UPLINK"
    ip link set br-phy up
    while read -r a; do
      [ -n "$a" ] || continue
      ip addr del "$a" dev "$UPLINK" 2>/dev/null || true
      ip addr show dev br-phy | grep -q " $a " || ip addr add "$a" dev br-phy
    done < "$STATE/ovs-addrs"
    while read -r r; do
      # shellcheck disable=SC2086
      if [ -n "$r" ]; then ip route replace $r dev br-phy; fi
    done < "$STATE/ovs-routes"
  else
    ovs-vsctl --may-exist add-br br-phy -- set bridge br-phy datapath_type=$DP
    ovs-vsctl --may-exist add-port br-phy "$UPLINK"
    ip addr flush dev "$UPLINK"
    ip link set br-phy up
    ip addr show dev br-phy | grep -q " $ADDR " || ip addr add "$ADDR" dev br-phy
    [ -n "$GW" ] && ip route replace default via "$GW"
  fi
  ovs-vsctl --may-exist add-br "$BRIDGE" -- set bridge "$BRIDGE" datapath_type=$DP
  ip link set "$BRIDGE" up
  want=" "
  for peer in $PEERS; do
    port=${peer%%:*}; ip=${peer#*:}; want="$want$port "
    # A port of the other tunnel type (the stack switched vxlan <-> gre) is made again.
    have=$(ovs-vsctl --if-exists get interface "$port" type 2>/dev/null | tr -d '"')
    [ -n "$have" ] && [ "$have" != "$TUNNEL" ] && ovs-vsctl del-port "$BRIDGE" "$port"
    ovs-vsctl --may-exist add-port "$BRIDGE" "$port" -- set interface "$port" type="$TUNNEL" \
      options:remote_ip="$ip" options:key="$VNI" -- set port "$port" protected=true
  done
  # Tunnels to hosts the lab no longer has (or under an older name) go.
  for port in $(ovs-vsctl list-ports "$BRIDGE"); do
    case "$(ovs-vsctl get interface "$port" type | tr -d '"')" in
      vxlan|gre) case "$want" in *" $port "*) ;; *) ovs-vsctl del-port "$BRIDGE" "$port" ;; esac ;;
    esac
  done
  if [ -n "$OVERLAY_GW" ]; then
    # This host routes the overlay to the rest of the lab (and back, for replies to a moved guest).
    ovs-vsctl --may-exist add-port "$BRIDGE" ovgw -- set interface ovgw type=internal
    ip link set ovgw up
    ip addr show dev ovgw | grep -q " $OVERLAY_GW " || ip addr add "$OVERLAY_GW" dev ovgw
    sysctl -qw net.ipv4.ip_forward=1
  fi
  if [ "$DP" = netdev ]; then
    # The userspace datapath relays packets as read: checksums left to offload arrive broken.
    for dev in "$UPLINK" br-phy "$BRIDGE" $( [ -n "$OVERLAY_GW" ] && echo ovgw ); do
      ethtool -K "$dev" tx off >/dev/null 2>&1 || true
    done
  fi
  echo "host $NODE: br-phy ($DP) at $ADDR, $BRIDGE with $TUNNEL vni $VNI to: $PEERS" >&2
else
  ovs-vsctl --if-exists del-br "$BRIDGE" 2>/dev/null || true
  ovs-vsctl --if-exists del-br br-phy 2>/dev/null || true
  if [ -z "$UPLINK" ] && [ -s "$STATE/ovs-uplink" ]; then restore_uplink; fi
  [ "$OWN_DAEMONS" = 1 ] && stop_daemons
  echo "host $NODE: Open vSwitch bridges removed" >&2
fi
