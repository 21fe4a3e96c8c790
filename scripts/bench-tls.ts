// `npm run bench -- tls`: what migration.tls costs the migration it encrypts. On a lab of its
// own (stack "bench-tls", a copy of stacks/Pulumi.<MIGLAB_BENCH_STACK>.yaml, default
// same-subnet) the guest goes there and back in clear and over TLS, alternately (clear, tls,
// tls, clear, ...: a machine that drifts weighs on both alike), MIGLAB_BENCH_ROUNDS times each
// (default 3), the guest dirtying MIGLAB_BENCH_DIRTY MiB/s (default 0). Each switch only
// replaces the legs (and makes or removes the certificates, outside the legs' figures). Prints
// each figure's median (min-max) with TLS and in clear and their ratio, tls ÷ clear, and writes
// bench/tls-cost.json. A benchmark that prints figures, not a test.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { abOrder, abRows, abTable } from "../components/reports/ab";
import { LegMetrics, isFailed } from "../components/reports/metrics";
import { LabStack } from "./lab-stack";
import { ROOT, benchStack, whyFailed } from "./pulumi-cli";
import { emulatorVersions } from "./versions";

const ROUNDS = Number(process.env.MIGLAB_BENCH_ROUNDS ?? 3);
const DIRTY = Number(process.env.MIGLAB_BENCH_DIRTY ?? 0);
const STACK = process.env.MIGLAB_BENCH_STACK ?? "same-subnet";

function main(): void {
    if (!Number.isInteger(ROUNDS) || ROUNDS < 1) { throw new Error(`bench tls: MIGLAB_BENCH_ROUNDS must be a whole number ≥ 1 (got ${process.env.MIGLAB_BENCH_ROUNDS})`); }
    const started = Date.now();
    const lab = new LabStack(benchStack("bench-tls"), STACK);
    const legs = { tls: [] as LegMetrics[], clear: [] as LegMetrics[] };
    const failed: string[] = [];
    const load0 = os.loadavg()[0];
    let loadMax = load0;
    const edit = (tls: boolean) => (c: any) => {
        for (const g of c.guests) { g.workload = { dirtyMiBs: DIRTY, workingSetMiB: Math.min(Math.max(DIRTY, 1), 64) }; }
        for (const m of c.migrations ?? [c.migration]) { m.tls = tls; }
    };
    try {
        lab.configure(edit(false));
        lab.init();
        process.stderr.write("bench tls: building the lab (its legs are a warm-up, not counted) ... ");
        const build = lab.measuredUp();
        if (build.run.code !== 0) { throw new Error(`bench tls: the lab did not come up:\n${whyFailed(build.run)}`); }
        process.stderr.write(`${build.upSeconds.toFixed(0)} s\n`);
        // abOrder's "new" side is TLS, its "old" the legs in clear.
        abOrder(ROUNDS).forEach((side, i) => {
            const tls = side === "new";
            lab.configure(edit(tls));
            process.stderr.write(`bench tls: round ${Math.floor(i / 2) + 1} of ${ROUNDS}, ${tls ? "tls" : "clear"} ... `);
            const m = lab.measuredUp();
            const ok = m.legs.filter((l): l is LegMetrics => !isFailed(l));
            const bad = m.legs.filter(isFailed).map((l) => `${tls ? "tls" : "clear"} ${l.leg} ${l.from} -> ${l.to}: ${l.failed}`);
            if (m.run.code !== 0 && bad.length === 0) { bad.push(`${tls ? "tls" : "clear"}: pulumi up failed: ${whyFailed(m.run).slice(-1500)}`); }
            process.stderr.write(`${ok.length} legs${bad.length ? `, ${bad.length} failed` : ""} (${m.upSeconds.toFixed(0)} s, load ${m.load[0].toFixed(1)}-${m.load[1].toFixed(1)})\n`);
            (tls ? legs.tls : legs.clear).push(...ok);
            failed.push(...bad);
            loadMax = Math.max(loadMax, os.loadavg()[0]);
        });
    } finally {
        lab.remove();
    }
    const rows = abRows(legs.tls, legs.clear);
    const v = emulatorVersions();
    console.log([
        `miglab bench tls: ${STACK}, local site, guest dirtying ${DIRTY} MiB/s, ${ROUNDS} round trips per setting, alternated; medians (min-max) over ${legs.tls.length} legs with TLS and ${legs.clear.length} in clear`,
        `emulator: ${v.qemu}, ${v.libvirt}; load ${load0.toFixed(1)} at the start, up to ${loadMax.toFixed(1)}; ${os.cpus().length} cores`,
        "", abTable(rows, { new: "tls", old: "clear" }), "",
        "tls ÷ clear in the ratio column; worse / better: the TLS median lies past every leg in clear on that side",
        ...failed.map((f) => `leg failed: ${f}`),
        `bench tls run time: ${((Date.now() - started) / 60000).toFixed(1)} min`,
    ].join("\n"));
    const dir = path.join(ROOT, "bench");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "tls-cost.json"), JSON.stringify({
        stack: STACK, dirtyMiBs: DIRTY, rounds: ROUNDS, emulator: v, load: [load0, loadMax], failed,
        rows: rows.map((r) => ({ figure: r.figure.key, tls: r.new, clear: r.old, ratio: r.ratio, verdict: r.verdict })),
        tls: legs.tls, clear: legs.clear,
    }, null, 2));
    console.log(`wrote ${path.join(dir, "tls-cost.json")}`);
    if (legs.tls.length === 0 || legs.clear.length === 0) { console.error("bench tls: no leg measured on one side: nothing compared"); process.exit(1); }
}

try { main(); } catch (e) { console.error((e as Error).message); process.exit(2); }
