# Ensures (up) the guest's disk and, for the built-in image, its kernel and
# initramfs on the export; removes them (down). Rendered with ACTION, OUT, NAME,
# DISK, DISK_MIB, BUILTIN, KERNEL, INITRD, followed by build-guest.sh's functions.
# Destroy removes only what miglab made: a disk it created is recorded in
# $OUT/.miglab-made/, and a user's own qcow2 (or a file that was there first) is never deleted.
set -eu
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
MADE="$OUT/.miglab-made"
if [ "$ACTION" = down ]; then
  if [ -n "$BUILTIN" ] && [ -f "$MADE/$(basename "$DISK")" ]; then
    rm -f "$DISK" "$MADE/$(basename "$DISK")"
  else
    echo "guest $NAME: $DISK was not made by miglab; left in place" >&2
  fi
  # The shared kernel and initramfs go with the last disk miglab made.
  if [ -z "$(ls -A "$MADE" 2>/dev/null)" ]; then
    rm -f "$KERNEL" "$INITRD"
    rmdir "$MADE" 2>/dev/null || true
  fi
  exit 0
fi
mkdir -p "$OUT"
if [ -z "$BUILTIN" ]; then
  [ -f "$DISK" ] || { echo "guest $NAME: image $DISK is not on the export; copy the qcow2 there first" >&2; exit 1; }
  exit 0
fi
# BUILDER_SCRIPT is build-guest.sh itself, passed in the header.
stage="$OUT/.miglab-build-$NAME"; b=$(mktemp)
# A build that fails half way leaves neither its staging directory nor a partial file.
trap 'rm -rf "$stage" "$b" "$KERNEL.tmp" "$INITRD.tmp"' EXIT
mkdir -p "$stage"
printf '%s' "$BUILDER_SCRIPT" > "$b"
bash "$b" "$stage" "$DISK_MIB" >/dev/null
cp "$stage/vmlinuz" "$KERNEL.tmp" && mv "$KERNEL.tmp" "$KERNEL"
cp "$stage/initrd.img" "$INITRD.tmp" && mv "$INITRD.tmp" "$INITRD"
# The disk holds the guest's state: created once, never overwritten.
if [ ! -f "$DISK" ]; then
  mkdir -p "$MADE"
  touch "$MADE/$(basename "$DISK")"
  mv "$stage/disk.qcow2" "$DISK"
fi
echo "guest $NAME: kernel $KERNEL, initrd $INITRD, disk $DISK" >&2
echo "disk=$DISK"
