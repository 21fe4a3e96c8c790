// `npm run bench`: a small grid of migration mode × guest dirty rate on a lab of
// its own (stack "bench", local site), each case measured with the plain transfer
// on the same path in the same leg. Prints the figures, writes bench/results.json
// and bench/results.svg. A benchmark that prints figures, not a test.
import * as fs from "fs";
import * as path from "path";
import { LegMetrics, spread } from "../components/metrics";
import { groupedBarChart } from "../components/chart";
import { LabStack } from "./lab-stack";
import { ROOT } from "./pulumi-cli";

interface Case { mode: "precopy" | "postcopy"; dirtyMiBs: number }
interface Result extends Case {
    outcome: string;
    legs: LegMetrics[];
    upSeconds: number;
}

const DIRTY = (process.env.MIGLAB_BENCH_DIRTY ?? "0,40,120").split(",").map(Number);
const MODES = (process.env.MIGLAB_BENCH_MODES ?? "precopy,postcopy").split(",") as Case["mode"][];
const TIMEOUT_S = Number(process.env.MIGLAB_BENCH_TIMEOUT ?? 40);

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
        for (const mode of MODES) {
            for (const dirtyMiBs of DIRTY) {
                lab.configure((c) => {
                    c.guests[0].workload = { dirtyMiBs, workingSetMiB: Math.min(Math.max(dirtyMiBs, 1), 64) };
                    c.migration.mode = mode;
                    c.migration.timeoutSeconds = TIMEOUT_S;
                });
                process.stderr.write(`bench: ${mode}, guest dirtying ${dirtyMiBs} MiB/s ... `);
                const t0 = Date.now();
                const r = lab.up();
                const upSeconds = (Date.now() - t0) / 1000;
                if (results.length === 0) { buildSeconds = upSeconds; }
                const legs: LegMetrics[] = r.code === 0 ? lab.outputs().legs : [];
                const outcome = r.code === 0 ? "completed" : outcomeOf(r.stdout);
                process.stderr.write(`${outcome} (${upSeconds.toFixed(0)} s)\n`);
                results.push({ mode, dirtyMiBs, outcome, legs, upSeconds });
            }
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
    const head = ["mode", "dirty MiB/s", "outcome", "total ms", "downtime ms", "data MB", "iter", "pc reqs", "migr MB/s", "plain MB/s", "ratio", "libvirt/plain"];
    const rows = results.map((r) => {
        const m = (f: (l: LegMetrics) => number) => (r.legs.length ? String(median(r.legs.map(f))) : "-");
        return [r.mode, String(r.dirtyMiBs), r.outcome, m((l) => l.totalTimeMs), m((l) => l.downtimeMs),
            m((l) => Math.round(l.dataProcessedBytes / 1e5) / 10), m((l) => l.iterations), m((l) => l.postcopyRequests),
            m((l) => l.throughputMBs), m((l) => l.plainMBs), m((l) => l.ratio),
            m((l) => Math.round(l.memoryBps / 1e6 / l.plainMBs * 1000) / 1000)];
    });
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join("  ");
    console.log(`\nmiglab bench: same-subnet, local site, 192 MiB TCG guest, links at 1 Gbit/s; medians over both legs\n`);
    console.log([line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n"));
    console.log(`\nfirst pulumi up (lab built and measured): ${buildSeconds.toFixed(1)} s; no-op pulumi up: ${noopSeconds.toFixed(1)} s`);
    console.log("ratio = data processed / total time ÷ plain iperf3 throughput; libvirt/plain = libvirt's memory_bps ÷ plain");
    const dir = path.join(ROOT, "bench");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "results.json"), JSON.stringify({ buildSeconds, noopSeconds, results }, null, 2));
    const groups = DIRTY.map((d) => `${d} MiB/s`);
    const val = (mode: string, f: (l: LegMetrics) => number) => DIRTY.map((d) => {
        const r = results.find((x) => x.mode === mode && x.dirtyMiBs === d);
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
