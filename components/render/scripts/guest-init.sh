#!/bin/sh
# miglab guest PID 1. Must never exit (kernel panics if it does), so there is
# deliberately no `set -e` and every failure is only reported on the console.
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=0755 tmpfs /run

con() { echo "miglab: $*" >/dev/console; }

for m in $(cat /etc/miglab-modules); do
    insmod "/lib/modules/$(uname -r)/$m.ko" || con "insmod $m failed"
done

# Centiseconds since boot, from /proc/uptime without forking. The "1xx - 100"
# dance avoids ash reading a fraction like "08" as an invalid octal number.
now_cs() {
    read -r _u _rest </proc/uptime
    echo $(( ${_u%.*} * 100 + 1${_u#*.} - 100 ))
}
# Sleep for $1 centiseconds (busybox sleep accepts fractions).
sleep_cs() {
    [ "$1" -gt 0 ] && sleep "$(( $1 / 100 )).$(( $1 % 100 / 10 ))$(( $1 % 10 ))"
}
# "0.2" -> 20, "1" -> 100, "1.5" -> 150 (integer-only shell arithmetic).
secs_to_cs() {
    _i=${1%%.*}; _f=
    case $1 in *.*) _f=${1#*.} ;; esac
    _f=${_f}00; _f=${_f%"${_f#??}"}
    echo $(( ${_i:-0} * 100 + 1$_f - 100 ))
}
is_uint() { case $1 in ''|*[!0-9]*) return 1 ;; esac; return 0; }

# ---- parameters
IP='' GW='' PORT=7000 DIRTY_MIB_S=0 DIRTY_WSS_MIB=0 FILL_MIB=0 PING='' PING_INTERVAL=0.2
for arg in $(cat /proc/cmdline); do
    case $arg in
        miglab.ip=*) IP=${arg#*=} ;;
        miglab.gw=*) GW=${arg#*=} ;;
        miglab.port=*) PORT=${arg#*=} ;;
        miglab.dirty_mib_s=*) DIRTY_MIB_S=${arg#*=} ;;
        miglab.dirty_wss_mib=*) DIRTY_WSS_MIB=${arg#*=} ;;
        miglab.fill_mib=*) FILL_MIB=${arg#*=} ;;
        miglab.ping=*) PING=${arg#*=} ;;
        miglab.ping_interval=*) PING_INTERVAL=${arg#*=} ;;
    esac
done
is_uint "$PORT" || { con "bad miglab.port=$PORT, using 7000"; PORT=7000; }
is_uint "$DIRTY_MIB_S" || { con "bad miglab.dirty_mib_s=$DIRTY_MIB_S, disabling"; DIRTY_MIB_S=0; }
is_uint "$DIRTY_WSS_MIB" || DIRTY_WSS_MIB=0
is_uint "$FILL_MIB" || { con "bad miglab.fill_mib=$FILL_MIB, not filling"; FILL_MIB=0; }
# A rate without a working set would do nothing; default the set to the rate.
[ "$DIRTY_MIB_S" -gt 0 ] && [ "$DIRTY_WSS_MIB" -le 0 ] && DIRTY_WSS_MIB=$DIRTY_MIB_S
case $PING_INTERVAL in ''|*[!0-9.]*|*.*.*) con "bad miglab.ping_interval=$PING_INTERVAL, using 0.2"; PING_INTERVAL=0.2 ;; esac
PING_CS=$(secs_to_cs "$PING_INTERVAL")
# Floor at 50 ms: each probe is a fork+exec, which is slow under TCG.
[ "$PING_CS" -lt 5 ] && PING_CS=5

# State read by miglab-status; everything lives in /run (tmpfs = guest RAM),
# so it migrates with the VM and resets on reboot (except the counter).
echo "$DIRTY_MIB_S" >/run/dirty_mib_s
echo 0 >/run/dirty_done
: >/run/ping_sent
: >/run/ping_recv

# ---- memory marker
# A known text the guest keeps in memory for good: every page of /run/marker (tmpfs) holds it
# over and over, and a migration sends those pages like any other. A capture of a migration in
# clear shows it, one over TLS must not (the lab suite's modes test, which reads this line).
MEMORY_MARKER='miglab-guest-memory-marker-5d1e07c3'
m='' i=0
while [ $i -lt 64 ]; do m="$m$MEMORY_MARKER "; i=$((i + 1)); done
i=0
while [ $i -lt 32 ]; do echo "$m"; i=$((i + 1)); done >/run/marker

# ---- network
ip link set lo up
if [ -n "$IP" ]; then
    # virtio_net probes synchronously, but give the netdev a moment anyway.
    i=0
    while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    ip addr add "$IP" dev eth0 || con "ip addr add $IP failed"
    ip link set eth0 up || con "eth0 up failed"
    if [ -n "$GW" ]; then
        ip route add default via "$GW" || con "default route via $GW failed"
    fi
else
    con "no miglab.ip= on the command line; networking left down"
fi

# ---- counter
i=0
while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
COUNTER=0
if [ -b /dev/vda ]; then
    # Sector 0 holds "<n>\n" padded with NULs; anything else means a fresh disk.
    v=$(dd if=/dev/vda bs=512 count=1 2>/dev/null | tr -d '\000' | head -n 1)
    is_uint "$v" && COUNTER=$v
    con "counter resumes from disk value $COUNTER"
else
    con "no /dev/vda; counter will not persist"
fi
echo "$COUNTER" >/run/counter

counter_loop() {
    n=$1 tick=0 next=$(now_cs)
    while :; do
        n=$((n + 1))
        # write+rename so a concurrent reader never sees a truncated file
        echo "$n" >/run/counter.tmp && mv -f /run/counter.tmp /run/counter
        tick=$((tick + 1))
        if [ $tick -ge 10 ] && [ -b /dev/vda ]; then
            tick=0
            # conv=sync pads the short pipe read to a full 512-byte sector;
            # fsync pushes it through to the qcow2 so a kill -9 keeps it.
            printf '%s\n' "$n" | dd of=/dev/vda bs=512 count=1 conv=sync,notrunc,fsync 2>/dev/null \
                || con "counter write to /dev/vda failed"
        fi
        # Absolute schedule so fork/dd overhead does not slow the 100 ms tick.
        # If we fell >1 s behind (VM paused, e.g. migration downtime), resync
        # instead of bursting, so the counter only reflects time actually run.
        next=$((next + 10))
        d=$((next - $(now_cs)))
        if [ $d -lt -100 ]; then next=$(now_cs); else sleep_cs $d; fi
    done
}
counter_loop "$COUNTER" &

# ---- dirty-memory workload
dirty_loop() {
    rate=$1 wss=$2
    # Own tmpfs so the working set is plain guest RAM and cannot eat /run.
    mount -t tmpfs -o size=$(( wss + rate / 20 + 3 ))m tmpfs /dirty
    # At high rates batch several MiB per dd so fork cost (~ms under TCG)
    # stays bounded at ~20 dd calls per second.
    batch=$(( (rate + 19) / 20 )); [ $batch -gt $wss ] && batch=$wss
    # Random, non-zero data: QEMU migrates zero pages as tiny markers, which
    # would hide the dirtying. The seed is one MiB longer than a batch so each
    # pass can start at a different 4 KiB offset: rewritten pages then change
    # content too (defeats XBZRLE-style delta compression).
    dd if=/dev/urandom of=/dirty/seed bs=1M count=$(( batch + 1 )) 2>/dev/null
    dd if=/dev/zero of=/dirty/wss bs=1M count="$wss" 2>/dev/null
    off=0 pass=0 done_mib=0 t0=$(now_cs) rep_t=$t0 rep_mib=0 total=0
    while :; do
        n=$batch; [ $(( off + n )) -gt $wss ] && n=$(( wss - off ))
        dd if=/dirty/seed of=/dirty/wss bs=4k skip=$(( pass % 256 )) count=$(( n * 256 )) \
            seek=$(( off * 256 )) conv=notrunc 2>/dev/null
        off=$(( off + n )); done_mib=$(( done_mib + n )); total=$(( total + n ))
        # The workload's own progress, streamed by miglab-progress (a builtin echo: no fork).
        echo "$total" >/run/dirty_done
        [ $off -ge $wss ] && { off=0; pass=$(( pass + 1 )); }
        now=$(now_cs)
        # Report the achieved rate now and then; it is not part of the TCP
        # line, but the serial log shows whether TCG keeps up.
        if [ $(( now - rep_t )) -ge 3000 ]; then
            r=$(( (done_mib - rep_mib) * 1000 / (now - rep_t) ))
            con "dirty: $(( r / 10 )).$(( r % 10 )) MiB/s achieved (target $rate, wss ${wss} MiB)"
            rep_t=$now rep_mib=$done_mib
        fi
        # Pace against an absolute schedule (MiB written * 100 / rate cs).
        d=$(( t0 + done_mib * 100 / rate - now ))
        if [ $d -lt -100 ]; then t0=$now done_mib=0 rep_t=$now rep_mib=0; else sleep_cs $d; fi
    done
}
if [ "$DIRTY_MIB_S" -gt 0 ]; then
    dirty_loop "$DIRTY_MIB_S" "$DIRTY_WSS_MIB" &
    con "dirty workload: $DIRTY_MIB_S MiB/s over $DIRTY_WSS_MIB MiB"
fi

# ---- outbound ping
ping_loop() {
    addr=$1 step=$2 next=$(now_cs)
    while :; do
        # One probe per interval, each in its own background process, so a
        # lost reply (1 s wait) never delays the next send: "sent" keeps
        # climbing during an outage. Counts are one byte appended per event
        # (atomic O_APPEND, no fork); miglab-status reports the file sizes.
        printf x >>/run/ping_sent
        ( ping -c 1 -W 1 -q "$addr" >/dev/null 2>&1 && printf x >>/run/ping_recv ) &
        next=$((next + step))
        d=$((next - $(now_cs)))
        if [ $d -lt -100 ]; then next=$(now_cs); else sleep_cs $d; fi
    done
}
if [ -n "$PING" ]; then
    ping_loop "$PING" "$PING_CS" &
    con "pinging $PING every ${PING_CS}0 ms"
fi

# ---- memory fill
# A used guest's memory: FILL_MIB of non-zero data written once and kept (tmpfs pages, no
# swap), so pre-copy sends it in full as the reference experiment's guests did. A 4 MiB random
# chunk repeated: QEMU sends every non-zero page whole whatever its content, and copying is far
# cheaper than /dev/urandom under TCG. Done before the status service answers, so a guest
# that answers is filled.
fill_memory() {
    mib=$1 chunk=4
    # Never more than the kernel left free (less some room): a guest without swap whose
    # tmpfs takes the last pages panics ("no killable processes") instead of answering.
    avail=0
    while read -r k v _; do [ "$k" = MemAvailable: ] && avail=$v; done </proc/meminfo
    room=$(( avail / 1024 - 48 ))
    if [ "$mib" -gt "$room" ]; then con "fill: asked for $mib MiB, only $room MiB to spare: filling $room"; mib=$room; fi
    [ "$mib" -gt 0 ] || return 0
    [ "$mib" -lt $chunk ] && chunk=$mib
    mkdir -p /fill
    mount -t tmpfs -o size=$(( mib + 1 ))m tmpfs /fill
    dd if=/dev/urandom of=/fill/chunk bs=1M count=$chunk 2>/dev/null
    i=$chunk
    while [ $(( i + chunk )) -le "$mib" ]; do cat /fill/chunk; i=$(( i + chunk )); done >/fill/data
    [ "$i" -lt "$mib" ] && dd if=/fill/chunk bs=1M count=$(( mib - i )) 2>/dev/null >>/fill/data
    read -r _ total _ </proc/meminfo
    con "filled $mib MiB of memory (MemTotal $total kB, $(grep MemAvailable /proc/meminfo))"
}
[ "$FILL_MIB" -gt 0 ] && fill_memory "$FILL_MIB"

# ---- TCP services
# busybox nc -ll -e forks a handler per connection and keeps listening; the
# loop only matters if nc itself ever dies.
serve() { # PORT HANDLER
    while :; do
        nc -ll -p "$1" -e "$2"
        con "nc on port $1 exited; respawning"
        sleep 1
    done
}
serve "$PORT" /bin/miglab-status &
# Port+1 streams the guest's progress (uptime, counter, MiB dirtied) every 100 ms to whoever
# connects, for a leg's timeline: one connection for the whole leg instead of a fork per ask.
serve "$(( PORT + 1 ))" /bin/miglab-progress &
# Announce readiness only once the port is actually listening (state 0A).
hexport=$(printf '%04X' "$PORT")
i=0
while ! grep -q ":$hexport 00000000:0000 0A" /proc/net/tcp 2>/dev/null && [ $i -lt 50 ]; do
    sleep 0.1; i=$((i + 1))
done

echo "miglab-guest ready ip=${IP%/*}" >/dev/console

# PID 1 must never exit. `wait` uses waitpid(-1), so it also reaps orphans
# reparented to us; the loop covers wait returning on signals.
while :; do wait; sleep 1; done
