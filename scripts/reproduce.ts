// `npm run reproduce`: the reference experiment on this machine. Builds the same-subnet, NAT
// and bridged labs in turn (stacks repro-<topology>, from stacks/), each with a guest of
// 512 and then 720 MiB whose memory the workload fills (fillMiB: all but the kernel's share,
// so a leg moves about what the reference's 500 and 720 MB guests moved), migrates it there
// and back `runs` times, and prints the reference report's figures beside ours. Then, per
// topology, the last guest migrated cold (the baseline the live modes beat; the reference did
// not measure it): the lab stays as it is, only the migration's mode changes. Writes
// docs/reproduce.svg (reference vs ours), docs/compare.svg (the topologies side by side),
// docs/reproduce.txt and bench/reproduce.json. A benchmark that prints figures, not a test.
import * as fs from "fs";
import * as path from "path";
import { comparisonCharts } from "../components/reports/chart";
import { comparisonRows, comparisonTable } from "../components/reports/compare";
import { CaseMode, MeasuredCase, Topology, caseLabel, sideBySideCharts, sideBySideRow, sideBySideTable } from "../components/reports/reproduce";
import { KERNEL_SHARE_MIB } from "../components/model/workload";
import { LabStack } from "./lab-stack";
import { ROOT, benchStack } from "./pulumi-cli";

const list = (v: string | undefined, dflt: string) => (v ?? dflt).split(",").map((x) => x.trim()).filter(Boolean);
const TOPOLOGIES = list(process.env.MIGLAB_REPRODUCE_TOPOLOGIES, "same-subnet,nat,bridged") as Topology[];
const SIZES = list(process.env.MIGLAB_REPRODUCE_SIZES, "512,720").map(Number);
const RUNS = Number(process.env.MIGLAB_REPRODUCE_RUNS ?? 1);
// MIGLAB_REPRODUCE_COLD=0 leaves the cold cases out.
const COLD = process.env.MIGLAB_REPRODUCE_COLD ?? "1";

/** The cases of one topology: each size live, then the last size cold (its guest is the one the lab has then). */
function casesOf(): { memoryMiB: number; mode: CaseMode }[] {
    const live = SIZES.map((memoryMiB) => ({ memoryMiB, mode: "precopy" as const }));
    return COLD === "1" && SIZES.length > 0 ? [...live, { memoryMiB: SIZES[SIZES.length - 1], mode: "cold" }] : live;
}

function main(): void {
    for (const t of TOPOLOGIES) {
        if (!["same-subnet", "nat", "bridged"].includes(t)) { throw new Error(`MIGLAB_REPRODUCE_TOPOLOGIES: '${t}' is not one of same-subnet, nat, bridged`); }
    }
    for (const s of SIZES) {
        if (!Number.isInteger(s) || s < KERNEL_SHARE_MIB + 64) { throw new Error(`MIGLAB_REPRODUCE_SIZES: '${s}' must be a whole number of MiB of at least ${KERNEL_SHARE_MIB + 64}`); }
    }
    if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 20) { throw new Error(`MIGLAB_REPRODUCE_RUNS: '${process.env.MIGLAB_REPRODUCE_RUNS}' must be 1 to 20`); }
    if (COLD !== "0" && COLD !== "1") { throw new Error(`MIGLAB_REPRODUCE_COLD: '${COLD}' must be 1 (measure a cold migration per topology) or 0`); }

    const started = Date.now();
    const cases: (MeasuredCase & { upSeconds: number; outcome: string })[] = [];
    for (const topology of TOPOLOGIES) {
        const lab = new LabStack(benchStack(`repro-${topology}`), topology);
        try {
            lab.configure();
            lab.init();
            for (const { memoryMiB, mode } of casesOf()) {
                const fillMiB = memoryMiB - KERNEL_SHARE_MIB;
                lab.configure((c) => {
                    c.guests[0].memoryMiB = memoryMiB;
                    c.guests[0].workload = { dirtyMiBs: 0, fillMiB };
                    c.migration.mode = mode;
                    c.migration.runs = RUNS;
                    c.migration.timeoutSeconds = 600;
                });
                process.stderr.write(`reproduce: ${topology}, ${memoryMiB} MiB guest filled with ${fillMiB} MiB, ${mode}, ${RUNS} round trip(s) ... `);
                const { run: r, legs, upSeconds, load } = lab.measuredUp();
                const outcome = r.code === 0 ? "completed" : `pulumi up failed: ${(/error: (.*)/.exec(r.stdout + r.stderr)?.[1] ?? "see its output").slice(0, 300)}`;
                process.stderr.write(`${outcome} (${upSeconds.toFixed(0)} s, load ${load[0].toFixed(1)}-${load[1].toFixed(1)})\n`);
                cases.push({ topology, mode, memoryMiB, fillMiB, legs, load, upSeconds, outcome });
            }
        } finally {
            lab.remove();
        }
    }
    // MIGLAB_REPRODUCE_MERGE=1: the cases of the last run (bench/reproduce.json) this run did not
    // measure again are kept, so one case that failed for a reason of the machine's can be redone.
    const last = path.join(ROOT, "bench", "reproduce.json");
    if (process.env.MIGLAB_REPRODUCE_MERGE === "1" && fs.existsSync(last)) {
        const earlier: typeof cases = JSON.parse(fs.readFileSync(last, "utf8")).cases ?? [];
        const redone = (c: MeasuredCase) => cases.some((x) => caseLabel(x) === caseLabel(c));
        // Each topology's live cases by size, its cold one last.
        const order = (c: MeasuredCase) => ["same-subnet", "nat", "bridged"].indexOf(c.topology) * 1e7 + (c.mode === "cold" ? 1e6 : 0) + c.memoryMiB;
        cases.push(...earlier.filter((c) => !redone(c)));
        cases.sort((a, b) => order(a) - order(b));
    }
    report(cases, (Date.now() - started) / 1000);
}

function report(cases: (MeasuredCase & { upSeconds: number; outcome: string })[], seconds: number): void {
    const rows = cases.map(sideBySideRow);
    const table = sideBySideTable(rows);
    const head = `miglab reproduce: the reference report's cases beside miglab's, and a cold migration per topology (local site, TCG guests, links at 1 Gbit/s; ` +
        `medians over ${RUNS} round trip(s), both ways; load = the machine's 1-minute load average before-after each case)`;
    const compareRows = comparisonRows(cases.map((c) => ({ stack: caseLabel(c), outputs: { topology: c.topology, legs: c.legs } })));
    const failures = cases.filter((c) => c.outcome !== "completed").map((c) => `${caseLabel(c)}: ${c.outcome}`);
    const text = [head, "", table, "", comparisonTable(compareRows), "",
        ...failures, `run time: ${(seconds / 60).toFixed(1)} min (labs built, measured and destroyed in turn)`].join("\n");
    console.log(`\n${text}`);
    const docs = path.join(ROOT, "docs");
    const bench = path.join(ROOT, "bench");
    fs.mkdirSync(bench, { recursive: true });
    fs.writeFileSync(path.join(bench, "reproduce.json"), JSON.stringify({ seconds, runs: RUNS, cases, rows }, null, 2));
    fs.writeFileSync(path.join(docs, "reproduce.txt"), `${text}\n`);
    fs.writeFileSync(path.join(docs, "reproduce.svg"), sideBySideCharts(rows));
    fs.writeFileSync(path.join(docs, "compare.svg"), comparisonCharts(compareRows, "miglab: the three topologies with seed-sized guests (medians)"));
    console.log(`wrote docs/reproduce.txt, docs/reproduce.svg, docs/compare.svg and bench/reproduce.json`);
}

main();
