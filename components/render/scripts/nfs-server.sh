# Ensures (ACTION=up) or removes (ACTION=down) the NFS export that holds the
# guest disks, or checks (ACTION=check: the drift watch's probe) that it is
# served: exit 0 if so, else a line naming what is not. Rendered with a header
# setting ACTION, EXPORT, CLIENTS (space separated CIDRs allowed to mount), IMPL
# (ganesha | ganesha-service | kernel), STATE, LAB_ID (names the lab's marker and
# ganesha file) and EXPORT_ID.
#
# ganesha: the userspace server run by this script, for the local site (its
# kernel has no NFS server), inside the NFS node's namespaces.
# ganesha-service: the nfs-ganesha service a real host runs: one EXPORT block in a
# file of the lab's own, included from /etc/ganesha/ganesha.conf, and a reload.
# kernel: nfs-kernel-server with an /etc/exports line limited to CLIENTS.
# Every kind leaves a marker in the export, so hosts can prove they see it.
set -eu

mark() { echo "$LAB_ID" > "$EXPORT/.miglab-export"; }
unmark() { rm -f "$EXPORT/.miglab-export"; }

# ganesha's EXPORT block for the export, open to CLIENTS only; $1: its Export_Id.
export_block() {
  cat <<BLOCK_END
EXPORT {
  Export_Id = $1;
  Path = "$EXPORT";
  Pseudo = "$EXPORT";
  Protocols = 3, 4;
  Transports = TCP;
  SecType = sys;
  Squash = No_Root_Squash;
  CLIENT { Clients = $(echo "$CLIENTS" | tr ' ' ','); Access_Type = RW; }
  FSAL { Name = VFS; }
}
BLOCK_END
}

ganesha_up() {
  mkdir -p "$EXPORT" "$STATE"; mark
  cat > "$STATE/ganesha.conf" <<EOF
NFS_CORE_PARAM {
  Protocols = 3, 4;
  MNT_Port = 20048;
  Enable_NLM = false;
  Enable_RQUOTA = false;
}
NFSV4 { Graceless = true; }
EXPORT_DEFAULTS { Access_Type = None; }
$(export_block 1)
LOG { Default_Log_Level = EVENT; }
EOF
  # libnfs (QEMU's NFS client) finds the export through the MOUNT protocol, which needs rpcbind.
  local pid; pid=$(pidof_file "$STATE/ganesha.pid")
  if ! alive "$(pidof_file "$STATE/rpcbind.pid")"; then
    mkdir -p /run/rpcbind
    setsid rpcbind -f -w </dev/null >/dev/null 2>&1 &
    echo $! > "$STATE/rpcbind.pid"
    # ganesha registers with rpcbind once, as it starts: one that started before rpcbind
    # listened ("Cannot register NFS V3 on UDP", seen on a busy machine), or that outlived the
    # rpcbind it registered with, serves no MOUNT. It starts after rpcbind answers.
    for _ in $(seq 100); do rpcinfo -p 127.0.0.1 >/dev/null 2>&1 && break; sleep 0.2; done
    rpcinfo -p 127.0.0.1 >/dev/null 2>&1 || {
      echo "nfs: rpcbind did not answer on 127.0.0.1:111 in 20 s (pid $(pidof_file "$STATE/rpcbind.pid"))" >&2
      ganesha_down >/dev/null 2>&1 || true; return 1; }
    stop_pid "$pid"
  fi
  if alive "$pid"; then
    kill -HUP "$pid"   # re-read exports after a config change
  else
    # A ganesha that was killed left its registrations: dropped, so the wait below sees the new one's.
    for v in 1 3; do rpcinfo -d 100005 $v >/dev/null 2>&1 || true; done
    for v in 3 4; do rpcinfo -d 100003 $v >/dev/null 2>&1 || true; done
    # In the foreground under a PID file of this script's own: ganesha's own (-p) is unlinked
    # when a ganesha exits, which must not take a newer one's record with it.
    setsid ganesha.nfsd -F -f "$STATE/ganesha.conf" -L "$STATE/ganesha.log" -p "$STATE/ganesha.self.pid" -N NIV_EVENT </dev/null >/dev/null 2>&1 &
    echo $! > "$STATE/ganesha.pid"
  fi
  for _ in $(seq 100); do
    rpcinfo -p 127.0.0.1 2>/dev/null | grep -q mountd && alive "$(pidof_file "$STATE/ganesha.pid")" && {
      echo "nfs: ganesha serves $EXPORT to $CLIENTS" >&2; return 0; }
    sleep 0.2
  done
  echo "nfs: ganesha did not register its MOUNT service; see $STATE/ganesha.log:" >&2
  tail -n 20 "$STATE/ganesha.log" >&2 || true
  # Nothing half-started stays behind a failed create (Pulumi would hold no state to destroy it by).
  ganesha_down >/dev/null 2>&1 || true
  return 1
}

# Ends a daemon of the lab's: TERM, and KILL if it has not ended in 20 s (a busy machine).
stop_pid() {
  alive "$1" || return 0
  kill "$1" 2>/dev/null || true
  for _ in $(seq 200); do alive "$1" || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  for _ in $(seq 50); do alive "$1" || return 0; sleep 0.1; done
}

ganesha_down() {
  for f in "$STATE/ganesha.pid" "$STATE/rpcbind.pid"; do
    stop_pid "$(pidof_file "$f")"
    rm -f "$f"
  done
  rm -f "$STATE/ganesha.self.pid"
  # The export goes too when the guests' files are gone (GuestImage removes them first).
  unmark; rmdir "$EXPORT" 2>/dev/null || true
  echo "nfs: ganesha stopped" >&2
}

ganesha_check() {
  alive "$(pidof_file "$STATE/ganesha.pid")" || { echo "nfs: ganesha is not running"; return 1; }
  alive "$(pidof_file "$STATE/rpcbind.pid")" || { echo "nfs: rpcbind is not running"; return 1; }
  rpcinfo -p 127.0.0.1 2>/dev/null | grep -qw mountd || { echo "nfs: ganesha's MOUNT service is not registered with rpcbind"; return 1; }
  marked
}

# The export's marker: hosts prove they mount this export by it.
marked() { [ -f "$EXPORT/.miglab-export" ] || { echo "nfs: $EXPORT has no marker (.miglab-export)"; return 1; }; }

kernel_up() {
  mkdir -p "$EXPORT"
  command -v exportfs >/dev/null || { echo "nfs: exportfs missing; install nfs-kernel-server on this host" >&2; return 1; }
  local opts="" c
  for c in $CLIENTS; do opts="$opts $c(rw,sync,no_subtree_check,no_root_squash)"; done
  local line="$EXPORT$opts # miglab"
  touch /etc/exports
  grep -vF "$EXPORT " /etc/exports > /etc/exports.miglab || true
  echo "$line" >> /etc/exports.miglab
  mv /etc/exports.miglab /etc/exports
  exportfs -ra
  mark
  echo "nfs: exported $EXPORT to $CLIENTS" >&2
}

kernel_down() {
  [ -d "$EXPORT" ] && unmark && rmdir "$EXPORT" 2>/dev/null || true
  [ -f /etc/exports ] || return 0
  grep -vF "$EXPORT " /etc/exports > /etc/exports.miglab || true
  mv /etc/exports.miglab /etc/exports
  exportfs -ra 2>/dev/null || true
}

kernel_check() {
  exportfs -v 2>/dev/null | awk -v e="$EXPORT" '$1 == e { f = 1 } END { exit !f }' || { echo "nfs: $EXPORT is not exported (exportfs -v)"; return 1; }
  marked
}

GANESHA_CONF=/etc/ganesha/ganesha.conf
LAB_CONF=/etc/ganesha/miglab-$LAB_ID.conf
INCLUDE="%include \"$LAB_CONF\""
ganesha_reload() { # the packaged service: systemd where it runs, else the daemon's own pid file
  if [ -d /run/systemd/system ]; then
    systemctl reload-or-restart nfs-ganesha
  else
    local pid; pid=$(pidof_file /run/ganesha/ganesha.pid)
    alive "$pid" || { echo "nfs: nfs-ganesha is not running on this host: start it (service nfs-ganesha start)" >&2; return 1; }
    kill -HUP "$pid"
  fi
}

service_up() {
  command -v ganesha.nfsd >/dev/null || { echo "nfs: nfs-ganesha is not installed on this host: install nfs-ganesha nfs-ganesha-vfs" >&2; return 1; }
  mkdir -p "$EXPORT"
  cat > "$LAB_CONF.new" <<CONF_END
# miglab lab $LAB_ID: the export holding the guest disks (removed by pulumi destroy)
$(export_block "$EXPORT_ID")
CONF_END
  mv "$LAB_CONF.new" "$LAB_CONF"
  grep -qxF "$INCLUDE" "$GANESHA_CONF" || echo "$INCLUDE" >> "$GANESHA_CONF"
  ganesha_reload
  mark
  echo "nfs: nfs-ganesha serves $EXPORT to $CLIENTS" >&2
}

service_down() {
  [ -d "$EXPORT" ] && unmark && rmdir "$EXPORT" 2>/dev/null || true
  if [ -f "$GANESHA_CONF" ] && grep -qxF "$INCLUDE" "$GANESHA_CONF"; then
    # Rewritten in place: the file keeps its owner and mode.
    grep -vxF "$INCLUDE" "$GANESHA_CONF" > "$GANESHA_CONF.miglab" || true
    cat "$GANESHA_CONF.miglab" > "$GANESHA_CONF"; rm -f "$GANESHA_CONF.miglab"
  fi
  if [ -f "$LAB_CONF" ]; then rm -f "$LAB_CONF"; ganesha_reload || true; fi
  echo "nfs: export $EXPORT removed from nfs-ganesha" >&2
}

service_check() {
  [ -f "$LAB_CONF" ] && grep -qxF "$INCLUDE" "$GANESHA_CONF" 2>/dev/null || { echo "nfs: $LAB_CONF is missing or not included from $GANESHA_CONF"; return 1; }
  if [ -d /run/systemd/system ]; then systemctl is-active --quiet nfs-ganesha; else alive "$(pidof_file /run/ganesha/ganesha.pid)"; fi ||
    { echo "nfs: nfs-ganesha is not running"; return 1; }
  marked
}

case "$IMPL-$ACTION" in
  ganesha-up) ganesha_up ;;
  ganesha-down) ganesha_down ;;
  ganesha-service-up) service_up ;;
  ganesha-service-down) service_down ;;
  kernel-up) kernel_up ;;
  kernel-down) kernel_down ;;
  ganesha-check) ganesha_check ;;
  ganesha-service-check) service_check ;;
  kernel-check) kernel_check ;;
  *) echo "nfs-server: unknown IMPL/ACTION $IMPL/$ACTION" >&2; exit 2 ;;
esac
