// The guest's own progress around a migration, from its leg's timeline (timeline.ts keeps the
// stream the guest sends: its counter and the MiB its workload wrote). The reference's argument
// about post-copy's variants is about this picture: demand paging lengthens the time the guest
// needs to run at its pace again, and active push shortens the dependency on the source.
// Pure functions over a CompactTimeline; scripts/bench.ts puts them in the grid's table and
// progressChart.ts draws the variants' curves.
import { CompactTimeline, expandTimeline } from "./timeline";

/** The guest's pace is taken over this long just before the switch: its pace on the source, the same for every variant. */
export const PACE_MS = 2000;
/** The rate the guest counts as running at its pace again: this share of its pace before the switch. */
export const RESUME_SHARE = 0.9;
/** The window a rate is taken over when looking for the resume: a few of the stream's samples (~100 ms apart). */
export const RESUME_WINDOW_MS = 500;
/** The work lost is counted until this long after the last page (or the record's end, if sooner): the same span after the dependency ends for every variant. */
export const LOST_AFTER_MS = 1000;
/** A window shorter than this gives no rate (one or two samples say nothing about a pace). */
export const MIN_WINDOW_MS = 300;

/**
 * A leg's guest progress around the moment the guest left its source, rates in `unit` per second.
 * The reference pace is the guest's own just before the switch, not before the migration: on a
 * shared 2-core machine the leg's setup (the destination's QEMU starting, the recorders) slows
 * the guest by as much as the migration does, and the pre-copy before the switch is the same
 * for every variant, so the variants are compared from one starting pace.
 */
export interface ProgressFigures {
    /** What the work is: the MiB the guest's workload wrote, or its counter's ticks when it runs no workload. */
    unit: "MiB" | "tick";
    /** The moment the figures are aligned at (ms after virsh migrate started): the post-copy switch, else the pause. */
    switchMs: number;
    /** The last page reached the destination (the source's copy stopped; pre-copy: the resume), ms after the start. */
    lastPageMs: number;
    /** From the record's start (about 0.5 s before virsh migrate) until the destination started. */
    before: number | null;
    /** From the destination's start until the switch: the pre-copy passes. */
    precopy: number | null;
    /** Over the PACE_MS before the switch: what resumeMs and lostWork measure against. */
    pace: number;
    /** From the switch until the last page: the guest runs on the destination and waits for the pages it faults on. Null for pre-copy. */
    postcopy: number | null;
    /** From the last page to the end of the record (about a second). */
    after: number | null;
    /** From the switch until the guest's rate over RESUME_WINDOW_MS first reached RESUME_SHARE of `pace`; null: not within the record. */
    resumeMs: number | null;
    /** How far the record reaches after the switch (ms): a null resumeMs means "longer than this". */
    recordAfterMs: number;
    /** From the switch until LOST_AFTER_MS after the last page: what a guest keeping `pace` would have done, less what this one did. */
    lostWork: number;
    /** lostWork in seconds of the guest's work at `pace`. */
    lostSeconds: number;
}

interface Point { t: number; w: number }

/** The cumulative work at t, linear between the samples; null outside the record. */
function workAt(p: Point[], t: number): number | null {
    if (p.length === 0 || t < p[0].t || t > p[p.length - 1].t) { return null; }
    let i = 1;
    while (i < p.length - 1 && p[i].t < t) { i++; }
    const a = p[i - 1], b = p[i];
    return b.t === a.t ? b.w : a.w + ((t - a.t) / (b.t - a.t)) * (b.w - a.w);
}

/** Work per second over [a, b], the window clipped to the record; null when less than MIN_WINDOW_MS of it is left. */
function rateOver(p: Point[], a: number, b: number): number | null {
    if (p.length < 2) { return null; }
    const from = Math.max(a, p[0].t), to = Math.min(b, p[p.length - 1].t);
    if (to - from < MIN_WINDOW_MS) { return null; }
    return ((workAt(p, to)! - workAt(p, from)!) / (to - from)) * 1000;
}

/** The guest's work as a cumulative series in ms after the start, from a leg's timeline; null without a progress stream. */
export function workSeries(tl: CompactTimeline): { unit: ProgressFigures["unit"]; points: Point[] } | null {
    const prog = expandTimeline(tl).progress;
    if (!prog || prog.length < 2) { return null; }
    // A guest without a workload writes nothing: its counter (one tick per 100 ms it runs) is then its work.
    const writes = prog[prog.length - 1].dirtyMiB > prog[0].dirtyMiB;
    return {
        unit: writes ? "MiB" : "tick",
        points: prog.map((s) => ({ t: s.t, w: writes ? s.dirtyMiB : s.counter })),
    };
}

/** The figures of one leg; null when its timeline has no progress stream, or too little of it before the switch to give a pace. */
export function progressFigures(tl: CompactTimeline): ProgressFigures | null {
    const series = workSeries(tl);
    const m = tl.marks;
    const switchMs = m.postcopySwitch ?? m.pause;
    if (!series || switchMs === null) { return null; }
    const p = series.points;
    const pace = rateOver(p, switchMs - PACE_MS, switchMs);
    if (pace === null || !(pace > 0)) { return null; }
    const started = m.destinationStarted ?? 0;
    const lastPageMs = m.postcopySwitch !== null ? m.sourceStopped ?? m.end : m.resume ?? m.end;
    const end = p[p.length - 1].t;

    let resumeMs: number | null = null;
    // Window starts at the switch and at every sample after it: the first whose window holds
    // RESUME_SHARE of the pace. A stall of s ms then reads as about s - 0.1 window.
    for (const t of [switchMs, ...p.map((x) => x.t).filter((t) => t > switchMs)]) {
        if (t + RESUME_WINDOW_MS > end) { break; }
        const r = rateOver(p, t, t + RESUME_WINDOW_MS);
        if (r !== null && r >= RESUME_SHARE * pace) { resumeMs = Math.round(t - switchMs); break; }
    }
    const until = Math.min(end, lastPageMs + LOST_AFTER_MS);
    const lostWork = until > switchMs ? (pace * (until - switchMs)) / 1000 - (workAt(p, until)! - workAt(p, switchMs)!) : 0;
    const r2 = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);
    return {
        unit: series.unit,
        switchMs,
        lastPageMs,
        before: r2(rateOver(p, -Infinity, started)),
        precopy: r2(rateOver(p, started, switchMs)),
        pace: r2(pace)!,
        postcopy: m.postcopySwitch !== null ? r2(rateOver(p, switchMs, lastPageMs)) : null,
        after: r2(rateOver(p, lastPageMs, end)),
        resumeMs,
        recordAfterMs: Math.round(end - switchMs),
        lostWork: r2(lostWork)!,
        lostSeconds: r2(lostWork / pace)!,
    };
}

/** The work since the switch, against ms since the switch: one leg's curve on the variants' common axis. */
export function alignedProgress(tl: CompactTimeline): { unit: ProgressFigures["unit"]; points: [number, number][] } | null {
    const f = progressFigures(tl);
    const s = workSeries(tl);
    if (!f || !s) { return null; }
    const at = workAt(s.points, f.switchMs) ?? s.points[0].w;
    return { unit: s.unit, points: s.points.map((x) => [Math.round(x.t - f.switchMs), Math.round((x.w - at) * 100) / 100]) };
}
