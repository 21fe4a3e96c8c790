// `npm run bench -- timeline`: what recording a leg's timeline costs the migration it records.
// On a same-subnet lab of its own (stack "bench-timeline"), the guest goes there and back with
// timelineIntervalMs 100 (domjobinfo every 100 ms, libvirt's events on both hosts, the guest's
// progress stream) and with 0 (none of it; the leg asks domjobinfo every 500 ms for its progress
// line, as before timelines), alternately, MIGLAB_BENCH_ROUNDS times each (default 3), the guest
// dirtying MIGLAB_BENCH_DIRTY MiB/s (default 0). Prints the medians side by side and their ratios.
// A benchmark that prints figures, not a test.
import * as fs from "fs";
import * as path from "path";
import { LegMetrics, isFailed, sections, spread } from "../components/reports/metrics";
import { textTable } from "../components/reports/table";
import { LabStack } from "./lab-stack";
import { ROOT } from "./pulumi-cli";

const ROUNDS = Number(process.env.MIGLAB_BENCH_ROUNDS ?? 3);
const DIRTY = Number(process.env.MIGLAB_BENCH_DIRTY ?? 0);
const SETTINGS = [100, 0];

const FIGURES: [string, (l: LegMetrics) => number][] = [
    ["total ms (libvirt)", (l) => l.totalTimeMs],
    ["downtime ms", (l) => l.downtimeMs],
    ["data MB", (l) => Math.round(l.dataProcessedBytes / 1e5) / 10],
    ["libvirt rate MB/s", (l) => Math.round(l.memoryBps / 1e4) / 100],
    ["migr MB/s", (l) => l.throughputMBs],
    ["probe lost", (l) => l.probe?.lost ?? NaN],
    ["probe longest gap ms", (l) => l.probe?.longestGapMs ?? NaN],
    ["virsh migrate wall ms", (l) => l.wallClockMs],
    // The phases come from libvirt's events, recorded only with the timeline.
    ["phase: preparation ms", (l) => l.phases?.preparationMs ?? NaN],
    ["phase: transfer ms", (l) => l.phases?.transferMs ?? NaN],
    ["phase: pause ms", (l) => l.phases?.pauseMs ?? NaN],
    ["phase: network recovery ms", (l) => l.phases?.networkRecoveryMs ?? NaN],
    ["phase: finish ms", (l) => l.phases?.finishMs ?? NaN],
];

function main(): void {
    const lab = new LabStack("bench-timeline");
    const legs = new Map<number, LegMetrics[]>(SETTINGS.map((s) => [s, []]));
    // How long each leg waited for the probe before and after its migration (they were fixed sleeps of 1 s and 0.8 s).
    const waits: [number, number][] = [];
    try {
        lab.configure();
        lab.init();
        for (let round = 1; round <= ROUNDS; round++) {
            for (const interval of SETTINGS) {
                lab.configure((c) => {
                    c.guests[0].workload = { dirtyMiBs: DIRTY, workingSetMiB: Math.min(Math.max(DIRTY, 1), 64) };
                    c.migration.timelineIntervalMs = interval;
                });
                process.stderr.write(`bench timeline: round ${round}, timelineIntervalMs ${interval} ... `);
                const m = lab.measuredUp();
                const got = m.legs.filter((l): l is LegMetrics => !isFailed(l));
                process.stderr.write(`${m.run.code === 0 ? "ok" : "failed"}, ${got.length} legs (${m.upSeconds.toFixed(0)} s)\n`);
                legs.get(interval)!.push(...got);
                const state = JSON.parse(lab.pulumi(["stack", "export"]).stdout);
                for (const res of state.deployment.resources) {
                    if (!res.delete && /-migration-(out|back)$/.test(res.urn)) {
                        const w = (sections(res.outputs?.stdout ?? "").get("probe-waits") ?? "").trim().split(/\s+/).map(Number);
                        if (w.length === 2 && w.every(Number.isFinite)) { waits.push([w[0], w[1]]); }
                    }
                }
            }
        }
    } finally {
        lab.remove();
    }
    const on = legs.get(100)!, off = legs.get(0)!;
    const med = (ls: LegMetrics[], f: (l: LegMetrics) => number) => spread(ls.map(f)).median;
    const rows = FIGURES.map(([name, f]) => {
        const a = med(on, f), b = med(off, f);
        const range = (ls: LegMetrics[]) => (Number.isFinite(spread(ls.map(f)).min) ? `${spread(ls.map(f)).min}–${spread(ls.map(f)).max}` : "-");
        return [name, String(a), String(b), Number.isFinite(a / b) ? (a / b).toFixed(3) : "-", range(on), range(off)];
    });
    console.log(`\nmiglab bench timeline: same-subnet, 192 MiB TCG guest dirtying ${DIRTY} MiB/s, ${ROUNDS} round trips per setting, alternated; medians over ${on.length} and ${off.length} legs\n`);
    console.log(textTable(["figure", "sampled 100 ms", "not sampled", "ratio", "range sampled", "range not sampled"], rows));
    if (waits.length) {
        const [b, a] = [spread(waits.map((w) => w[0])), spread(waits.map((w) => w[1]))];
        console.log(`\nthe leg's waits for the probe (${waits.length} legs): before the migration ${b.median} ms (${b.min}–${b.max}; was a fixed 1000 ms), ` +
            `after it until the probe's summary ${a.median} ms (${a.min}–${a.max}; was a fixed 500 + 300 ms and the same ssh call)`);
    }
    const dir = path.join(ROOT, "bench");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "timeline-cost.json"), JSON.stringify({ dirtyMiBs: DIRTY, rounds: ROUNDS, waits, sampled: on, notSampled: off }, null, 2));
    console.log(`\nwrote ${path.join(dir, "timeline-cost.json")}`);
}

main();
