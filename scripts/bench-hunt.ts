// `npm run bench -- hunt [--legs N] [--targets 20,50] [--dirty 0,40] [--burn N]`: how often the emulator in
// use damages or silences a guest it migrates. On one same-subnet lab, pre-copy legs are run at
// each downtime target for an idle guest and one dirtying memory, N legs in all (40 by default,
// split evenly over the cases). After every leg each host's console is read for a fault of the
// guest's kernel since it last started (a leg can measure "ok" while the destination's console
// already holds one); a damaged guest is stopped and started anew by `pulumi up --refresh`
// before the next leg, so each fault is counted once. Writes bench/hunt-<qemu>.json; the table
// shows every hunt file in bench/, so hunts on two emulators (scripts/setup's MIGLAB_EMULATOR)
// are printed side by side, and docs/hunt.txt keeps it. --burn N runs N busy loops beside the
// lab for the whole hunt (ended by their PIDs), so a hunt can be made at the load another saw.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HuntCase, HuntLeg, huntTable } from "../components/reports/hunt";
import { LegMetrics, guestFaultOf, isFailed } from "../components/reports/metrics";
import { LabStack } from "./lab-stack";
import { ROOT, benchStack } from "./pulumi-cli";
import { emulatorVersions } from "./versions";

function list(v: string | undefined, dflt: number[]): number[] { return v === undefined ? dflt : v.split(",").map(Number); }

function parseArgs(argv: string[]): { legs: number; targets: number[]; dirty: number[]; burn: number } {
    let legs = 40, targets = [20, 50], dirty = [0, 40], burn = 0;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i], v = argv[++i];
        if (a === "--legs") { legs = Number(v); } else if (a === "--targets") { targets = list(v, targets); } else if (a === "--dirty") { dirty = list(v, dirty); }
        else if (a === "--burn") { burn = Number(v); }
        else { throw new Error(`bench hunt: unknown option ${a} (known: --legs N, --targets MS,MS, --dirty MIBS,MIBS, --burn N)`); }
    }
    if (!Number.isInteger(legs) || legs < 2) { throw new Error(`bench hunt: --legs must be a whole number ≥ 2 (got ${legs})`); }
    if (!Number.isInteger(burn) || burn < 0) { throw new Error(`bench hunt: --burn must be a whole number ≥ 0 (got ${burn})`); }
    if ([...targets, ...dirty].some((x) => !Number.isFinite(x) || x < 0)) { throw new Error("bench hunt: --targets and --dirty take numbers ≥ 0, comma-separated"); }
    return { legs, targets, dirty, burn };
}

/** Each host's report of a fault of the guest's kernel since it last started (nic-state.sh). */
function consoleFault(lab: LabStack): string | undefined {
    for (const h of lab.plan.hosts) {
        const f = lab.guestState(h.name).guestFault;
        if (f) { return `on ${h.name}: ${f}`; }
    }
    return undefined;
}

/** Stops the guest wherever it runs: the next `up --refresh` starts it anew at home. */
function restartGuest(lab: LabStack): void {
    for (const h of lab.plan.hosts) { lab.onNode(h.name, `virsh -c qemu:///system destroy ${lab.plan.guests[0].name} >/dev/null 2>&1 || true`); }
}

function main(): void {
    const args = parseArgs(process.argv.slice(2));
    const v = emulatorVersions();
    const started = Date.now();
    const cases: HuntCase[] = args.targets.flatMap((targetMs) => args.dirty.map((dirtyMiBs) => ({ targetMs, dirtyMiBs, legs: [] as HuntLeg[] })));
    const perCase = Math.ceil(args.legs / cases.length);
    const lab = new LabStack(benchStack("hunt"));
    const burners: ChildProcess[] = Array.from({ length: args.burn }, () => spawn("sh", ["-c", "while :; do :; done"], { stdio: "ignore" }));
    const load0 = os.loadavg()[0];
    let loadMax = load0;
    try {
        lab.configure(); lab.init();
        let needRefresh = false;
        for (const c of cases) {
            lab.configure((cfg) => {
                cfg.guests[0].workload = { dirtyMiBs: c.dirtyMiBs, workingSetMiB: Math.max(c.dirtyMiBs, 1) };
                cfg.migration.maxDowntimeMs = c.targetMs;
                cfg.migration.timeoutSeconds = 60;
            });
            let first = true;
            while (c.legs.length < perCase) {
                // A new case changes the guest (its workload is on its kernel command line): the up
                // restarts it, and replaces the legs; later ups of the case replace the legs only.
                const extra = [...(needRefresh ? ["--refresh"] : []), ...(first ? [] : lab.legUrns().flatMap((u) => ["--replace", u]))];
                const m = lab.measuredUp(...extra);
                first = false;
                loadMax = Math.max(loadMax, m.load[1]);
                const after = consoleFault(lab);
                needRefresh = false;
                for (const l of m.legs) {
                    const fault = guestFaultOf(l);
                    if (isFailed(l)) {
                        const silent = / does not answer on /.test(l.failed);
                        c.legs.push({ outcome: fault ? "damaged" : silent ? "silent" : "failed", why: fault ?? l.failed.slice(0, 300), load: m.load[1] });
                    } else {
                        const ok = l as LegMetrics;
                        c.legs.push({ outcome: "ok", downtimeMs: ok.downtimeMs, totalTimeMs: ok.totalTimeMs, load: m.load[1] });
                    }
                }
                if (m.legs.length === 0) { c.legs.push({ outcome: "failed", why: `pulumi up measured no leg (exit ${m.run.code})`, load: m.load[1] }); }
                // A guest whose kernel has reported a fault is damaged even where its leg measured
                // fine: the last ok leg of this up is counted so, and the guest starts anew.
                if (after) {
                    const lastOk = [...c.legs].reverse().find((l) => l.outcome === "ok");
                    if (lastOk && !m.legs.some((l) => guestFaultOf(l))) { lastOk.outcome = "damaged"; lastOk.why = `${after} (after a leg that measured)`; }
                    restartGuest(lab); needRefresh = true;
                }
                if (m.run.code !== 0) { needRefresh = true; }
                const last = c.legs.slice(-2).map((l) => l.outcome).join(", ");
                process.stderr.write(`bench hunt: ${v.qemu}, target ${c.targetMs} ms, dirty ${c.dirtyMiBs} MiB/s: ${c.legs.length}/${perCase} legs (${last}; load ${m.load[1].toFixed(1)})\n`);
            }
        }
    } finally {
        for (const b of burners) { b.kill("SIGKILL"); }
        lab.remove();
    }
    const dir = path.join(ROOT, "bench");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `hunt-${v.qemu.replace(/\W+/g, "-")}${args.burn ? `-burn${args.burn}` : ""}.json`);
    fs.writeFileSync(file, JSON.stringify({ emulator: v, burn: args.burn, at: new Date().toISOString(), load: [load0, loadMax], minutes: (Date.now() - started) / 60000, cases }, null, 2));
    const all = fs.readdirSync(dir).filter((f) => /^hunt-.*\.json$/.test(f)).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")));
    const text = [`miglab bench hunt: same-subnet, 192 MiB TCG guest, pre-copy, legs per emulator and case (bench/hunt-*.json)`, "",
        huntTable(all), "",
        "damaged: a fault of the guest's kernel on a host's console after the leg (or the leg failed naming it); silent: the guest did not answer after the leg, no fault named;",
        "over: legs whose downtime exceeded target + 50 ms", `this hunt: ${v.qemu}, ${v.libvirt}${args.burn ? `, ${args.burn} busy loops beside the lab` : ""}, load ${load0.toFixed(1)}-${loadMax.toFixed(1)}, ${((Date.now() - started) / 60000).toFixed(1)} min`].join("\n");
    console.log(text);
    fs.writeFileSync(path.join(ROOT, "docs", "hunt.txt"), `${text}\n`);
    console.log(`wrote ${file} and docs/hunt.txt`);
}

try { main(); } catch (e) { console.error((e as Error).message); process.exit(2); }
