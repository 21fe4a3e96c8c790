# Ensures (up) the guest's disk and, for the built-in image, its kernel and
# initramfs on the export; removes them (down). Rendered with ACTION, OUT, NAME,
# DISK, DISK_MIB, BUILTIN, KERNEL, INITRD, followed by build-guest.sh's functions.
set -eu
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if [ "$ACTION" = down ]; then
  rm -f "$DISK"
  # The shared kernel and initramfs go with the last built-in disk.
  ls "$OUT"/*.qcow2 >/dev/null 2>&1 || rm -f "$KERNEL" "$INITRD"
  exit 0
fi
mkdir -p "$OUT"
if [ -z "$BUILTIN" ]; then
  [ -f "$DISK" ] || { echo "guest $NAME: image $DISK is not on the export; copy the qcow2 there first" >&2; exit 1; }
  exit 0
fi
# BUILDER_SCRIPT is build-guest.sh itself, passed in the header.
stage="$OUT/.miglab-build-$NAME"; mkdir -p "$stage"
b=$(mktemp); printf '%s' "$BUILDER_SCRIPT" > "$b"
bash "$b" "$stage" "$DISK_MIB" >/dev/null; rm -f "$b"
cp "$stage/vmlinuz" "$KERNEL.tmp" && mv "$KERNEL.tmp" "$KERNEL"
cp "$stage/initrd.img" "$INITRD.tmp" && mv "$INITRD.tmp" "$INITRD"
# The disk holds the guest's state: created once, never overwritten.
[ -f "$DISK" ] || mv "$stage/disk.qcow2" "$DISK"
rm -rf "$stage"
echo "guest $NAME: kernel $KERNEL, initrd $INITRD, disk $DISK" >&2
echo "disk=$DISK"
