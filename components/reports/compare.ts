// One line per lab (stack): the medians of its measured legs, so topologies can
// be compared side by side. Input is what `pulumi stack output --json` prints.
import { LegMetrics, spread } from "./metrics";
import { brokeSla, slaBreachLines } from "./sla";
import { textTable } from "./table";

export interface StackOutputs {
    stack: string;
    /** `pulumi stack output --json` of that stack; anything, since an old or failed stack may lack fields. */
    outputs: any;
}

export interface ComparisonRow {
    stack: string;
    topology: string | null;
    /** Number of legs the medians are taken over. */
    legs: number;
    // Medians over all legs, whatever their direction: null when nothing was measured.
    totalTimeMs: number | null;
    downtimeMs: number | null;
    probeLost: number | null;
    longestGapMs: number | null;
    /** The guest's own pings to the outside lost during a leg (nat, bridged): the reference lab's measure. */
    guestPingsLost: number | null;
    throughputMBs: number | null;
    plainMBs: number | null;
    /** Median of the legs' own ratios, not the ratio of the medians: it is what each leg measured. */
    ratio: number | null;
    postcopyRequests: number | null;
    /** The measured legs an SLA judged, and the names of those that broke it; absent when no leg had an SLA. */
    sla?: { judged: number; broken: string[] };
    /** Legs whose guest's disk moved with it (storage copy*): the medians of the disk bytes sent (MB) and of the disk phase (ms); absent when none did. */
    disk?: { legs: number; mb: number | null; ms: number | null };
    /** How many of its legs a stop condition (migration.stopAfter) ended, per condition ("iterations 2/2"); absent when none did. */
    stoppedBy?: string;
    /** Why a row has no numbers. */
    note?: string;
}

/**
 * Median of the finite values, rounded like the stack's own summary (metrics.spread);
 * null when there are none, so a leg missing a field (older outputs) is skipped, not averaged as 0.
 */
export function median(values: unknown[]): number | null {
    const v = values.filter((x): x is number => typeof x === "number" && Number.isFinite(x));
    return v.length ? spread(v).median : null;
}

export function comparisonRow({ stack, outputs }: StackOutputs): ComparisonRow {
    const o = outputs && typeof outputs === "object" ? outputs : {};
    const topology = typeof o.topology === "string" ? o.topology : null;
    // A failed leg measured nothing: it is not a figure to take a median of.
    const legs: Partial<LegMetrics>[] = Array.isArray(o.legs) ? o.legs.filter((l: any) => l && typeof l === "object" && typeof l.failed !== "string") : [];
    const m = (pick: (l: Partial<LegMetrics>) => unknown) => median(legs.map(pick));
    const row: ComparisonRow = {
        stack, topology, legs: legs.length,
        totalTimeMs: m((l) => l.totalTimeMs),
        downtimeMs: m((l) => l.downtimeMs),
        probeLost: m((l) => l.probe?.lost),
        longestGapMs: m((l) => l.probe?.longestGapMs),
        guestPingsLost: m((l) => l.guestPing?.lost),
        throughputMBs: m((l) => l.throughputMBs),
        plainMBs: m((l) => l.plainMBs),
        ratio: m((l) => l.ratio),
        postcopyRequests: m((l) => l.postcopyRequests),
    };
    const withDisk = legs.filter((l) => l.disk && typeof l.disk === "object");
    if (withDisk.length > 0) {
        row.disk = { legs: withDisk.length, mb: median(withDisk.map((l) => l.disk!.bytes / 1e6)), ms: median(withDisk.map((l) => l.disk!.ms)) };
        if (row.disk.mb !== null) { row.disk.mb = Math.round(row.disk.mb * 10) / 10; }
    }
    const judged = legs.filter((l) => l.sla && typeof l.sla === "object");
    if (judged.length > 0) { row.sla = { judged: judged.length, broken: judged.filter(brokeSla).map((l) => String(l.leg)) }; }
    const stops = new Map<string, number>();
    for (const l of legs) { if (l.stoppedBy) { stops.set(l.stoppedBy.condition, (stops.get(l.stoppedBy.condition) ?? 0) + 1); } }
    if (stops.size) { row.stoppedBy = [...stops].map(([c, n]) => `${c} ${n}/${legs.length}`).join(", "); }
    if (!Array.isArray(o.legs)) {
        row.note = Object.keys(o).length ? "no legs output: not measured yet" : "no outputs: the stack was never deployed";
    } else if (legs.length === 0) {
        row.note = "no legs measured";
    }
    return row;
}

/** One row per stack, in the order given. */
export function comparisonRows(stacks: StackOutputs[]): ComparisonRow[] {
    return stacks.map(comparisonRow);
}

/** The comparison as a text table; a note, when present, trails its row unpadded. */
export function comparisonTable(rows: ComparisonRow[]): string {
    // Beside the downtime it cost, when a stop condition ended any leg.
    const stopped = rows.some((r) => r.stoppedBy);
    // Beside the whole leg's time, when any stack's disks move with their guests (the others: "-", their disks stay on the export).
    const disks = rows.some((r) => r.disk);
    const head = ["stack", "topology", "legs", "total ms", ...(disks ? ["disk MB", "disk ms"] : []), "downtime ms", ...(stopped ? ["stopped by"] : []), "probe lost", "longest gap ms",
        "guest pings lost", "migr MB/s", "plain MB/s", "ratio", "postcopy req", "SLA"];
    const cell = (v: number | string | null) => (v === null ? "n/a" : String(v));
    const sla = (r: ComparisonRow) => (!r.sla ? "-" : r.sla.broken.length ? `${r.sla.broken.length}/${r.sla.judged} broken` : "passed");
    const cells = rows.map((r) => [
        r.stack, r.topology, r.legs, r.totalTimeMs, ...(disks ? (r.disk ? [r.disk.mb, r.disk.ms] : ["-", "-"]) : []), r.downtimeMs,
        ...(stopped ? [r.stoppedBy ?? "-"] : []), r.probeLost, r.longestGapMs,
        r.guestPingsLost, r.throughputMBs, r.plainMBs, r.ratio, r.postcopyRequests, sla(r),
    ].map(cell));
    // The legs that broke the SLA, by name, trail their stack's row.
    const notes = rows.map((r) => [r.note, r.sla?.broken.length ? `SLA broken by ${r.sla.broken.join(", ")}` : undefined].filter(Boolean).join("; "));
    return textTable(head, cells, notes.map((n) => (n ? `(${n})` : undefined)));
}

/** Every bound a stack's legs broke, one line each, prefixed with the stack: what `npm run compare` lists under its table. */
export function slaBreaches(stacks: StackOutputs[]): string[] {
    return stacks.flatMap(({ stack, outputs }) => {
        const legs = Array.isArray(outputs?.legs) ? outputs.legs.filter((l: any) => l && typeof l === "object" && typeof l.failed !== "string") : [];
        return slaBreachLines(legs).map((line) => `${stack}: ${line}`);
    });
}
