// A drain's own figures, from its legs' (pure): how long emptying the host took, how many legs
// ran at once, each guest's outage and share of the link, and what the guests that stayed put
// lost meanwhile; judged against the drain's SLA bound (maxDrainMs).
import type { SlaConfig } from "../model/types";
import { LegMetrics, LegOutcome, isFailed, nextAttempts } from "./metrics";
import { SlaBreach } from "./sla";
import { textTable } from "./table";

/** What the report needs to know of the drain beyond its legs. */
export interface DrainSpec {
    /** Its config path ("migrations[i]"). */
    at: string;
    host: string;
    parallel: number;
    /** The legs out, in the order they start, and (roundTrip) the legs back. */
    out: string[];
    back: string[];
}

/** One guest's leg of a drain. */
export interface DrainLeg {
    leg: string;
    guest: string;
    from: string;
    to: string;
    /** Why it has no figures; the figures below are then null. */
    failed?: string;
    downtimeMs: number | null;
    totalTimeMs: number | null;
    /** The probe's pings to the guest during the leg; null behind NAT (see guestPing). */
    probe: { sent: number; lost: number } | null;
    guestPing: { sent: number; lost: number } | null;
    /**
     * The leg's share of the migration traffic leaving the drained host while it ran: its bytes ÷
     * (its bytes + what each overlapping leg of its phase sent during the overlap, taking that leg's
     * rate as even over its migration). 1: it ran alone; about 1/k: k legs of equal size at once.
     */
    linkShare: number | null;
    /** Its throughput ÷ the plain transfer its leg measured (LegMetrics.ratio; the plain transfer itself shares the link with legs running then). */
    ratio: number | null;
}

/** A guest that stayed put through the drain, over all its legs. */
export interface DrainBystander {
    guest: string;
    host: string;
    /** Its counter advanced across every leg. */
    counting: boolean;
    /** The probe's pings to it, summed over the legs (each leg pings it on its own). */
    probe: { sent: number; lost: number } | null;
    /** Its own pings to the outside lost during the worst leg (legs overlap: not summed). */
    guestPingLostMax: number | null;
}

export interface DrainSlaResult { passed: boolean; bounds: Pick<SlaConfig, "maxDrainMs">; broken: SlaBreach[] }

export interface DrainReport {
    at: string;
    host: string;
    parallel: number;
    /** The first leg out's migration start to the last leg out's end; null when a leg out failed (the host was not emptied). */
    drainMs: number | null;
    /** The same for the legs back; null without roundTrip or when one failed. */
    returnMs: number | null;
    /** The most legs of one phase migrating at one instant (from their migration windows). */
    maxConcurrent: number;
    /** The longest downtime of the legs out. */
    worstDowntimeMs: number | null;
    out: DrainLeg[];
    back: DrainLeg[];
    bystanders: DrainBystander[];
    sla?: DrainSlaResult;
}

interface Window { start: number; end: number }

/** When a leg's `virsh migrate` ran (epoch ms); null for a failed leg or one measured before startedAt existed. */
export function legWindow(l: LegOutcome): Window | null {
    if (isFailed(l)) { return null; }
    const start = Date.parse((l as LegMetrics).startedAt ?? "");
    return Number.isFinite(start) ? { start, end: start + l.wallClockMs } : null;
}

/** The most windows open at one instant (one ending as another starts do not overlap). */
export function maxOverlap(windows: Window[]): number {
    const events = windows.flatMap((w) => [{ t: w.start, d: 1 }, { t: w.end, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
    let open = 0, most = 0;
    for (const e of events) { open += e.d; most = Math.max(most, open); }
    return most;
}

const overlapMs = (a: Window, b: Window) => Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** Each measured leg's link share among the legs of its phase (see DrainLeg.linkShare). */
export function linkShares(legs: LegOutcome[]): Map<string, number> {
    const sized = legs.map((l) => ({ l, w: legWindow(l) })).filter((x): x is { l: LegMetrics; w: Window } => x.w !== null);
    const out = new Map<string, number>();
    for (const { l, w } of sized) {
        const others = sized.filter((o) => o.l !== l)
            .reduce((sum, o) => sum + (o.w.end > o.w.start ? o.l.dataProcessedBytes * overlapMs(w, o.w) / (o.w.end - o.w.start) : 0), 0);
        const mine = l.dataProcessedBytes;
        if (mine + others > 0) { out.set(l.leg, round(mine / (mine + others))); }
    }
    return out;
}

function span(legs: LegOutcome[]): number | null {
    const ws = legs.map(legWindow);
    if (ws.length === 0 || ws.some((w) => w === null)) { return null; }
    return Math.max(...ws.map((w) => w!.end)) - Math.min(...ws.map((w) => w!.start));
}

function drainLeg(l: LegOutcome, share: Map<string, number>): DrainLeg {
    const base = { leg: l.leg, guest: l.guest ?? "", from: l.from, to: l.to };
    if (isFailed(l)) {
        return { ...base, failed: l.failed, downtimeMs: null, totalTimeMs: null, probe: null, guestPing: null, linkShare: null, ratio: null };
    }
    return {
        ...base, downtimeMs: l.downtimeMs, totalTimeMs: l.totalTimeMs,
        probe: l.probe ? { sent: l.probe.sent, lost: l.probe.lost } : null,
        guestPing: l.guestPing ? { sent: l.guestPing.sent, lost: l.guestPing.lost } : null,
        linkShare: share.get(l.leg) ?? null, ratio: l.ratio,
    };
}

function bystandersOf(legs: LegOutcome[]): DrainBystander[] {
    const out = new Map<string, DrainBystander>();
    for (const l of legs) {
        if (isFailed(l)) { continue; }
        for (const b of l.bystanders ?? []) {
            const d = out.get(b.guest) ?? { guest: b.guest, host: b.host, counting: true, probe: null, guestPingLostMax: null };
            d.counting = d.counting && b.counterAfter > b.counterBefore;
            if (b.probe) { d.probe = { sent: (d.probe?.sent ?? 0) + b.probe.sent, lost: (d.probe?.lost ?? 0) + b.probe.lost }; }
            if (b.guestPing) { d.guestPingLostMax = Math.max(d.guestPingLostMax ?? 0, b.guestPing.lost); }
            out.set(b.guest, d);
        }
    }
    return [...out.values()];
}

/** The drain's figures from its legs (`legs`: any legs, the drain's are picked by name). */
export function drainReport(spec: DrainSpec, legs: LegOutcome[]): DrainReport {
    const pick = (names: string[]) => names.map((n) => legs.find((l) => l.leg === n)).filter((l): l is LegOutcome => l !== undefined);
    const out = pick(spec.out), back = pick(spec.back);
    const complete = (ls: LegOutcome[], names: string[]) => ls.length === names.length && names.length > 0 && !ls.some(isFailed);
    const shares = new Map([...linkShares(out), ...linkShares(back)]);
    const downtimes = out.filter((l): l is LegMetrics => !isFailed(l)).map((l) => l.downtimeMs);
    return {
        at: spec.at, host: spec.host, parallel: spec.parallel,
        drainMs: complete(out, spec.out) ? span(out) : null,
        returnMs: complete(back, spec.back) ? span(back) : null,
        maxConcurrent: Math.max(maxOverlap(out.map(legWindow).filter((w): w is Window => w !== null)),
            maxOverlap(back.map(legWindow).filter((w): w is Window => w !== null))),
        worstDowntimeMs: downtimes.length ? Math.max(...downtimes) : null,
        out: out.map((l) => drainLeg(l, shares)), back: back.map((l) => drainLeg(l, shares)),
        bystanders: bystandersOf([...out, ...back]),
    };
}

/** The drain against its bounds: a drain that did not empty its host (drainMs null) breaks maxDrainMs. */
export function judgeDrain(r: Pick<DrainReport, "drainMs">, bounds: SlaConfig): DrainSlaResult | undefined {
    if (bounds.maxDrainMs === undefined) { return undefined; }
    const limit = bounds.maxDrainMs;
    const broken: SlaBreach[] = r.drainMs === null || r.drainMs > limit ? [{ bound: "maxDrainMs", limit, figure: "drainMs", value: r.drainMs }] : [];
    return { passed: broken.length === 0, bounds: { maxDrainMs: limit }, broken };
}

/** The one line a drain that broke its bound fails `pulumi up` with. */
export function drainBreachLine(r: Pick<DrainReport, "at" | "host">, b: SlaBreach): string {
    const what = b.value === null ? `${b.figure} not measured (a leg out failed; ${b.bound} ${b.limit})` : `${b.figure} ${b.value} > ${b.bound} ${b.limit}`;
    return `drain of ${r.host} (${r.at}) breaks its SLA: ${what}`;
}

/** A drain whose previous report (the stack's `drains` output of last time) broke its SLA: all its legs run again. */
export function drainBroke(previous: unknown, at: string): boolean {
    const list = Array.isArray(previous) ? previous : [];
    return list.some((d) => d && typeof d === "object" && d.at === at && d.sla?.passed === false);
}

/**
 * The try number of each of a drain's legs (`names`): as nextAttempts says for any migration's
 * legs, and one more for every leg reported before when the drain itself broke its SLA (its
 * guests are back home, roundTrip being required with an SLA, so it runs again whole).
 */
export function drainAttempts(previousLegs: unknown, previousDrains: unknown, at: string, names: string[]): number[] {
    if (!drainBroke(previousDrains, at)) { return nextAttempts(previousLegs, names); }
    const reported = Array.isArray(previousLegs) ? previousLegs : [];
    return names.map((n) => {
        const p = reported.find((l) => l && typeof l === "object" && l.leg === n);
        return p ? (Number.isInteger(p.attempt) ? p.attempt : 0) + 1 : 0;
    });
}

/** The drains as `npm run lab` prints them: one row per drain, then one per leg out. */
export function drainsTable(drains: DrainReport[]): string {
    const ms = (x: number | null) => (x === null ? "-" : String(Math.round(x)));
    const parts = drains.map((d) => {
        const head = `drain of ${d.host} (${d.at}), ${d.parallel} at once: ${ms(d.drainMs)} ms to empty it` +
            `${d.back.length ? `, ${ms(d.returnMs)} ms to bring the guests back` : ""}; at most ${d.maxConcurrent} legs at once; worst downtime ${ms(d.worstDowntimeMs)} ms` +
            `${d.sla ? (d.sla.passed ? "; SLA met" : `; SLA broken: ${d.sla.broken.map((b) => drainBreachLine(d, b)).join("; ")}`) : ""}`;
        const rows = d.out.map((l) => [`${l.guest} ${l.from} -> ${l.to}`, l.failed ? "FAILED" : ms(l.downtimeMs), ms(l.totalTimeMs),
            l.probe ? `${l.probe.lost}/${l.probe.sent}` : l.guestPing ? `${l.guestPing.lost}/${l.guestPing.sent} (own)` : "-",
            l.linkShare === null ? "-" : l.linkShare.toFixed(2), l.ratio === null ? "-" : String(l.ratio)]);
        const by = d.bystanders.map((b) => `${b.guest}@${b.host} ${b.counting ? "counting" : "STOPPED"}` +
            `${b.probe ? `, ${b.probe.lost}/${b.probe.sent} probe pings lost` : ""}${b.guestPingLostMax !== null ? `, own pings lost ≤ ${b.guestPingLostMax} per leg` : ""}`);
        return [head, textTable(["guest", "downtime ms", "total ms", "pings lost", "link share", "ratio"], rows),
            ...(by.length ? [`bystanders: ${by.join("; ")}`] : [])].join("\n");
    });
    return parts.join("\n\n");
}
