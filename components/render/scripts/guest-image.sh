# Ensures (up) the guest's disk and, for the built-in image, its kernel and
# initramfs on the export (or, in a lab without one, in a host's own pool); removes them (down).
# Rendered with ACTION, OUT, MARKS (the folder of what this made, in OUT), NAME,
# DISK, DISK_MIB, BUILTIN, KERNEL, INITRD, BUILDER_SCRIPT (build-guest.sh) and
# GUEST_INIT (guest-init.sh, the guest's /init). DISK "": the boot files only (the guest's disk
# is in a host's own pool, storage copy).
# Destroy removes only what miglab made: a disk it created is recorded in
# $OUT/$MARKS/, and a user's own qcow2 (or a file that was there first) is never deleted.
#
# Several guests run this at once on the NFS server. The kernel and initramfs are
# shared: they are built once, under a lock on the export, into a stage only the
# lock holder uses, and installed under a name unique to this run, then renamed,
# so a guest booting meanwhile reads either the old file or the new one, whole.
# Each guest's disk is its own, created under a unique name and renamed.
set -eu
MADE="$OUT/$MARKS"
mkdir -p "$OUT"
exec 9>"$OUT/.miglab-tiny.lock"
if [ "$ACTION" = down ]; then
  if [ -z "$DISK" ]; then rm -f "$MADE/$NAME.boot"
  elif [ -n "$BUILTIN" ] && [ -f "$MADE/$(basename "$DISK")" ]; then
    rm -f "$DISK" "$MADE/$(basename "$DISK")"
  else
    echo "guest $NAME: $DISK was not made by miglab; left in place" >&2
  fi
  # The shared kernel and initramfs go with the last disk (or boot-only guest's mark) miglab made (decided under the
  # lock, so a guest being built meanwhile keeps them).
  flock 9
  if [ -z "$(ls -A "$MADE" 2>/dev/null)" ]; then
    rm -rf "$KERNEL" "$INITRD" "$OUT/.miglab-tiny-build"
    # The lock goes too, or the export could never be removed (NfsServer's rmdir).
    rm -f "$OUT/.miglab-tiny.lock"
    rmdir "$MADE" 2>/dev/null || true
    # The lock file too (this run still holds it open): the export is left as it was found.
    rm -f "$OUT/.miglab-tiny.lock"
  fi
  exit 0
fi
if [ -z "$BUILTIN" ]; then
  [ -f "$DISK" ] || { echo "guest $NAME: image $DISK is not on the export; copy the qcow2 there first" >&2; exit 1; }
  exit 0
fi
b=$(mktemp); i=$(mktemp)
# A build that fails half way leaves no partial file.
trap 'rm -f "$b" "$i" "$KERNEL.tmp.$NAME.$$" "$INITRD.tmp.$NAME.$$" "$DISK.tmp.$$"' EXIT
install_shared() { # SRC DST: replace DST only if its bytes differ, atomically
  if ! cmp -s "$1" "$2" 2>/dev/null; then
    cp "$1" "$2.tmp.$NAME.$$" && chmod 0644 "$2.tmp.$NAME.$$" && mv -f "$2.tmp.$NAME.$$" "$2"
  fi
}
flock 9
# The builder (BUILDER_SCRIPT) with the guest's /init (GUEST_INIT); DISK_MB 0: no disk (made below).
stage="$OUT/.miglab-tiny-build"; mkdir -p "$stage"
printf '%s' "$BUILDER_SCRIPT" > "$b"
printf '%s' "$GUEST_INIT" > "$i"
MIGLAB_GUEST_INIT=$i bash "$b" "$stage" 0 >/dev/null || { echo "guest $NAME: building the tiny image failed (above)" >&2; exit 1; }
install_shared "$stage/vmlinuz" "$KERNEL"
install_shared "$stage/initrd.img" "$INITRD"
# A built-in guest whose disk moved to the hosts' own pools (storage copy) no longer uses the one
# miglab made for it here: it goes (decided under the lock, as down does).
if [ -z "$DISK" ] && [ -f "$MADE/$NAME.qcow2" ]; then rm -f "$OUT/$NAME.qcow2" "$MADE/$NAME.qcow2"; fi
flock -u 9
# A guest without a disk here still uses the boot files: its mark keeps them until its own down.
[ -n "$DISK" ] || { mkdir -p "$MADE"; touch "$MADE/$NAME.boot"; }
# The disk holds the guest's state: created once, never overwritten.
if [ -n "$DISK" ] && [ ! -f "$DISK" ]; then
  mkdir -p "$MADE"
  touch "$MADE/$(basename "$DISK")"
  qemu-img create -q -f qcow2 "$DISK.tmp.$$" "${DISK_MIB}M" >&2
  mv -n "$DISK.tmp.$$" "$DISK"
fi
echo "guest $NAME: kernel $KERNEL, initrd $INITRD, disk $DISK" >&2
echo "disk=$DISK"
