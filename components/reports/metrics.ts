// Parsers for what a migration leg prints (components/render/scripts/migrate-leg.sh):
// virsh's raw job statistics, ping's timestamped replies, iperf3's JSON.
import { CaptureSummary, parseCapture } from "./capture";
import { SlaResult, brokeSla } from "./sla";
import { CompactTimeline, LegPhases, legPhases, parseTimeline } from "./timeline";
import { LegSection, LegSections, sections } from "./legSections";

export { sections };

export interface ProbeStats {
    sent: number;
    received: number;
    lost: number;
    /** Longest time between two consecutive replies, in ms. */
    longestGapMs: number;
}

/** A guest that stayed put during another's leg: it must have kept working. */
export interface BystanderMetrics {
    guest: string;
    /** Where it ran meanwhile. */
    host: string;
    counterBefore: number;
    counterAfter: number;
    /** Its own pings to the outside during the leg (nat and bridged). */
    guestPing: { sent: number; received: number; lost: number } | null;
    /** The probe's pings to it during the leg; null behind NAT. */
    probe: ProbeStats | null;
}

/** A post-copy leg after its switch: how the pages left then reached the destination. */
export interface PostcopyMetrics {
    /** ms from the job's start until the switch was asked. */
    switchedAtMs: number;
    /** From the switch until the last page had crossed (the job's end), in ms. */
    tailMs: number;
    /** Memory not yet sent when the switch was asked (bytes). */
    remainingAtSwitchBytes: number;
    /** Memory sent after the switch (bytes): the pages the guest's faults asked for and the ones pushed. */
    sentAfterSwitchBytes: number;
    /** Pages the destination asked for because the guest touched them (libvirt's postcopy requests). */
    faults: number;
    /** Pages sent after the switch that no fault asked for: the background push. */
    pushedPages: number;
    /** Whether a second migration connection (post-copy preempt) carried the faults' pages. */
    preemptChannel: boolean;
    /** The stream broke after the switch and the leg resumed it (libvirt's post-copy recovery); null: it never broke. */
    recovery: PostcopyRecovery | null;
}

export interface PostcopyRecovery {
    /** From the break until the resume that worked started: how long the guest stood in postcopy-paused (ms). */
    pausedMs: number;
    /** The resumed migration, until the last page (ms). */
    resumedMs: number;
    /** How many times the leg asked libvirt to resume (every 0.5 s until the path was back). */
    tries: number;
}

/** What ended a pre-copy leg's passes: a stop condition of migration.stopAfter, met while the guest still ran. */
export interface StopCondition {
    /** The stopAfter field whose threshold was met. */
    condition: "iterations" | "sentMiB" | "dirtyPagesBelow";
    /** libvirt's pass count then (memory_iteration). */
    iteration: number;
    /** Since the migration started, when the leg saw it (ms). */
    afterMs: number;
    /** Memory left to send then (bytes): what the stop-and-copy had at least to move, plus what the guest dirtied until QEMU paused it. */
    remainingBytes: number;
    /** Memory sent by then (libvirt's memory_processed, bytes). */
    sentBytes: number;
    /** The pages the latest pass began with (what the guest dirtied in the one before); null before the second pass, or when dirtyPagesBelow was not set. */
    lastPassPages: number | null;
}

/** A disk that moved with the guest (storage copy or copy-incremental): what crossed, how long it took, and how it arrived. */
export interface DiskMetrics {
    /** Disk bytes the migration sent (libvirt's disk_processed). */
    bytes: number;
    /** What the copy had to move (disk_total): the allocated part of the disk, or of its overlay. */
    totalBytes: number;
    /**
     * The disk phase: from virsh migrate's start until nothing of the disk was left to send (its
     * mirror caught up; libvirt starts moving memory then). null when neither source below gives it.
     */
    ms: number | null;
    /** Where ms comes from: the timeline's first sample with no disk bytes left, or bytes over libvirt's disk_bps. */
    msFrom: "timeline" | "rate" | null;
    /** The disk phase's rate (bytes/s): libvirt's disk_bps, else bytes over ms. */
    bps: number | null;
    /**
     * The destination's copy after the leg: qemu-img check found it clean, and (the built-in guest,
     * which writes only its first sector) it reads byte for byte as before the move beyond that
     * sector; null: the leg printed no check. A leg whose copy is not intact fails instead.
     */
    intact: boolean | null;
    /** What the check compared: the disk's sum beyond the counter sector, or qemu-img check alone (a guest's own image). */
    checked: "sum" | "qemu-img-check" | null;
}

export interface LegMetrics {
    leg: string;
    /** The guest that moved (several guests: see bystanders for the others). */
    guest?: string;
    from: string;
    to: string;
    /** Set only on a leg that failed: what went wrong, naming the host, in one line. */
    failed?: undefined;
    /** How many earlier tries of this leg were run again: it failed, or a leg of its migration broke the SLA (see nextAttempts). */
    attempt: number;
    /** When the leg ended (ISO 8601): an output from an earlier run shows it. */
    finishedAt: string;
    /** When `virsh migrate` started (ISO 8601, ms); it ran wallClockMs. A drain's legs overlap by these. */
    startedAt: string;
    /** The leg judged against its migration's SLA; absent when the migration has no SLA. */
    sla?: SlaResult;
    /** Total migration time as libvirt measured it (ms). */
    totalTimeMs: number;
    /** Downtime as libvirt reports it (ms). */
    downtimeMs: number;
    /** The downtime target QEMU held for this leg, read back from the source (`virsh migrate-getmaxdowntime`, ms); null from a leg script that did not read it. */
    maxDowntimeMs: number | null;
    setupTimeMs: number;
    dataProcessedBytes: number;
    memoryProcessedBytes: number;
    memoryTotalBytes: number;
    /** Memory throughput libvirt reports (bytes/s). */
    memoryBps: number;
    /** Data processed over the migration time, in MB/s (10^6), the reference report's unit. */
    throughputMBs: number;
    iterations: number;
    dirtyRatePagesPerSec: number;
    postcopyRequests: number;
    /** Post-copy legs that switched: what happened after the switch; null otherwise. */
    postcopy: PostcopyMetrics | null;
    /**
     * Pre-copy ended by migration.stopAfter: miglab raised QEMU's downtime limit, and downtimeMs is
     * what the stop-and-copy cost. null: QEMU ended pre-copy itself (its downtime target was met).
     */
    stoppedBy: StopCondition | null;
    /** null behind NAT, where no third node can reach the guest. */
    probe: ProbeStats | null;
    /** The guest's own pings to the outside during the leg (nat and bridged), from its counter service. */
    guestPing: { sent: number; received: number; lost: number } | null;
    /** bridged: packets the source sent into the tunnel to the destination during the leg (replies forwarded to the moved guest, among others). */
    tunnelForwardedPackets: number | null;
    /** migration.capture: the leg's pcap and what it shows (components/reports/capture.ts); null (or absent, from older legs) without. */
    capture?: CaptureSummary | null;
    /** Plain TCP transfer between the same two hosts, measured in the same run (MB/s). */
    plainMBs: number;
    /** throughputMBs ÷ plainMBs */
    ratio: number;
    counterBefore: number;
    counterAfter: number;
    destinationState: string;
    wallClockMs: number;
    /** Every other guest of the lab during this leg. */
    bystanders: BystanderMetrics[];
    /** The guest's disk, when it moved with the guest (storage copy*); null: it stayed on the export. */
    disk: DiskMetrics | null;
    /** The leg's phases from libvirt's events (null: the leg kept no timeline). */
    phases: LegPhases | null;
    /** The leg over time, compact (components/reports/timeline.ts; `npm run timeline` draws it). */
    timeline: CompactTimeline | null;
}

/** "name host status-line" lines, as the leg script prints them before and after. */
function bystanderLines(text: string | undefined): Map<string, { host: string; line: string }> {
    const out = new Map<string, { host: string; line: string }>();
    for (const l of (text ?? "").split("\n")) {
        const m = /^(\S+) (\S+) ?(.*)$/.exec(l.trim());
        if (m) { out.set(m[1], { host: m[2], line: m[3] }); }
    }
    return out;
}

export function parseBystanders(s: LegSections): BystanderMetrics[] {
    const before = bystanderLines(s.get("bystanders-before"));
    const after = bystanderLines(s.get("bystanders-after"));
    return [...before].map(([guest, b]) => {
        const a = after.get(guest);
        const probe = s.get(`bystander-probe-${guest}`);
        return {
            guest, host: b.host,
            counterBefore: parseCounter(b.line), counterAfter: parseCounter(a?.line),
            guestPing: guestPingDelta(b.line, a?.line),
            probe: probe === undefined ? null : parsePing(probe),
        };
    });
}

/** A leg that did not give a measurement. Outputs keep it, in place of any earlier measurement, until a later try succeeds. */
export interface FailedLeg {
    leg: string;
    from: string;
    to: string;
    /** The guest that was to move. */
    guest?: string;
    /** What went wrong, naming the host and the cause, in one line. */
    failed: string;
    attempt: number;
    finishedAt: string;
}

export type LegOutcome = LegMetrics | FailedLeg;

export function isFailed(l: LegOutcome | Partial<LegOutcome>): l is FailedLeg {
    return typeof (l as FailedLeg).failed === "string";
}

/**
 * Where and what the guest's kernel reported as a fault, when a silent guest is why `l` failed
 * (migrate-leg.sh names it from a host's console: "... on pc2 (console: ...)"): a fault of QEMU
 * under TCG in a guest it migrated, not of the lab, which only a restart of the guest mends
 * (docs/benchmarks.md, Downtime target).
 */
export function guestFaultOf(l: LegOutcome): string | undefined {
    return isFailed(l) ? /its kernel reported a fault (on \S+ \(console: .*?\))(, a fault of QEMU| and on )/.exec(l.failed)?.[1] : undefined;
}

/**
 * The try number of each leg of one migration (`legs`: its legs' names in order), from the legs
 * reported last time; a leg whose number changes has new triggers and runs again.
 * - A leg that failed: one more. A failed leg leaves the guest on its source, and the legs after
 *   it fail too, so running the failed ones again starts where the guest is.
 * - Otherwise, when a leg broke its SLA: one more for every leg. The migration ended where it
 *   started (the config's rules require that of a migration with an SLA), so it runs whole again
 *   from there; the broken leg alone would start on a host the guest has left.
 * - Otherwise the same as last time (0 for a leg not reported then).
 */
export function nextAttempts(previous: unknown, legs: string[]): number[] {
    const reported = Array.isArray(previous) ? previous : [];
    const last = legs.map((leg) => reported.find((l) => l && typeof l === "object" && l.leg === leg));
    const tries = last.map((p) => (p && Number.isInteger(p.attempt) ? p.attempt as number : 0));
    if (last.some((p) => p && isFailed(p))) { return last.map((p, i) => (p && isFailed(p) ? tries[i] + 1 : tries[i])); }
    if (last.some((p) => p && brokeSla(p))) { return last.map((p, i) => (p ? tries[i] + 1 : 0)); }
    return tries;
}

/** An epoch time as ISO text; "" for none (an absent section reads as Number("") = 0, not 1970). */
function isoOf(epochSeconds: number): string {
    return Number.isFinite(epochSeconds) && epochSeconds > 0 ? new Date(epochSeconds * 1000).toISOString() : "";
}

/** `virsh domjobinfo --completed --rawstats` → numeric fields by raw name. */
export function parseJobInfo(text: string): Record<string, number | string> {
    const out: Record<string, number | string> = {};
    for (const line of text.split("\n")) {
        const m = /^\s*([a-z_]+)\s*:\s*(.+?)\s*$/.exec(line);
        if (!m) { continue; }
        const n = Number(m[2]);
        out[m[1]] = Number.isFinite(n) ? n : m[2];
    }
    return out;
}

/** `ping -D` output → sent/received/lost and the longest gap between replies. */
export function parsePing(text: string): ProbeStats {
    const stamps: number[] = [];
    for (const line of text.split("\n")) {
        const m = /^\[(\d+\.\d+)\].*bytes from .*icmp_seq=(\d+)/.exec(line);
        if (m) { stamps.push(Number(m[1]) * 1000); }
    }
    const summary = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(text);
    if (!summary) { throw new Error(`probe: no ping summary in its output:\n${text.slice(-500)}`); }
    const sent = Number(summary[1]);
    const received = Number(summary[2]);
    let longest = 0;
    for (let i = 1; i < stamps.length; i++) { longest = Math.max(longest, stamps[i] - stamps[i - 1]); }
    return { sent, received, lost: sent - received, longestGapMs: Math.round(longest * 10) / 10 };
}

/** `virsh migrate-getmaxdowntime` → ms; null when the section is absent (an older leg script). */
export function parseMaxDowntime(text: string | undefined): number | null {
    if (text === undefined) { return null; }
    const t = text.trim();
    if (!/^\d+$/.test(t)) { throw new Error(`downtime target: migrate-getmaxdowntime printed '${t.slice(0, 200)}', not a number of ms`); }
    return Number(t);
}

const STOP_CONDITIONS: StopCondition["condition"][] = ["iterations", "sentMiB", "dirtyPagesBelow"];

/**
 * The leg's "stop-condition" section ("condition=iterations iteration=2 elapsed_s=4.21
 * remaining_bytes=... sent_bytes=... last_pass_pages=-") → what ended pre-copy; null when absent.
 */
export function parseStopCondition(text: string | undefined): StopCondition | null {
    if (text === undefined) { return null; }
    const kv = new Map([...text.trim().matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    const condition = kv.get("condition") as StopCondition["condition"];
    const n = (k: string) => {
        const v = Number(kv.get(k));
        if (kv.get(k) === undefined || !Number.isFinite(v)) { throw new Error(`stop condition: no number ${k} in '${text.trim().slice(0, 200)}'`); }
        return v;
    };
    if (!STOP_CONDITIONS.includes(condition)) {
        throw new Error(`stop condition: '${kv.get("condition")}' is none of ${STOP_CONDITIONS.join(", ")}`);
    }
    const pages = kv.get("last_pass_pages");
    return {
        condition, iteration: n("iteration"), afterMs: Math.round(n("elapsed_s") * 1000),
        remainingBytes: n("remaining_bytes"), sentBytes: n("sent_bytes"),
        lastPassPages: pages === undefined || pages === "-" ? null : n("last_pass_pages"),
    };
}

/** iperf3 -J → received throughput in MB/s. */
export function parseIperf(text: string): number {
    const start = text.indexOf("{");
    if (start < 0) { throw new Error(`plain transfer: iperf3 printed no JSON:\n${text.slice(0, 500)}`); }
    const j = JSON.parse(text.slice(start));
    if (j.error) { throw new Error(`plain transfer: iperf3: ${j.error}`); }
    const bps = j.end?.sum_received?.bits_per_second;
    if (typeof bps !== "number") { throw new Error("plain transfer: iperf3 JSON has no end.sum_received.bits_per_second"); }
    return bps / 8 / 1e6;
}

/** "counter=123 uptime=..." → 123 */
export function parseCounter(line: string | undefined): number {
    const m = /counter=(\d+)/.exec(line ?? "");
    return m ? Number(m[1]) : NaN;
}

function field(line: string | undefined, name: string): number {
    const m = new RegExp(`${name}=(\\d+)`).exec(line ?? "");
    return m ? Number(m[1]) : NaN;
}

/** The guest counts its pings to the outside; the difference over a leg is what the leg cost them. */
export function guestPingDelta(before: string | undefined, after: string | undefined) {
    const sent = field(after, "ping_sent") - field(before, "ping_sent");
    const received = field(after, "ping_recv") - field(before, "ping_recv");
    if (!Number.isFinite(sent) || !Number.isFinite(received) || field(after, "ping_sent") === 0) { return null; }
    return { sent, received, lost: Math.max(0, sent - received) };
}

function tunnelDelta(text: string | undefined): number | null {
    const [a, b] = (text ?? "").trim().split(/\s+/).map(Number);
    return Number.isFinite(a) && Number.isFinite(b) && text ? b - a : null;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * The "postcopy" section ("elapsed remaining processed channels", the job when the switch was
 * asked, `?` for a figure libvirt did not give) against the completed job; null when the leg
 * did not switch.
 */
export function parsePostcopy(text: string | undefined, job: Record<string, number | string>, recoveryText?: string): PostcopyMetrics | null {
    if (text === undefined) { return null; }
    const f = text.trim().split(/\s+/);
    if (f.length !== 4) { throw new Error(`post-copy: expected 'elapsed remaining processed channels', got '${text.trim().slice(0, 200)}'`); }
    const [elapsed, remaining, processed, channels] = f.map(Number);
    const num = (k: string) => (typeof job[k] === "number" ? job[k] as number : NaN);
    const sentAfter = num("memory_processed") - processed;
    const faults = num("memory_postcopy_requests");
    const page = num("memory_page_size") || 4096;
    return {
        switchedAtMs: elapsed,
        tailMs: num("time_elapsed") - elapsed,
        remainingAtSwitchBytes: remaining,
        sentAfterSwitchBytes: sentAfter,
        faults,
        pushedPages: Math.max(0, Math.round(sentAfter / page) - faults),
        preemptChannel: channels >= 2,
        recovery: parseRecovery(recoveryText),
    };
}

/** "broken resumed done tries" (epoch s) → the recovery; a leg whose resume never came failed instead. */
function parseRecovery(text: string | undefined): PostcopyRecovery | null {
    if (text === undefined) { return null; }
    const [broken, resumed, done, tries] = text.trim().split(/\s+/).map(Number);
    if (![broken, resumed, done, tries].every(Number.isFinite)) { throw new Error(`post-copy recovery: expected 'broken resumed done tries', got '${text.trim().slice(0, 200)}'`); }
    return { pausedMs: Math.round((resumed - broken) * 1000), resumedMs: Math.round((done - resumed) * 1000), tries };
}

/**
 * The disk's part of a leg: null when no disk moved (no disk-check section, no disk_total). `samples`
 * is the timeline's raw section (disk-processed and disk-remaining are its 8th and 9th columns),
 * `startS` when virsh migrate started (epoch s).
 */
export function parseDisk(job: Record<string, number | string>, check: string | undefined, samples: string | undefined, startS: number): DiskMetrics | null {
    const num = (k: string) => (typeof job[k] === "number" ? job[k] as number : 0);
    if (check === undefined && num("disk_total") === 0) { return null; }
    const bytes = num("disk_processed");
    let ms: number | null = null;
    let msFrom: DiskMetrics["msFrom"] = null;
    for (const line of (samples ?? "").split("\n")) {
        const f = line.trim().split(/\s+/).map(Number);
        if (f.length < 9 || f.some((x) => !Number.isFinite(x))) { continue; }
        // libvirt starts the memory only once every disk's mirror is in sync: the first sample with
        // memory sent ends the disk's phase. A guest writing on keeps a cluster or two dirty, so the
        // disk's remaining bytes may never read 0 before the switch.
        if (f[7] > 0 && (f[8] === 0 || f[2] > 0) && Number.isFinite(startS) && startS > 0) { ms = Math.max(0, Math.round((f[0] - startS) * 1000)); msFrom = "timeline"; break; }
    }
    const rate = num("disk_bps");
    if (ms === null && rate > 0) { ms = Math.round(bytes / rate * 1000); msFrom = "rate"; }
    const bps = rate > 0 ? rate : ms !== null && ms > 0 ? Math.round(bytes / (ms / 1000)) : null;
    let intact: boolean | null = null;
    let checked: DiskMetrics["checked"] = null;
    if (check !== undefined) {
        const f = check.trim().split(/\s+/);
        if (f.length !== 4) { throw new Error(`disk check: expected 'state sum state sum', got '${check.trim().slice(0, 200)}'`); }
        intact = f[2] === "clean" && f[3] === f[1];
        checked = f[1] === "-" ? "qemu-img-check" : "sum";
    }
    return { bytes, totalBytes: num("disk_total"), ms, msFrom, bps, intact, checked };
}

/** What a leg printed: its measurement, or (a "failed" section) why it has none. */
export function parseLegOutcome(leg: string, from: string, to: string, stdout: string, attempt = 0): LegOutcome {
    const s = sections(stdout);
    if (s.has("failed")) {
        const why = (s.get("failed") ?? "").trim().split("\n").map((x) => x.trim()).filter(Boolean).join(" ");
        return { leg, from, to, failed: why || `leg ${leg} from ${from} to ${to} failed`, attempt, finishedAt: isoOf(Number((s.get("at") ?? "").trim())) };
    }
    try {
        return parseLeg(leg, from, to, stdout, attempt);
    } catch (e) {
        // A leg whose output cannot be read measured nothing usable: reported as failed (and tried
        // again next time), never left to stop the program.
        return { leg, from, to, failed: `the leg's output could not be read: ${(e as Error).message.split("\n")[0]}`, attempt, finishedAt: isoOf(Number((s.get("at") ?? "").trim())) };
    }
}

export function parseLeg(leg: string, from: string, to: string, stdout: string, attempt = 0): LegMetrics {
    const s = sections(stdout);
    const finishedAt = isoOf(Number((s.get("at") ?? "").trim()));
    const need = (k: LegSection) => {
        const v = s.get(k);
        if (v === undefined) { throw new Error(`migration leg ${leg}: its output has no '${k}' section`); }
        return v;
    };
    const job = parseJobInfo(need("jobinfo"));
    const num = (k: string) => (typeof job[k] === "number" ? job[k] as number : 0);
    const total = num("time_elapsed");
    const data = num("data_processed") || num("memory_processed");
    const throughput = total > 0 ? data / (total / 1000) / 1e6 : 0;
    const plain = parseIperf(need("iperf3"));
    const [t0, t1] = (s.get("wallclock") ?? "").trim().split(/\s+/).map(Number);
    const timeline = parseTimeline(s, s.get("timeline-guest")?.trim() || undefined);
    return {
        leg, from, to, attempt, finishedAt: finishedAt || isoOf(t1), startedAt: isoOf(t0),
        totalTimeMs: total,
        downtimeMs: num("downtime"),
        maxDowntimeMs: parseMaxDowntime(s.get("maxdowntime")),
        setupTimeMs: num("setup_time"),
        dataProcessedBytes: data,
        memoryProcessedBytes: num("memory_processed"),
        memoryTotalBytes: num("memory_total"),
        memoryBps: num("memory_bps"),
        throughputMBs: round(throughput),
        iterations: num("memory_iteration"),
        dirtyRatePagesPerSec: num("memory_dirty_rate"),
        postcopyRequests: num("memory_postcopy_requests"),
        postcopy: parsePostcopy(s.get("postcopy"), job, s.get("postcopy-recovery")),
        stoppedBy: parseStopCondition(s.get("stop-condition")),
        probe: /^\s*skipped:/.test(need("probe")) ? null : parsePing(need("probe")),
        guestPing: guestPingDelta(s.get("counter-before"), s.get("counter-after")),
        tunnelForwardedPackets: tunnelDelta(s.get("tunnel")),
        capture: parseCapture(s.get("capture")),
        plainMBs: round(plain),
        ratio: plain > 0 ? round(throughput / plain, 3) : 0,
        counterBefore: parseCounter(s.get("counter-before")?.trim()),
        counterAfter: parseCounter(s.get("counter-after")?.trim()),
        destinationState: (s.get("dest-state") ?? "").trim(),
        wallClockMs: Number.isFinite(t1 - t0) ? Math.round((t1 - t0) * 1000) : 0,
        bystanders: parseBystanders(s),
        disk: parseDisk(job, s.get("disk-check"), s.get("samples"), t0),
        phases: timeline ? legPhases(timeline.marks) : null,
        timeline,
    };
}

export interface Spread { median: number; min: number; max: number }

export interface DirectionSummary {
    direction: string;
    runs: number;
    totalTimeMs: Spread;
    downtimeMs: Spread;
    probeLost: Spread;
    throughputMBs: Spread;
    plainMBs: Spread;
    ratio: Spread;
}

export function spread(values: number[]): Spread {
    // Figures a leg could not measure (NaN) are left out rather than counted as zero.
    const v = values.filter(Number.isFinite).sort((a, b) => a - b);
    if (v.length === 0) { return { median: NaN, min: NaN, max: NaN }; }
    const mid = Math.floor(v.length / 2);
    const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
    return { median: round(median, 3), min: v[0], max: v[v.length - 1] };
}

/**
 * A report as the stack's outputs hold it: what JSON says (a figure the leg could not measure, NaN
 * or infinite, is null). @pulumi/pulumi 3.276 keeps non-finite numbers as tagged objects in the
 * outputs, which nothing reading them (compare, metrics, the tests) takes for a number.
 */
export function asOutputValue<T>(report: T): T {
    return JSON.parse(JSON.stringify(report));
}

/** Groups legs by direction (from -> to), in the order first seen. */
export function summarize(legs: LegOutcome[]): DirectionSummary[] {
    const groups = new Map<string, LegMetrics[]>();
    // A failed leg measured nothing: it is listed in `legs`, not counted here.
    for (const l of legs) {
        if (isFailed(l)) { continue; }
        const k = `${l.from} -> ${l.to}`;
        groups.set(k, [...(groups.get(k) ?? []), l]);
    }
    return [...groups].map(([direction, ls]) => ({
        direction,
        runs: ls.length,
        totalTimeMs: spread(ls.map((l) => l.totalTimeMs)),
        downtimeMs: spread(ls.map((l) => l.downtimeMs)),
        probeLost: spread(ls.map((l) => l.probe?.lost ?? l.guestPing?.lost ?? NaN)),
        throughputMBs: spread(ls.map((l) => l.throughputMBs)),
        plainMBs: spread(ls.map((l) => l.plainMBs)),
        ratio: spread(ls.map((l) => l.ratio)),
    }));
}
