// Faults on one real same-subnet lab: a site script that fails half way, then faults
// injected while a migration leg runs (or just before one). Each must end with a clear
// line naming the host and the cause (or a leg that rode it out), the guest running on
// exactly one host, counting, its disk intact, and the next `pulumi up` measuring again.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LegOutcome, isFailed } from "../../components/reports/metrics";
import { LabStack } from "../../scripts/lab-stack";
import { Run } from "../../scripts/pulumi-cli";
import { legsTable } from "../../scripts/print-legs";
import { ROOT, sh } from "../support";
import { sharedLab, stackOps } from "../labFixture";

describe("faults on a real lab (same-subnet)", function () {
    this.timeout(40 * 60 * 1000);
    const lab = new LabStack("ci-faults");
    const virsh = (node: string, args: string) => lab.onNode(node, `virsh -c qemu:///system ${args}`);
    const sleep = (s: number) => spawnSync("sleep", [String(s)]);
    // A bandwidth cap stretches each leg to ~10 s (86 MB sent at 8 MiB/s): time to inject a fault.
    // Its last pass must fit in the downtime target at that rate: 50 ms (the default) lets it
    // send 0.4 MB, less than even the idle guest dirties in a pass, so pre-copy never ends;
    // 300 ms (2.4 MB) converges.
    const capped = (l: any) => { l.migration.bandwidthMiBs = 8; l.migration.maxDowntimeMs = 300; l.migration.timeoutSeconds = 120; };

    // The capped lab, built by the first test that needs it, with its disk's print right after
    // (what every fault must leave as it was); checked (and put back) before each test.
    const ops = stackOps(lab, capped);
    const shared = sharedLab({ ...ops, build: () => ({ ...ops.build(), baseline: diskPrint() }) });
    after(() => {
        // Whatever failed above, nothing of the lab may stay on the machine (the shared lab's after removed it).
        assert.doesNotMatch(sh("ip netns list").stdout, new RegExp(lab.plan.labId));
    });

    /** `read` of the guest's disk as the guest sees it, a raw copy taken beside the running QEMU. */
    function diskRead<T>(read: (bytes: Buffer) => T): T {
        const g = lab.plan.guests[0];
        const raw = path.join(os.tmpdir(), `miglab-faults-${process.pid}.raw`);
        try {
            const check = sh(`qemu-img check -U ${g.disk}`);
            assert.strictEqual(check.code, 0, `qemu-img check: ${check.stdout}${check.stderr}`);
            const conv = sh(`qemu-img convert -U -O raw ${g.disk} ${raw}`);
            assert.strictEqual(conv.code, 0, conv.stderr);
            return read(fs.readFileSync(raw));
        } finally {
            fs.rmSync(raw, { force: true });
        }
    }

    /** The counter the guest keeps in sector 0 of its disk ("<n>\n", written once a second with fsync). */
    const diskCounter = (bytes: Buffer): number => {
        const sector = bytes.subarray(0, 512).toString("latin1").replace(/\0+$/, "");
        assert.match(sector, /^\d+\n$/, "sector 0 holds the counter");
        return Number(sector);
    };

    /** The guest's disk beyond sector 0 (where it keeps its counter), and the boot files. */
    function diskPrint(): { rest: string; kernel: string } {
        const g = lab.plan.guests[0];
        const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");
        return diskRead((bytes) => {
            diskCounter(bytes);
            return { rest: sha(bytes.subarray(512)), kernel: sha(Buffer.concat([fs.readFileSync(g.kernel!), fs.readFileSync(g.initrd!)])) };
        });
    }

    /** The hosts whose namespace holds a QEMU of the guest (by its uuid), whether libvirtd answers there or not. */
    function qemuHosts(): string[] {
        const uuid = lab.plan.guests[0].uuid;
        return lab.plan.hosts.map((h) => h.name).filter((h) =>
            sh(`for p in $(ip netns pids ${lab.plan.labId}-${h}); do tr '\\0' ' ' < /proc/$p/cmdline 2>/dev/null; echo; done | grep -F -- '-uuid ${uuid}'`).stdout.trim() !== "");
    }

    /**
     * The guest runs on exactly one host (pc1, where it was), counts, and its disk is as it was.
     * A guest that does not answer fails here, with what its kernel said on the hosts' consoles:
     * on the emulator miglab ships (QEMU 10, docs/benchmarks.md: Emulator) no leg has damaged a guest, so a
     * silent one is a fault of the lab, not one to retry past.
     */
    function guestIntact(why: string): void {
        assert.deepStrictEqual(qemuHosts(), ["pc1"], `${why}: QEMU of vm1 should run on pc1 only`);
        assert.strictEqual(virsh("pc1", "domstate vm1").stdout.trim(), "running", why);
        const c = lab.counting();
        if (!c.ok) {
            const legs = (lab.outputs().legs as LegOutcome[]).map((l) => `${l.from}->${l.to}: ${isFailed(l) ? l.failed : "measured"}`);
            assert.fail(`${why}: ${c.said}${c.guestFault ? `; its kernel reported ${c.guestFault}` : ""}; ${c.disk ?? ""}\nthe last legs:\n${legs.join("\n")}`);
        }
        assert.deepStrictEqual(diskPrint(), shared.built().baseline, `${why}: the disk changed outside the guest's counter sector`);
    }

    /** `pulumi up` re-measuring both legs (as `npm run lab -- --remeasure`), with `during` run once the out leg migrates. */
    async function remeasureWith(during: () => void): Promise<{ run: Run; injected: boolean }> {
        const { run, seen } = await lab.upWhile(lab.legUrns().flatMap((u) => ["--replace", u]), () => lab.migrating("pc1", "vm1"), during);
        return { run, injected: seen };
    }

    /** After a fault: the next up (with --refresh, which restarts what died) measures both legs. */
    function recovers(why: string): LegOutcome[] {
        const r = lab.up("--refresh");
        // The guest's console lines (a leg or a restart prints them when the guest is silent) come
        // long before the output's end: kept in the message.
        const consoles = r.stdout.split("\n").filter((l) => /console: /.test(l)).slice(-30).join("\n");
        assert.strictEqual(r.code, 0, `${why}: the next pulumi up --refresh failed:\n${consoles}\n...\n${r.stdout.slice(-5000)}${r.stderr}`);
        const legs: LegOutcome[] = lab.outputs().legs;
        assert.deepStrictEqual(legs.map((l) => [l.from, l.to, isFailed(l) ? l.failed : "measured"]),
            [["pc1", "pc2", "measured"], ["pc2", "pc1", "measured"]], why);
        guestIntact(`${why}, after the next up`);
        return legs;
    }

    /** A leg either rode the fault out (measured) or failed with one clear line naming `host`. */
    function clearOutcome(r: Run, host: string, cause: RegExp, why: string): LegOutcome[] {
        const legs: LegOutcome[] = lab.outputs().legs;
        const failed = legs.filter(isFailed);
        if (r.code === 0) {
            assert.strictEqual(failed.length, 0, `${why}: pulumi up succeeded but legs failed: ${JSON.stringify(failed)}`);
            return legs;
        }
        assert.ok(failed.length > 0, `${why}: pulumi up failed but no leg says why:\n${r.stdout.slice(-4000)}`);
        const first = failed[0];
        assert.match(first.failed, new RegExp(host), `${why}: the error does not name ${host}: ${first.failed}`);
        assert.match(first.failed, cause, `${why}: ${first.failed}`);
        assert.doesNotMatch(first.failed, /Migration: \[/, `${why}: progress fragments in the error`);
        // The same line is the error `pulumi up` shows for the leg.
        assert.ok(r.stdout.includes(first.failed), `${why}: pulumi up does not show the leg's line:\n${r.stdout.slice(-4000)}`);
        // What `npm run lab` prints: the failed leg as failed, never the earlier figures.
        assert.match(legsTable(legs, Date.now() - 10 * 60 * 1000), /FAILED/);
        return legs;
    }

    it("a site script that fails half way removes what it made: the failed up and a destroy leave nothing", () => {
        // A namespace in the lab's own name, holding an eth0 that is not the site's veth: the site
        // script gets to pc2, cannot plug its link, and fails after making pc1 (namespace, daemons).
        // It needs no lab: one the suite built is removed first.
        if (shared.isBuilt()) {
            const gone = lab.pulumi(["destroy", "--yes", "--skip-preview"]);
            assert.strictEqual(gone.code, 0, gone.stdout.slice(-3000));
            shared.forget();
        }
        const ns = `${lab.plan.labId}-pc2`;
        const plant = sh(`ip netns add ${ns} && ip -n ${ns} link add eth0 type veth peer name x0`);
        assert.strictEqual(plant.code, 0, plant.stderr);
        try {
            const r = lab.up("--skip-preview");
            assert.notStrictEqual(r.code, 0, "the up should fail at pc2");
            assert.match(r.stdout + r.stderr, /up failed \(exit \d+\): removing what it made/);
            const d = lab.pulumi(["destroy", "--yes", "--skip-preview"]);
            assert.strictEqual(d.code, 0, d.stdout.slice(-3000));
            assert.doesNotMatch(sh("ip netns list").stdout, new RegExp(lab.plan.labId));
            assert.doesNotMatch(sh("ip -o link show").stdout, new RegExp(`${lab.plan.labId}[sn]\\d`));
            assert.strictEqual(sh(`ps -eo args | grep -F '${lab.plan.stateDir}' | grep -v grep`).stdout, "");
            assert.ok(!fs.existsSync(lab.plan.stateDir), `${lab.plan.stateDir} is still there`);
        } finally {
            // Failed half way, it leaves no planted namespace for the lab the next test builds.
            sh(`ip netns del ${ns} 2>/dev/null`);
        }
    });

    it("builds the lab and measures both legs", () => {
        shared.built();
        guestIntact("after the first up");
    });

    it("the destination's libvirtd killed during a leg: the error names pc2's daemon, no orphan QEMU, the next up measures", async () => {
        shared.built();
        // pc2's /run is its own (a bind mount of the site's state): its libvirtd's PID file is there.
        const pidFile = path.join(lab.plan.stateDir, "nodes", "pc2", "root", "run", "libvirtd.pid");
        const { run, injected } = await remeasureWith(() => { process.kill(Number(fs.readFileSync(pidFile, "utf8").trim()), "SIGKILL"); });
        assert.ok(injected, `no migration was seen running:\n${run.stdout.slice(-3000)}`);
        assert.notStrictEqual(run.code, 0, "a leg without its destination daemon cannot succeed");
        const legs = clearOutcome(run, "pc2", /libvirt daemon on pc2 is not answering/, "libvirtd killed");
        assert.ok(isFailed(legs[0]) && (legs[0] as any).totalTimeMs === undefined, "the failed leg shows no (earlier) figures");
        guestIntact("libvirtd killed");
        recovers("libvirtd killed");
    });

    it("the destination's link drops 30 % of packets during a leg", async () => {
        shared.built();
        const drop = "-m statistic --mode random --probability 0.3 -m comment --comment miglab-fault -j DROP";
        const { run, injected } = await remeasureWith(() => {
            lab.inNode("pc2", `iptables -I INPUT 1 ${drop}; iptables -I OUTPUT 1 ${drop}`);
            // Dropped for a few seconds of the leg, as a flaky link would.
            sleep(5);
            lab.inNode("pc2", `iptables -D INPUT ${drop}; iptables -D OUTPUT ${drop}`);
        });
        assert.ok(injected, `no migration was seen running:\n${run.stdout.slice(-3000)}`);
        clearOutcome(run, "pc2", /./, "30 % loss");
        guestIntact("30 % loss");
        if (run.code !== 0) { recovers("30 % loss"); }
    });

    it("the NFS server stopped for a few seconds during a leg", async () => {
        shared.built();
        const pidFile = path.join(lab.plan.stateDir, "nodes", lab.plan.nfs.name, "ganesha", "ganesha.pid");
        const pid = fs.readFileSync(pidFile, "utf8").trim();
        const { run, injected } = await remeasureWith(() => {
            process.kill(Number(pid), "SIGSTOP");
            sleep(5);
            process.kill(Number(pid), "SIGCONT");
        });
        assert.ok(injected, `no migration was seen running:\n${run.stdout.slice(-3000)}`);
        clearOutcome(run, "nfs|pc1|pc2", /./, "NFS stopped");
        guestIntact("NFS stopped");
        if (run.code !== 0) { recovers("NFS stopped"); }
    });

    it("the source's sshd gone before a leg: pulumi up fails naming the connection, npm run lab names pc1, and its refresh restarts sshd and measures", () => {
        shared.built();
        const pid = fs.readFileSync(path.join(lab.plan.stateDir, "nodes", "pc1", "sshd.pid"), "utf8").trim();
        process.kill(Number(pid), "SIGTERM");
        const r = lab.pulumi(["up", "--yes", ...lab.legUrns().flatMap((u) => ["--replace", u])]);
        assert.notStrictEqual(r.code, 0);
        const port = lab.plan.hosts[0].connect.port;
        assert.match(r.stdout, new RegExp(`lab-migration-out[\\s\\S]*127\\.0\\.0\\.1:${port}[\\s\\S]*(refused|reach)`, "i"));
        // The guest was never touched.
        assert.deepStrictEqual(qemuHosts(), ["pc1"]);
        // What npm run lab says under that error (scripts/lab), from the stack's config and this output.
        const log = path.join(os.tmpdir(), `miglab-faults-up-${process.pid}.log`);
        fs.writeFileSync(log, r.stdout + r.stderr);
        try {
            const named = spawnSync("bash", ["-c", `pulumi config get miglab:lab --stack ${lab.name} | node bin/scripts/unreached-nodes.js ${lab.name} ${log}`],
                { cwd: ROOT, env: lab.env, encoding: "utf8" });
            // The node's port is a forwarder of the site's, which accepts and then closes with no sshd behind it.
            assert.match(named.stderr, new RegExp(`could not reach pc1 \\(sshd at 127\\.0\\.0\\.1:${port}\\): the connection was closed before SSH began`), named.stderr);
            assert.doesNotMatch(named.stderr, /could not reach (pc2|nfs)/, named.stderr);
        } finally {
            fs.rmSync(log, { force: true });
        }
        // npm run lab -- --remeasure, as a user would run it next: its up refreshes first, which finds
        // pc1's sshd dead and starts it again, and then measures both legs.
        const again = spawnSync("bash", [path.join(ROOT, "scripts", "lab"), lab.name, "--remeasure"], { cwd: ROOT, env: lab.env, encoding: "utf8", maxBuffer: 64 << 20 });
        assert.strictEqual(again.status, 0, `npm run lab after sshd died:\n${(again.stdout + again.stderr).slice(-5000)}`);
        const legs: LegOutcome[] = lab.outputs().legs;
        assert.deepStrictEqual(legs.map((l) => [l.from, l.to, isFailed(l) ? l.failed : "measured"]), [["pc1", "pc2", "measured"], ["pc2", "pc1", "measured"]]);
        assert.match(again.stdout, /pc1 -> pc2 +\d+/, "npm run lab prints the legs it measured");
        guestIntact("sshd gone, after npm run lab");
    });

    it("with its Pulumi state gone, npm run lab -- --clean removes the lab by its id (like mn -c)", () => {
        shared.built();
        // Forget the state without destroying anything: the lab is now nobody's.
        const rm = lab.pulumi(["stack", "rm", "--yes", "--force", "--preserve-config"]);
        assert.strictEqual(rm.code, 0, rm.stderr);
        shared.forget();
        assert.match(sh("ip netns list").stdout, new RegExp(lab.plan.labId));
        const r = spawnSync("bash", [path.join(ROOT, "scripts", "lab"), "--clean", lab.name], { cwd: ROOT, encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stderr, new RegExp(`swept \\d+ leftover\\(s\\) of lab ${lab.plan.labId}`));
        assert.doesNotMatch(sh("ip netns list").stdout, new RegExp(lab.plan.labId));
        assert.doesNotMatch(sh("ip -o link show").stdout, new RegExp(`${lab.plan.labId}[sn]\\d`));
        assert.strictEqual(sh(`ps -eo args | grep -F -e '${lab.plan.stateDir}' -e '-uuid ${lab.plan.guests[0].uuid}' -e 'netns/${lab.plan.labId}-' | grep -v grep`).stdout, "");
        assert.ok(!fs.existsSync(lab.plan.stateDir), `${lab.plan.stateDir} is still there`);
        assert.ok(!fs.existsSync(lab.plan.guests[0].disk), "the disk miglab made is still on the export");
        lab.init();
    });
});
