# The CPU preflight's question to one hypervisor host, asked before any guest is defined.
# Rendered with NODE, VIRTTYPE (kvm or qemu: how the lab's guests run), HOST_INFO (1: print
# which CPU modes the host offers and its host-model CPU), COMPARE (CPU documents, each after
# a line "#cpu <id>": can this host run it?) and BASELINE (CPU documents: the CPU all of them
# run, asked of this host's libvirt). Prints "=== " sections that reports/cpuCheck.ts reads;
# fails only when libvirt cannot be asked at all.
set -u
args="--virttype $VIRTTYPE --arch x86_64 --machine q35"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
if [ "$HOST_INFO" = 1 ]; then
  # Bounded, as the host check is: a libvirtd that never answers would hold the preview forever.
  caps=$(timeout 60 $V domcapabilities $args 2>&1) ||
    { echo "host $NODE: libvirt could not describe the CPUs it runs guests on ($VIRTTYPE): $caps" >&2; exit 1; }
  echo "=== modes"
  printf '%s\n' "$caps" | sed -n "s/^ *<mode name='\([a-z-]*\)' supported='\([a-z]*\)'.*/\1 \2/p"
  # libvirt's host-model, as the CPU document a guest started in that mode gets here.
  echo "=== host-model"
  printf '%s\n' "$caps" | sed -n "/<mode name='host-model' supported='yes'>/,/<\/mode>/p" |
    sed -e "s/^ *<mode name='host-model'.*/<cpu mode='custom' match='exact'>/" -e "s/^ *<\/mode>/<\/cpu>/" -e "s/^ \{6\}</  </"
fi
if [ -n "$COMPARE" ]; then
  printf '%s\n' "$COMPARE" | awk -v d="$dir" '/^#cpu /{f=d "/" $2 ".xml"; next} f{print > f}'
  for f in "$dir"/*.xml; do
    [ -e "$f" ] || continue
    id=$(basename "$f" .xml)
    # --error: an incompatible CPU is an error whose text names the features the host lacks.
    out=$(timeout 60 $V hypervisor-cpu-compare $args --error "$f" 2>&1); rc=$?
    echo "=== compare $id $rc"
    printf '%s\n' "$out"
  done
fi
if [ -n "$BASELINE" ]; then
  printf '%s\n' "$BASELINE" > "$dir/baseline.cpus"
  out=$(timeout 60 $V hypervisor-cpu-baseline $args "$dir/baseline.cpus" 2>&1); rc=$?
  echo "=== baseline $rc"
  printf '%s\n' "$out"
fi
