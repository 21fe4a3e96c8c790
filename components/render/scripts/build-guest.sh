#!/usr/bin/env bash
# build-guest.sh OUTDIR [DISK_MB]   (DISK_MB 0: no disk, only kernel and initrd)
#
# Builds the tiny miglab test guest from packages already on this Debian 12
# host (linux-image-amd64, busybox-static, qemu-utils):
#   OUTDIR/vmlinuz     copy of the host's Debian kernel
#   OUTDIR/initrd.img  busybox initramfs whose /init runs the guest workload
#   OUTDIR/disk.qcow2  state disk (sector 0 holds the persisted counter)
# and prints one JSON line {"kernel","initrd","disk","kernelVersion"} on
# stdout. Everything else goes to stderr so callers can parse stdout.
#
# Idempotent: the initrd is built reproducibly (fixed mtimes/owners/inode
# numbers, gzip -n), and kernel/initrd are only replaced when their bytes
# change, so a re-run leaves identical files with unchanged mtimes. The disk
# is never recreated once it exists, because it carries guest state.
#
# Guest kernel command line (all optional except miglab.ip for networking):
#   miglab.ip=A.B.C.D/NN  miglab.gw=A.B.C.D  miglab.port=7000
#   miglab.dirty_mib_s=N  miglab.dirty_wss_mib=M
#   miglab.ping=A.B.C.D   miglab.ping_interval=0.2
# Dotted params are treated by the kernel as (unknown) module params, so they
# stay out of init's argv/env and are read from /proc/cmdline instead.
set -euo pipefail

log() { printf 'build-guest: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $# -ge 1 && $# -le 2 ]] || die "usage: $0 OUTDIR [DISK_MB]"
OUTDIR=$1
DISK_MB=${2:-64}
[[ $DISK_MB =~ ^[0-9]+$ ]] || die "DISK_MB must be a non-negative integer, got '$DISK_MB'"
[[ $(id -u) -eq 0 ]] || die "must run as root (needs to read /boot and create /dev/console in the initramfs)"

for tool in cpio gzip qemu-img; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
BUSYBOX=/bin/busybox
[[ -x $BUSYBOX ]] || die "$BUSYBOX not found (install busybox-static)"
# The initramfs has no libc, so a dynamically linked busybox would not run.
if command -v file >/dev/null && [[ $(file -L "$BUSYBOX") != *"statically linked"* ]]; then
    die "$BUSYBOX is not statically linked (install busybox-static, not busybox)"
fi

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd -P)

# ---------------------------------------------------------------- kernel ---
# The running kernel may not be a Debian one (e.g. inside a microVM), so fall
# back to the newest installed Debian kernel. The module tree must match the
# kernel we ship, not the host's running kernel.
KVER=$(uname -r)
KERNEL_SRC=/boot/vmlinuz-$KVER
if [[ ! -f $KERNEL_SRC ]]; then
    KERNEL_SRC=$(find /boot -maxdepth 1 -name 'vmlinuz-*' -type f -printf '%f\n' | sort -V | tail -n 1)
    [[ -n $KERNEL_SRC ]] || die "no /boot/vmlinuz-* found (install linux-image-amd64)"
    KERNEL_SRC=/boot/$KERNEL_SRC
    KVER=${KERNEL_SRC#/boot/vmlinuz-}
    log "running kernel $(uname -r) has no /boot image; using $KERNEL_SRC"
fi
MODDIR=/lib/modules/$KVER
[[ -d $MODDIR ]] || die "$MODDIR missing: modules for $KVER are not installed"

# Only copy when the bytes differ so re-runs keep the file (and its mtime).
install_if_changed() { # SRC DST
    if [[ -f $2 ]] && cmp -s "$1" "$2"; then
        return 1
    fi
    cp -f "$1" "$2.tmp.$$" && chmod 0644 "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
}
if install_if_changed "$KERNEL_SRC" "$OUTDIR/vmlinuz"; then
    log "kernel: copied $KERNEL_SRC"
else
    log "kernel: $OUTDIR/vmlinuz up to date"
fi

# ---------------------------------------------------------------- initrd ---
STAGE=$(mktemp -d "$OUTDIR/.initrd-stage.XXXXXX")
trap 'rm -rf "$STAGE" "$OUTDIR/.initrd.img.tmp.$$" "$OUTDIR/.disk.qcow2.tmp.$$"' EXIT

mkdir -p "$STAGE"/{bin,dev,proc,sys,run,tmp,dirty,etc,lib/modules/"$KVER"}
# The kernel's built-in initramfs already provides /dev/console, but shipping
# it too guarantees init gets a console even if that ever changes.
mknod -m 0600 "$STAGE/dev/console" c 5 1

cp "$BUSYBOX" "$STAGE/bin/busybox"
# Applets used by /init and miglab-status (plus a few for debugging from the
# serial log). Verified against this busybox build so a missing applet fails
# the build instead of breaking the guest at boot.
APPLETS="sh mount insmod uname ip sleep cat dd tr head grep mv rm mkdir nc ping stat printf echo ls ps dmesg lsmod"
available=" $("$BUSYBOX" --list | tr '\n' ' ') "
for a in $APPLETS; do
    [[ $available == *" $a "* ]] || die "busybox applet '$a' not available in $BUSYBOX"
    ln -s busybox "$STAGE/bin/$a"
done

# Modules: Debian 12 ships them uncompressed, but newer/other kernels use
# .ko.xz/.ko.zst. We decompress on the build host so the guest can load them
# with plain busybox insmod regardless of its decompression support.
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net virtio_blk"
: >"$STAGE/etc/miglab-modules"
for m in $MODULES; do
    f=$(find "$MODDIR/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" | sort | head -n 1)
    if [[ -z $f ]]; then
        if grep -q "/$m.ko\$" "$MODDIR/modules.builtin" 2>/dev/null; then
            log "module $m: built into $KVER, skipping"
        else
            log "WARNING: module $m not found for $KVER (neither module nor builtin), skipping"
        fi
        continue
    fi
    dst=$STAGE/lib/modules/$KVER/$m.ko
    case $f in
        *.ko) cp "$f" "$dst" ;;
        *.ko.xz) xz -dc "$f" >"$dst" ;;
        *.ko.zst) zstd -qdc "$f" >"$dst" ;;
        *.ko.gz) gzip -dc "$f" >"$dst" ;;
    esac
    echo "$m" >>"$STAGE/etc/miglab-modules" # load order = this file's order
    log "module $m: ${f#"$MODDIR"/}"
done

# ------------------------------------------------------------------ /init --
# /init is guest-init.sh: beside this script, or the file the caller names in
# MIGLAB_GUEST_INIT (guest-image.sh passes it, as this script runs from a temp file there).
GUEST_INIT=${MIGLAB_GUEST_INIT:-$(dirname "$0")/guest-init.sh}
[[ -f $GUEST_INIT ]] || die "guest init $GUEST_INIT not found"
cp "$GUEST_INIT" "$STAGE/init"

cat >"$STAGE/bin/miglab-status" <<'STATUS'
#!/bin/sh
# Run by `nc -e` per connection with the socket on stdout: print one line and
# exit, which closes the connection.
read -r c </run/counter || c=0
read -r up _ </proc/uptime
read -r rate </run/dirty_mib_s || rate=0
# What the guest's NIC has carried, both ways: an overlay that storms shows against it.
read -r tx </sys/class/net/eth0/statistics/tx_packets || tx=0
read -r rx </sys/class/net/eth0/statistics/rx_packets || rx=0
# stat prints the sizes in argument order (one byte per probe sent/reply).
set -- $(stat -c %s /run/ping_sent /run/ping_recv 2>/dev/null)
sent=$1 recv=$2
echo "counter=${c:-0} uptime=${up%.*} dirty_mib_s=${rate:-0} ping_sent=${sent:-0} ping_recv=${recv:-0} tx_packets=${tx:-0} rx_packets=${rx:-0}"
STATUS
cat >"$STAGE/bin/miglab-progress" <<'PROGRESS'
#!/bin/sh
# Run by `nc -e` per connection: "uptime counter dirtied-MiB" every 100 ms until the reader
# hangs up (the write fails and SIGPIPE ends this shell). Only builtins but sleep.
d=0
while :; do
    read -r c </run/counter || c=0
    read -r up _ </proc/uptime
    read -r x </run/dirty_done && d=$x
    echo "$up $c $d" || exit 0
    sleep 0.1
done
PROGRESS
chmod 0755 "$STAGE/init" "$STAGE/bin/miglab-status" "$STAGE/bin/miglab-progress"

# A syntax error in /init would panic the guest; catch it here instead.
"$BUSYBOX" sh -n "$STAGE/init" || die "generated /init has a syntax error"
"$BUSYBOX" sh -n "$STAGE/bin/miglab-status" || die "generated miglab-status has a syntax error"
"$BUSYBOX" sh -n "$STAGE/bin/miglab-progress" || die "generated miglab-progress has a syntax error"

# Reproducible archive: fixed mtimes, root ownership, sorted names, cpio
# --reproducible (stable inode/dev numbers) and gzip -n (no name/timestamp).
find "$STAGE" -exec touch -h -d @0 {} +
(cd "$STAGE" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 --reproducible | gzip -n -9) >"$OUTDIR/.initrd.img.tmp.$$"
if install_if_changed "$OUTDIR/.initrd.img.tmp.$$" "$OUTDIR/initrd.img"; then
    log "initrd: wrote $OUTDIR/initrd.img ($(stat -c %s "$OUTDIR/initrd.img") bytes)"
else
    log "initrd: $OUTDIR/initrd.img up to date"
fi

# ------------------------------------------------------------------ disk ---
DISK=$OUTDIR/disk.qcow2
if [[ $DISK_MB == 0 ]]; then
    DISK=""
    log "disk: none asked for"
elif [[ -e $DISK ]]; then
    log "disk: keeping existing $DISK (holds guest state; DISK_MB ignored)"
else
    # Create under a temp name so an interrupted run never leaves a half disk.
    qemu-img create -q -f qcow2 "$OUTDIR/.disk.qcow2.tmp.$$" "${DISK_MB}M" >&2
    mv -f "$OUTDIR/.disk.qcow2.tmp.$$" "$DISK"
    log "disk: created $DISK (${DISK_MB} MiB)"
fi

json_str() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }
printf '{"kernel":%s,"initrd":%s,"disk":%s,"kernelVersion":%s}\n' \
    "$(json_str "$OUTDIR/vmlinuz")" "$(json_str "$OUTDIR/initrd.img")" \
    "$(json_str "$DISK")" "$(json_str "$KVER")"
