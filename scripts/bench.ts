// `npm run bench`: a small grid of migration mode × guest dirty rate on a lab of
// its own (stack "bench", local site), each case measured with the plain transfer
// on the same path in the same leg. Prints the figures, writes bench/results.json
// and bench/results.svg. A benchmark that prints figures, not a test.
import * as fs from "fs";
import * as path from "path";
import { LegMetrics, spread } from "../components/reports/metrics";
import { textTable } from "../components/reports/table";
import { groupedBarChart } from "../components/reports/chart";
import { LabStack } from "./lab-stack";
import { ROOT } from "./pulumi-cli";

interface Case { mode: "precopy" | "postcopy"; dirtyMiBs: number; bandwidthMiBs: number }
interface Result extends Case {
    outcome: string;
    legs: LegMetrics[];
    upSeconds: number;
}

const DIRTY = (process.env.MIGLAB_BENCH_DIRTY ?? "0,40,120").split(",").map(Number);
const MODES = (process.env.MIGLAB_BENCH_MODES ?? "precopy,postcopy").split(",") as Case["mode"][];
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

function main(): void {
    const lab = new LabStack("bench");
    const results: Result[] = [];
    let buildSeconds = 0, noopSeconds = 0;
    try {
        lab.configure();
        lab.init();
        for (const c of cases()) {
            lab.configure((lab) => {
                lab.guests[0].workload = { dirtyMiBs: c.dirtyMiBs, workingSetMiB: Math.min(Math.max(c.dirtyMiBs, 1), 64) };
                lab.migration.mode = c.mode;
                lab.migration.bandwidthMiBs = c.bandwidthMiBs;
                lab.migration.timeoutSeconds = TIMEOUT_S;
            });
            process.stderr.write(`bench: ${label(c)} ... `);
            const t0 = Date.now();
            const r = lab.up();
            const upSeconds = (Date.now() - t0) / 1000;
            if (results.length === 0) { buildSeconds = upSeconds; }
            const legs: LegMetrics[] = r.code === 0 ? lab.outputs().legs : [];
            const outcome = r.code === 0 ? "completed" : outcomeOf(r.stdout);
            process.stderr.write(`${outcome} (${upSeconds.toFixed(0)} s)\n`);
            results.push({ ...c, outcome, legs, upSeconds });
        }
        const t0 = Date.now();
        lab.up();
        noopSeconds = (Date.now() - t0) / 1000;
    } finally {
        lab.remove();
    }
    report(results, buildSeconds, noopSeconds);
}

function report(results: Result[], buildSeconds: number, noopSeconds: number): void {
    const head = ["mode", "dirty MiB/s", "cap MiB/s", "outcome", "total ms", "downtime ms", "data MB", "iter", "pc reqs", "migr MB/s", "plain MB/s", "ratio", "libvirt/plain"];
    const rows = results.map((r) => {
        const m = (f: (l: LegMetrics) => number) => (r.legs.length ? String(median(r.legs.map(f))) : "-");
        return [r.mode, String(r.dirtyMiBs), r.bandwidthMiBs ? String(r.bandwidthMiBs) : "-", r.outcome, m((l) => l.totalTimeMs), m((l) => l.downtimeMs),
            m((l) => Math.round(l.dataProcessedBytes / 1e5) / 10), m((l) => l.iterations), m((l) => l.postcopyRequests),
            m((l) => l.throughputMBs), m((l) => l.plainMBs), m((l) => l.ratio),
            m((l) => Math.round(l.memoryBps / 1e6 / l.plainMBs * 1000) / 1000)];
    });

    console.log(`\nmiglab bench: same-subnet, local site, 192 MiB TCG guest, links at 1 Gbit/s; medians over both legs\n`);
    console.log(textTable(head, rows));
    console.log(`\nfirst pulumi up (lab built and measured): ${buildSeconds.toFixed(1)} s; no-op pulumi up: ${noopSeconds.toFixed(1)} s`);
    console.log("ratio = data processed / total time ÷ plain iperf3 throughput; libvirt/plain = libvirt's memory_bps ÷ plain");
    const dir = path.join(ROOT, "bench");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "results.json"), JSON.stringify({ buildSeconds, noopSeconds, results }, null, 2));
    const columns = [...new Set(results.map((r) => `${r.dirtyMiBs} MiB/s${r.bandwidthMiBs ? ` (cap ${r.bandwidthMiBs})` : ""}`))];
    const groups = columns;
    const val = (mode: string, f: (l: LegMetrics) => number) => columns.map((col) => {
        const r = results.find((x) => x.mode === mode && `${x.dirtyMiBs} MiB/s${x.bandwidthMiBs ? ` (cap ${x.bandwidthMiBs})` : ""}` === col);
        return r && r.legs.length ? median(r.legs.map(f)) : null;
    });
    fs.writeFileSync(path.join(dir, "results.svg"), groupedBarChart({
        title: "Migration time by guest dirty rate (n/a: did not complete)",
        unit: "ms",
        groups,
        series: MODES.map((mode) => ({ name: mode, values: val(mode, (l) => l.totalTimeMs) })),
    }));
    console.log(`wrote ${path.join(dir, "results.json")} and ${path.join(dir, "results.svg")}`);
}

main();
