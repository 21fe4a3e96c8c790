# One measured leg of a live migration, run on the SOURCE host. Rendered with a
# header setting: LEG, GUEST, SRC_NAME, DST_NAME, SRC_ADDR, DST_ADDR, PROBE_ADDR,
# GUEST_ADDR, GUEST_PORT, CONSOLE_LOG, NIC_STATE (nic-state.sh, asked of a guest that is
# silent after the move), KEY, KNOWN_HOSTS (see prelude.sh), MODE (precopy|postcopy|cold), POSTCOPY_SWITCH
# (after-first-pass|after-seconds|on-stall), POSTCOPY_AFTER_S,
# TIMEOUT_S, PROBE_INTERVAL_S, TIMELINE_INTERVAL_S (0 = no timeline), PLAIN_BYTES, IPERF_PORT (legs running at
# once to one destination each use their own), BANDWIDTH_MIBS (0 = unlimited),
# MAX_DOWNTIME_MS (0 = QEMU's default, 300 ms), STOP_ITERATIONS, STOP_SENT_MIB, STOP_DIRTY_PAGES_BELOW
# (pre-copy's stop conditions, migration.stopAfter; 0 = not set), EXTRA_FLAGS, COUNTER_FROM (probe: the
# probe node asks the guest's counter; hosts: the host it runs on does, behind NAT),
# PROBE_ADDR ("" when no third node can reach the guest), TUNNEL_PORT (bridged: the
# source's tunnel port towards the destination, whose packet count shows forwarding),
# BYSTANDERS (the other guests: "name address port asker host" lines, the asker being the
# node that can reach the guest's counter; each is asked before and after the leg and,
# when there is a probe, pinged from it throughout), STORAGE (shared: the disk is on the export;
# copy | copy-incremental: in the hosts' own pools, moved with the guest over NBD), DISK (its path
# there), DISK_BACKING (copy-incremental: the image under it that both hosts hold), DISK_PORT
# (the destination's NBD port, in libvirt's migration range but never a migration channel) and
# DISK_SUM (1: the guest writes only its disk's first sector, so the rest must not change), CAPTURE_SH (migration.capture: capture.sh,
# rendered; empty: no capture), CAPTURE_AT (the node that captures: its address, empty for this
# host), CAPTURE_NODE (its name), CAPTURE_DIR (where it keeps the leg's pcap), QMP_SOCK (the guest's
# second QMP monitor on each host, which post-copy recovery uses on the destination).
#
# It prints raw sections ("=== name") that the program parses with pure
# functions (components/reports/metrics.ts); progress goes to stderr. A failed or
# aborted migration leaves the guest running here, and says so in one line naming
# the host and the cause, printed as a "failed" section (the leg's outcome: the
# outputs show it and the next `pulumi up` tries the leg again) rather than as an exit code.
set -u
WORK=$(mktemp -d /tmp/miglab-leg.XXXXXX)
# One SSH connection to each peer for the whole leg: a new one cost 0.3-0.4 s here (key exchange,
# sshd's start) and a leg makes a dozen. virsh's qemu+ssh rides it too: libvirt's ssh transport
# runs the URI's `command`, a wrapper adding the same options. Closed by cleanup.
# (A peer that stops answering ends its connection within 15 s, and the commands riding it fail
# rather than hang; whether a peer answers SSH at all is asked on a new connection, SSH_NEW.)
CM="-o ControlMaster=auto -o ControlPath=$WORK/cm-%C -o ControlPersist=yes -o ServerAliveInterval=5 -o ServerAliveCountMax=3"
SSH_NEW="ssh -n $SSH_OPTS -i $KEY"
SSH="$SSH_NEW $CM"
printf '#!/bin/sh\nexec ssh %s "$@"\n' "$CM" > "$WORK/ssh"; chmod +x "$WORK/ssh"
DST_URI="qemu+ssh://root@$DST_ADDR/system?keyfile=$KEY$PEER_URI_PARAMS&command=$WORK/ssh"
# The probe's files live in /tmp of a node, which every lab on one machine shares: named after this run.
RUN_TAG=${WORK##*.}
PROBE_PID=""
BYSTANDER_PIDS=""
# The timeline's recorders: the job's statistics and libvirt's events here, the destination's
# events, and the guest's progress stream read on the probe node.
SAMPLER_PID=""; EVENTS_PID=""; DST_EVENTS_PID=""; PROGRESS_PID=""
# Each remote recorder is stopped, printed and removed in one SSH call (on a busy machine one costs ~0.6 s).
DST_EVENTS_FILE=/tmp/miglab-events-$LEG-$RUN_TAG.txt
PROGRESS_FILE=/tmp/miglab-progress-$LEG-$RUN_TAG.txt
# migration.capture: capture.sh on the node that captures, from before the probe starts until the
# leg's last figure; the file stays there.
CAPTURE_PID=""; CAPTURE_FILE=""; CAPTURE_IF=""
on_capture_node() { # capture.sh's action and arguments, run where the leg captures
  local cmd; cmd="$(printf '%q ' set -- "$@")"$'\n'"$CAPTURE_SH"
  if [ -n "$CAPTURE_AT" ]; then $SSH "root@$CAPTURE_AT" "$cmd"; else bash -c "$cmd"; fi
}
stop_timeline() { # what is still recording when the leg stops early
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
  [ -n "$EVENTS_PID" ] && kill "$EVENTS_PID" 2>/dev/null
  [ -n "$DST_EVENTS_PID" ] && $SSH "root@$DST_ADDR" "kill $DST_EVENTS_PID; rm -f $DST_EVENTS_FILE" 2>/dev/null
  [ -n "$PROGRESS_PID" ] && $SSH "root@$PROBE_ADDR" "kill $PROGRESS_PID; rm -f $PROGRESS_FILE" 2>/dev/null
  SAMPLER_PID=""; EVENTS_PID=""; DST_EVENTS_PID=""; PROGRESS_PID=""
}
cleanup() {
  # Defined further down: a leg that ends before it never opened a hold.
  [ "$(type -t qmp_release)" = function ] && qmp_release
  # (Cleared once their output is read: set here, the leg ended early, and their files go too.)
  [ -n "$PROBE_PID" ] && $SSH "root@$PROBE_ADDR" "kill $PROBE_PID; rm -f /tmp/miglab-probe-$LEG-$RUN_TAG.txt" 2>/dev/null
  [ -n "$BYSTANDER_PIDS" ] && $SSH "root@$PROBE_ADDR" "kill $BYSTANDER_PIDS; rm -f /tmp/miglab-probe-$LEG-*-$RUN_TAG.txt" 2>/dev/null
  stop_timeline
  if [ -n "$CAPTURE_PID" ]; then
    on_capture_node halt "$CAPTURE_FILE" "$CAPTURE_PID" 2>/dev/null
    say "the capture until the leg stopped is on $CAPTURE_NODE: $CAPTURE_FILE"
  fi
  for cm in "$WORK"/cm-*; do [ -S "$cm" ] && ssh -o ControlPath="$cm" -O exit peer >/dev/null 2>&1; done
  rm -rf "$WORK"
}
trap cleanup EXIT
# Ctrl-C in `pulumi up` ends this script's SSH session: its next write fails (SIGPIPE), or sshd
# hangs up. Abort the migration then, so the guest keeps running here.
hangup() {
  trap '' PIPE HUP INT TERM; exec >/dev/null 2>&1
  [ -n "${mig:-}" ] && kill -0 "$mig" 2>/dev/null && virsh -c qemu:///system domjobabort "$GUEST"
  # Only the migration is waited for: the timeline's recorders run until cleanup ends them, and a
  # bare `wait` hung here for good, leaving the leg's files in /tmp after every Ctrl-C.
  [ -n "${mig:-}" ] && wait "$mig" 2>/dev/null
  [ -n "${stopped_by:-}" ] && virsh -c qemu:///system migrate-setmaxdowntime "$GUEST" "$took"
  exit 130
}
trap hangup PIPE HUP INT TERM
say() { echo "$LEG: $*" >&2; }
# What both hosts' libvirt wrote during the migration (the daemon's log where it keeps one, and the
# guest's QEMU log), shown under the failure's one line: "keepalive timeout" alone names no cause.
log_excerpt() { # the command that prints it on a host: "<file>: <line>", the last 8 lines of each since LOG_SINCE
  # (lines without a stamp go with the stamped line above them; QEMU stamps "2026-12-01T...")
  # shellcheck disable=SC2016 # expanded on the host that runs it
  printf 'for f in /var/log/libvirt/libvirtd.log /var/log/libvirt/qemu/%q.log; do [ -r "$f" ] && awk -v t=%q '"'"'{ s = substr($0, 1, 19); sub("T", " ", s) } s ~ /^[0-9]+-/ { on = s >= t } on && NF'"'"' "$f" | tail -n 8 | sed "s|^|$f: |"; done; true' "$GUEST" "$LOG_SINCE"
}
daemon_logs() {
  [ -n "${LOG_SINCE:-}" ] || return 0
  local out
  out=$(bash -c "$(log_excerpt)" 2>/dev/null) && [ -n "$out" ] && printf '%s\n' "$out" | while IFS= read -r l; do say "$SRC_NAME $l"; done
  out=$($SSH -o ConnectTimeout=10 "root@$DST_ADDR" "$(log_excerpt)" 2>/dev/null) && [ -n "$out" ] && printf '%s\n' "$out" | while IFS= read -r l; do say "$DST_NAME $l"; done
  return 0
}
# Why the guest is silent where it runs ($1: src|dst), from NIC_STATE (nic-state.sh) run on both
# hosts: its NIC's traffic over 2 s and QEMU's virtqueues there, as one line for the failure, and
# the end of its console there above that line; and a fault its kernel reported since it last
# started, on either host: it is printed where the guest ran when it happened, which may be the
# host it left.
faults_in() { # $1: host, $2: what NIC_STATE printed there
  printf '%s\n' "$2" | awk -v h="$1" 'sub(/^fault: /, "") { print "on " h " (console: " $0 ")" }'
}
silent_guest() {
  local here there on name fault said
  here=$(bash -c "$NIC_STATE" 2>/dev/null)
  there=$($SSH -o ConnectTimeout=10 "root@$DST_ADDR" "$NIC_STATE" 2>/dev/null)
  if [ "$1" = src ]; then on=$here name=$SRC_NAME; else on=$there name=$DST_NAME; fi
  printf '%s\n' "$on" | grep '^console: ' | while IFS= read -r l; do say "$name $l"; done
  said=$(printf '%s\n' "$on" | sed -n 's/^nic: //p; s/^queues: //p' | awk '{ printf "%s%s", (NR > 1 ? "; " : ""), $0 }')
  fault=$( { faults_in "$SRC_NAME" "$here"; faults_in "$DST_NAME" "$there"; } | awk '{ printf "%s%s", (NR > 1 ? " and " : ""), $0 }')
  [ -z "$fault" ] || said="${said:+$said; }its kernel reported a fault $fault, a fault of QEMU under TCG seen here now and then in a guest it migrated"
  printf '%s\n' "$said"
}
fail() {
  # One line, whatever the tools it quotes printed.
  local line; line=$(printf '%s' "$*" | tr '\n\r' '  ' | tr -s ' ')
  echo "$LEG: $line" >&2
  echo "=== failed"; echo "$line"
  echo "=== at"; date +%s.%N
  exit 0
}

ask_counter="timeout 5 bash -c 'exec 3<>/dev/tcp/$GUEST_ADDR/$GUEST_PORT; head -n1 <&3'"
counter_once() {
  if [ "$COUNTER_FROM" = hosts ]; then
    if [ "$1" = src ]; then bash -c "$ask_counter" 2>/dev/null; else $SSH "root@$DST_ADDR" "$ask_counter" 2>/dev/null; fi
  else
    $SSH "root@$PROBE_ADDR" "$ask_counter" 2>/dev/null
  fi | head -n1
}
counter() { # one line from the guest's counter service; $1: where the guest runs now (src|dst)
  # One ask can time out on a busy machine (seen through a loaded overlay): ask up to three times.
  local line="" try
  for try in 1 2 3; do
    line=$(counter_once "$1")
    [ -n "$line" ] && break
    say "no answer from $GUEST's counter (ask $try of 3)"
  done
  echo "$line"
}
bystanders() { # "name host status-line" for every other guest
  while read -r name addr port asker host; do
    [ -n "$name" ] || continue
    echo "$name $host $($SSH "root@$asker" "timeout 5 bash -c 'exec 3<>/dev/tcp/$addr/$port; head -n1 <&3'" 2>/dev/null | head -n1)"
  done <<BYSTANDERS_END
${BYSTANDERS:-}
BYSTANDERS_END
}
sampler() { # "t remaining processed bps dirty-rate iteration postcopy-requests disk-processed disk-remaining" every interval (t: epoch s)
  local step next d t k v rem proc bps dirty iter req dproc drem frac
  step=$(awk -v s="$TIMELINE_INTERVAL_S" 'BEGIN { printf "%d", s * 1000000 }')
  t=$EPOCHREALTIME; next=${t/[.,]/}
  while :; do
    t=$EPOCHREALTIME; rem=""; proc=""; bps=""; dirty=""; iter=""; req=""; dproc=""; drem=""
    while IFS=: read -r k v; do
      v=${v// /}
      case "$k" in
        memory_remaining) rem=$v ;; memory_processed) proc=$v ;; memory_bps) bps=$v ;;
        memory_dirty_rate) dirty=$v ;; memory_iteration) iter=$v ;; memory_postcopy_requests) req=$v ;;
        disk_processed) dproc=$v ;; disk_remaining) drem=$v ;;
      esac
    done < <(virsh -c qemu:///system domjobinfo "$GUEST" --rawstats 2>/dev/null)
    # (A disk copied over NBD goes first: its samples come before memory's.)
    [ -n "$rem$drem" ] && echo "${t/,/.} ${rem:-0} ${proc:-0} ${bps:-0} ${dirty:-0} ${iter:-0} ${req:-0} ${dproc:-0} ${drem:-0}"
    # An absolute schedule: a slow sample delays the next one, it does not shift them all.
    t=$EPOCHREALTIME; t=${t/[.,]/}
    next=$((next + step)); d=$((next - t))
    if [ $d -gt 0 ]; then printf -v frac %06d $((d % 1000000)); sleep "$((d / 1000000)).$frac"; else next=$t; fi
  done
}
job_now() { # "remaining iteration processed" of the running job: the sampler's last line, or libvirt asked now
  if [ -n "$SAMPLER_PID" ]; then
    tail -n1 "$WORK/samples.txt" 2>/dev/null | awk '{ print $2, $6, $3 }'
  else
    virsh -c qemu:///system domjobinfo "$GUEST" --rawstats 2>/dev/null |
      awk -F: '{ gsub(/ /, "", $2) } $1 == "memory_remaining" { r = $2 } $1 == "memory_iteration" { i = $2 } $1 == "memory_processed" { p = $2 } END { if (r != "") print r, i + 0, p + 0 }'
  fi
}
# Pre-copy's stop conditions (migration.stopAfter). Once one is met, QEMU's downtime limit goes to
# its maximum (2000 s) for the rest of the leg. QEMU stops the guest and sends the rest once that
# fits in the limit at the rate it measured over its last 100 ms; in 2000 s it fits unless that rate
# is under a 2000th of it per second (0.1 MB/s for 200 MiB left), so QEMU's next check is its last.
# A limit worked out from the remaining memory and our reading of the rate would miss whenever
# QEMU's own figure dipped below ours. The limit is only QEMU's threshold: the pause lasts what the
# rest takes to send, whatever it is set to.
STOP_FORCE_MS=2000000
stopped_by=""; stopped_said=""; page_size=""
pass_iter=0; pass_rem=0; pass_proc=0; pass_pages=""
last_pass_pages() { # $1 remaining $2 iteration $3 processed (bytes) $4 page size: pass_pages, once a pass after the first began
  # A pass begins with the pages the guest dirtied during the one before: QEMU's remaining memory
  # right after its bitmap sync, when the iteration advances. The reading comes later, so what QEMU
  # sent of the new pass meanwhile is added back (sent since the last reading, beyond what the
  # previous pass had left then); after several short passes since the last reading, what remains
  # is all there is to go by.
  if [ "$2" -ge 2 ] && [ "$2" -gt "$pass_iter" ]; then
    local ahead=0
    [ $(($2 - pass_iter)) = 1 ] && ahead=$(($3 - pass_proc - pass_rem))
    [ "$ahead" -gt 0 ] || ahead=0
    pass_pages=$((($1 + ahead) / $4))
  fi
  pass_iter=$2; pass_rem=$1; pass_proc=$3
}
stop_condition() { # $1 iteration $2 bytes sent $3 pages the last pass began with ("": none yet): the first condition met, if any
  if [ "$STOP_ITERATIONS" != 0 ] && [ "$1" -ge "$STOP_ITERATIONS" ]; then echo iterations
  elif [ "$STOP_SENT_MIB" != 0 ] && [ "$2" -ge $((STOP_SENT_MIB * 1048576)) ]; then echo sentMiB
  elif [ "$STOP_DIRTY_PAGES_BELOW" != 0 ] && [ -n "$3" ] && [ "$3" -lt "$STOP_DIRTY_PAGES_BELOW" ]; then echo dirtyPagesBelow
  fi
}
stop_check() { # $1 remaining $2 iteration $3 processed $4 elapsed (s): once per reading of the job; forces the stop-and-copy once a condition is met
  [ "$MODE" = precopy ] && [ -z "$stopped_by" ] && [ "$STOP_ITERATIONS$STOP_SENT_MIB$STOP_DIRTY_PAGES_BELOW" != 000 ] || return 0
  [ -n "$1" ] && [ -n "$2" ] && [ -n "$3" ] || return 0
  if [ "$STOP_DIRTY_PAGES_BELOW" != 0 ]; then
    [ -n "$page_size" ] || page_size=$(virsh -c qemu:///system domjobinfo "$GUEST" --rawstats 2>/dev/null | awk -F: '$1 == "memory_page_size" { gsub(/ /, "", $2); p = $2 } END { print p + 0 ? p : 4096 }')
    last_pass_pages "$1" "$2" "$3" "$page_size"
  fi
  local c; c=$(stop_condition "$2" "$3" "$pass_pages")
  [ -n "$c" ] || return 0
  # A guest already paused is in the stop-and-copy QEMU began on its own (its target was met, and the
  # reading is up to one interval old): that is not this condition's doing.
  [ "$(virsh -c qemu:///system domstate "$GUEST" 2>/dev/null)" = running ] || return 0
  if virsh -c qemu:///system migrate-setmaxdowntime "$GUEST" "$STOP_FORCE_MS" >/dev/null 2>&1; then
    stopped_by="condition=$c iteration=$2 elapsed_s=$4 remaining_bytes=$1 sent_bytes=$3 last_pass_pages=${pass_pages:--}"
    stopped_said="stopAfter.$c (met at iteration $2)"
    say "stopAfter.$c met at iteration $2: forcing the stop-and-copy (downtime limit $STOP_FORCE_MS ms for the rest of the leg)"
  else
    say "stopAfter.$c met at iteration $2, but QEMU did not take the downtime limit $STOP_FORCE_MS ms: trying again at the next reading"
  fi
}
# A command for the probe node: wait (at most 3 s) until the probe has a reply stamped after $1 (epoch s).
# The named fields of libvirt's running job now, space-separated, in the order given.
job_stats() {
  virsh -c qemu:///system domjobinfo "$GUEST" --rawstats 2>/dev/null |
    awk -F: -v want="$*" '{ gsub(/ /, "", $2); v[$1] = $2 } END { n = split(want, w, " "); for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? " " : ""), (w[i] in v ? v[w[i]] : "?"); print "" }'
}
# A command printing a local disk's state as a host sees it: "clean|corrupt|unreadable <sum>", the sum
# (sha256) of the disk as the guest reads it beyond its first sector when DISK_SUM is 1 ("-" otherwise),
# read beside the running QEMU (-U). qemu-img check's 3 is leaked clusters only, which lose no data.
disk_print() {
  printf '%s' "d=$(printf %q "$DISK"); qemu-img check -U -q \"\$d\" >/dev/null 2>&1; case \$? in 0|3) s=clean ;; 2) s=corrupt ;; *) s=unreadable ;; esac; "
  printf '%s' "sum=-; if [ ${DISK_SUM:-0} = 1 ]; then r=\$(mktemp) && qemu-img convert -U -O raw \"\$d\" \"\$r\" && sum=\$(tail -c +513 \"\$r\" | sha256sum | cut -c1-64); rm -f \"\$r\"; fi; echo \"\$s \$sum\""
}
# The disk's size as its guest sees it, in bytes. The image's own is the first "virtual size" line:
# the JSON form lists its file child's (the file's length) first.
disk_size() {
  qemu-img info -U "$DISK" 2>/dev/null | sed -n 's/^virtual size:.*(\([0-9]*\) bytes)$/\1/p' | head -n1
}
# Post-copy preempt is a second connection to the destination's migration port, opened at the
# switch and closed at the end: libvirt turns it on by itself where both QEMUs have it, with no
# flag to ask or refuse it, so the leg counts the connections (libvirt's migration ports,
# qemu.conf's default 49152-49215) until it sees two or the migration ends (at most 1 s). A disk
# copied with the guest rides one more connection into that range, to the NBD port the leg gave
# (DISK_PORT), open until the switch completes it: not a migration channel, so not counted.
preempt_channels() {
  local n=0 most=0
  for _ in $(seq 50); do
    n=$(ss -Htn state established dst "$DST_ADDR" '( dport >= :49152 and dport <= :49215 )' 2>/dev/null |
      awk -v nbd="${DISK_PORT:-}" '{ k = split($(NF), a, ":"); if (a[k] != nbd) c++ } END { print c + 0 }')
    [ "$n" -gt "$most" ] && most=$n
    [ "$most" -ge 2 ] && break
    kill -0 "$mig" 2>/dev/null || break
    sleep 0.02
  done
  echo "$most"
}
probe_wait() {
  echo "for _ in \$(seq 150); do awk -v t=$1 -F'[][]' '/bytes from/ && \$2 > t { f = 1; exit } END { exit !f }' /tmp/miglab-probe-$LEG-$RUN_TAG.txt && break; sleep 0.02; done"
}
tunnel_read() { # sets TUNNEL_N, the packets the source has sent into the tunnel towards the destination, and TUNNEL_T, when (epoch s)
  # Open vSwitch adds a datapath flow's packets to the tunnel port's counter when a revalidator
  # dumps the flow (every 0.5 s), and its database copies the counters every 5 s: the count is
  # asked of ovs-vswitchd once a dump has completed, and stands for that moment.
  # The port's bridge and its datapath, asked once for the leg's two reads.
  if [ -z "${TUNNEL_BR+set}" ]; then
    TUNNEL_BR=$(ovs-vsctl --timeout=5 port-to-br "$TUNNEL_PORT" 2>/dev/null)
    # The userspace datapath (datapath_type netdev, the local site's) credits a tunnel port twice
    # for each packet sent through it: Open vSwitch 3.1 counted 1222 for the 611 frames that left
    # the uplink (docs/capture.md). Halved there, the count is of packets.
    TUNNEL_HALVE=0
    [ -n "$TUNNEL_BR" ] && [ "$(ovs-vsctl --timeout=5 get bridge "$TUNNEL_BR" datapath_type 2>/dev/null)" = netdev ] && TUNNEL_HALVE=1
  fi
  local n=""
  timeout 5 ovs-appctl revalidator/wait >/dev/null 2>&1
  TUNNEL_T=${EPOCHREALTIME/,/.}
  [ -n "$TUNNEL_BR" ] && n=$(ovs-ofctl dump-ports "$TUNNEL_BR" "$TUNNEL_PORT" 2>/dev/null | sed -n 's/.*tx pkts=\([0-9][0-9]*\).*/\1/p' | head -n1)
  [ -n "$n" ] || n=$(ovs-vsctl get interface "$TUNNEL_PORT" statistics:tx_packets 2>/dev/null || echo 0)
  [ "$TUNNEL_HALVE" = 1 ] && n=$((n / 2))
  TUNNEL_N=$n
}

if ! state=$(virsh -c qemu:///system domstate "$GUEST" 2>&1); then
  # An earlier leg that failed after the move leaves the guest on its destination.
  there=$($SSH -o ConnectTimeout=10 "root@$DST_ADDR" "virsh -c qemu:///system domstate $GUEST" 2>/dev/null) &&
    fail "guest $GUEST is not on $SRC_NAME but '$there' on $DST_NAME, where an earlier leg left it: migrate it back (virsh migrate), or, if it does not answer there, pulumi up --refresh restarts it at home"
  fail "guest $GUEST is not defined on $SRC_NAME ($state)"
fi
[ "$state" = running ] || fail "guest $GUEST is '$state' on $SRC_NAME, not running: start it there first"
# (libvirt opens the guest's console log there before it would make the directory, which a
# host whose package made it may have lost)
$SSH "root@$DST_ADDR" "mkdir -p ${CONSOLE_LOG%/*} || true" 2>"$WORK/ssh.err" ||
  fail "$SRC_NAME cannot reach $DST_NAME ($DST_ADDR) over SSH: $(cat "$WORK/ssh.err")"

# The downtime target is QEMU's (downtime-limit), set on the source's QEMU and read back: a
# target QEMU did not take fails the leg before it migrates, rather than measuring another one.
if [ "${MAX_DOWNTIME_MS:-0}" != 0 ]; then
  out=$(virsh -c qemu:///system migrate-setmaxdowntime "$GUEST" "$MAX_DOWNTIME_MS" 2>&1) ||
    fail "$SRC_NAME: QEMU did not take the downtime target of $MAX_DOWNTIME_MS ms for $GUEST (migration.maxDowntimeMs): $out"
fi
took=$(virsh -c qemu:///system migrate-getmaxdowntime "$GUEST" 2>&1) ||
  fail "$SRC_NAME: the downtime target of $GUEST cannot be read back (migrate-getmaxdowntime): $took"
took=$(echo "$took" | tr -d '[:space:]')
if [ "${MAX_DOWNTIME_MS:-0}" != 0 ] && [ "$took" != "$MAX_DOWNTIME_MS" ]; then
  fail "$SRC_NAME: QEMU did not take the downtime target for $GUEST: set $MAX_DOWNTIME_MS ms (migration.maxDowntimeMs), read back '$took'"
fi
echo "=== maxdowntime"; echo "$took"

before=$(counter src)
echo "=== counter-before"; echo "$before"
# A guest that does not answer here is not moved: it was silent before the leg (a NIC broken in an
# earlier leg shows only once traffic reaches it), and moving it would blame this leg's destination.
if [ -z "$before" ]; then
  nic=$(silent_guest src)
  fail "guest $GUEST does not answer on $SRC_NAME before the leg (its counter service at $GUEST_ADDR:$GUEST_PORT, asked 3 times) though libvirt says it is running there${nic:+; $nic}; it was not migrated; its console ends as shown above ($CONSOLE_LOG on $SRC_NAME); the next pulumi up --refresh (npm run lab) restarts a guest that does not answer"
fi
echo "=== bystanders-before"; bystanders

# The plain transfer on the same path, measured right before the migration.
say "plain transfer $SRC_NAME -> $DST_NAME ($PLAIN_BYTES bytes)"
# Its PID file is named after this run: /tmp is every lab's, and iperf3 refuses to start while
# the PID in the file it is given runs (another lab's server: the leg then found no server).
$SSH "root@$DST_ADDR" "iperf3 -s -1 -D -B $DST_ADDR -p $IPERF_PORT --pidfile /tmp/miglab-iperf3-$RUN_TAG.pid" 2>/dev/null
# The daemon listens a moment after it forks: on a busy host a fixed pause was not always enough.
$SSH "root@$DST_ADDR" "for _ in \$(seq 100); do ss -Hltn 'sport = :$IPERF_PORT' | grep -q . && exit 0; sleep 0.1; done" 2>/dev/null
echo "=== iperf3"
iperf3 -c "$DST_ADDR" -B "$SRC_ADDR" -p "$IPERF_PORT" -n "$PLAIN_BYTES" -J 2>&1 || say "iperf3 failed"

if [ -n "$CAPTURE_SH" ]; then
  CAPTURE_FILE="$CAPTURE_DIR/$LEG-$(date -u +%Y%m%dT%H%M%SZ)-$RUN_TAG.pcap"
  # The router captures on its link towards the source; the source on its own, towards the destination.
  if [ -n "$CAPTURE_AT" ]; then toward=$SRC_ADDR; else toward=$DST_ADDR; fi
  said=$(on_capture_node start "$CAPTURE_FILE" "$toward" 2>&1 | tail -n1)
  case "$said" in
    [0-9]*) read -r CAPTURE_PID CAPTURE_IF <<<"$said"; say "capturing on $CAPTURE_NODE ($CAPTURE_IF) into $CAPTURE_FILE" ;;
    *) fail "migration.capture: $CAPTURE_NODE cannot capture the leg (${said#failed: }); install tshark there (it brings dumpcap), or set capture: false; $GUEST was not migrated" ;;
  esac
fi

# The probe pings the guest from a host that is neither source nor destination.
if [ -n "$PROBE_ADDR" ]; then
  # The guest's progress reader starts in the same call: the guest's side takes a while to answer
  # under TCG, and it must be streaming before the migration starts.
  start_reader=""
  if [ "${TIMELINE_INTERVAL_S:-0}" != 0 ]; then
    reader="exec 3<>/dev/tcp/$GUEST_ADDR/$((GUEST_PORT + 1)) && while IFS= read -r l <&3; do echo \"\$EPOCHREALTIME \$l\"; done"
    start_reader="nohup bash -c $(printf %q "$reader") >$PROGRESS_FILE 2>&1 </dev/null & echo \$!;"
  fi
  read -r PROBE_PID PROGRESS_PID < <($SSH "root@$PROBE_ADDR" "nohup ping -D -i $PROBE_INTERVAL_S $GUEST_ADDR >/tmp/miglab-probe-$LEG-$RUN_TAG.txt 2>&1 </dev/null & echo \$!; $start_reader" | tr '\n' ' '; echo)
fi
if [ -n "$PROBE_ADDR" ] && [ -n "${BYSTANDERS:-}" ]; then
  starts=$(echo "$BYSTANDERS" | while read -r name addr _; do
    [ -n "$name" ] && printf 'nohup ping -D -i %s %s >/tmp/miglab-probe-%s-%s-%s.txt 2>&1 </dev/null & echo $!; ' "$PROBE_INTERVAL_S" "$addr" "$LEG" "$name" "$RUN_TAG"
  done)
  BYSTANDER_PIDS=$($SSH "root@$PROBE_ADDR" "$starts" | tr '\n' ' ')
fi
TUNNEL_T0="-"; TUNNEL_T1="-"
if [ -n "$TUNNEL_PORT" ]; then tunnel_read; TUNNEL_TX_BEFORE=$TUNNEL_N; TUNNEL_T0=$TUNNEL_T; fi
if [ "${TIMELINE_INTERVAL_S:-0}" != 0 ]; then
  virsh -c qemu:///system event --all --loop --timestamp >"$WORK/events.txt" 2>&1 &
  EVENTS_PID=$!
  DST_EVENTS_PID=$($SSH "root@$DST_ADDR" "nohup virsh -c qemu:///system event --all --loop --timestamp >$DST_EVENTS_FILE 2>&1 </dev/null & echo \$!")
fi
# The migration starts once the probe sees the guest (it was a fixed second before).
waited=$EPOCHREALTIME
[ -n "$PROBE_ADDR" ] && $SSH "root@$PROBE_ADDR" "$(probe_wait 0)"
waited=$(awk -v a="$waited" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')

# Post-copy cannot fall back once switched: the guest runs on the destination while the pages it
# has not fetched are only on the source. When the stream breaks then, QEMU pauses the migration
# on each side that sees the break (postcopy-paused; libvirt: "post-copy failed") instead of losing
# the guest, and the leg resumes it once the path is back, for at most TIMEOUT_S from the break.
#
# libvirt's own resume (virsh migrate --postcopy-resume) cannot be used here: it asks the
# destination's QEMU for its migration state first, over the monitor libvirt holds, whose commands
# that QEMU's main loop runs; and that loop stops on the first guest page it touches while the
# migration is paused (the guest's NIC receiving into a page still on the source: seen every time
# the probe ran), so libvirt waits for good (and libvirt 11.3's daemon on the destination crashed
# on that resume once its QEMU did answer). QEMU keeps two commands for this out of band, run at
# once whatever its main loop does: migrate-pause and migrate-recover. libvirt negotiates no
# out-of-band execution, so the leg holds a QMP connection of its own to the destination's QEMU
# (the guest's second monitor, QMP_SOCK), opened before the switch while that QEMU answers, and:
# (1) waits until a NEW SSH connection reaches the destination (the path is back); (2) pauses the
# destination's side there (migrate-pause: one that sent nothing since the break has not seen it;
# libvirt's Finish there then fails, which ends `virsh migrate`); (3) has it listen for the
# recovery (migrate-recover, on a free migration port); (4) resumes the source's QEMU towards it
# (`migrate` with resume, through libvirt's monitor on the source, whose main loop is free: the
# guest stands paused there). QEMU then reopens both channels (main and preempt) and sends the
# rest, and libvirt, finding its failed post-copy job completed, finishes it on each host by
# itself. Sets rc and recovery="broken-at resumed-at done-at tries" (epoch s; "-" for a resume that
# never came).
QMP_IN=/tmp/miglab-qmp-$LEG-$RUN_TAG.in; QMP_OUT=/tmp/miglab-qmp-$LEG-$RUN_TAG.out; QMP_PID=""; QMP_OPENER=""; QMP_SEQ=0; QMP_SAID=""
# shellcheck disable=SC2016 # run on the destination: $1 the socket, $2 the FIFO of commands, $3 what QEMU says
QMP_HOLD='test -S "$1" || { echo "no monitor socket $1"; exit 1; }
command -v socat >/dev/null || { echo "socat is not installed"; exit 1; }
rm -f "$2" "$3"; mkfifo "$2" || exit 1
setsid bash -c '"'"'exec 3<>"$1"; { echo "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\"]}}"; cat <&3; } | socat - "UNIX-CONNECT:$2"'"'"' _ "$2" "$1" >"$3" 2>&1 </dev/null &
pid=$!
for _ in $(seq 50); do grep -q "^{\"return\": {}}" "$3" 2>/dev/null && { echo "$pid"; exit 0; }; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -- -$pid 2>/dev/null; said=$(tr "\n" " " < "$3" | cut -c1-300); rm -f "$2" "$3"; echo "its monitor did not answer: $said"; exit 1'
# shellcheck disable=SC2016 # $1 the FIFO, $2 what QEMU says, $3 the command's id, $4 the command: prints QEMU's answer
QMP_ASK='timeout 5 bash -c "echo \"\$1\" > \"\$2\"" _ "$4" "$1" || { echo "the hold on the monitor is gone"; exit 1; }
for _ in $(seq 50); do grep -F "\"id\": \"$3\"" "$2" && exit 0; sleep 0.1; done
echo "no answer"; exit 1'
# The hold is opened in the background, from the leg's first look at a running job: opening it
# waits for the destination's QEMU to answer, and the leg's loop, which decides the switch, must
# not wait with it (a later switch leaves less to post-copy, and a short one may end before the
# leg reads it). 10 tries, 0.5 s apart; qmp_held collects the outcome when a recovery needs it.
qmp_hold() {
  [ -z "$QMP_OPENER" ] || return 0
  (
    for _ in $(seq 10); do
      said=$($SSH "root@$DST_ADDR" "$(printf '%q ' set -- "$QMP_SOCK" "$QMP_IN" "$QMP_OUT")"$'\n'"$QMP_HOLD" 2>&1)
      case "$said" in [0-9]*) echo "$said" > "$WORK/qmp.pid"; exit 0 ;; esac
      echo "$said" > "$WORK/qmp.said"; sleep 0.5
    done
  ) </dev/null >/dev/null 2>&1 &
  QMP_OPENER=$!
}
qmp_held() { # 0 with QMP_PID set when the hold is open (waits for the opener at most 10 s)
  [ -n "$QMP_PID" ] && return 0
  [ -n "$QMP_OPENER" ] || return 1
  for _ in $(seq 100); do kill -0 "$QMP_OPENER" 2>/dev/null || break; sleep 0.1; done
  QMP_PID=$(cat "$WORK/qmp.pid" 2>/dev/null); QMP_SAID=$(cat "$WORK/qmp.said" 2>/dev/null)
  [ -n "$QMP_PID" ] && say "holding $DST_NAME's QEMU monitor for the recovery"
  [ -n "$QMP_PID" ]
}
qmp_release() {
  qmp_held && $SSH "root@$DST_ADDR" "kill -- -$QMP_PID; rm -f $QMP_IN $QMP_OUT" 2>/dev/null
  QMP_PID=""; QMP_OPENER=""
}
qmp_oob() { # $1: an out-of-band command with its arguments (JSON members after "exec-oob"); prints QEMU's answer
  QMP_SEQ=$((QMP_SEQ + 1))
  $SSH_NEW -o ConnectTimeout=3 "root@$DST_ADDR" "$(printf '%q ' set -- "$QMP_IN" "$QMP_OUT" "miglab-$QMP_SEQ" "{\"exec-oob\": $1, \"id\": \"miglab-$QMP_SEQ\"}")"$'\n'"$QMP_ASK" 2>&1
}
free_port() { # a migration port nothing listens on at the destination (qemu.conf's default range)
  $SSH_NEW -o ConnectTimeout=3 "root@$DST_ADDR" "ss -Hltn '( sport >= :49152 and sport <= :49215 )'" 2>/dev/null |
    awk '{ n = split($4, a, ":"); used[a[n]] = 1 } END { for (p = 49215; p >= 49152; p--) if (!(p in used)) { print p; exit } }'
}
since_s() { awk -v s="$1" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }'; }
left_s() { awk -v s="$1" -v n="$(date +%s.%N)" -v t="$TIMEOUT_S" 'BEGIN { printf "%d", t - (n - s) }'; } # whole seconds of the leg's timeout left since $1
recover_postcopy() { # $1: when the break was seen (epoch s)
  local since=$1 t left tries=0 port said st
  say "post-copy broke after the switch ($(virsh -c qemu:///system domstate "$GUEST" --reason 2>&1)): resuming it once $DST_NAME can be reached"
  if ! qmp_held; then
    recovery="$since - - 0"; echo "error: no hold on $DST_NAME's QEMU monitor ($QMP_SOCK) to recover through: ${QMP_SAID:-not opened before the switch}" >> "$WORK/migrate.out"; return
  fi
  while :; do
    left=$(left_s "$since")
    [ "$left" -gt 0 ] || break
    if ! $SSH_NEW -o ConnectTimeout=2 "root@$DST_ADDR" true 2>/dev/null; then sleep 0.5; continue; fi
    tries=$((tries + 1)); say "try $tries: $DST_NAME answers again ($(since_s "$since") s after the break)"
    # (an error when that side already paused by itself)
    qmp_oob '"migrate-pause"' >/dev/null
    # libvirt's Finish on the destination fails once its QEMU paused: `virsh migrate` returns.
    for _ in $(seq 100); do kill -0 "$mig" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$mig" 2>/dev/null && say "try $tries: virsh migrate has not returned yet"
    port=$(free_port)
    said=$(qmp_oob "\"migrate-recover\", \"arguments\": {\"uri\": \"tcp:$DST_ADDR:${port:-49215}\"}")
    case "$said" in *'"return"'*) ;; *) say "try $tries: $DST_NAME did not listen for the recovery: $said"; echo "error: migrate-recover on $DST_NAME: $said" > "$WORK/resume.out"; sleep 0.5; continue ;; esac
    t=$(date +%s.%N)
    said=$(virsh -c qemu:///system qemu-monitor-command "$GUEST" "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:$DST_ADDR:$port\", \"resume\": true}}" 2>&1)
    case "$said" in *'"return"'*) ;; *) say "try $tries: the source did not resume: $said"; echo "error: migrate resume on $SRC_NAME: $said" > "$WORK/resume.out"; sleep 0.5; continue ;; esac
    say "post-copy resumed (try $tries, $(since_s "$since") s after the break, port $port): sending the rest"
    # Done when libvirt has finished the job on the source (the guest shut off there, migrated);
    # paused again there: the new stream broke too, and the next try starts.
    while :; do
      st=$(virsh -c qemu:///system domstate "$GUEST" --reason 2>&1)
      case "$st" in
        "shut off"*) rc=0; recovery="$since $t $(date +%s.%N) $tries"; say "post-copy recovered: $st"; return ;;
        *"post-copy failed"*) say "try $tries: the resumed stream broke too"; break ;;
      esac
      left=$(left_s "$since")
      [ "$left" -gt 0 ] || break
      sleep 0.2
    done
  done
  recovery="$since - - $tries"
  cat "$WORK/resume.out" >> "$WORK/migrate.out" 2>/dev/null
}

# The migration stream goes to the destination's lab address, not to whatever its host name
# resolves to (real hosts may not resolve each other, or resolve to another network).
# cold: without --live libvirt pauses the guest before the first page and resumes it on the
# destination after the last, so the whole migration is downtime.
migrate_flags() {
  local flags="--persistent --verbose --migrateuri tcp://$DST_ADDR"
  [ "$MODE" = cold ] || flags="--live $flags"
  [ "$MODE" = postcopy ] && flags="$flags --postcopy"
  [ "${BANDWIDTH_MIBS:-0}" != 0 ] && flags="$flags --bandwidth $BANDWIDTH_MIBS"
  echo "$flags ${EXTRA_FLAGS:-}"
}
flags=$(migrate_flags)

# A disk in the hosts' own pools goes with the guest (EXTRA_FLAGS copies it). Its print before the
# move, here, is what the destination's copy must show after it. The destination gets an empty disk
# of the same size (--copy-storage-all fills it), or the overlay over the backing image it holds
# too (--copy-storage-inc fills the overlay): made here, since libvirt makes none for an incremental
# copy, and its own pool's list of volumes may still name a copy an earlier leg removed.
if [ "${STORAGE:-shared}" != shared ]; then
  [ -f "$DISK" ] || fail "guest $GUEST's disk $DISK is not on $SRC_NAME, where the guest runs (storage $STORAGE): it cannot move with it; pulumi up --refresh restarts the guest at home with its disk"
  disk_before=$(bash -c "$(disk_print)")
  size=$(disk_size)
  [ -n "$size" ] || fail "$SRC_NAME: qemu-img cannot read the size of $GUEST's disk $DISK"
  if [ "$STORAGE" = copy-incremental ]; then make="qemu-img create -q -f qcow2 -F qcow2 -b '$DISK_BACKING' '$DISK' $size"
  else make="qemu-img create -q -f qcow2 '$DISK' $size"; fi
  out=$($SSH "root@$DST_ADDR" "[ \"\$(virsh -c qemu:///system domstate $GUEST 2>/dev/null)\" = running ] && { echo '$GUEST runs here'; exit 1; }; mkdir -p '${DISK%/*}' && rm -f '$DISK' && $make" 2>&1) ||
    fail "$DST_NAME: the copy of $GUEST's disk could not be made ready there ($DISK): $(echo "$out" | tail -n1)"
fi

say "virsh migrate $flags $GUEST -> $DST_NAME"
# libvirt stamps its log lines in UTC like this: what each daemon said since now is shown if the leg fails.
LOG_SINCE=$(date -u '+%Y-%m-%d %H:%M:%S')
start=$(date +%s.%N)
if [ "${TIMELINE_INTERVAL_S:-0}" != 0 ]; then sampler >"$WORK/samples.txt" 2>/dev/null & SAMPLER_PID=$!; fi
# shellcheck disable=SC2086
virsh -c qemu:///system migrate $flags "$GUEST" "$DST_URI" >"$WORK/migrate.out" 2>&1 &
mig=$!
switched=0; aborted=0; best_remaining=""; stalled=0; broke_at=""
while kill -0 "$mig" 2>/dev/null; do
  sleep 0.5
  now=$(date +%s.%N); elapsed=$(echo "$now - $start" | bc)
  read -r remaining iter processed < <(job_now)
  say "elapsed ${elapsed%.*}s iteration ${iter:-?} memory remaining ${remaining:-?} bytes"
  stop_check "$remaining" "$iter" "$processed" "$elapsed"
  # Pre-copy is "stalling" when a whole second passes without the remaining memory reaching a new low.
  if [ -n "$remaining" ]; then
    if [ -z "$best_remaining" ] || [ "$remaining" -lt "$best_remaining" ]; then best_remaining=$remaining; stalled=0
    else stalled=$((stalled + 1)); fi
  fi
  # The hold for a recovery, opened while the destination's QEMU answers (it exists once the job has data).
  [ "$MODE" = postcopy ] && [ $switched = 0 ] && [ -n "$iter" ] && qmp_hold
  if [ "$MODE" = postcopy ] && [ $switched = 0 ] && [ -n "$iter" ]; then
    case "$POSTCOPY_SWITCH" in
      after-first-pass) go=$([ "$iter" -ge 2 ] && echo 1 || echo 0) ;;
      after-seconds) go=$(echo "$elapsed >= $POSTCOPY_AFTER_S" | bc) ;;
      on-stall) go=$([ "$iter" -ge 2 ] && [ $stalled -ge 2 ] && echo 1 || echo 0) ;;
    esac
    # The preempt channel lives only as long as the post-copy phase, which on a busy machine can be
    # over (126 ms seen) before the reads below: it is watched from the ask on, beside them.
    [ "$go" = 1 ] && { preempt_channels > "$WORK/channels" & channels_pid=$!; }
    if [ "$go" = 1 ] && virsh -c qemu:///system migrate-postcopy "$GUEST" >/dev/null 2>&1; then
      switched=1; switched_at=$(date +%s.%N); say "switched to post-copy ($POSTCOPY_SWITCH, iteration $iter)"
      # Read at the ask too: a short post-copy may be over before the source reports it began.
      asked=$(job_stats time_elapsed memory_remaining memory_processed)
      # QEMU switches at the end of the pass it is in (34-84 ms after the ask here), sending pre-copy
      # at its rate meanwhile: the job is read once the source says the switch is done.
      for _ in $(seq 100); do
        case "$(virsh -c qemu:///system domstate "$GUEST" --reason 2>/dev/null)" in *"(post-copy)"*) break ;; esac
        kill -0 "$mig" 2>/dev/null || break
        sleep 0.01
      done
      at_switch=$(job_stats time_elapsed memory_remaining memory_processed)
      # No job any more, or nothing left: the post-copy phase was over before this read, so the read
      # at the ask is the one from before it.
      read -r _ left_at_switch _ <<<"$at_switch"
      if [[ "$at_switch" == *"?"* || "$left_at_switch" == 0 ]]; then at_switch=$asked; fi
      wait "$channels_pid" 2>/dev/null; channels=$(cat "$WORK/channels" 2>/dev/null || echo 0)
    elif [ -n "${channels_pid:-}" ]; then
      kill "$channels_pid" 2>/dev/null; wait "$channels_pid" 2>/dev/null; channels_pid=""
    fi
  fi
  # A break after the switch: `virsh migrate` may wait for minutes yet (on a destination that has not
  # seen it), so the leg sees it on the source and recovers now.
  if [ $switched = 1 ]; then
    case "$(virsh -c qemu:///system domstate "$GUEST" --reason 2>/dev/null)" in *"post-copy failed"*) broke_at=$(date +%s.%N); break ;; esac
  fi
  if [ "$(echo "$elapsed >= $TIMEOUT_S" | bc)" = 1 ] && [ $aborted = 0 ] && [ $switched = 0 ]; then
    say "timeout ${TIMEOUT_S}s reached: aborting, the guest stays on $SRC_NAME"
    virsh -c qemu:///system domjobabort "$GUEST" >/dev/null 2>&1; aborted=1
  fi
done
recovery=""
if [ -n "$broke_at" ]; then
  rc=1; recover_postcopy "$broke_at"
  # (`virsh migrate` ended when the destination paused; bounded all the same)
  for _ in $(seq 100); do kill -0 "$mig" 2>/dev/null || break; sleep 0.1; done
  kill "$mig" 2>/dev/null; wait "$mig" 2>/dev/null
else
  wait "$mig"; rc=$?
  if [ $rc -ne 0 ] && [ "$switched" = 1 ] && [ $aborted = 0 ]; then
    case "$(virsh -c qemu:///system domstate "$GUEST" --reason 2>/dev/null)" in *"post-copy failed"*) recover_postcopy "$(date +%s.%N)" ;; esac
  fi
fi
qmp_release
end=$(date +%s.%N)
[ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null; SAMPLER_PID=""
echo "=== wallclock"; echo "$start $end"
echo "=== migrate"; cat "$WORK/migrate.out"
[ -n "$stopped_by" ] && { echo "=== stop-condition"; echo "$stopped_by"; }
after=$EPOCHREALTIME
[ -n "$PROBE_ADDR" ] || sleep 0.5
echo "=== probe"
if [ -n "$PROBE_ADDR" ]; then
  # The probe runs on until it sees the guest after the end (at most 3 s; it was a fixed 0.5 s), so
  # the network's recovery is measured however long it takes; ping prints its summary as it exits
  # on SIGINT: waited for, not a fixed 0.3 s. One SSH call.
  $SSH "root@$PROBE_ADDR" "$(probe_wait "$end"); kill -INT $PROBE_PID; for _ in \$(seq 50); do kill -0 $PROBE_PID 2>/dev/null || break; sleep 0.02; done; cat /tmp/miglab-probe-$LEG-$RUN_TAG.txt; rm -f /tmp/miglab-probe-$LEG-$RUN_TAG.txt"
  PROBE_PID=""
else
  echo "skipped: no node outside the guest's host can reach it (NAT)"
fi
# How long the leg waited for the probe, before and after the migration (bench-timeline reports it).
echo "=== probe-waits"; awk -v w="$waited" -v a="$after" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d %d\n", w, (b - a) * 1000 }'
if [ "${TIMELINE_INTERVAL_S:-0}" != 0 ]; then
  echo "=== timeline-interval"; echo "$TIMELINE_INTERVAL_S"
  echo "=== timeline-guest"; echo "$GUEST"
  echo "=== samples"; cat "$WORK/samples.txt" 2>/dev/null
  [ -n "${switched_at:-}" ] && { echo "=== postcopy-switch"; echo "$switched_at"; }
  [ -n "$EVENTS_PID" ] && kill "$EVENTS_PID" 2>/dev/null; EVENTS_PID=""
  echo "=== events-src"; cat "$WORK/events.txt" 2>/dev/null
  echo "=== events-dst"; [ -n "$DST_EVENTS_PID" ] && $SSH "root@$DST_ADDR" "kill $DST_EVENTS_PID; cat $DST_EVENTS_FILE; rm -f $DST_EVENTS_FILE" 2>/dev/null
  DST_EVENTS_PID=""
  if [ -n "$PROBE_ADDR" ]; then
    echo "=== progress"; [ -n "$PROGRESS_PID" ] && $SSH "root@$PROBE_ADDR" "kill $PROGRESS_PID; cat $PROGRESS_FILE; rm -f $PROGRESS_FILE" 2>/dev/null
    PROGRESS_PID=""
  fi
fi
if [ -n "$BYSTANDER_PIDS" ]; then
  $SSH "root@$PROBE_ADDR" "kill -INT $BYSTANDER_PIDS; for p in $BYSTANDER_PIDS; do for _ in \$(seq 50); do kill -0 \$p 2>/dev/null || break; sleep 0.02; done; done" 2>/dev/null; BYSTANDER_PIDS=""
  echo "$BYSTANDERS" | while read -r name _; do
    [ -n "$name" ] || continue
    echo "=== bystander-probe-$name"
    $SSH "root@$PROBE_ADDR" "cat /tmp/miglab-probe-$LEG-$name-$RUN_TAG.txt; rm -f /tmp/miglab-probe-$LEG-$name-$RUN_TAG.txt"
  done
fi
echo "=== bystanders-after"; bystanders

if [ $rc -ne 0 ]; then
  # virsh's own error, without the "Migration: [ n %]" progress it wrote on the same line.
  err=$(tr '\r' '\n' < "$WORK/migrate.out" | grep -v '^Migration: \[' | grep -i 'error' | sed 's/^error: *//' | tail -n1)
  # Name the host at fault: a destination that is gone, or whose libvirt daemon is.
  if [ -n "$recovery" ]; then
    # Nothing to undo here: resuming the source would lose the pages the guest wrote on the destination.
    fail "post-copy of $GUEST from $SRC_NAME to $DST_NAME broke after the switch and could not be resumed in ${TIMEOUT_S}s (migration.timeoutSeconds)${err:+; virsh: $err}; the guest is paused on both hosts (post-copy failed), its memory split between them: once $DST_NAME is reachable from $SRC_NAME again, QMP migrate-recover on $DST_NAME's second monitor ($QMP_SOCK) and migrate with resume on $SRC_NAME complete it (docs/config.md, post-copy recovery)"
  elif [ $aborted = 1 ]; then
    why="aborted after ${TIMEOUT_S}s (migration.timeoutSeconds)${stopped_said:+ though $stopped_said had forced the stop-and-copy}"
  elif ! $SSH_NEW -o ConnectTimeout=10 "root@$DST_ADDR" true 2>"$WORK/ssh.err"; then
    why="$DST_NAME ($DST_ADDR) stopped answering over SSH ($(tail -n1 "$WORK/ssh.err"))${err:+; virsh: $err}"
  elif ! dst_virsh=$($SSH "root@$DST_ADDR" "timeout 10 virsh -c qemu:///system version" 2>&1 >/dev/null); then
    why="the libvirt daemon on $DST_NAME is not answering ($(echo "${dst_virsh:-no reply}" | tail -n1)); restart it (pulumi up --refresh)${err:+; virsh: $err}"
  else
    why=${err:-virsh exit $rc}
  fi
  # A migration that failed at its very end can leave the source paused: it must run again.
  st=$(virsh -c qemu:///system domstate "$GUEST" 2>&1)
  if [ "$st" = paused ]; then virsh -c qemu:///system resume "$GUEST" >/dev/null 2>&1; st=$(virsh -c qemu:///system domstate "$GUEST" 2>&1); fi
  # The guest stays here with the limit a stop condition raised: its target goes back to what QEMU held before.
  [ -n "$stopped_by" ] && [ "$st" = running ] && virsh -c qemu:///system migrate-setmaxdowntime "$GUEST" "$took" >/dev/null 2>&1
  # While the guest runs here, a copy the destination was receiving must not outlive the
  # failure: libvirt removes it, unless its daemon is gone; then stop that QEMU by its PID
  # file (started with -incoming, it never ran the guest).
  if [ "$st" = running ]; then
    orphan=$($SSH "root@$DST_ADDR" "p=\$(cat /run/libvirt/qemu/$GUEST.pid 2>/dev/null); [ -n \"\$p\" ] && tr '\\0' ' ' < /proc/\$p/cmdline 2>/dev/null | grep -q -- '-incoming' && kill \$p && echo stopped" 2>/dev/null)
    [ "$orphan" = stopped ] && why="$why; the incoming copy left on $DST_NAME was stopped"
    # The guest's disk stays here alone: the destination's partial copy goes.
    [ "${STORAGE:-shared}" = shared ] || $SSH "root@$DST_ADDR" "[ \"\$(virsh -c qemu:///system domstate $GUEST 2>/dev/null)\" = running ] || rm -f '$DISK'" 2>/dev/null
  fi
  daemon_logs
  fail "migration of $GUEST from $SRC_NAME to $DST_NAME failed: $why; the guest is '$st' on $SRC_NAME"
fi

echo "=== jobinfo"
virsh -c qemu:///system domjobinfo "$GUEST" --completed --rawstats
# Post-copy: the job when the switch was asked (ms since its start, bytes left, bytes sent) and
# the most migration connections seen after it.
[ "$switched" = 1 ] && { echo "=== postcopy"; echo "${at_switch:-? ? ?} ${channels:-0}"; }
[ -n "$recovery" ] && { echo "=== postcopy-recovery"; echo "$recovery"; }
# The source keeps an inactive copy (--persistent without --undefinesource, so the completed
# job's statistics stay readable above); the guest now lives on the destination only.
virsh -c qemu:///system undefine "$GUEST" >/dev/null 2>&1 || say "could not undefine the inactive copy on $SRC_NAME"
dst_state=$($SSH "root@$DST_ADDR" "virsh -c qemu:///system domstate $GUEST")
echo "=== dest-state"; echo "$dst_state"
# A guest libvirt reports running may still be dead to the network (seen here after pre-copy
# with downtime targets of 20-50 ms: the guest spinning in its virtio-net driver): a leg is
# measured only when the guest answers on the destination (counter asks up to three times).
answer=$(counter dst)
echo "=== counter-after"; echo "$answer"
if [ -z "$answer" ]; then
  nic=$(silent_guest dst)
  fail "migration of $GUEST from $SRC_NAME to $DST_NAME completed, but the guest does not answer on $DST_NAME (its counter service at $GUEST_ADDR:$GUEST_PORT, asked 3 times) though libvirt says it is '$dst_state' there${nic:+; $nic}; its console ends as shown above ($CONSOLE_LOG on $DST_NAME); the next pulumi up --refresh (npm run lab) restarts a guest that does not answer"
fi
if [ -n "$TUNNEL_PORT" ]; then tunnel_read; TUNNEL_T1=$TUNNEL_T; echo "=== tunnel"; echo "$TUNNEL_TX_BEFORE $TUNNEL_N"; fi
if [ "${STORAGE:-shared}" != shared ]; then
  # The disk as the guest sees it on the destination now, against its print before the move.
  disk_after=$($SSH "root@$DST_ADDR" "$(disk_print)" 2>/dev/null)
  echo "=== disk-check"; echo "${disk_before:-? ?} ${disk_after:-? ?}"
  read -r _ sum_before <<<"$disk_before"; read -r state_after sum_after <<<"${disk_after:-unread -}"
  if [ "$state_after" != clean ] || [ "$sum_after" != "$sum_before" ]; then
    fail "migration of $GUEST from $SRC_NAME to $DST_NAME completed, but its disk there is not the one it left with: qemu-img check says ${state_after}$([ "$sum_after" != "$sum_before" ] && echo ", and beyond its counter sector it reads $sum_after where it read $sum_before before the move"); its copy on $SRC_NAME ($DISK) was kept"
  fi
  # The guest's disk is on the destination now: the copy left here goes.
  rm -f "$DISK"
fi
if [ -n "$CAPTURE_PID" ]; then
  # Where the file is, the hosts' underlay addresses (the tunnels' ends), the tunnel counter's reads,
  # then what capture.sh decoded (components/reports/capture.ts reads it).
  echo "=== capture"
  echo "file $CAPTURE_FILE"; echo "node $CAPTURE_NODE $CAPTURE_IF"
  echo "hosts $SRC_ADDR $SRC_NAME $DST_ADDR $DST_NAME"; echo "window $TUNNEL_T0 $TUNNEL_T1"
  on_capture_node stop "$CAPTURE_FILE" "$CAPTURE_PID" "$TUNNEL_T0" "$TUNNEL_T1"
  CAPTURE_PID=""
fi
echo "=== at"; date +%s.%N
say "done"
