# Ensures (up) or removes (down) a libvirt network on this host from its XML.
# Rendered with ACTION, NETWORK and XML.
set -eu
if [ "$ACTION" = up ]; then
  # A network this run defines and cannot start is undefined again (a failed create leaves no state to destroy).
  fresh=0; $V net-info "$NETWORK" >/dev/null 2>&1 || fresh=1
  # shellcheck disable=SC2154  # (rc is set as the trap runs)
  trap 'rc=$?; [ $rc -ne 0 ] && [ $fresh = 1 ] && { $V net-destroy "$NETWORK" >/dev/null 2>&1 || true; $V net-undefine "$NETWORK" >/dev/null 2>&1 || true; }; exit $rc' EXIT
  was=$($V net-dumpxml --inactive "$NETWORK" 2>/dev/null | md5sum)
  f=$(mktemp); printf '%s' "$XML" > "$f"
  # Redefining a network under its name needs its uuid: libvirt refuses a second one.
  uuid=$($V net-uuid "$NETWORK" 2>/dev/null || true)
  [ -n "$uuid" ] && sed -i "s|</name>|</name>\n  <uuid>$uuid</uuid>|" "$f"
  $V net-define "$f" >/dev/null; rm -f "$f"
  if $V net-info "$NETWORK" | grep -q '^Active:.*yes' && [ "$was" != "$($V net-dumpxml --inactive "$NETWORK" | md5sum)" ]; then
    $V net-destroy "$NETWORK" >/dev/null   # a changed network applies on restart
  fi
  $V net-info "$NETWORK" | grep -q '^Active:.*yes' || $V net-start "$NETWORK" >/dev/null
  $V net-autostart "$NETWORK" >/dev/null
  echo "network $NETWORK: active" >&2
else
  $V net-destroy "$NETWORK" >/dev/null 2>&1 || true
  $V net-undefine "$NETWORK" >/dev/null 2>&1 || true
fi
