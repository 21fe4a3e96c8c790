// A migration leg over time, from what the leg script printed (components/render/scripts/migrate-leg.sh):
// libvirt's job statistics sampled every interval ("samples"), libvirt's own events on the source
// and the destination ("events-src", "events-dst"), the guest's progress stream read on the probe
// node ("progress") and the probe's timestamped replies ("probe"). Pure functions: the outputs keep
// the compact form (compactTimeline), the SVG is drawn from it (components/reports/timelineChart.ts).
import type { LegSections } from "./legSections";

/** One `virsh domjobinfo --rawstats` sample; t in epoch ms. */
export interface JobSample {
    t: number;
    remainingBytes: number;
    processedBytes: number;
    bps: number;
    dirtyPagesPerSec: number;
    iteration: number;
    postcopyRequests: number;
}

/** One line of `virsh event --all --loop --timestamp`, on the source or the destination. */
export interface LibvirtEvent {
    /** epoch ms, as virsh stamped it on receipt */
    at: number;
    host: "source" | "destination";
    /** lifecycle, migration-iteration, job-completed, ... */
    kind: string;
    /** e.g. "Suspended Migrated", "iteration: '2'" */
    detail: string;
}

/** One line of the guest's progress stream, placed on the hosts' clock; t in epoch ms. */
export interface ProgressSample { t: number; counter: number; dirtyMiB: number }

/** When things happened, in ms after the start of `virsh migrate`; null when the leg did not show it. */
export interface LegMarks {
    /** The destination's QEMU started (libvirt's "Started Migrated"). */
    destinationStarted: number | null;
    /** `virsh migrate-postcopy` returned (post-copy legs). */
    postcopySwitch: number | null;
    /** The guest stopped on the source (libvirt's "Suspended"): the pause begins. */
    pause: number | null;
    /** The guest runs on the destination (libvirt's "Resumed"): the pause ends. */
    resume: number | null;
    /** The probe's first reply after the resume. */
    firstReply: number | null;
    /** The source's copy stopped (libvirt's "Stopped Migrated"). */
    sourceStopped: number | null;
    /** `virsh migrate` returned. */
    end: number;
}

/** The phases of a leg, in ms, from libvirt's events (null where an event is missing). */
export interface LegPhases {
    /** virsh migrate's start until the destination's QEMU started (connection, prepare). */
    preparationMs: number | null;
    /** destination started until the guest paused on the source (the pre-copy passes). */
    transferMs: number | null;
    /** paused on the source until resumed on the destination: the downtime, as the events show it. */
    pauseMs: number | null;
    /** resumed until the probe's first reply: the network finding the guest at its new place. */
    networkRecoveryMs: number | null;
    /** resumed until virsh migrate returned (post-copy: the pages still fetched; then the source's copy stopped). */
    finishMs: number | null;
}

/**
 * The timeline as the outputs keep it: every series delta-encoded (each number is the change
 * from the one before; the first is the value itself), in the integer units `units` names.
 */
export interface CompactTimeline {
    /** epoch ms when virsh migrate started; every time below is ms after it */
    startedAt: number;
    intervalMs: number;
    units: Record<string, string>;
    marks: LegMarks;
    /** libvirt's job statistics over time; `completed`: the last entry is libvirt's completed job (its totals, its average rate) */
    job: { completed: boolean; t: number[]; remaining: number[]; transferred: number[]; rate: number[]; dirtyRate: number[]; iteration: number[] };
    /** the guest's own progress: its counter (one tick per 100 ms it runs) and the MiB its workload wrote; null without a probe node */
    progress: { t: number[]; counter: number[]; dirtyMiB: number[] } | null;
    /** the probe's replies in 10 ms buckets from `first` (a bucket index): run lengths, alternately buckets with a reply and without; null without a probe */
    probe: { bucketMs: number; first: number; runs: number[] } | null;
}

export const TIMELINE_UNITS = {
    t: "ms", remaining: "0.1 MB", transferred: "0.1 MB", rate: "0.1 MB/s", dirtyRate: "0.1 MB/s", iteration: "pass",
    counter: "tick", dirtyMiB: "MiB",
};
/** Samples kept per series: a leg of minutes is thinned to this many (evenly, the last kept). */
export const MAX_POINTS = 1500;
const PAGE = 4096;
/** The window kept around the migration (virsh migrate's start to its end or the probe's first reply after the resume). */
export const KEEP_BEFORE_MS = 500, KEEP_AFTER_MS = 1000;

/** "t remaining processed bps dirty iteration requests" lines (t in epoch s). */
export function parseSamples(text: string | undefined): JobSample[] {
    const out: JobSample[] = [];
    for (const line of (text ?? "").split("\n")) {
        const f = line.trim().split(/\s+/).map(Number);
        if (f.length < 7 || f.some((x) => !Number.isFinite(x))) { continue; }
        out.push({ t: f[0] * 1000, remainingBytes: f[1], processedBytes: f[2], bps: f[3], dirtyPagesPerSec: f[4], iteration: f[5], postcopyRequests: f[6] });
    }
    // Before the transfer starts libvirt's job exists but counts nothing: not yet a sample of it.
    const first = out.findIndex((s) => s.remainingBytes > 0 || s.processedBytes > 0);
    return first < 0 ? [] : out.slice(first);
}

/** `virsh event --timestamp` lines; continuation lines (a job-completed's fields) are left out. */
export function parseEvents(text: string | undefined, host: LibvirtEvent["host"], guest?: string): LibvirtEvent[] {
    const out: LibvirtEvent[] = [];
    for (const line of (text ?? "").split("\n")) {
        const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d)(\d\d): event '([^']+)' for domain '([^']+)':\s*(.*)$/.exec(line);
        if (!m || (guest !== undefined && m[6] !== guest)) { continue; }
        const at = Date.parse(`${m[1]}T${m[2]}${m[3]}:${m[4]}`);
        if (Number.isFinite(at)) { out.push({ at, host, kind: m[5], detail: m[7].trim() }); }
    }
    return out;
}

/**
 * "arrival uptime counter dirtied" lines (arrival: epoch s on the probe node; uptime: the guest's
 * seconds). A line can arrive late (TCP resending after the move), so each is placed at its guest
 * time plus the smallest arrival delay seen from then on: the guest's clock stops while it is
 * paused, which the later lines' larger offset carries, and no line is placed after it arrived.
 */
export function parseProgress(text: string | undefined): ProgressSample[] {
    const rows: { arrival: number; up: number; counter: number; dirty: number }[] = [];
    for (const line of (text ?? "").split("\n")) {
        const f = line.trim().split(/\s+/).map(Number);
        if (f.length < 4 || f.some((x) => !Number.isFinite(x))) { continue; }
        rows.push({ arrival: f[0] * 1000, up: f[1] * 1000, counter: f[2], dirty: f[3] });
    }
    const out: ProgressSample[] = new Array(rows.length);
    let offset = Infinity;
    for (let i = rows.length - 1; i >= 0; i--) {
        offset = Math.min(offset, rows[i].arrival - rows[i].up);
        out[i] = { t: rows[i].up + offset, counter: rows[i].counter, dirtyMiB: rows[i].dirty };
    }
    return out;
}

/** `ping -D` reply times, epoch ms. */
export function replyTimes(text: string | undefined): number[] {
    const out: number[] = [];
    for (const line of (text ?? "").split("\n")) {
        const m = /^\[(\d+\.\d+)\].*bytes from .*icmp_seq=\d+/.exec(line);
        if (m) { out.push(Number(m[1]) * 1000); }
    }
    return out;
}

const firstWhere = (events: LibvirtEvent[], host: LibvirtEvent["host"], test: RegExp): number | null =>
    events.find((e) => e.host === host && e.kind === "lifecycle" && test.test(e.detail))?.at ?? null;

/** The marks of a leg from its events, replies and the script's own times (all epoch ms). */
export function legMarks(start: number, end: number, events: LibvirtEvent[], replies: number[], postcopySwitchAt: number | null): LegMarks {
    const rel = (x: number | null) => (x === null ? null : Math.round(x - start));
    const resume = firstWhere(events, "destination", /^Resumed/);
    const firstReply = resume === null ? null : replies.find((r) => r > resume) ?? null;
    return {
        destinationStarted: rel(firstWhere(events, "destination", /^Started/)),
        postcopySwitch: rel(postcopySwitchAt),
        pause: rel(firstWhere(events, "source", /^Suspended/)),
        resume: rel(resume),
        firstReply: rel(firstReply),
        sourceStopped: rel(firstWhere(events, "source", /^Stopped/)),
        end: Math.round(end - start),
    };
}

export function legPhases(m: LegMarks): LegPhases {
    const span = (a: number | null, b: number | null) => (a === null || b === null ? null : b - a);
    return {
        preparationMs: span(0, m.destinationStarted),
        transferMs: span(m.destinationStarted, m.pause),
        pauseMs: span(m.pause, m.resume),
        networkRecoveryMs: span(m.resume, m.firstReply),
        finishMs: span(m.resume, m.end),
    };
}

/** [first, d1, d2, ...]: each value's change from the one before. */
export function deltaEncode(values: number[]): number[] {
    return values.map((v, i) => (i === 0 ? v : v - values[i - 1]));
}

export function deltaDecode(deltas: number[]): number[] {
    const out: number[] = [];
    let acc = 0;
    for (const d of deltas) { acc += d; out.push(acc); }
    return out;
}

/** At most `max` items, evenly spread, the first and the last kept. */
export function thin<T>(items: T[], max = MAX_POINTS): T[] {
    if (items.length <= max) { return items; }
    const step = (items.length - 1) / (max - 1);
    return Array.from({ length: max }, (_, i) => items[Math.round(i * step)]);
}

/** Replies → [first bucket, run of buckets with a reply, run without, ...]. */
export function replyRuns(replies: number[], start: number, bucketMs = 10): { bucketMs: number; first: number; runs: number[] } {
    const buckets = [...new Set(replies.map((r) => Math.floor((r - start) / bucketMs)))].sort((a, b) => a - b);
    const runs: number[] = [];
    if (buckets.length === 0) { return { bucketMs, first: 0, runs }; }
    let on = 1;
    for (let i = 1; i < buckets.length; i++) {
        const gap = buckets[i] - buckets[i - 1] - 1;
        if (gap === 0) { on++; continue; }
        runs.push(on, gap);
        on = 1;
    }
    runs.push(on);
    return { bucketMs, first: buckets[0], runs };
}

/** The 10 ms buckets that had a reply, as [from, to) bucket-index ranges. */
export function replyRanges(p: { first: number; runs: number[] }): [number, number][] {
    const out: [number, number][] = [];
    let at = p.first;
    p.runs.forEach((n, i) => {
        if (i % 2 === 0) { out.push([at, at + n]); }
        at += n;
    });
    return out;
}

const tenths = (x: number) => Math.round(x * 10);

/** What the leg printed, by section, turned into its compact timeline; null when the leg kept none. */
export function parseTimeline(s: LegSections, guest?: string): CompactTimeline | null {
    if (!s.has("samples")) { return null; }
    const intervalMs = Math.round(Number((s.get("timeline-interval") ?? "").trim()) * 1000) || 0;
    const [t0, t1] = (s.get("wallclock") ?? "").trim().split(/\s+/).map((x) => Number(x) * 1000);
    if (!Number.isFinite(t0) || !Number.isFinite(t1)) { return null; }
    const events = [...parseEvents(s.get("events-src"), "source", guest), ...parseEvents(s.get("events-dst"), "destination", guest)]
        .sort((a, b) => a.at - b.at);
    const probeText = s.get("probe");
    const replies = probeText === undefined || /^\s*skipped:/.test(probeText) ? null : replyTimes(probeText);
    const switchAt = Number((s.get("postcopy-switch") ?? "").trim()) * 1000;
    const marks = legMarks(t0, t1, events, replies ?? [], switchAt > 0 ? switchAt : null);

    const samples = parseSamples(s.get("samples"));
    // libvirt's completed job closes the series: everything sent, nothing remaining, stamped when
    // libvirt reported it (its job-completed event, else the end of virsh migrate).
    const done = parseCompletedJob(s.get("jobinfo"));
    if (done && samples.length > 0) {
        const at = events.find((e) => e.host === "source" && e.kind === "job-completed")?.at ?? t1;
        samples.push({ ...done, t: Math.max(at, samples[samples.length - 1]?.t ?? at) });
    }
    const job = thin(samples);
    const rel = (t: number) => Math.round(t - t0);
    // What the recorders saw well before or after the migration says nothing about it.
    const from = t0 - KEEP_BEFORE_MS, to = Math.max(t1, t0 + (marks.firstReply ?? 0)) + KEEP_AFTER_MS;
    const progress = s.has("progress") ? thin(parseProgress(s.get("progress")).filter((p) => p.t >= from && p.t <= to)) : null;
    return {
        startedAt: Math.round(t0),
        intervalMs,
        units: TIMELINE_UNITS,
        marks,
        job: {
            completed: done !== null && samples.length > 0,
            t: deltaEncode(job.map((x) => rel(x.t))),
            remaining: deltaEncode(job.map((x) => tenths(x.remainingBytes / 1e6))),
            transferred: deltaEncode(job.map((x) => tenths(x.processedBytes / 1e6))),
            rate: deltaEncode(job.map((x) => tenths(x.bps / 1e6))),
            dirtyRate: deltaEncode(job.map((x) => tenths(x.dirtyPagesPerSec * PAGE / 1e6))),
            iteration: deltaEncode(job.map((x) => x.iteration)),
        },
        progress: progress === null ? null : {
            t: deltaEncode(progress.map((x) => rel(x.t))),
            counter: deltaEncode(progress.map((x) => x.counter)),
            dirtyMiB: deltaEncode(progress.map((x) => x.dirtyMiB)),
        },
        probe: replies === null ? null : replyRuns(replies.filter((r) => r >= from && r <= to), t0),
    };
}

/** `domjobinfo --completed --rawstats` → the final sample's figures (t to be set), or null. */
export function parseCompletedJob(text: string | undefined): Omit<JobSample, "t"> | null {
    const get = (k: string) => Number(new RegExp(`^\\s*${k}\\s*:\\s*(\\d+)`, "m").exec(text ?? "")?.[1] ?? NaN);
    const processed = get("memory_processed");
    if (!Number.isFinite(processed)) { return null; }
    return {
        remainingBytes: get("memory_remaining") || 0, processedBytes: processed, bps: get("memory_bps") || 0,
        dirtyPagesPerSec: get("memory_dirty_rate") || 0, iteration: get("memory_iteration") || 0, postcopyRequests: get("memory_postcopy_requests") || 0,
    };
}

/** The timeline's series back in their units (ms after the start, MB, MB/s). */
export interface TimelineSeries {
    /** true: the last job entry is libvirt's completed job */
    completed: boolean;
    job: { t: number; remainingMB: number; transferredMB: number; rateMBs: number; dirtyRateMBs: number; iteration: number }[];
    progress: { t: number; counter: number; dirtyMiB: number }[] | null;
    /** [from, to) ms ranges in which the probe had a reply in every 10 ms bucket */
    replies: [number, number][] | null;
}

export function expandTimeline(c: CompactTimeline): TimelineSeries {
    const t = deltaDecode(c.job.t);
    const [rem, tr, rate, dirty, iter] = [c.job.remaining, c.job.transferred, c.job.rate, c.job.dirtyRate, c.job.iteration].map(deltaDecode);
    let progress: TimelineSeries["progress"] = null;
    if (c.progress) {
        const pt = deltaDecode(c.progress.t), pc = deltaDecode(c.progress.counter), pd = deltaDecode(c.progress.dirtyMiB);
        progress = pt.map((x, i) => ({ t: x, counter: pc[i], dirtyMiB: pd[i] }));
    }
    return {
        completed: c.job.completed,
        job: t.map((x, i) => ({ t: x, remainingMB: rem[i] / 10, transferredMB: tr[i] / 10, rateMBs: rate[i] / 10, dirtyRateMBs: dirty[i] / 10, iteration: iter[i] })),
        progress,
        replies: c.probe ? replyRanges(c.probe).map(([a, b]) => [a * c.probe!.bucketMs, b * c.probe!.bucketMs]) : null,
    };
}
