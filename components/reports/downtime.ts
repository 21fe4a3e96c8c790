// The benchmark's downtime run: pre-copy's downtime target (maxDowntimeMs) against the
// downtime, total time and data it gives, one row per target and guest dirty rate.
import { ChartSpec } from "./chart";
import { median } from "./compare";
import { LegMetrics, LegOutcome, isFailed, spread } from "./metrics";
import { textTable } from "./table";

export interface DowntimeCase {
    targetMs: number;
    dirtyMiBs: number;
    /** "completed", or why the case's `pulumi up` failed. */
    outcome: string;
    /** The legs this case measured (failed ones included: they say why). */
    legs: LegOutcome[];
    /** 1-minute load average before and after the case. */
    load: [number, number];
}

export interface DowntimeRow {
    targetMs: number;
    dirtyMiBs: number;
    /** The targets the legs read back from QEMU, distinct; one equal to targetMs when QEMU took it. */
    readBackMs: (number | null)[];
    legs: number;
    failed: string[];
    downtimeMs: { median: number; min: number; max: number } | null;
    totalTimeMs: number | null;
    dataMB: number | null;
    iterations: number | null;
    longestGapMs: number | null;
    load: [number, number];
}

export function downtimeRow(c: DowntimeCase): DowntimeRow {
    const ok = c.legs.filter((l): l is LegMetrics => !isFailed(l));
    const m = (pick: (l: LegMetrics) => unknown) => median(ok.map(pick));
    const data = m((l) => l.dataProcessedBytes);
    return {
        targetMs: c.targetMs, dirtyMiBs: c.dirtyMiBs, load: c.load,
        readBackMs: [...new Set(ok.map((l) => l.maxDowntimeMs ?? null))],
        legs: ok.length,
        failed: c.legs.filter(isFailed).map((l) => (l as { failed: string }).failed),
        downtimeMs: ok.length ? spread(ok.map((l) => l.downtimeMs)) : null,
        totalTimeMs: m((l) => l.totalTimeMs),
        dataMB: data === null ? null : Math.round(data / 1e5) / 10,
        iterations: m((l) => l.iterations),
        longestGapMs: m((l) => l.probe?.longestGapMs),
    };
}

export function downtimeRows(cases: DowntimeCase[]): DowntimeRow[] {
    return cases.map(downtimeRow);
}

const cell = (v: number | null) => (v === null ? "n/a" : String(v));

/** One line per target and dirty rate; a case with failed legs ends with why. */
export function downtimeTable(rows: DowntimeRow[]): string {
    const head = ["target ms", "guest dirties", "read back ms", "downtime ms", "(min-max)", "total ms", "data MB", "iter", "longest gap ms", "legs", "load"];
    const cells = rows.map((r) => [
        String(r.targetMs), `${r.dirtyMiBs} MiB/s`, r.readBackMs.map(cell).join(",") || "n/a",
        r.downtimeMs ? String(r.downtimeMs.median) : "n/a", r.downtimeMs ? `${r.downtimeMs.min}-${r.downtimeMs.max}` : "n/a",
        cell(r.totalTimeMs), cell(r.dataMB), cell(r.iterations), cell(r.longestGapMs), String(r.legs),
        `${r.load[0].toFixed(1)}-${r.load[1].toFixed(1)}`,
    ]);
    return textTable(head, cells, rows.map((r) => (r.failed.length ? `failed: ${r.failed.join("; ")}` : undefined)));
}

/** Downtime, total time and data by target, one series per guest dirty rate. */
export function downtimeChartSpecs(rows: DowntimeRow[]): (ChartSpec & { id: string })[] {
    const groups = [...new Set(rows.map((r) => `${r.targetMs} ms`))];
    const rates = [...new Set(rows.map((r) => r.dirtyMiBs))];
    const series = (pick: (r: DowntimeRow) => number | null) => rates.map((rate) => ({
        name: `guest dirtying ${rate} MiB/s`,
        values: groups.map((g) => { const r = rows.find((x) => `${x.targetMs} ms` === g && x.dirtyMiBs === rate); return r ? pick(r) : null; }),
    }));
    return [
        { id: "downtime", title: "Downtime by target (libvirt's, median)", unit: "ms", groups, series: series((r) => r.downtimeMs?.median ?? null) },
        { id: "gap", title: "Probe's longest gap by target (median)", unit: "ms", groups, series: series((r) => r.longestGapMs) },
        { id: "total", title: "Migration time by target (median)", unit: "ms", groups, series: series((r) => r.totalTimeMs) },
        { id: "data", title: "Data sent by target (median)", unit: "MB", groups, series: series((r) => r.dataMB) },
    ];
}
