# Ensures (up) or removes (down) the libvirt storage pool on one host.
set -eu
if [ "$ACTION" = up ]; then
  # A pool this run defines and cannot start is undefined again (a failed create leaves no state to destroy).
  fresh=0; $V pool-info "$POOL" >/dev/null 2>&1 || fresh=1
  # shellcheck disable=SC2154  # (rc is set as the trap runs)
  trap 'rc=$?; [ $rc -ne 0 ] && [ $fresh = 1 ] && { $V pool-destroy "$POOL" >/dev/null 2>&1 || true; $V pool-undefine "$POOL" >/dev/null 2>&1 || true; }; exit $rc' EXIT
  mkdir -p "$TARGET"
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
fi
