// The leg's output protocol: every "=== name" section render/scripts/migrate-leg.sh prints,
// and what it holds. The parsers read sections through `LegSections`, whose keys are these
// names, so a section read under a name the script does not print is a compile error, and a
// unit test (test/unit/leg-sections.test.ts) checks the script prints exactly these.

export const LEG_SECTIONS = {
    "failed": "a leg that gave no measurement: one line naming the host and the cause (then only `at` follows)",
    "at": "when the leg ended (epoch s)",
    "maxdowntime": "the downtime target QEMU held, read back with virsh migrate-getmaxdowntime (ms)",
    "counter-before": "the guest's counter service line before the leg (counter=N ... ping_sent=N ping_recv=N)",
    "counter-after": "the same line, asked on the destination after the leg",
    "bystanders-before": "the other guests, a line each: name host counter-line",
    "bystanders-after": "the same, after the leg",
    "bystander-probe-": "(one per other guest, the guest's name appended) the probe's ping -D output to it during the leg",
    "iperf3": "the plain transfer on the same path just before the leg: iperf3 -J",
    "wallclock": "virsh migrate's start and end (epoch s)",
    "migrate": "what virsh migrate printed (its progress and errors)",
    "probe": "the probe's ping -D output during the leg, or 'skipped: ...' behind NAT",
    "probe-waits": "ms the leg waited for the probe to see the guest before and after the migration",
    "timeline-interval": "the timeline's sampling interval (s); the timeline sections below only with a timeline",
    "timeline-guest": "the guest the timeline follows",
    "samples": "libvirt's job statistics every interval: t remaining processed bps dirty-rate iteration postcopy-requests disk-processed disk-remaining",
    "postcopy-switch": "when virsh migrate-postcopy returned (epoch s)",
    "events-src": "virsh event --timestamp on the source",
    "events-dst": "the same on the destination",
    "progress": "the guest's own progress stream, read from the probe node",
    "stop-condition": "pre-copy ended by migration.stopAfter: condition=... iteration=... elapsed_s=... remaining_bytes=... sent_bytes=... last_pass_pages=...",
    "jobinfo": "libvirt's completed job: virsh domjobinfo --completed --rawstats",
    "postcopy": "a post-copy leg that switched: elapsed remaining processed (the job when the switch was asked) and the most migration connections seen after it",
    "postcopy-recovery": "post-copy resumed after its stream broke: broken-at resumed-at done-at tries (epoch s)",
    "dest-state": "virsh domstate of the guest on the destination",
    "tunnel": "bridged: the source's tunnel port's tx_packets before and after",
    "disk-check": "a disk moved with the guest (storage copy*): its state and sum before the move (source) and after it (destination): clean|corrupt|unreadable sum|- twice",
    "capture": "migration.capture: lines 'file PATH', 'node NAME IFACE', 'hosts SRC_ADDR SRC DST_ADDR DST', 'window T0 T1' (the tunnel counter's reads, epoch s, or '-'), 'dumpcap RECEIVED DROPPED', 'tunnel ID FROM TO FRAMES FRAMES_IN_WINDOW' per tunnel id and way, then 'frame<TAB>' + tshark's fields of each announcement and forwarded reply (components/reports/capture.ts)",
} as const;

/** A section's name: one of LEG_SECTIONS, or a bystander's probe (`bystander-probe-<guest>`). */
export type LegSection = Exclude<keyof typeof LEG_SECTIONS, "bystander-probe-"> | `bystander-probe-${string}`;
export type LegSections = ReadonlyMap<LegSection, string>;

/** Splits a leg's output into its "=== name" sections. */
export function sections(text: string): LegSections {
    const out = new Map<LegSection, string>();
    let name: LegSection | undefined;
    let lines: string[] = [];
    for (const line of text.split("\n")) {
        const m = /^=== (\S+)\s*$/.exec(line);
        if (m) {
            if (name) { out.set(name, lines.join("\n")); }
            name = m[1] as LegSection; lines = [];
        } else if (name) {
            lines.push(line);
        }
    }
    if (name) { out.set(name, lines.join("\n")); }
    return out;
}
