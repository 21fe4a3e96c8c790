# The SSH test bed: "machines" that look, from SSH, like fresh Debian hosts after
# `apt-get install` of the packages docs/ssh-site.md lists.
# Each machine is a network namespace with its own mount and UTS namespaces,
# private copies of the directories a host keeps its state in (/etc/ssh,
# /etc/libvirt, /etc/ganesha, /etc/pki, /root, /home, /run, /tmp, ...), its own SSH host
# keys, and the daemons its packages would start: sshd everywhere, libvirtd and
# Open vSwitch (userspace datapath: no kernel module here) on hypervisor hosts,
# rpcbind and nfs-ganesha on the NFS machine. It is test code of its own:
# miglab reaches the machines only through their sshd, on a loopback port.
#
# Beside the flat LAN every machine is on (eth0), the bed can give them a second NIC
# (eth1) on a routed network, built the way a team's network is: each subnet a switch,
# a router forwarding between them (a namespace of its own, not a machine miglab
# reaches), the machines' default route through it, and an "outside" node beyond it
# that answers pings. miglab's nat and bridged labs run over that network.
#
# Rendered with a header: ACTION (up|down), BED (short id, names every namespace
# and link), STATE (the bed's directory), MACHINES ("name role port cidr rcidr rseg
# rgw" lines, role host|nfs; rcidr the machine's address on the routed network, rseg
# its subnet's switch and rgw the router there, "-" for none), ROUTER ("seg cidr"
# lines: the router's address on each routed subnet; "" for no routed network),
# OUTSIDE ("routercidr cidr": the router's and the outside node's addresses beyond
# it), ROUTER_ROUTES ("dest via" lines: what the team's router is told, e.g. an
# overlay behind a host), SUDO_USER_NAME (a non-root user with passwordless sudo,
# made on every machine; "" for none), CLIENT_PUB (the public key every machine's
# root and that user accept). Everything it starts lives in the machines'
# namespaces and is ended by PID on down.
set -eu
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

DIRS="run tmp root home srv mnt etc/ssh etc/libvirt etc/ganesha etc/openvswitch etc/sudoers.d etc/pki \
var/lib/libvirt var/log/libvirt var/cache/libvirt var/lib/openvswitch var/log/openvswitch \
var/log/ganesha var/lib/nfs var/lib/miglab"
FILES="etc/passwd etc/group etc/shadow etc/hosts etc/hostname etc/exports"

log() { echo "sshbed[$BED]: $*" >&2; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pidof_file() { [ -s "$1" ] && cat "$1" || true; }
ns_of() { echo "${BED}-$1"; }
in_machine() { local name=$1; shift; nsenter -t "$(cat "$STATE/m/$name/anchor.pid")" -m -n -u -- "$@"; }

make_root() { # the machine's private copies, as a fresh install leaves them
  local name=$1 role=$2 cidr=$3 r="$STATE/m/$1/root"
  for sub in $DIRS; do mkdir -p "$r/$sub"; done
  mkdir -p "$r/etc" "$r/run/sshd" "$r/root/.ssh" "$r/srv/miglab" "$r/mnt/miglab"
  install -d -m 711 "$r/var/lib/libvirt/images"   # libvirt-daemon-common ships it: local pools go under it
  cp -a /etc/ssh/. "$r/etc/ssh/"; rm -f "$r/etc/ssh/ssh_host_"*
  ssh-keygen -q -A -f "$r"        # its own host keys, as openssh-server's postinst makes them
  cp -a /etc/libvirt/. "$r/etc/libvirt/"; rm -f "$r/etc/libvirt/qemu/networks/autostart/"*.xml
  cp -a /etc/ganesha/. "$r/etc/ganesha/"
  cp -a /etc/sudoers.d/. "$r/etc/sudoers.d/" 2>/dev/null || true
  for f in passwd group shadow; do cp -a "/etc/$f" "$r/etc/$f"; done
  echo "$name" > "$r/etc/hostname"
  : > "$r/etc/exports"
  printf '127.0.0.1\tlocalhost\n' > "$r/etc/hosts"
  while read -r n _ _ c _; do [ -n "$n" ] && printf '%s\t%s\n' "${c%/*}" "$n" >> "$r/etc/hosts"; done <<EOF
$MACHINES
EOF
  # What the bed itself needs of sshd: no PAM session modules in a namespace, and the
  # many parallel sessions a pulumi up opens.
  mkdir -p "$r/etc/ssh/sshd_config.d"
  cat > "$r/etc/ssh/sshd_config.d/sshbed.conf" <<EOF
UsePAM no
PasswordAuthentication no
MaxStartups 100:30:200
MaxSessions 100
EOF
  cp "$CLIENT_PUB" "$r/root/.ssh/authorized_keys"; chmod 700 "$r/root/.ssh"; chmod 600 "$r/root/.ssh/authorized_keys"
  if [ -n "$SUDO_USER_NAME" ]; then
    local uid=4711
    echo "$SUDO_USER_NAME:x:$uid:$uid:miglab test operator:/home/$SUDO_USER_NAME:/bin/bash" >> "$r/etc/passwd"
    echo "$SUDO_USER_NAME:x:$uid:" >> "$r/etc/group"
    echo "$SUDO_USER_NAME:*:19000:0:99999:7:::" >> "$r/etc/shadow"
    mkdir -p "$r/home/$SUDO_USER_NAME/.ssh"
    cp "$CLIENT_PUB" "$r/home/$SUDO_USER_NAME/.ssh/authorized_keys"
    chown -R "$uid:$uid" "$r/home/$SUDO_USER_NAME"; chmod 700 "$r/home/$SUDO_USER_NAME/.ssh"
    echo "$SUDO_USER_NAME ALL=(ALL) NOPASSWD:ALL" > "$r/etc/sudoers.d/$SUDO_USER_NAME"; chmod 440 "$r/etc/sudoers.d/$SUDO_USER_NAME"
  fi
  if [ "$role" = host ]; then
    # What only a namespace needs: a host_uuid of its own (no SMBIOS here), and QEMU as
    # root without a security driver or virtlogd, as the local site runs it. Like a
    # fresh install, no migration address: miglab names it in each migration.
    local uuid; uuid=$(printf '%s' "$BED-$name" | md5sum | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/\1-\2-\3-\4-\5/')
    echo "host_uuid = \"$uuid\"" >> "$r/etc/libvirt/libvirtd.conf"
    cat >> "$r/etc/libvirt/qemu.conf" <<EOF
security_driver = "none"
dynamic_ownership = 0
remember_owner = 0
stdio_handler = "file"
user = "root"
group = "root"
namespaces = [ ]
EOF
    # openvswitch-switch's postinst creates the database.
    ovsdb-tool create "$r/etc/openvswitch/conf.db" /usr/share/openvswitch/vswitch.ovsschema
  fi
}

ensure_switch() { # a Linux bridge in a namespace of its own: one subnet
  local sw=$1
  [ -e "/run/netns/$sw" ] && return 0
  ip netns add "$sw"; ip -n "$sw" link add br0 type bridge; ip -n "$sw" link set br0 up; ip -n "$sw" link set lo up
}

plug() { # NS DEV SW SWITCH_END MACHINE_END CIDR: a veth from the switch's bridge to the machine's DEV, addressed
  local ns=$1 dev=$2 sw=$3 a=$4 b=$5 cidr=$6
  if ! ip -n "$ns" link show "$dev" >/dev/null 2>&1; then
    ip link add "$a" type veth peer name "$b"
    ip link set "$a" netns "$sw"; ip link set "$b" netns "$ns"
    ip -n "$ns" link set "$b" name "$dev"
    ip -n "$sw" link set "$a" master br0 up
  fi
  ip -n "$ns" link set "$dev" up
  ip -n "$ns" addr show dev "$dev" | grep -q " $cidr " || ip -n "$ns" addr add "$cidr" dev "$dev"
}

ensure_link() { # eth0 on the machines' shared subnet
  local name=$1 cidr=$2 ns sw="${BED}-sw" i=$3
  ns=$(ns_of "$name")
  ensure_switch "$sw"
  [ -e "/run/netns/$ns" ] || ip netns add "$ns"
  ip -n "$ns" link set lo up
  plug "$ns" eth0 "$sw" "${BED}s$i" "${BED}n$i" "$cidr"
}

ensure_routed_link() { # eth1 on the machine's routed subnet, default route through the team's router
  local name=$1 rcidr=$2 rseg=$3 rgw=$4 i=$5 ns sw="${BED}-r$3"
  ns=$(ns_of "$name")
  ensure_switch "$sw"
  plug "$ns" eth1 "$sw" "${BED}t$i" "${BED}u$i" "$rcidr"
  ip -n "$ns" route replace default via "$rgw" dev eth1
}

ensure_router() { # the team's router: forwards between the routed subnets and to the outside node
  local rt="${BED}-rt" out="${BED}-out" seg cidr dest via
  [ -e "/run/netns/$rt" ] || ip netns add "$rt"
  ip -n "$rt" link set lo up
  while read -r seg cidr; do
    [ -n "$seg" ] || continue
    ensure_switch "${BED}-r$seg"
    plug "$rt" "r$seg" "${BED}-r$seg" "${BED}x$seg" "${BED}y$seg" "$cidr"
  done <<ROUTER_END
$ROUTER
ROUTER_END
  [ -e "/run/netns/$out" ] || ip netns add "$out"
  ip -n "$out" link set lo up
  if ! ip -n "$rt" link show rout >/dev/null 2>&1; then
    ip link add "${BED}o0" type veth peer name "${BED}o1"
    ip link set "${BED}o0" netns "$rt"; ip link set "${BED}o1" netns "$out"
    ip -n "$rt" link set "${BED}o0" name rout; ip -n "$out" link set "${BED}o1" name eth0
  fi
  local rcidr=${OUTSIDE% *} ocidr=${OUTSIDE#* }
  ip -n "$rt" link set rout up; ip -n "$out" link set eth0 up
  ip -n "$rt" addr show dev rout | grep -q " $rcidr " || ip -n "$rt" addr add "$rcidr" dev rout
  ip -n "$out" addr show dev eth0 | grep -q " $ocidr " || ip -n "$out" addr add "$ocidr" dev eth0
  ip -n "$out" route replace default via "${rcidr%/*}"
  ip netns exec "$rt" sysctl -qw net.ipv4.ip_forward=1
  while read -r dest via; do
    if [ -n "$dest" ]; then ip -n "$rt" route replace "$dest" via "$via"; fi
  done <<ROUTES_END
${ROUTER_ROUTES:-}
ROUTES_END
}

ensure_anchor() { # a sleeping process holding the machine's mount and UTS namespaces
  local name=$1 d="$STATE/m/$1" binds=""
  alive "$(pidof_file "$d/anchor.pid")" && return 0
  # /etc/pki, where a host's libvirt takes QEMU's TLS files from, is each machine's own (empty,
  # as Debian leaves it); this machine may have none to mount it on.
  mkdir -p /etc/pki
  for sub in $DIRS $FILES; do binds="$binds mount --bind $d/root/$sub /$sub;"; done
  binds="$binds mount --bind $STATE/shared /srv/miglab; mount --bind $STATE/shared /mnt/miglab; hostname $name;"
  ip netns exec "$(ns_of "$name")" unshare -m -u --propagation private sh -c "$binds exec sleep infinity" </dev/null >/dev/null 2>&1 &
  echo $! > "$d/anchor.pid"
  for _ in $(seq 50); do
    [ "$(in_machine "$name" hostname 2>/dev/null)" = "$name" ] && in_machine "$name" test -d /run/sshd && return 0
    sleep 0.1
  done
  log "machine $name: its namespaces did not come up"; return 1
}

wait_for() { local what=$1; shift; for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; log "$what did not start"; return 1; }

start_services() { # what the packages' init scripts would start, with their own defaults
  local name=$1 role=$2
  # No syslog here: sshd logs to a file, so tests can see who connected.
  in_machine "$name" /usr/sbin/sshd -E /run/sshd.log
  wait_for "$name: sshd" in_machine "$name" test -s /run/sshd.pid
  if [ "$role" = host ]; then
    in_machine "$name" /usr/sbin/libvirtd -d -p /run/libvirtd.pid
    wait_for "$name: libvirtd" in_machine "$name" virsh -c qemu:///system version
    in_machine "$name" mkdir -p /run/openvswitch
    in_machine "$name" ovsdb-server /etc/openvswitch/conf.db --remote=punix:/run/openvswitch/db.sock \
      --pidfile=/run/openvswitch/ovsdb-server.pid --detach --log-file=/var/log/openvswitch/ovsdb-server.log
    in_machine "$name" ovs-vsctl --no-wait init
    in_machine "$name" ovs-vswitchd unix:/run/openvswitch/db.sock --pidfile=/run/openvswitch/ovs-vswitchd.pid \
      --detach --log-file=/var/log/openvswitch/ovs-vswitchd.log
  else
    in_machine "$name" mkdir -p /run/rpcbind /run/ganesha
    in_machine "$name" rpcbind -w
    in_machine "$name" /usr/bin/ganesha.nfsd -L /var/log/ganesha/ganesha.log -f /etc/ganesha/ganesha.conf -N NIV_EVENT -p /run/ganesha/ganesha.pid
    wait_for "$name: ganesha" in_machine "$name" sh -c 'rpcinfo -p 127.0.0.1 | grep -q nfs'
  fi
}

ensure_forwarder() { # the machine's sshd, reachable only at 127.0.0.1:port
  local name=$1 port=$2 d="$STATE/m/$1"
  alive "$(pidof_file "$d/forward.pid")" && return 0
  setsid socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
    "EXEC:nsenter --net=/run/netns/$(ns_of "$name") socat STDIO TCP\:127.0.0.1\:22" </dev/null >"$d/forward.log" 2>&1 &
  echo $! > "$d/forward.pid"
}

up() {
  mkdir -p "$STATE/m" "$STATE/shared"
  local i=0
  [ -z "${ROUTER:-}" ] || ensure_router
  while read -r name role port cidr rcidr rseg rgw; do
    [ -n "$name" ] || continue
    i=$((i + 1))
    mkdir -p "$STATE/m/$name"
    [ -d "$STATE/m/$name/root/etc/ssh" ] || make_root "$name" "$role" "$cidr"
    ensure_link "$name" "$cidr" "$i"
    [ "${rcidr:--}" = - ] || ensure_routed_link "$name" "$rcidr" "$rseg" "$rgw" "$i"
    if ! alive "$(pidof_file "$STATE/m/$name/anchor.pid")"; then ensure_anchor "$name"; start_services "$name" "$role"; fi
    ensure_forwarder "$name" "$port"
    log "machine $name ($role) at $cidr${rcidr:+ and $rcidr}, sshd on 127.0.0.1:$port"
  done <<EOF
$MACHINES
EOF
}

kill_pid() {
  local pid=$1
  alive "$pid" || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 30); do alive "$pid" || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

down() {
  [ -d "$STATE/m" ] || return 0
  for d in "$STATE"/m/*/; do
    d=${d%/}; name=$(basename "$d")
    kill_pid "$(pidof_file "$d/forward.pid")"
    # Every process in the machine's network namespace is one the bed or a session into it began.
    if [ -e "/run/netns/$(ns_of "$name")" ]; then
      for pid in $(ip netns pids "$(ns_of "$name")" 2>/dev/null); do kill_pid "$pid"; done
    fi
    kill_pid "$(pidof_file "$d/anchor.pid")"
    ip netns del "$(ns_of "$name")" 2>/dev/null || true
  done
  # The switches, the router and the outside node: namespaces named after the bed, with no process in them.
  for ns in $(ip netns list | awk '{print $1}' | grep -x -e "${BED}-sw" -e "${BED}-r[a-z0-9]" -e "${BED}-rt" -e "${BED}-out" || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$STATE"
  log "removed"
}

case "$ACTION" in
  up) up ;;
  down) down ;;
  *) echo "sshbed: ACTION must be up or down" >&2; exit 2 ;;
esac
