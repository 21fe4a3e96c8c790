// `npm run bench -- drain [--parallel 1,2,3,4] [--reps N] [--dirty MIBS]`: what draining a host
// costs as more legs run at once. On a lab of its own (stack "drain", local site, same subnet, the
// shipped same-subnet stack with a third host and four guests on pc1), pc1 is drained to any host
// at each `parallel` (each an own `pulumi up`; --reps ups per value, the legs replaced), its guests
// coming back after. Prints, per parallel: the drain's time to empty pc1, the worst and median
// downtime of the legs out, the median link share, and the legs that failed; writes
// bench/drain.json and docs/drain-bench.txt. A benchmark that prints figures, not a test.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DrainReport } from "../components/reports/drain";
import { spread } from "../components/reports/metrics";
import { textTable } from "../components/reports/table";
import { LabStack } from "./lab-stack";
import { ROOT, benchStack } from "./pulumi-cli";
import { emulatorVersions } from "./versions";

const GUESTS = 4;

function list(v: string): number[] { return v.split(",").map(Number); }

function parseArgs(argv: string[]): { parallel: number[]; reps: number; dirty: number } {
    let parallel = Array.from({ length: GUESTS }, (_, i) => i + 1), reps = 1, dirty = 0;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i], v = argv[++i];
        if (a === "--parallel") { parallel = list(v ?? ""); } else if (a === "--reps") { reps = Number(v); } else if (a === "--dirty") { dirty = Number(v); }
        else { throw new Error(`bench drain: unknown option ${a} (known: --parallel N,N, --reps N, --dirty MIBS)`); }
    }
    if (parallel.some((p) => !Number.isInteger(p) || p < 1 || p > 16)) { throw new Error("bench drain: --parallel takes whole numbers from 1 to 16, comma-separated"); }
    if (!Number.isInteger(reps) || reps < 1) { throw new Error(`bench drain: --reps must be a whole number ≥ 1 (got ${reps})`); }
    if (!Number.isInteger(dirty) || dirty < 0) { throw new Error(`bench drain: --dirty must be a whole number of MiB/s ≥ 0 (got ${dirty})`); }
    return { parallel, reps, dirty };
}

/** The shipped same-subnet lab with a third host and GUESTS guests on pc1, draining pc1 `parallel` at a time. */
function edit(parallel: number, dirty: number) {
    return (c: any) => {
        c.hosts.push({ name: "pc3", address: "10.10.10.4" });
        const first = c.guests[0];
        c.guests = Array.from({ length: GUESTS }, (_, i) => ({
            ...first, name: `vm${i + 1}`, address: `10.10.10.${10 + i}`,
            ...(dirty ? { workload: { dirtyMiBs: dirty, workingSetMiB: dirty } } : {}),
        }));
        const { guest: _g, from: _f, to: _t, ...options } = c.migration;
        delete c.migration;
        c.migrations = [{ ...options, drain: { host: "pc1", parallel }, roundTrip: true }];
    };
}

interface Case { parallel: number; drains: DrainReport[]; failed: string[]; upSeconds: number[]; load: number[] }

function main(): void {
    const args = parseArgs(process.argv.slice(2));
    const v = emulatorVersions();
    const started = Date.now();
    const lab = new LabStack(benchStack("drain"));
    const cases: Case[] = args.parallel.map((parallel) => ({ parallel, drains: [], failed: [], upSeconds: [], load: [] }));
    try {
        lab.configure(edit(args.parallel[0], args.dirty));
        lab.init();
        for (let rep = 0; rep < args.reps; rep++) {
            for (const c of cases) {
                lab.configure(edit(c.parallel, args.dirty));
                // Another parallel changes the legs' triggers; the same one again needs them replaced.
                const urns = rep > 0 && cases.length === 1 ? legUrns(lab) : [];
                const m = lab.measuredUp(...urns.flatMap((u) => ["--replace", u]));
                c.upSeconds.push(m.upSeconds);
                c.load.push(m.load[1]);
                c.failed.push(...m.legs.filter((l) => typeof (l as { failed?: unknown }).failed === "string").map((l) => `${l.leg}: ${(l as { failed: string }).failed}`));
                const d: DrainReport | undefined = lab.outputs().drains?.[0];
                if (d && m.legs.length > 0) { c.drains.push(d); }
                process.stderr.write(`bench drain: parallel ${c.parallel}, run ${rep + 1}/${args.reps}: ${d?.drainMs ?? "-"} ms to empty pc1, ` +
                    `worst downtime ${d?.worstDowntimeMs ?? "-"} ms (${m.upSeconds.toFixed(0)} s, load ${m.load[1].toFixed(1)})\n`);
            }
        }
    } finally {
        lab.remove();
    }
    const med = (xs: (number | null)[]) => {
        const s = spread(xs.filter((x): x is number => x !== null));
        return Number.isFinite(s.median) ? `${s.median} (${s.min}-${s.max})` : "-";
    };
    const rows = cases.map((c) => [
        String(c.parallel), med(c.drains.map((d) => d.drainMs)), med(c.drains.map((d) => d.worstDowntimeMs)),
        med(c.drains.flatMap((d) => d.out.map((l) => l.downtimeMs))), med(c.drains.flatMap((d) => d.out.map((l) => l.linkShare))),
        med(c.drains.flatMap((d) => d.out.map((l) => l.ratio))), String(c.failed.length),
    ]);
    const load = cases.flatMap((c) => c.load);
    const text = [`miglab bench drain: same subnet, 3 hosts, ${GUESTS} guests of 192 MiB on pc1${args.dirty ? ` dirtying ${args.dirty} MiB/s` : " (idle)"}, ` +
        `pc1 drained to any host; median (min-max) over ${args.reps} run${args.reps > 1 ? "s" : ""}`, "",
    textTable(["parallel", "drain ms", "worst downtime ms", "downtime ms (each leg)", "link share", "ratio", "legs failed"], rows), "",
    "drain ms: first leg out's migration start to the last one's end; link share: a leg's bytes ÷ the bytes leaving pc1 while it ran (docs/drain.md);",
    "ratio: a leg's throughput ÷ its own plain transfer, which shares the link with the legs running then",
    ...cases.flatMap((c) => c.failed.map((f) => `parallel ${c.parallel}: ${f}`)),
    `${v.qemu}, ${v.libvirt}; load ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}; ${((Date.now() - started) / 60000).toFixed(1)} min`].join("\n");
    console.log(text);
    const dir = path.join(ROOT, "bench");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "drain.json"), JSON.stringify({ emulator: v, at: new Date().toISOString(), args, load: os.loadavg(), cases }, null, 2));
    fs.writeFileSync(path.join(ROOT, "docs", "drain-bench.txt"), `${text}\n`);
    console.log("wrote bench/drain.json and docs/drain-bench.txt");
}

/** The URNs of the drain's leg commands (`<prefix>-migration-<leg>`), for `pulumi up --replace`. */
function legUrns(lab: LabStack): string[] {
    const names = lab.plan.legs.map((l) => `-migration-${l.name}`);
    const s = JSON.parse(lab.pulumi(["stack", "export"]).stdout);
    return (s.deployment.resources ?? []).map((r: { urn: string }) => r.urn).filter((u: string) => names.some((n) => u.endsWith(n)));
}

try { main(); } catch (e) { console.error((e as Error).message); process.exit(2); }
