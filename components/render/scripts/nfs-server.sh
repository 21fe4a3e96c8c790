# Ensures (ACTION=up) or removes (ACTION=down) the NFS export that holds the
# guest disks. Rendered with a header setting ACTION, EXPORT, CLIENTS (space
# separated CIDRs allowed to mount), IMPL (ganesha | ganesha-service | kernel),
# STATE, LAB_ID (names the lab's marker and ganesha file) and EXPORT_ID.
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
  if ! alive "$(pidof_file "$STATE/rpcbind.pid")"; then
    mkdir -p /run/rpcbind
    setsid rpcbind -f -w </dev/null >/dev/null 2>&1 &
    echo $! > "$STATE/rpcbind.pid"
  fi
  local pid; pid=$(pidof_file "$STATE/ganesha.pid")
  if alive "$pid"; then
    kill -HUP "$pid"   # re-read exports after a config change
  else
    ganesha.nfsd -f "$STATE/ganesha.conf" -L "$STATE/ganesha.log" -p "$STATE/ganesha.pid" -N NIV_EVENT
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

ganesha_down() {
  for f in "$STATE/ganesha.pid" "$STATE/rpcbind.pid"; do
    local pid; pid=$(pidof_file "$f")
    if alive "$pid"; then kill "$pid"; for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done; fi
    rm -f "$f"
  done
  # The export goes too when the guests' files are gone (GuestImage removes them first).
  unmark; rmdir "$EXPORT" 2>/dev/null || true
  echo "nfs: ganesha stopped" >&2
}

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

case "$IMPL-$ACTION" in
  ganesha-up) ganesha_up ;;
  ganesha-down) ganesha_down ;;
  ganesha-service-up) service_up ;;
  ganesha-service-down) service_down ;;
  kernel-up) kernel_up ;;
  kernel-down) kernel_down ;;
  *) echo "nfs-server: unknown IMPL/ACTION $IMPL/$ACTION" >&2; exit 2 ;;
esac
