# Turns this machine into the lab: one network namespace per node (hosts, the
# NFS server, the switch), each node with its own mount namespace, sshd and —
# for hypervisor hosts — its own libvirt daemon. Rendered with a header that
# sets ACTION (up|down), LAB_ID, STATE, OWNER, NODES and shaping variables.
#
# NODES: one line per node: "name role sshport gateway links", role = host | nfs |
# outside, gateway "-" for none, links "segment:cidr[,segment:cidr...]" (one veth
# and one switch namespace per segment). HOST_UPLINK: bridge | plain | ovs.
# FORWARD: nodes that route; ROUTES: "node destination via" lines. MIGRATE_TLS_DIR: where
# each host's libvirt takes QEMU's migration TLS files from, inside its own /etc/libvirt.
# Everything created is named after LAB_ID so two labs never collide, and
# every daemon's PID is kept under $STATE so `down` ends exactly what `up` began.
# A first `up` that fails half way removes what it made (Pulumi keeps no state of a
# failed create, so no `destroy` would). `down` also finds a lab's leftovers by its
# id alone (namespaces, the processes inside them, forwarders, links), as `mn -c` does.
set -eu

# root/.ssh too: ssh run inside a node (virsh's qemu+ssh among them) must not touch the machine's own.
NODE_DIRS="run var/lib/libvirt etc/libvirt var/log/libvirt var/cache/libvirt var/lib/nfs etc/openvswitch var/lib/openvswitch var/log/openvswitch root/.ssh"

log() { echo "local-site[$LAB_ID]: $*" >&2; }

node_ns() { echo "${LAB_ID}-$1"; }

# Runs a command inside a node's network and mount namespaces (the anchor holds them), never in
# the machine's own: a daemon started there would serve the machine's network.
in_node() {
  local name=$1 pid; shift; pid=$(cat "$STATE/nodes/$name/anchor.pid")
  if [ "$(readlink "/proc/$pid/ns/net")" = "$(readlink /proc/$$/ns/net)" ]; then
    log "node $name: its anchor ($pid) is not in the node's namespace"; return 1
  fi
  nsenter -t "$pid" -m -n -- "$@"
}

ensure_switch() { # one switch namespace per segment (subnet), a Linux bridge in each
  local sw="${LAB_ID}-sw$1"
  [ -e "/run/netns/$sw" ] || ip netns add "$sw"
  ip -n "$sw" link show br0 >/dev/null 2>&1 || ip -n "$sw" link add br0 type bridge
  ip -n "$sw" link set lo up
  ip -n "$sw" link set br0 up
}

shape() {
  # Egress shaping on a node's uplink; both directions are shaped because every node shapes its own egress.
  local ns=$1 dev=$2
  ip netns exec "$ns" tc qdisc del dev "$dev" root 2>/dev/null || true
  local netem=""
  [ "${LINK_DELAY_MS:-0}" != "0" ] && netem="$netem delay ${LINK_DELAY_MS}ms"
  if [ -n "${LINK_RATE:-}" ] && [ -n "$netem" ]; then
    ip netns exec "$ns" tc qdisc add dev "$dev" root handle 1: netem $netem rate "$LINK_RATE"
  elif [ -n "${LINK_RATE:-}" ]; then
    ip netns exec "$ns" tc qdisc add dev "$dev" root tbf rate "$LINK_RATE" burst 1mb latency 50ms
  elif [ -n "$netem" ]; then
    ip netns exec "$ns" tc qdisc add dev "$dev" root netem $netem
  fi
}

LINK_SEQ=0
# One veth per segment a node joins: eth0, eth1, ... in the order of its links.
ensure_links() {
  local name=$1 role=$2 links=$3 gw=$4 ns i=0 dev link seg cidr; ns=$(node_ns "$name")
  [ -e "/run/netns/$ns" ] || ip netns add "$ns"
  ip -n "$ns" link set lo up
  for link in ${links//,/ }; do
    seg=${link%%:*}; cidr=${link#*:}; dev=eth$i; i=$((i + 1)); LINK_SEQ=$((LINK_SEQ + 1))
    ensure_switch "$seg"
    local sw="${LAB_ID}-sw$seg" outer="${LAB_ID}s$LINK_SEQ"
    if ! ip -n "$ns" link show "$dev" >/dev/null 2>&1; then
      ip link add "$outer" type veth peer name "${LAB_ID}n$LINK_SEQ"
      ip link set "$outer" netns "$sw"
      ip link set "${LAB_ID}n$LINK_SEQ" netns "$ns"
      ip -n "$ns" link set "${LAB_ID}n$LINK_SEQ" name "$dev"
    fi
    # Room for a tunnel header: overlay frames of 1500 bytes cross the underlay whole.
    ip -n "$sw" link set "$outer" mtu "${LINK_MTU:-1500}" master br0 up
    ip -n "$ns" link set "$dev" mtu "${LINK_MTU:-1500}" up
    local on=$dev
    if [ "$role" = host ]; then
      case "$HOST_UPLINK" in
        # The guest shares the host's segment through a Linux bridge holding the uplink.
        bridge)
          ip -n "$ns" link show br-lab >/dev/null 2>&1 || ip -n "$ns" link add br-lab type bridge
          # The bridge keeps its uplink's MAC. Left to itself it takes its lowest port's MAC, which
          # is a guest tap's (fe:54:00:...) whenever the veth's random MAC is higher: the destination
          # of a migration, holding a tap of that same MAC, then took the source's frames as its own
          # and every leg from that host stalled ("keepalive timeout", nothing sent).
          ip -n "$ns" link set br-lab address "$(ip netns exec "$ns" cat "/sys/class/net/$dev/address")"
          ip -n "$ns" link set "$dev" master br-lab
          ip -n "$ns" link set br-lab up
          on=br-lab ;;
        # Open vSwitch takes the uplink; OvsBridge puts the address on br-phy.
        ovs) on="" ;;
      esac
    fi
    if [ -n "$on" ]; then
      ip -n "$ns" addr show dev "$on" | grep -q " ${cidr} " || ip -n "$ns" addr add "$cidr" dev "$on"
    fi
    # Open vSwitch's userspace datapath forwards what it reads from a veth as is: a packet
    # leaving with its checksum still to be filled in (offload) arrives broken. Fill it in.
    [ "$HOST_UPLINK" = ovs ] && ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null 2>&1
    shape "$ns" "$dev"
  done
  if [ "$gw" != - ] && { [ "$role" != host ] || [ "$HOST_UPLINK" != ovs ]; }; then
    ip -n "$ns" route replace default via "$gw"
  fi
  case " ${FORWARD:-} " in *" $name "*) ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 ;; esac
  drop_randomly "$ns"
}

# Loss without netem (which many kernels lack): iptables drops this share of what the
# node sends and routes. Frames a host only bridges for its guest are not counted.
drop_randomly() {
  local ns=$1 chain rule p
  for chain in OUTPUT FORWARD; do
    ip netns exec "$ns" iptables -S "$chain" 2>/dev/null | grep -e '--comment miglab-loss' | sed 's/^-A /-D /' |
      while read -r rule; do eval "ip netns exec \"\$ns\" iptables $rule"; done
    if [ "${LINK_LOSS_PCT:-0}" != "0" ]; then
      p=$(awk -v l="$LINK_LOSS_PCT" 'BEGIN { printf "%.4f", l / 100 }')
      ip netns exec "$ns" iptables -A "$chain" ! -o lo -m statistic --mode random --probability "$p" -m comment --comment miglab-loss -j DROP
    fi
  done
}

ensure_anchor() {
  local name=$1 ns d; ns=$(node_ns "$name"); d="$STATE/nodes/$name"
  alive "$(pidof_file "$d/anchor.pid")" && return 0
  for sub in $NODE_DIRS; do mkdir -p "$d/root/$sub"; done
  # Per-node copies of libvirt's configuration, edited below; the machine's own stays untouched.
  [ -f "$d/root/etc/libvirt/libvirtd.conf" ] || cp -a /etc/libvirt/. "$d/root/etc/libvirt/"
  rm -f "$d/root/etc/libvirt/qemu/networks/autostart/"*.xml
  mkdir -p "$d/root/run/sshd" "$d/root/run/libvirt" "$d/root/var/lib/nfs/ganesha" /root/.ssh
  # Lab hosts are re-created with new host keys: nodes trust each other by the lab key alone.
  cat > "$d/root/root/.ssh/config" <<EOF
Host *
  IdentityFile $STATE/ssh/id_ed25519
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
EOF
  local binds=""
  for sub in $NODE_DIRS; do binds="$binds mount --bind $d/root/$sub /$sub;"; done
  # The anchor is a sleeping process whose namespaces every daemon of the node joins.
  ip netns exec "$ns" unshare -m --propagation private sh -c "$binds exec sleep infinity" \
    </dev/null >/dev/null 2>&1 &
  local pid=$! want ours
  echo "$pid" > "$d/anchor.pid"
  # Ready once the anchor sleeps in the node's network namespace and a mount namespace of its own
  # (its bind mounts made). A path looked up through it passed too early on a busy machine
  # (/run/sshd exists on the machine too): the node's sshd then ran in the machine's namespaces.
  want="net:[$(stat -L -c %i "/run/netns/$ns")]"; ours=$(readlink /proc/$$/ns/mnt)
  for _ in $(seq 100); do
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sleep ] && [ "$(readlink "/proc/$pid/ns/net")" = "$want" ] &&
      [ "$(readlink "/proc/$pid/ns/mnt")" != "$ours" ]; then return 0; fi
    sleep 0.1
  done
  log "node $name: its namespaces did not come up"; return 1
}

ensure_sshd() {
  local name=$1 d; d="$STATE/nodes/$name"
  alive "$(pidof_file "$d/sshd.pid")" && return 0
  [ -f "$d/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N "" -f "$d/ssh_host_ed25519_key"
  cat > "$d/sshd_config" <<EOF
Port 22
HostKey $d/ssh_host_ed25519_key
PidFile $d/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $STATE/ssh/authorized_keys
StrictModes no
UsePAM no
MaxStartups 100:30:200
MaxSessions 100
Subsystem sftp internal-sftp
EOF
  in_node "$name" /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log"
  for _ in $(seq 50); do alive "$(pidof_file "$d/sshd.pid")" && return 0; sleep 0.1; done
  log "node $name: sshd did not start, see $d/sshd.log"; return 1
}

ensure_forwarder() {
  # The lab stays unreachable from the machine's own network: only a loopback port leads to each sshd.
  local name=$1 port=$2 d; d="$STATE/nodes/$name"
  alive "$(pidof_file "$d/forward.pid")" && return 0
  setsid socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
    "EXEC:nsenter --net=/run/netns/$(node_ns "$name") socat STDIO TCP\:127.0.0.1\:22" \
    </dev/null >"$d/forward.log" 2>&1 &
  echo $! > "$d/forward.pid"
}

# libvirt's cache of what each QEMU binary can do, kept for the whole machine. Every node's
# libvirtd would otherwise probe the same binaries as it starts (8 s per node on an idle machine,
# minutes under load, and that probe is what hung above); libvirt checks each entry against
# the binary, itself and the kernel and probes again when one is stale, so a copy is safe.
CAPS_CACHE=/var/cache/miglab/qemu-capabilities
seed_caps() { # NODE_CACHE_DIR
  [ -d "$CAPS_CACHE" ] && [ ! -d "$1" ] || return 0
  mkdir -p "$1" && cp -a "$CAPS_CACHE/." "$1/"
}
keep_caps() { # NODE_CACHE_DIR: what a node's libvirtd probed (or kept) becomes the machine's copy
  compgen -G "$1/*.xml" >/dev/null || return 0
  [ -d "$CAPS_CACHE" ] && diff -rq "$1" "$CAPS_CACHE" >/dev/null 2>&1 && return 0
  # Swapped in whole (labs start side by side): a reader finds the old copy, the new one or none.
  local new old; mkdir -p "${CAPS_CACHE%/*}"; new=$(mktemp -d "$CAPS_CACHE.new.XXXXXX") || return 0
  old="$CAPS_CACHE.old.${new##*.}"
  if cp -a "$1/." "$new/"; then
    [ ! -d "$CAPS_CACHE" ] || mv -T "$CAPS_CACHE" "$old" 2>/dev/null
    mv -T "$new" "$CAPS_CACHE" 2>/dev/null
  fi
  rm -rf "$new" "$old"; return 0
}

ensure_libvirtd() {
  local name=$1 cidr=$2 d conf; d="$STATE/nodes/$name"; conf="$d/root/etc/libvirt"
  alive "$(pidof_file "$d/root/run/libvirtd.pid")" && return 0
  local ip=${cidr%/*} uuid
  uuid=$(printf '%s' "$LAB_ID-$name" | md5sum | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/\1-\2-\3-\4-\5/')
  # libvirt refuses to migrate to "the same host": each node needs its own host_uuid (no SMBIOS here).
  sed -i '/^host_uuid/d; /^unix_sock_group/d' "$conf/libvirtd.conf"
  echo "host_uuid = \"$uuid\"" >> "$conf/libvirtd.conf"
  sed -i '/^migration_address/d; /^migration_host/d; /^security_driver/d; /^dynamic_ownership/d; /^stdio_handler/d; /^user =/d; /^group =/d; /^remember_owner/d; /^namespaces/d; /^migrate_tls_x509_cert_dir/d' "$conf/qemu.conf"
  # Each host's own directory for QEMU's migration TLS files (migration.tls puts them there): the
  # machine's /etc/pki is every node's. It must exist before libvirtd starts, which refuses a
  # migrate_tls_x509_cert_dir that does not.
  mkdir -p "$d/root$MIGRATE_TLS_DIR"
  # All namespaces share one hostname: name the address migrations must use.
  # QEMU runs as root without a security driver; no virtlogd runs here.
  cat >> "$conf/qemu.conf" <<EOF
migrate_tls_x509_cert_dir = "$MIGRATE_TLS_DIR"
migration_address = "$ip"
migration_host = "$ip"
security_driver = "none"
dynamic_ownership = 0
remember_owner = 0
stdio_handler = "file"
user = "root"
group = "root"
namespaces = [ ]
EOF
  # libvirtd probes QEMU's capabilities as it starts. On a loaded machine that exchange has
  # been seen to hang for good (libvirtd and the probing QEMU both waiting on the QMP socket,
  # neither leaving on SIGTERM), so every ask is bounded, and a daemon silent for a minute is
  # killed, with its probe, and started again.
  local try deadline caps="$d/root/var/cache/libvirt/qemu/capabilities" cpus
  seed_caps "$caps"
  # libvirt keeps the host's CPUID beside that cache and probes again when the two differ, and
  # here CPUID differs by the core that asks (its x2APIC id): a copy made on another core was
  # thrown away half the time. So every libvirtd starts on the first core, and gets them all back
  # once it answers (QEMU's own affinity is set by libvirt to all cores anyway).
  cpus=$(taskset -c -p $$ | sed 's/.*: //')
  for try in 1 2 3; do
    # libvirtd daemonizes each QEMU, whose parent is then the machine's PID 1 unless a subreaper
    # stands between. Where PID 1 is slow to reap (this kind of machine's init took 0.2-1.6 s),
    # the QEMU a migration left behind lingers as a zombie, and libvirt's confirm step polls it
    # (every 200 ms) until it is gone: the source of each leg's finish. tini -s, libvirtd's
    # parent, reaps at once. (Without tini, as before: libvirtd -d.)
    if command -v tini >/dev/null; then
      in_node "$name" setsid taskset -c "${cpus%%[,-]*}" tini -s -- /usr/sbin/libvirtd -p /run/libvirtd.pid \
        </dev/null >>"$d/libvirtd.out" 2>&1 &
    else
      in_node "$name" taskset -c "${cpus%%[,-]*}" /usr/sbin/libvirtd -d -p /run/libvirtd.pid
    fi
    deadline=$((SECONDS + 60))
    while [ $SECONDS -lt $deadline ]; do
      if in_node "$name" timeout 10 virsh -c qemu:///system version >/dev/null 2>&1; then
        log "node $name: libvirtd answered after $((SECONDS + 60 - deadline)) s"
        # (taskset fails when one of the daemon's threads ends meanwhile; the daemon runs either way)
        taskset -a -p -c "$cpus" "$(pidof_file "$d/root/run/libvirtd.pid")" >/dev/null 2>&1 || true
        keep_caps "$caps"; return 0
      fi
      sleep 0.2
    done
    log "node $name: libvirtd did not answer within 60 s (start $try of 3)"
    kill_pidfile "$d/root/run/libvirtd.pid"
    for f in "$d"/root/var/lib/libvirt/qemu/qmp-*/qmp.pid; do [ -e "$f" ] && kill_pidfile "$f"; done
  done
  log "node $name: libvirtd did not answer, see $d/root/var/log/libvirt"; return 1
}

# One lab id, one owner (OWNER: the program's directory). The same stack name in two checkouts
# (two clones of a team's repo) gives the same id: the second would take the first's lab over,
# and either one's destroy would remove it from under the other.
running() { local f; for f in "$STATE"/nodes/*/anchor.pid; do alive "$(pidof_file "$f")" && return 0; done; return 1; }
other_owner() { # prints the other owner whose lab this is, if it is up and that owner still exists
  local theirs=""; [ -f "$STATE/owner" ] && theirs=$(cat "$STATE/owner")
  [ -n "$theirs" ] && [ "$theirs" != "$OWNER" ] && [ -d "$theirs" ] && running && echo "$theirs"; return 0
}
claim() {
  local theirs; theirs=$(other_owner)
  if [ -n "$theirs" ]; then
    echo "local-site: lab $LAB_ID is up on this machine for the Pulumi program in $theirs (a stack of the same name there): destroy it there, or give this stack another name" >&2
    exit 3
  fi
  mkdir -p "$STATE"; printf '%s\n' "$OWNER" > "$STATE/owner"
}

up() {
  claim
  mkdir -p "$STATE/ssh" "$STATE/nodes"
  [ -f "$STATE/ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N "" -C "miglab-$LAB_ID" -f "$STATE/ssh/id_ed25519"
  cp "$STATE/ssh/id_ed25519.pub" "$STATE/ssh/authorized_keys"
  local first
  while read -r name role port gw links; do
    [ -n "$name" ] || continue
    mkdir -p "$STATE/nodes/$name"
    ensure_links "$name" "$role" "$links" "$gw"
    ensure_anchor "$name"
    ensure_sshd "$name"
    ensure_forwarder "$name" "$port"
    first=${links%%,*}
    [ "$role" = host ] && ensure_libvirtd "$name" "${first#*:}"
    log "node $name ($role) at $links, ssh on 127.0.0.1:$port"
  done <<NODES_END
$NODES
NODES_END
  # Static routes the topology needs ("node destination via"), e.g. to an overlay behind a host.
  while read -r name dest via; do
    [ -n "$name" ] && ip -n "$(node_ns "$name")" route replace "$dest" via "$via"
  done <<ROUTES_END
${ROUTES:-}
ROUTES_END
  # What the program needs to reach the nodes: the key the lab's sshd accept.
  echo "key=$STATE/ssh/id_ed25519"
}

kill_pid() {
  local pid=$1
  alive "$pid" || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do alive "$pid" || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

kill_pidfile() {
  local f=$1 pid; pid=$(pidof_file "$f")
  if alive "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

down() {
  [ -d "$STATE/nodes" ] || { log "nothing to remove"; return 0; }
  for d in "$STATE"/nodes/*/; do
    d=${d%/}
    # Guests first (QEMU's pid files live in the node's own /run), then the daemons.
    for f in "$d"/root/run/libvirt/qemu/*.pid; do [ -e "$f" ] && kill_pidfile "$f"; done
    # Then every other daemon that left a pid file in the node (libvirtd, ganesha, rpcbind, sshd,
    # the loopback forwarder), and the anchor last: it holds the namespaces.
    find "$d" -name '*.pid' ! -name anchor.pid -print0 | while IFS= read -r -d '' f; do kill_pidfile "$f"; done
    kill_pidfile "$d/anchor.pid"
    ip netns del "$(node_ns "$(basename "$d")")" 2>/dev/null || true
  done
  for sw in $(ip netns list | awk '{print $1}' | grep -x -e "${LAB_ID}-sw.*"); do ip netns del "$sw"; done
  rm -rf "$STATE"
  log "removed"
}

# Whatever is left of the lab without its state: every process inside one of its
# namespaces (QEMU, libvirtd, sshd, ganesha, the anchors), the loopback forwarders
# into them, the namespaces, and links still in this namespace. Only names made from
# LAB_ID are touched.
sweep() {
  local ns pid left=0 link
  for ns in $(ip netns list | awk '{print $1}' | grep -x -e "${LAB_ID}-.*" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill_pid "$pid"; left=$((left + 1)); done
  done
  for pid in $(pgrep -f "nsenter --net=/run/netns/${LAB_ID}-" 2>/dev/null || true); do
    # The forwarder is the socat whose command line names the lab's namespace.
    case "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" in socat*"/run/netns/${LAB_ID}-"*) kill_pid "$pid"; left=$((left + 1)) ;; esac
  done
  for ns in $(ip netns list | awk '{print $1}' | grep -x -e "${LAB_ID}-.*" || true); do ip netns del "$ns" 2>/dev/null || true; left=$((left + 1)); done
  for link in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -x -e "${LAB_ID}[sn][0-9]*" || true); do
    ip link del "$link" 2>/dev/null || true; left=$((left + 1))
  done
  rm -rf "$STATE"
  log "swept $left leftover(s) of lab $LAB_ID"
}

# A first `up` that fails removes what it made; a failed update keeps the lab, whose
# resource (and so its `down`) Pulumi still holds.
FRESH=0
[ -d "$STATE/nodes" ] || FRESH=1
undo_failed_up() {
  local rc=$?
  if [ $rc -ne 0 ] && [ "$ACTION" = up ] && [ $FRESH = 1 ]; then
    trap - EXIT
    set +e
    log "up failed (exit $rc): removing what it made"
    down; sweep
  fi
  exit $rc
}
trap undo_failed_up EXIT

case "$ACTION" in
  up) up ;;
  down)
    theirs=$(other_owner)
    if [ -n "$theirs" ]; then log "lab $LAB_ID is up for the Pulumi program in $theirs, not this one: left to it"
    else down; sweep; fi ;;
  clean) sweep ;;
  *) echo "local-site: ACTION must be up, down or clean" >&2; exit 2 ;;
esac
