# Ensures (up) or removes (down) the libvirt storage pool on one host. Rendered
# with ACTION, POOL, TARGET, POOL_XML, NODE, and EXPECT_EXPORT: for a dir pool over
# an export the host mounts itself, the lab id the NFS server wrote into the
# export's marker (.miglab-export), so a path that does not show the export is
# refused instead of silently holding local files.
set -eu
if [ "$ACTION" = up ]; then
  # A pool this run defines and cannot start is undefined again (a failed create leaves no state to destroy).
  fresh=0; $V pool-info "$POOL" >/dev/null 2>&1 || fresh=1
  # shellcheck disable=SC2154  # (rc is set as the trap runs)
  trap 'rc=$?; [ $rc -ne 0 ] && [ $fresh = 1 ] && { $V pool-destroy "$POOL" >/dev/null 2>&1 || true; $V pool-undefine "$POOL" >/dev/null 2>&1 || true; }; exit $rc' EXIT
  if [ -n "$EXPECT_EXPORT" ]; then
    [ "$(cat "$TARGET/.miglab-export" 2>/dev/null)" = "$EXPECT_EXPORT" ] || {
      echo "host $NODE: pool.path $TARGET does not show the NFS export (no marker of lab $EXPECT_EXPORT there): mount the export at $TARGET on $NODE, or use pool.type netfs" >&2
      exit 1; }
  elif [ ! -d "$TARGET" ]; then
    mkdir -p "$TARGET"; touch "$TARGET/.miglab-made"
  fi
  if ! $V pool-info "$POOL" >/dev/null 2>&1; then
    f=$(mktemp); printf '%s' "$POOL_XML" > "$f"; $V pool-define "$f" >/dev/null; rm -f "$f"
  fi
  [ "$($V pool-info "$POOL" | awk '/^State:/ {print $2}')" = running ] || $V pool-start "$POOL" >/dev/null
  $V pool-autostart "$POOL" >/dev/null
  $V pool-refresh "$POOL" >/dev/null
  echo "pool $POOL: $($V pool-info "$POOL" | awk '/^State:/ {print $2}') at $TARGET" >&2
else
  $V pool-destroy "$POOL" >/dev/null 2>&1 || true
  $V pool-undefine "$POOL" >/dev/null 2>&1 || true
  # A directory this script made goes too (a netfs pool's mount point, unmounted above).
  if [ -z "$EXPECT_EXPORT" ] && [ -f "$TARGET/.miglab-made" ]; then rm -f "$TARGET/.miglab-made"; rmdir "$TARGET" 2>/dev/null || true; fi
fi
