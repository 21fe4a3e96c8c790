# Prerequisite check of one node, run on it over SSH. Prints "accel=kvm|tcg" for
# hypervisor hosts; fails with one line per missing piece, naming the node and the fix.
# Rendered with NODE and ROLE (after reach.sh, when the node must reach addresses).
set -u
missing=""
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing\n  - $1 is not installed on $NODE: install $2"; }
need bash bash
need ping iputils-ping
need iperf3 iperf3
if [ "$ROLE" = host ]; then
  need virsh libvirt-clients
  need qemu-system-x86_64 qemu-system-x86
  need bc bc
  need ssh openssh-client
  # QEMU opens the guest's disk on the NFS server itself (libnfs), a block driver packaged apart.
  ls /usr/lib/*/qemu/block-nfs.so >/dev/null 2>&1 || missing="$missing\n  - QEMU's NFS block driver is not installed on $NODE: install qemu-block-extra"
fi
if [ "$ROLE" = nfs ]; then
  # The built-in guest image is made on the NFS server.
  need qemu-img qemu-utils
  need cpio cpio
fi
if [ -n "$missing" ]; then printf "host $NODE is missing prerequisites:$missing\n" >&2; exit 1; fi
if [ "$ROLE" = host ]; then
  # Bounded: a libvirtd that accepts connections but never answers would hold the up forever.
  out=$(timeout 60 virsh -c qemu:///system version 2>&1) || { echo "host $NODE: libvirt is not answering at qemu:///system: ${out:-no reply in 60 s}; (re)start libvirtd there" >&2; exit 1; }
  # PVM-style nested KVM (no vmx/svm flags) cannot run stock guest kernels: use TCG there.
  if [ -c /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then echo accel=kvm; else echo accel=tcg; fi
fi
echo "host $NODE ($ROLE): ok" >&2
