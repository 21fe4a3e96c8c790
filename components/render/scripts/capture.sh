# A leg's packet capture (migration.capture), run on the node that captures: the router on the
# local site's routed labs, else the leg's source. migrate-leg.sh sends it there after a line
# `set -- ACTION ARGS...`; rendered (without the prelude) with GUEST_ADDR, the guest's address.
#   start FILE TOWARD     dumpcap on the link towards the address TOWARD (a bridge's uplink port in
#                         the bridge's place: Open vSwitch's userspace tunnels leave through it, not
#                         through the bridge's own interface) into FILE (pcap); prints "PID IFACE"
#                         once it captures, or "failed: why"
#   stop FILE PID T0 T1   stops it and prints the capture section's body: what dumpcap counted, the
#                         tunnelled frames per tunnel id and way (and between T0 and T1, the tunnel
#                         counter's reads, "-" without), then the frames listed one by one
#   halt FILE PID         stops it (the leg ended early; the file stays)
# The frames kept are what the guests' network sends (tunnelled, ICMP, ARP and RARP), not the
# migration stream, which stays out of a file that is kept. The frames listed one by one are
# the announcements (ARP/RARP) and the ICMP echo replies to the guest inside a tunnel, their
# fields in the order components/reports/capture.ts reads them (CAPTURE_COLUMNS).
set -u
FILTER='udp port 4789 or ip proto 47 or icmp or arp or rarp'
DECODE='udp.port==4789,vxlan'

iface_towards() { # $1: an address: the interface the node reaches it through
  local dev p
  dev=$(ip -o route get "$1" 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n1)
  if [ -n "$dev" ] && [ -d "/sys/class/net/$dev/bridge" ]; then
    # A Linux bridge: its port that is not a guest's tap.
    for p in /sys/class/net/"$dev"/brif/*; do
      p=${p##*/}
      if [ -e "/sys/class/net/$p" ] && [ ! -e "/sys/class/net/$p/tun_flags" ]; then dev=$p; break; fi
    done
  elif [ -n "$dev" ] && command -v ovs-vsctl >/dev/null && ovs-vsctl --timeout=5 br-exists "$dev" 2>/dev/null; then
    p=$(ovs-vsctl --timeout=5 list-ports "$dev" 2>/dev/null | head -n1)
    [ -n "$p" ] && dev=$p
  fi
  echo "$dev"
}

stop_dumpcap() { # $1 file, $2 pid: asks dumpcap to end (it writes its counts as it does) and waits for it
  kill -INT "$2" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$2" 2>/dev/null || break; sleep 0.05; done
}

case "$1" in
  start)
    for t in dumpcap tshark; do
      command -v $t >/dev/null || { echo "failed: $t is not installed (Debian's package tshark has both)"; exit 0; }
    done
    dev=$(iface_towards "$3")
    [ -n "$dev" ] || { echo "failed: no route to $3"; exit 0; }
    mkdir -p "${2%/*}" || { echo "failed: cannot make ${2%/*}"; exit 0; }
    nohup dumpcap -i "$dev" -P -q -B 16 -f "$FILTER" -w "$2" >"$2.log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 200); do
      grep -q 'Capturing on' "$2.log" && break
      kill -0 $pid 2>/dev/null || break
      sleep 0.05
    done
    if grep -q 'Capturing on' "$2.log"; then
      echo "$pid $dev"
    else
      echo "failed: dumpcap on $dev: $(tr '\n' ' ' <"$2.log")"
      kill $pid 2>/dev/null; rm -f "$2" "$2.log"
    fi
    ;;
  stop)
    stop_dumpcap "$2" "$3"
    # "Packets received/dropped on interface 'eth0': 812/0 (...)"
    sed -n "s|^Packets received/dropped on interface [^:]*: \([0-9]*\)/\([0-9]*\).*|dumpcap \1 \2|p" "$2.log" | head -n1
    rm -f "$2.log"
    tshark -r "$2" -d "$DECODE" -Y 'vxlan || gre' -T fields -E separator=, -E occurrence=f \
        -e frame.time_epoch -e vxlan.vni -e gre.key -e ip.src -e ip.dst 2>/dev/null |
      awk -F, -v a="$4" -v b="$5" '
        { id = $2 != "" ? $2 : $3; k = id " " $4 " " $5; n[k]++; if (a != "-" && $1 >= a && $1 <= b) w[k]++ }
        END { for (k in n) print "tunnel", k, n[k], w[k] + 0 }'
    tshark -r "$2" -d "$DECODE" -Y "arp || (icmp.type == 0 && ip.dst == $GUEST_ADDR && (vxlan || gre))" -T fields -E separator=/t \
        -e frame.time_epoch -e vxlan.vni -e gre.key -e ip.src -e ip.dst -e eth.src -e arp.opcode -e arp.src.proto_ipv4 \
        -e arp.dst.proto_ipv4 -e icmp.type -e icmp.seq 2>/dev/null | sed 's/^/frame\t/'
    ;;
  halt)
    stop_dumpcap "$2" "$3"
    rm -f "$2.log"
    ;;
esac
