// The reference experiment beside ours: the reference report's figures (a student lab that
// migrated KVM guests between PCs, live) and, for the same case, the medians of miglab's legs;
// and per topology a cold migration of ours, the baseline the reference had in mind but did not
// measure. Pure: the legs come from the stacks' outputs, the text and SVG are strings.
import { ChartSpec, panelledCharts } from "./chart";
import { median } from "./compare";
import { LegOutcome, isFailed } from "./metrics";
import { textTable } from "./table";

export type Topology = "same-subnet" | "nat" | "bridged";

/** How our guest moved: live (pre-copy, the reference's kind) or cold (paused while it moves). */
export type CaseMode = "precopy" | "cold";

/** One case of the reference report: a guest of memoryMB migrated on one topology. */
export interface ReferenceCase {
    topology: Topology;
    memoryMB: number;
    totalTimeS: number;
    migrationMBs: number;
    plainMBs: number;
    /** The report gives no figure, only how the topologies compare. */
    lostPings: string;
}

/** The reference report's headline figures (its downtime was not measured apart from lost pings). */
export const REFERENCE: ReferenceCase[] = [
    { topology: "same-subnet", memoryMB: 500, totalTimeS: 9, migrationMBs: 55.6, plainMBs: 79.4, lostPings: "several" },
    { topology: "same-subnet", memoryMB: 720, totalTimeS: 12, migrationMBs: 60.0, plainMBs: 84.7, lostPings: "several" },
    { topology: "nat", memoryMB: 500, totalTimeS: 73, migrationMBs: 6.9, plainMBs: 11.7, lostPings: "more than bridged" },
    { topology: "nat", memoryMB: 720, totalTimeS: 96, migrationMBs: 7.5, plainMBs: 11.7, lostPings: "more than bridged" },
    { topology: "bridged", memoryMB: 500, totalTimeS: 124, migrationMBs: 4.03, plainMBs: 11.7, lostPings: "almost none" },
    { topology: "bridged", memoryMB: 720, totalTimeS: 168, migrationMBs: 4.28, plainMBs: 11.7, lostPings: "almost none" },
];

/** The reference case a guest of memoryMiB on `topology` stands for: the same topology, the nearest size. */
export function referenceFor(topology: Topology, memoryMiB: number): ReferenceCase {
    const bytes = memoryMiB * 2 ** 20;
    const same = REFERENCE.filter((r) => r.topology === topology);
    if (same.length === 0) { throw new Error(`reproduce: the reference report has no '${topology}' case`); }
    return same.reduce((a, b) => (Math.abs(b.memoryMB * 1e6 - bytes) < Math.abs(a.memoryMB * 1e6 - bytes) ? b : a));
}

/** What one of our cases measured: its legs (all runs, both ways) and the machine's load meanwhile. */
export interface MeasuredCase {
    topology: Topology;
    /** Absent from the cases of runs before cold ones were measured: those were pre-copy. */
    mode?: CaseMode;
    memoryMiB: number;
    fillMiB: number;
    legs: LegOutcome[];
    /** 1-minute load average before and after the case's `pulumi up` (the machine is shared). */
    load: [number, number];
}

export interface SideBySideRow {
    topology: Topology;
    mode: CaseMode;
    memoryMiB: number;
    /** null for a cold case: the reference report measured no cold migration. */
    reference: (ReferenceCase & { ratio: number }) | null;
    ours: {
        legs: number;
        failed: number;
        dataMB: number | null;
        totalTimeS: number | null;
        migrationMBs: number | null;
        plainMBs: number | null;
        ratio: number | null;
        downtimeMs: number | null;
        longestGapMs: number | null;
        /** The probe's pings @ probeIntervalMs (not behind NAT). */
        probeLost: number | null;
        /** The guest's own pings to the outside (nat, bridged): the reference lab's measure. */
        guestPingsLost: number | null;
    };
    load: [number, number];
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function sideBySideRow(c: MeasuredCase): SideBySideRow {
    const mode = c.mode ?? "precopy";
    const ref = mode === "cold" ? null : referenceFor(c.topology, c.memoryMiB);
    const legs = c.legs.filter((l) => !isFailed(l)) as Exclude<LegOutcome, { failed: string }>[];
    const m = (pick: (l: (typeof legs)[number]) => unknown) => median(legs.map(pick));
    const data = m((l) => l.dataProcessedBytes);
    const total = m((l) => l.totalTimeMs);
    return {
        topology: c.topology, mode, memoryMiB: c.memoryMiB, load: c.load,
        reference: ref && { ...ref, ratio: r3(ref.migrationMBs / ref.plainMBs) },
        ours: {
            legs: legs.length, failed: c.legs.length - legs.length,
            dataMB: data === null ? null : Math.round(data / 1e5) / 10,
            totalTimeS: total === null ? null : Math.round(total / 10) / 100,
            migrationMBs: m((l) => l.throughputMBs), plainMBs: m((l) => l.plainMBs), ratio: m((l) => l.ratio),
            downtimeMs: m((l) => l.downtimeMs), longestGapMs: m((l) => l.probe?.longestGapMs),
            probeLost: m((l) => l.probe?.lost), guestPingsLost: m((l) => l.guestPing?.lost),
        },
    };
}

const cell = (v: number | string | null) => (v === null ? "n/a" : String(v));

/** A case's name in the pictures and the comparison: its topology, guest and, when cold, its mode. */
export function caseLabel(c: { topology: Topology; memoryMiB: number; mode?: CaseMode }): string {
    return `${c.topology} ${c.memoryMiB} MiB${c.mode === "cold" ? " cold" : ""}`;
}

/**
 * Two lines per live case, the reference's above ours, and one per cold case (ours alone: the
 * reference has no cold figures), with the machine's load beside our figures.
 */
export function sideBySideTable(rows: SideBySideRow[]): string {
    const head = ["case", "who", "mode", "guest", "data MB", "total s", "migr MB/s", "plain MB/s", "ratio", "downtime ms",
        "longest gap ms", "probe lost", "guest pings lost", "legs", "load"];
    const lines: string[][] = [];
    for (const r of rows) {
        const ref = r.reference, o = r.ours;
        if (ref) {
            lines.push([r.topology, "reference", "live", `${ref.memoryMB} MB`, String(ref.memoryMB), String(ref.totalTimeS), String(ref.migrationMBs),
                String(ref.plainMBs), String(ref.ratio), "n/a", "n/a", "n/a", ref.lostPings, "-", "-"]);
        }
        lines.push([r.topology, "miglab", r.mode, `${r.memoryMiB} MiB`, cell(o.dataMB), cell(o.totalTimeS), cell(o.migrationMBs), cell(o.plainMBs),
            cell(o.ratio), cell(o.downtimeMs), cell(o.longestGapMs), cell(o.probeLost), cell(o.guestPingsLost),
            o.failed ? `${o.legs} (+${o.failed} failed)` : String(o.legs), `${r.load[0].toFixed(1)}-${r.load[1].toFixed(1)}`]);
    }
    return textTable(head, lines);
}

/** The panels of the side-by-side picture: one group per case, the reference's bar beside ours. */
export function sideBySideChartSpecs(rows: SideBySideRow[]): (ChartSpec & { id: string })[] {
    const groups = rows.map(caseLabel);
    const pair = (id: string, title: string, unit: string, ref: (r: SideBySideRow) => number | null, ours: (r: SideBySideRow) => number | null) =>
        ({ id, title, unit, groups, series: [{ name: "reference report", values: rows.map(ref) }, { name: "miglab", values: rows.map(ours) }] });
    return [
        pair("migration", "Migration throughput (data ÷ total time)", "MB/s", (r) => r.reference?.migrationMBs ?? null, (r) => r.ours.migrationMBs),
        pair("plain", "Plain transfer on the same path", "MB/s", (r) => r.reference?.plainMBs ?? null, (r) => r.ours.plainMBs),
        pair("ratio", "Migration ÷ plain", "ratio", (r) => r.reference?.ratio ?? null, (r) => r.ours.ratio),
        pair("time", "Migration time", "s", (r) => r.reference?.totalTimeS ?? null, (r) => r.ours.totalTimeS),
        {
            id: "downtime", title: "miglab downtime (the reference did not measure it)", unit: "ms", groups,
            series: [{ name: "libvirt downtime", values: rows.map((r) => r.ours.downtimeMs) },
                { name: "probe's longest gap", values: rows.map((r) => r.ours.longestGapMs) }],
        },
        {
            id: "lost", title: "miglab pings lost per leg (reference: no figures)", unit: "pings", groups,
            series: [{ name: "probe @10 ms", values: rows.map((r) => r.ours.probeLost) },
                { name: "guest to outside", values: rows.map((r) => r.ours.guestPingsLost) }],
        },
    ];
}

export function sideBySideCharts(rows: SideBySideRow[]): string {
    return panelledCharts(sideBySideChartSpecs(rows), "The reference experiment reproduced: reference report vs miglab (medians over legs)");
}
