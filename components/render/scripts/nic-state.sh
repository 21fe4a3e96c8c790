# What a guest that does not answer is doing, asked on the host that runs it: one line per
# fact, each tagged, read by the leg (migrate-leg.sh) and by the lab suites (LabStack).
# Rendered with a header setting GUEST and CONSOLE_LOG; needs no prelude.
#   nic: its tap's packets over 2 s, as libvirt counts them from the guest's side (a guest
#        that still sends has a live kernel: the fault is on the path to it), its bridge and state
#   queues: QEMU's view of the receive (0) and transmit (1) virtqueues. On receive, a used-idx
#        that has caught up with shadow-avail-idx means the guest gave QEMU no buffer to fill; on
#        transmit, a last-avail-idx behind shadow-avail-idx that stays there means QEMU is not
#        taking what the guest sends
#   fault: the first fault the guest's kernel reported since the guest last started ("miglab-guest
#        ready" where it booted, "miglab-guest starting" that domain.sh writes on every host as it
#        starts it), and the last when there were more: a virtio ring its driver found corrupt, an
#        oops, a panic, a process killed by a fault. Under TCG, QEMU 7.2 now and then hands a
#        migrated guest a state its kernel finds corrupt, and only a restart mends it. It is
#        printed on the console of the host the guest ran on then, which is not always where it
#        runs now
#   console: the end of its console
v="virsh -c qemu:///system"
nic=$($v domiflist "$GUEST" 2>/dev/null | awk 'NR > 2 && NF { print $1; exit }')
if [ -n "$nic" ]; then
  packets() { $v domifstat "$GUEST" "$nic" 2>/dev/null | awk '/ (rx|tx)_packets / { printf "%s ", $3 }'; }
  a=$(packets); sleep 2; b=$(packets)
  link=$(ip -o link show "$nic" 2>/dev/null | grep -o 'master [^ ]*\|state [A-Z]*' | tr '\n' ' ')
  echo "$a $b" | awk -v nic="$nic" -v link="${link% }" \
    'NF == 4 { printf "nic: its NIC %s%s sent %d and received %d packets in 2 s\n", nic, (link == "" ? "" : " (" link ")"), $4 - $2, $3 - $1 }'
fi
queue() { # one virtqueue's indices, in a fixed order ("" when QEMU does not answer)
  j=$($v qemu-monitor-command "$GUEST" \
    "{\"execute\":\"x-query-virtio-queue-status\",\"arguments\":{\"path\":\"/machine/peripheral/net0/virtio-backend\",\"queue\":$1}}" 2>/dev/null | tr -d ' ')
  case $j in *'"used-idx":'*) ;; *) return 0 ;; esac
  for f in shadow-avail-idx last-avail-idx used-idx inuse; do
    printf '%s=%s ' "$f" "$(printf '%s' "$j" | grep -o "\"$f\":[0-9]*" | cut -d: -f2)"
  done
}
rx=$(queue 0); tx=$(queue 1)
[ -n "$rx$tx" ] && echo "queues: QEMU's receive queue ${rx% }; its transmit queue ${tx% }"
# An oops prints dozens of lines: the search reaches further back than the end shown.
console=$(tail -n 400 "$CONSOLE_LOG" 2>/dev/null | tr -d '\r')
printf '%s\n' "$console" | awk '
  /miglab-guest (ready|starting)/ { first = ""; last = "" }
  /virtio.*(is not a head|out of range)|Kernel panic|BUG:|Oops|general protection fault|unable to handle|invalid opcode|Segmentation fault|segfault at/ {
    if (first == "") first = $0; else last = $0 }
  END { if (first != "") print "fault: " first (last == "" ? "" : " ... then: " last) }'
printf '%s\n' "$console" | tail -n 12 | sed '/^$/d; s/^/console: /'
true
