// `npm run bench -- ab <git-ref> [--rounds N] [--stack same-subnet] [--keep]`: this checkout
// ("new") against another version ("old"), side by side in one run on one machine. The ref is
// checked out in a worktree of its own and compiled there; both checkouts bring up the same lab
// (each its own copy of stacks/Pulumi.<stack>.yaml) under distinct stack names, so two labs run
// at once, and their legs alternate for N rounds (new, old, old, new, ...). Prints median and
// spread of each figure on both sides with new ÷ old, writes bench/ab.json, and exits 1 when
// the current code is worse beyond the spread in any figure (components/reports/ab.ts).
// Absolute times move from machine to machine; only such a side-by-side ratio judges a change.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { abOrder, abRows, abTable, regressions } from "../components/reports/ab";
import { LegMetrics, isFailed, spread } from "../components/reports/metrics";
import { LabStack } from "./lab-stack";
import { ROOT, benchStack, whyFailed } from "./pulumi-cli";
import { emulatorVersions } from "./versions";

interface Side {
    name: "new" | "old"; root: string; commit: string; lab: LabStack;
    legs: LegMetrics[]; failed: string[]; upSeconds: number[];
    /** A leg failed last time: the next up reads the lab back first, which restarts a guest that does not answer. */
    refresh: boolean;
}

function git(args: string[], cwd = ROOT): string {
    const r = spawnSync("git", args, { cwd, encoding: "utf8" });
    if (r.status !== 0) { throw new Error(`git ${args.join(" ")}: ${(r.stderr || r.stdout).trim()}`); }
    return r.stdout.trim();
}

function run(cmd: string, args: string[], cwd: string): void {
    const r = spawnSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
    if (r.status !== 0) { throw new Error(`${cmd} ${args.join(" ")} in ${cwd} failed:\n${(r.stdout + r.stderr).slice(-3000)}`); }
}

/**
 * The old version, checked out and compiled in a worktree of its own, outside this checkout (so
 * neither tsc nor the test globs of this one see it). Its npm packages are this checkout's when
 * its lock file is the same, else installed there from the lock (offline-capable: npm's cache).
 */
function prepareWorktree(commit: string): string {
    const dir = path.join(os.tmpdir(), "miglab-ab", commit.slice(0, 12));
    if (!fs.existsSync(path.join(dir, "package.json"))) {
        fs.rmSync(dir, { recursive: true, force: true });
        spawnSync("git", ["worktree", "prune"], { cwd: ROOT });
        fs.mkdirSync(path.dirname(dir), { recursive: true });
        git(["worktree", "add", "--detach", dir, commit]);
    }
    const same = (f: string) => fs.existsSync(path.join(dir, f)) && fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(ROOT, f)));
    const modules = path.join(dir, "node_modules");
    if (!fs.existsSync(modules)) {
        if (same("package-lock.json")) { fs.symlinkSync(path.join(ROOT, "node_modules"), modules); }
        else {
            process.stderr.write(`bench ab: ${commit.slice(0, 12)} has another package-lock.json: npm ci there\n`);
            run("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], dir);
        }
    }
    const pkg = (root: string) => JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).dependencies ?? {};
    // The engine and its plugins are this checkout's (scripts/setup-pulumi): the old program must
    // speak to the same command plugin version, or its up would try to download another.
    if (pkg(dir)["@pulumi/command"] !== pkg(ROOT)["@pulumi/command"]) {
        throw new Error(`bench ab: ${commit.slice(0, 12)} wants @pulumi/command ${pkg(dir)["@pulumi/command"]}, this checkout's engine has ${pkg(ROOT)["@pulumi/command"]}: compare versions that share the command plugin`);
    }
    run("npx", ["tsc", "-p", "."], dir);
    return dir;
}

function parseArgs(argv: string[]): { ref: string; rounds: number; stack: string; keep: boolean } {
    let ref: string | undefined, rounds = 3, stack = "same-subnet", keep = false;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--rounds") { rounds = Number(argv[++i]); }
        else if (a === "--stack") { stack = argv[++i]; }
        else if (a === "--keep") { keep = true; }
        else if (a.startsWith("-")) { throw new Error(`bench ab: unknown option ${a} (known: --rounds N, --stack NAME, --keep)`); }
        else if (ref === undefined) { ref = a; }
        else { throw new Error(`bench ab: one git ref only (got '${ref}' and '${a}')`); }
    }
    if (!ref) { throw new Error("bench ab: give the git ref to compare against: npm run bench -- ab <git-ref> [--rounds N] [--stack NAME]"); }
    if (!Number.isInteger(rounds) || rounds < 1) { throw new Error(`bench ab: --rounds must be a whole number ≥ 1 (got ${rounds})`); }
    if (!fs.existsSync(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`))) { throw new Error(`bench ab: no stack '${stack}' in stacks/`); }
    return { ref, rounds, stack, keep };
}

/** One measured `pulumi up` of a side: the first builds the lab, the later ones replace its legs. */
function measure(side: Side, what: string): void {
    process.stderr.write(`bench ab: ${side.name} (${side.commit.slice(0, 12)}) ${what} ... `);
    const replace = what === "build" ? [] : side.lab.legUrns().flatMap((u) => ["--replace", u]);
    const m = side.lab.measuredUp(...(side.refresh ? ["--refresh"] : []), ...replace);
    const ok = m.legs.filter((l): l is LegMetrics => !isFailed(l));
    const failed = m.legs.filter(isFailed).map((l) => `${l.leg} ${l.from} -> ${l.to}: ${l.failed}`);
    if (m.run.code !== 0 && failed.length === 0) { failed.push(`pulumi up failed: ${whyFailed(m.run).slice(-1500)}`); }
    process.stderr.write(`${ok.length} legs${failed.length ? `, ${failed.length} failed` : ""} (${m.upSeconds.toFixed(0)} s, load ${m.load[0].toFixed(1)}-${m.load[1].toFixed(1)})\n`);
    side.refresh = m.run.code !== 0;
    if (what === "build") {
        // A leg that failed is the figure of a version (counted below), not a lab that did not come up.
        if (m.run.code !== 0 && m.legs.length === 0) { throw new Error(`bench ab: the ${side.name} lab did not come up:\n${whyFailed(m.run)}`); }
        return; // the build's legs ran on a lab just made: a warm-up, not counted
    }
    side.legs.push(...ok);
    side.failed.push(...failed);
    side.upSeconds.push(m.upSeconds);
}

function spreadText(xs: number[]): string {
    const s = spread(xs);
    return Number.isFinite(s.median) ? `${s.median.toFixed(1)} (${s.min.toFixed(1)}-${s.max.toFixed(1)})` : "-";
}

function main(): void {
    const args = parseArgs(process.argv.slice(2));
    const started = Date.now();
    const newCommit = git(["rev-parse", "HEAD"]);
    const dirty = git(["status", "--porcelain", "--untracked-files=no"]) !== "";
    const oldCommit = git(["rev-parse", "--verify", `${args.ref}^{commit}`]);
    const oldRoot = prepareWorktree(oldCommit);
    const sides: Side[] = [
        { name: "new", root: ROOT, commit: newCommit, legs: [], failed: [], upSeconds: [], refresh: false, lab: new LabStack(benchStack("ab-new"), args.stack, {}, ROOT) },
        { name: "old", root: oldRoot, commit: oldCommit, legs: [], failed: [], upSeconds: [], refresh: false, lab: new LabStack(benchStack("ab-old"), args.stack, {}, oldRoot) },
    ];
    const load0 = os.loadavg()[0];
    let loadMax = load0;
    try {
        for (const s of sides) { s.lab.configure(); s.lab.init(); measure(s, "build"); }
        abOrder(args.rounds).forEach((name, i) => {
            measure(sides.find((s) => s.name === name)!, `round ${Math.floor(i / 2) + 1} of ${args.rounds}`);
            loadMax = Math.max(loadMax, os.loadavg()[0]);
        });
    } finally {
        for (const s of sides) { if (!args.keep) { s.lab.remove(); } }
        if (!args.keep) {
            spawnSync("git", ["worktree", "remove", "--force", oldRoot], { cwd: ROOT });
            // The folder of every version's worktree, once none is kept there.
            try { fs.rmdirSync(path.dirname(oldRoot)); } catch { /* another version's worktree is kept in it */ }
        }
    }
    const [n, o] = sides;
    const rows = abRows(n.legs, o.legs);
    const v = emulatorVersions();
    const out = [
        `miglab bench ab: ${args.stack}, local site, ${args.rounds} rounds (legs alternating new, old, old, new, ...), medians (min-max)`,
        `new: ${newCommit.slice(0, 12)}${dirty ? " + uncommitted changes (+)" : ""} (${n.legs.length} legs); old: ${args.ref} = ${oldCommit.slice(0, 12)} (${o.legs.length} legs)`,
        `emulator: ${v.qemu}, ${v.libvirt}; load ${load0.toFixed(1)} at the start, up to ${loadMax.toFixed(1)}; ${os.cpus().length} cores`,
        "", abTable(rows, { new: `${newCommit.slice(0, 8)}${dirty ? "+" : ""}`, old: oldCommit.slice(0, 8) }), "",
        `pulumi up per round, s: new ${spreadText(n.upSeconds)}, old ${spreadText(o.upSeconds)} (the whole leg: the plain transfer, the probe, the SSH calls)`,
        "worse / better: the new median lies past every old leg on that side; within spread: it does not",
        `failed legs: new ${n.failed.length} of ${n.failed.length + n.legs.length}, old ${o.failed.length} of ${o.failed.length + o.legs.length}`,
        ...sides.flatMap((s) => s.failed.map((f) => `${s.name} leg failed: ${f}`)),
        `bench ab run time: ${((Date.now() - started) / 60000).toFixed(1)} min`,
    ];
    console.log(out.join("\n"));
    const dir = path.join(ROOT, "bench");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "ab.json"), JSON.stringify({
        stack: args.stack, rounds: args.rounds, emulator: v, load: [load0, loadMax],
        new: { commit: newCommit, dirty, legs: n.legs, failed: n.failed, upSeconds: n.upSeconds },
        old: { ref: args.ref, commit: oldCommit, legs: o.legs, failed: o.failed, upSeconds: o.upSeconds },
        rows: rows.map((r) => ({ figure: r.figure.key, new: r.new, old: r.old, ratio: r.ratio, verdict: r.verdict })),
    }, null, 2));
    const worse = regressions(rows);
    const missing = sides.filter((s) => s.legs.length === 0);
    if (missing.length) { console.error(`bench ab: no leg measured on ${missing.map((s) => s.name).join(" and ")}: nothing compared`); process.exit(1); }
    if (worse.length) { console.error(`bench ab: the new code is worse beyond the spread in: ${worse.map((r) => r.figure.label).join(", ")}`); process.exit(1); }
}

try { main(); } catch (e) { console.error((e as Error).message); process.exit(2); }
