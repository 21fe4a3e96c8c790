# Ensures (up) the guest is defined here and running somewhere in the lab, or
# removes it (down) from whichever host holds it. Rendered with ACTION, GUEST,
# XML, GUEST_ADDR, GUEST_PORT, KEY, KNOWN_HOSTS (see prelude.sh), PEERS (the hosts'
# lab addresses), CONSOLE_LOG, ASK_COUNTER (the drift probe's ask, exiting 1 unanswered),
# LOCAL_DISK and MAKE_DISK: a disk in the hosts' own pools (storage copy*; "" for a disk on the
# export), and how to make it where no host holds one ("empty <MiB>", "copy <image>", "overlay <backing>").
set -eu
SSH="ssh -n $SSH_OPTS -i $KEY"
running_on() { # the peer address where the guest runs, if any
  for p in $PEERS; do
    [ "$($SSH "root@$p" "virsh -c qemu:///system domstate $GUEST" 2>/dev/null)" = running ] && { echo "$p"; return 0; }
  done
  return 0
}
answers_on() { # 0: the guest's counter answers, asked on the host at $1; 1: it does not; 255: no SSH there
  $SSH "root@$1" "$ASK_COUNTER" 2>/dev/null
}
# A local disk lives on one host only: the one that runs the guest, or ran it last (a leg removes
# the copy it leaves behind). A guest (re)started here takes it from there, or gets a new one.
ensure_disk() {
  [ -n "$LOCAL_DISK" ] && [ ! -f "$LOCAL_DISK" ] || return 0
  local p tmp="$LOCAL_DISK.tmp.$$" how=${MAKE_DISK%% *} arg=${MAKE_DISK#* }
  mkdir -p "${LOCAL_DISK%/*}"
  for p in $PEERS; do
    if $SSH "root@$p" "test -f '$LOCAL_DISK'" 2>/dev/null; then
      echo "guest $GUEST: bringing its disk home from $p" >&2
      $SSH "root@$p" "cat '$LOCAL_DISK'" > "$tmp" && mv -f "$tmp" "$LOCAL_DISK" && $SSH "root@$p" "rm -f '$LOCAL_DISK'" ||
        { rm -f "$tmp"; echo "guest $GUEST: its disk $LOCAL_DISK could not be brought from $p; copy it here and run pulumi up again" >&2; exit 1; }
      return 0
    fi
  done
  case "$how" in
    empty) qemu-img create -q -f qcow2 "$tmp" "${arg}M" >&2 ;;
    copy) [ -f "$arg" ] || { echo "guest $GUEST: image $arg is not in the shared pool; copy it to the export first" >&2; exit 1; }
      cp --sparse=always "$arg" "$tmp" ;;
    overlay) qemu-img create -q -f qcow2 -F qcow2 -b "$arg" "$tmp" >&2 ;;
  esac
  mv -f "$tmp" "$LOCAL_DISK"
  echo "guest $GUEST: made its disk $LOCAL_DISK ($MAKE_DISK)" >&2
}
# A disk kept from the guest's other local storage (copy <-> copy-incremental: the same path) has the
# wrong shape: copy-incremental's must be an overlay over its image, copy's a disk of its own.
want_backing() { if [ "${MAKE_DISK%% *}" = overlay ]; then echo "${MAKE_DISK#* }"; fi; }
disk_backing() { qemu-img info -U --output=json "$LOCAL_DISK" | sed -n 's/^ *"backing-filename": "\(.*\)",\{0,1\}$/\1/p' | head -n1; }
disk_shape_ok() { [ -z "$LOCAL_DISK" ] || [ ! -f "$LOCAL_DISK" ] || [ "$(disk_backing)" = "$(want_backing)" ]; }
# Rebased, not made again: the guest's content is kept (safe mode compares the old backing with the new).
reshape_disk() {
  disk_shape_ok && return 0
  local want shape="a disk of its own"; want=$(want_backing)
  [ -z "$want" ] || shape="an overlay over $want"
  echo "guest $GUEST: its disk $LOCAL_DISK becomes $shape (its storage changed), its content kept" >&2
  qemu-img rebase -q -f qcow2 -b "$want" ${want:+-F qcow2} "$LOCAL_DISK" >&2 ||
    { echo "guest $GUEST: could not rebase $LOCAL_DISK; remove it (pulumi destroy, or rm it) and run pulumi up again" >&2; exit 1; }
}
show_console() { # the end of the guest's console, read on stdin, printed above what went wrong
  tr -d '\r' | sed "s/^/guest $GUEST console: /" >&2
}
if [ "$ACTION" = up ]; then
  # A domain this run defines and cannot bring up is removed again: Pulumi keeps no
  # state of a failed create, so no destroy would remove it. (Its disk is GuestImage's.)
  fresh=0; $V dominfo "$GUEST" >/dev/null 2>&1 || fresh=1
  undo() {
    local rc=$?
    if [ $rc -ne 0 ] && [ $fresh = 1 ]; then
      echo "guest $GUEST: removing the domain this failed run defined" >&2
      $V destroy "$GUEST" >/dev/null 2>&1 || true; $V undefine "$GUEST" >/dev/null 2>&1 || true
    fi
    exit $rc
  }
  trap undo EXIT
  where=$(running_on)
  # Running is not enough: under TCG a migrated guest's kernel sometimes finds its state corrupt
  # (a virtio ring, "input.0:id N is not a head!"; an oops; a panic) and the guest is dead to the
  # network until restarted. Asked where it runs; a silent one is restarted here.
  if [ -n "$where" ]; then
    heard=0; answers_on "$where" || heard=$?
    if [ "$heard" = 1 ]; then
      echo "guest $GUEST runs on $where, but its counter service at $GUEST_ADDR:$GUEST_PORT does not answer there: restarting it here" >&2
      { $SSH "root@$where" "tail -n 12 '$CONSOLE_LOG' 2>/dev/null" 2>/dev/null || true; } | show_console
      $SSH "root@$where" "virsh -c qemu:///system destroy $GUEST" >/dev/null 2>&1 || true
      # Never a second copy on the same disk: it must be gone there before it starts here.
      [ -z "$(running_on)" ] || { echo "guest $GUEST: could not stop the silent copy on $where; stop it there (virsh destroy $GUEST) and run pulumi up again" >&2; exit 1; }
      where=""
    fi
  fi
  if [ -n "$where" ] && ! $V domstate "$GUEST" 2>/dev/null | grep -qx running; then
    # Never start a second copy on the same disk: a guest still away stays where it is.
    echo "guest $GUEST runs on $where, not here; it was left there (migrate it back, or pulumi refresh)" >&2
    exit 0
  fi
  # The guest's console log goes there, and libvirt opens it before it would make the directory
  # (its package makes it; a local-site node or a cleaned-up host lacks it). A leg's destination too.
  mkdir -p "${CONSOLE_LOG%/*}"
  was=$($V dumpxml --inactive "$GUEST" 2>/dev/null | md5sum)
  f=$(mktemp); printf '%s' "$XML" > "$f"; $V define "$f" >/dev/null; rm -f "$f"
  if $V domstate "$GUEST" | grep -qx running && [ "$was" != "$($V dumpxml --inactive "$GUEST" | md5sum)" ]; then
    # A running guest keeps its old definition until restarted: make the declared one run.
    echo "guest $GUEST: definition changed, restarting it" >&2
    $V destroy "$GUEST" >/dev/null
  elif $V domstate "$GUEST" | grep -qx running && ! disk_shape_ok; then
    echo "guest $GUEST: its storage changed, restarting it" >&2
    $V destroy "$GUEST" >/dev/null
  fi
  if ! $V domstate "$GUEST" | grep -qx running; then
    # What a host's console says from here on is this run's: a leg or a test that looks for the
    # faults the guest's kernel reported reads each host's console back to this line (nic-state.sh).
    for p in $PEERS; do
      $SSH -o ConnectTimeout=10 "root@$p" "mkdir -p '${CONSOLE_LOG%/*}' && echo 'miglab-guest starting: the lines above are from an earlier run' >> '$CONSOLE_LOG'" 2>/dev/null || true
    done
    ensure_disk
    reshape_disk
    $V start "$GUEST" >/dev/null
  fi
  deadline=$((SECONDS + 120))
  while [ $SECONDS -lt $deadline ]; do
    if out=$(timeout 3 bash -c "exec 3<>/dev/tcp/$GUEST_ADDR/$GUEST_PORT; head -n1 <&3" 2>/dev/null) && [ -n "$out" ]; then
      echo "guest $GUEST is up: $out" >&2; echo "$out"; exit 0
    fi
    sleep 1
  done
  # Its console says how far it got (a guest stuck before its counter service, e.g. on its disk).
  tail -n 12 "$CONSOLE_LOG" 2>/dev/null | show_console
  echo "guest $GUEST started but its counter service at $GUEST_ADDR:$GUEST_PORT did not answer in 120 s; see its console above and ${CONSOLE_LOG%/*}/$GUEST.log" >&2
  exit 1
else
  for p in $PEERS; do
    $SSH "root@$p" "virsh -c qemu:///system destroy $GUEST >/dev/null 2>&1; virsh -c qemu:///system undefine $GUEST >/dev/null 2>&1" || true
    # The local disk, on whichever host holds it (a path of the lab's own pool).
    [ -z "$LOCAL_DISK" ] || $SSH "root@$p" "rm -f '$LOCAL_DISK'" || true
  done
  echo "guest $GUEST removed" >&2
fi
