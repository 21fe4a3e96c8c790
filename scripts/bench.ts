// `npm run bench`: on a lab of its own (stack "bench", local site, same-subnet) two runs,
// each case measured with the plain transfer on the same path in the same leg:
//  - a grid of migration mode × guest dirty rate;
//  - the downtime run: pre-copy's downtime target (maxDowntimeMs) 300/100/50/20 ms against the
//    measured downtime, total time and data, for the idle guest and one dirtying 40 MiB/s.
// `npm run bench -- downtime` (or `-- grid`) runs one of them. Prints the figures (with the
// machine's load: it is shared), writes docs/bench.txt, docs/bench.svg and
// docs/bench-downtime.svg (docs/benchmarks.md shows them), with post-copy in the grid
// docs/variants-progress.svg (its variants against the guest's progress), and bench/results.json.
// Environment: MIGLAB_BENCH_MODES, _DIRTY, _CAP, _TIMEOUT (the grid), MIGLAB_BENCH_DOWNTIMES,
// _DOWNTIME_DIRTY, _PARALLEL, _RUNS (the downtime run), read below.
// A benchmark that prints figures, not a test.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LegMetrics, LegOutcome, isFailed, spread } from "../components/reports/metrics";
import { textTable } from "../components/reports/table";
import { groupedBarChart, panelledCharts } from "../components/reports/chart";
import { downtimeRows, downtimeTable, downtimeChartSpecs, DowntimeCase } from "../components/reports/downtime";
import { LOST_AFTER_MS, PACE_MS, RESUME_SHARE, RESUME_WINDOW_MS, progressFigures, ProgressFigures } from "../components/reports/progress";
import { VariantsPanel, progressPanels, variantsProgressChart } from "../components/reports/progressChart";
import type { MigrationConfig } from "../components/model/config";
import { LabStack } from "./lab-stack";
import { ROOT, benchStack } from "./pulumi-cli";

/**
 * A grid column's migration: a mode, or post-copy with its variant ("postcopy-demand"); the
 * bench's MODES list names them so.
 */
type GridMode = MigrationConfig["mode"] | `postcopy-${MigrationConfig["postcopyVariant"]}`;
interface Case { mode: GridMode; dirtyMiBs: number; bandwidthMiBs: number }

/** The migration fields a grid mode sets. */
function modeFields(mode: GridMode): Pick<MigrationConfig, "mode" | "postcopyVariant"> {
    const [m, variant] = mode.split("-") as [MigrationConfig["mode"], MigrationConfig["postcopyVariant"] | undefined];
    return { mode: m, postcopyVariant: variant ?? "push" };
}
interface Result extends Case {
    outcome: string;
    legs: LegMetrics[];
    upSeconds: number;
}

const DIRTY = (process.env.MIGLAB_BENCH_DIRTY ?? "0,40,120").split(",").map(Number);
// cold is the baseline the live modes beat (the guest paused while everything moves);
// postcopy-demand is post-copy with its background push throttled (migration.postcopyVariant).
const MODES = (process.env.MIGLAB_BENCH_MODES ?? "precopy,postcopy,postcopy-demand,cold").split(",") as GridMode[];
const TIMEOUT_S = Number(process.env.MIGLAB_BENCH_TIMEOUT ?? 40);
// The highest dirty rate again with the migration capped below it: pre-copy cannot converge there.
const CAP = Number(process.env.MIGLAB_BENCH_CAP ?? 40);

function cases(): Case[] {
    const grid = MODES.flatMap((mode) => DIRTY.map((dirtyMiBs) => ({ mode, dirtyMiBs, bandwidthMiBs: 0 })));
    const top = Math.max(...DIRTY);
    return CAP > 0 && top > CAP ? [...grid, ...MODES.map((mode) => ({ mode, dirtyMiBs: top, bandwidthMiBs: CAP }))] : grid;
}

function label(c: Case): string {
    return `${c.mode}, guest dirtying ${c.dirtyMiBs} MiB/s${c.bandwidthMiBs ? `, migration capped at ${c.bandwidthMiBs} MiB/s` : ""}`;
}

function median(xs: number[]): number { return xs.length ? spread(xs).median : NaN; }

function outcomeOf(stdout: string): string {
    const m = /failed: (aborted after \d+s|[^;\n]+); the guest is '(\w+)' on (\w+)/.exec(stdout);
    return m ? `${m[1] === `aborted after ${TIMEOUT_S}s` ? "did not converge, " : ""}${m[1]} (guest ${m[2]} on ${m[3]})` : "failed (see pulumi output)";
}

const DOWNTIME_TARGETS = (process.env.MIGLAB_BENCH_DOWNTIMES ?? "300,100,50,20").split(",").map(Number);
const DOWNTIME_DIRTY = (process.env.MIGLAB_BENCH_DOWNTIME_DIRTY ?? "0,40").split(",").map(Number);
// The downtime run over multifd (parallelConnections), and with more legs per case (runs: each
// run is a round trip, two legs).
const DOWNTIME_PARALLEL = Number(process.env.MIGLAB_BENCH_PARALLEL ?? 1);
const DOWNTIME_RUNS = Number(process.env.MIGLAB_BENCH_RUNS ?? 1);

/** Runs one case's `pulumi up` after `edit`, and gives what it measured. */
function measure(lab: LabStack, what: string, edit: (c: any) => void): { outcome: string; legs: LegMetrics[]; allLegs: LegOutcome[]; upSeconds: number; load: [number, number] } {
    lab.configure(edit);
    process.stderr.write(`bench: ${what} ... `);
    const { run: r, legs: allLegs, upSeconds, load } = lab.measuredUp();
    const outcome = r.code === 0 ? "completed" : outcomeOf(r.stdout);
    process.stderr.write(`${outcome} (${upSeconds.toFixed(0)} s, load ${load[0].toFixed(1)}-${load[1].toFixed(1)})\n`);
    return { outcome, legs: r.code === 0 ? allLegs.filter((l): l is LegMetrics => !isFailed(l)) : [], allLegs, upSeconds, load };
}

function main(): void {
    const only = process.argv[2];
    if (only !== undefined && only !== "grid" && only !== "downtime") {
        console.error(`bench: unknown run '${only}' (known: grid, downtime, scale, timeline, tls, ab, hunt, drain; none: grid and downtime)`);
        process.exit(2);
    }
    const started = Date.now();
    const lab = new LabStack(benchStack("bench"));
    const results: Result[] = [];
    const downtime: DowntimeCase[] = [];
    let buildSeconds = 0, noopSeconds = 0;
    try {
        lab.configure();
        lab.init();
        for (const c of only === "downtime" ? [] : cases()) {
            const m = measure(lab, label(c), (lab) => {
                lab.guests[0].workload = { dirtyMiBs: c.dirtyMiBs, workingSetMiB: Math.min(Math.max(c.dirtyMiBs, 1), 64) };
                Object.assign(lab.migration, modeFields(c.mode));
                lab.migration.bandwidthMiBs = c.bandwidthMiBs;
                lab.migration.timeoutSeconds = TIMEOUT_S;
            });
            if (results.length === 0) { buildSeconds = m.upSeconds; }
            results.push({ ...c, outcome: m.outcome, legs: m.legs, upSeconds: m.upSeconds });
        }
        if (only !== "downtime") {
            const t0 = Date.now();
            lab.up();
            noopSeconds = (Date.now() - t0) / 1000;
        }
        for (const dirtyMiBs of only === "grid" ? [] : DOWNTIME_DIRTY) {
            for (const targetMs of DOWNTIME_TARGETS) {
                const over = DOWNTIME_PARALLEL > 1 ? `, multifd ${DOWNTIME_PARALLEL} connections` : "";
                const m = measure(lab, `pre-copy, downtime target ${targetMs} ms, guest dirtying ${dirtyMiBs} MiB/s${over}`, (lab) => {
                    lab.guests[0].workload = { dirtyMiBs, workingSetMiB: Math.max(dirtyMiBs, 1) };
                    lab.migration.maxDowntimeMs = targetMs;
                    lab.migration.parallelConnections = DOWNTIME_PARALLEL;
                    lab.migration.runs = DOWNTIME_RUNS;
                    lab.migration.timeoutSeconds = TIMEOUT_S;
                });
                downtime.push({ targetMs, dirtyMiBs, outcome: m.outcome, legs: m.allLegs, load: m.load });
            }
        }
    } finally {
        lab.remove();
    }
    const seconds = (Date.now() - started) / 1000;
    // Saved before the report is drawn from it: a run of many minutes is not lost to a report's fault.
    const dir = path.join(ROOT, "bench");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "results.json"), JSON.stringify({ seconds, buildSeconds, noopSeconds, results, downtime }, null, 2));
    const text: string[] = [];
    if (only !== "downtime") { text.push(report(results, buildSeconds, noopSeconds)); }
    if (only !== "grid") { text.push(reportDowntime(downtime)); }
    text.push(`bench run time: ${(seconds / 60).toFixed(1)} min (load ${os.loadavg()[0].toFixed(1)} at the end)`);
    console.log(`\n${text.join("\n\n")}`);
    if (only === undefined) { fs.writeFileSync(path.join(ROOT, "docs", "bench.txt"), `${text.join("\n\n")}\n`); }
    console.log(`wrote ${path.join(dir, "results.json")}${only === undefined ? " and docs/bench.txt" : ""}`);
}

function reportDowntime(cases: DowntimeCase[]): string {
    const rows = downtimeRows(cases);
    fs.writeFileSync(path.join(ROOT, "docs", "bench-downtime.svg"), panelledCharts(downtimeChartSpecs(rows),
        "Pre-copy downtime target against what it gives (medians over both legs)"));
    const over = DOWNTIME_PARALLEL > 1 ? `, multifd over ${DOWNTIME_PARALLEL} connections` : "";
    return [`miglab bench, downtime run: pre-copy${over}, same-subnet, 192 MiB TCG guest, links at 1 Gbit/s; medians (min-max) over ${2 * DOWNTIME_RUNS} legs a case`,
        "", downtimeTable(rows), "",
        "target = migration.maxDowntimeMs, set on the source's QEMU and read back (virsh migrate-getmaxdowntime) before each leg",
        "wrote docs/bench-downtime.svg"].join("\n");
}

/**
 * The median resume time over a case's legs, or, when a leg's guest never got back to its pace
 * within its record, each leg's ("7334 / >10972"): a median of the ones that did would hide it.
 */
function resume(legs: LegMetrics[]): string {
    const figures = legs.map((l) => (l.timeline ? progressFigures(l.timeline) : null)).filter((f): f is ProgressFigures => f !== null);
    if (figures.length === 0) { return "-"; }
    if (figures.every((f) => f.resumeMs !== null)) { return String(median(figures.map((f) => f.resumeMs!))); }
    return figures.map((f) => (f.resumeMs === null ? `>${f.recordAfterMs}` : String(f.resumeMs))).join(" / ");
}

function report(results: Result[], buildSeconds: number, noopSeconds: number): string {
    const head = ["mode", "dirty MiB/s", "cap MiB/s", "outcome", "total ms", "downtime ms", "gap ms", "recovery ms", "data MB", "iter", "faults", "pushed", "tail ms",
        "before/s", "pre-copy/s", "pace/s", "post-copy/s", "after/s", "resume ms", "lost s",
        "migr MB/s", "plain MB/s", "ratio", "libvirt/plain"];
    const rows = results.map((r) => {
        // A figure no leg of the case has (post-copy's on a pre-copy case, recovery without a timeline): "-".
        const m = (f: (l: LegMetrics) => number) => { const v = median(r.legs.map(f)); return Number.isFinite(v) ? String(v) : "-"; };
        const pc = (f: (p: NonNullable<LegMetrics["postcopy"]>) => number) => m((l) => (l.postcopy ? f(l.postcopy) : NaN));
        // The guest's own progress (components/reports/progress.ts): its work per second in each phase.
        const pg = (f: (p: ProgressFigures) => number | null) => m((l) => {
            const p = l.timeline ? progressFigures(l.timeline) : null;
            const v = p ? f(p) : null;
            return v === null ? NaN : v;
        });
        return [r.mode, String(r.dirtyMiBs), r.bandwidthMiBs ? String(r.bandwidthMiBs) : "-", r.outcome, m((l) => l.totalTimeMs), m((l) => l.downtimeMs),
            m((l) => l.probe?.longestGapMs ?? NaN), m((l) => l.phases?.networkRecoveryMs ?? NaN),
            m((l) => Math.round(l.dataProcessedBytes / 1e5) / 10), m((l) => l.iterations), pc((p) => p.faults), pc((p) => p.pushedPages), pc((p) => p.tailMs),
            pg((p) => p.before), pg((p) => p.precopy), pg((p) => p.pace), pg((p) => p.postcopy), pg((p) => p.after), resume(r.legs), pg((p) => p.lostSeconds),
            m((l) => l.throughputMBs), m((l) => l.plainMBs), m((l) => l.ratio),
            m((l) => Math.round(l.memoryBps / 1e6 / l.plainMBs * 1000) / 1000)];
    });

    const lines = [`miglab bench: same-subnet, local site, 192 MiB TCG guest, links at 1 Gbit/s; medians over both legs`, "",
        textTable(head, rows), "",
        `first pulumi up (lab built and measured): ${buildSeconds.toFixed(1)} s; no-op pulumi up: ${noopSeconds.toFixed(1)} s`,
        "ratio = data processed / total time ÷ plain iperf3 throughput; libvirt/plain = libvirt's memory_bps ÷ plain",
        "gap = the probe's longest gap between replies; recovery = guest resumed until the probe's first reply there;",
        "post-copy: faults = pages fetched by the guest's faults, pushed = pages sent unasked, tail = switch until the last page",
        "the guest's progress, per second (MiB its workload wrote; counter ticks without a workload): before the destination started,",
        `during pre-copy, its pace over the ${PACE_MS} ms before the switch (pre-copy: the pause), from the switch to the last page, after it;`,
        `resume = the switch until its rate over ${RESUME_WINDOW_MS} ms is back at ${RESUME_SHARE * 100} % of that pace (>N: not within the N ms recorded);`,
        `lost s = the work behind a guest keeping that pace, from the switch until ${LOST_AFTER_MS} ms after the last page, in seconds of it`,
        "(below 0: it ran faster than its pace before the switch)"];
    const columns = [...new Set(results.map((r) => `${r.dirtyMiBs} MiB/s${r.bandwidthMiBs ? ` (cap ${r.bandwidthMiBs})` : ""}`))];
    const val = (mode: string, f: (l: LegMetrics) => number) => columns.map((col) => {
        const r = results.find((x) => x.mode === mode && `${x.dirtyMiBs} MiB/s${x.bandwidthMiBs ? ` (cap ${x.bandwidthMiBs})` : ""}` === col);
        return r && r.legs.length ? median(r.legs.map(f)) : null;
    });
    fs.writeFileSync(path.join(ROOT, "docs", "bench.svg"), groupedBarChart({
        title: "Migration time by guest dirty rate (n/a: did not complete)",
        unit: "ms",
        groups: columns,
        series: MODES.map((mode) => ({ name: mode, values: val(mode, (l) => l.totalTimeMs) })),
    }));
    lines.push("wrote docs/bench.svg");
    const panels = variantsPanels(results);
    if (panels.length > 0) {
        fs.writeFileSync(path.join(ROOT, "docs", "variants-progress.svg"), variantsProgressChart(panels,
            "Post-copy's variants against the guest's progress (each leg aligned at its switch)", MODES.map((m) => modeFields(m).postcopyVariant)));
        lines.push("wrote docs/variants-progress.svg");
    }
    return lines.join("\n");
}

/** The post-copy cases' legs as curves, one panel per dirty rate and cap, in the grid's order. */
function variantsPanels(results: Result[]): VariantsPanel[] {
    return progressPanels(results.map((r) => ({
        title: `guest dirtying ${r.dirtyMiBs} MiB/s${r.bandwidthMiBs ? `, migration capped at ${r.bandwidthMiBs} MiB/s` : ""}`,
        variant: modeFields(r.mode).postcopyVariant,
        legs: r.legs,
    })));
}

main();
