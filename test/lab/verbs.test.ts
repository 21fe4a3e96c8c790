// The Pulumi verbs as users type them, on one real same-subnet lab: `pulumi up` with its
// preview, Ctrl-C in the middle of a migration leg, and drift (`pulumi up --refresh`)
// after the lab was changed by hand.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LegMetrics, LegOutcome, isFailed } from "../../components/reports/metrics";
import { LabStack } from "../../scripts/lab-stack";
import { whyFailed } from "../../scripts/pulumi-cli";
import { sh } from "../support";
import { sharedStack } from "../labFixture";

describe("pulumi verbs on a real lab (same-subnet)", function () {
    this.timeout(30 * 60 * 1000);
    const lab = new LabStack("ci-verbs");
    const virsh = (node: string, args: string) => lab.onNode(node, `virsh -c qemu:///system ${args}`);
    /** Sends a lab daemon `signal`, as by hand, and waits up to 10 s for it to be gone: whether it is. */
    const ended = (pid: number, signal: NodeJS.Signals): boolean => {
        process.kill(pid, signal);
        for (let i = 0; i < 50 && sh(`kill -0 ${pid}`).code === 0; i++) { spawnSync("sleep", ["0.2"]); }
        return sh(`kill -0 ${pid}`).code !== 0;
    };

    // Built by the first test that needs it (a pulumi up --yes), checked (and put back) before each test.
    const shared = sharedStack(lab);

    it("pulumi up --yes (preview first, no --skip-preview) builds the lab and measures it", () => {
        const { run, outputs } = shared.built();
        assert.match(run.stdout, /Previewing update/);
        const legs: LegMetrics[] = outputs.legs;
        assert.deepStrictEqual(legs.map((l) => `${l.from}->${l.to}`), ["pc1->pc2", "pc2->pc1"]);
    });

    it("Ctrl-C during a migration leg aborts it, the guest runs on its source, and the next up works", async () => {
        shared.built();
        // A 1 MiB/s cap makes the leg last long enough to interrupt (the config change re-runs the legs).
        lab.configure((l) => { l.migration.bandwidthMiBs = 1; });
        const legDirs = () => fs.readdirSync("/tmp").filter((f) => f.startsWith("miglab-leg."));
        const earlier = new Set(legDirs());
        let interrupted: string[] = [];
        try {
            const { run, seen } = await lab.upWhile([], () => lab.migrating("pc1", "vm1"), (up) => up.kill("SIGINT"));
            // The interrupted leg's working folder (and any other lab's leg that began meanwhile).
            interrupted = legDirs().filter((d) => !earlier.has(d));
            assert.ok(seen, `no migration was seen running; pulumi up said:\n${run.stdout.slice(-3000)}${run.stderr}`);
            assert.ok(interrupted.length > 0, "the interrupted leg made no working folder in /tmp");
            assert.notStrictEqual(run.code, 0, "an interrupted up reports failure");
            // The leg script saw its session end and aborted the job: the guest never left pc1.
            let job = "";
            for (let i = 0; i < 60; i++) {
                job = virsh("pc1", "domjobinfo vm1").stdout;
                if (/Job type:\s+None/.test(job)) { break; }
                spawnSync("sleep", ["0.5"]);
            }
            assert.match(job, /Job type:\s+None/, `the migration job still runs on pc1 after Ctrl-C:\n${job}\n${run.stdout.slice(-3000)}`);
            assert.strictEqual(virsh("pc1", "domstate vm1").stdout.trim(), "running");
            const gone = lab.dropsGuest("pc2");
            assert.ok(gone.ok, gone.said);
            const c = lab.counting();
            assert.ok(c.ok, c.said);
        } finally {
            // The next up runs on the suite's config (uncapped).
            lab.configure();
        }
        // No `pulumi cancel`, no state edits: the next up just works.
        const r = lab.up();
        assert.strictEqual(r.code, 0, whyFailed(r));
        assert.strictEqual(virsh("pc1", "domstate vm1").stdout.trim(), "running");
        // The interrupted leg ended and removed its files: it once hung for good in a bare `wait`
        // on its timeline's recorders. (A leg of another lab ends within its own timeout.)
        let left = interrupted;
        for (let i = 0; i < 90 && left.length > 0; i++) {
            spawnSync("sleep", ["1"]);
            left = left.filter((d) => fs.existsSync(path.join("/tmp", d)));
        }
        assert.deepStrictEqual(left, [], "the interrupted leg's working folder is still in /tmp");
    });

    it("a guest undefined by hand: pulumi up --refresh defines it again and measures again", () => {
        shared.built();
        const before = JSON.stringify(lab.outputs().legs);
        virsh("pc1", "destroy vm1");
        virsh("pc1", "undefine vm1");
        assert.doesNotMatch(virsh("pc1", "list --all --name").stdout, /vm1/);
        const r = lab.up("--refresh");
        assert.strictEqual(r.code, 0, whyFailed(r));
        assert.match(r.stdout, /lab-vm1-drift/);
        assert.strictEqual(virsh("pc1", "domstate vm1").stdout.trim(), "running");
        const after = lab.outputs().legs as LegMetrics[];
        assert.deepStrictEqual(after.map((l) => `${l.from}->${l.to}`), ["pc1->pc2", "pc2->pc1"]);
        assert.notStrictEqual(JSON.stringify(after), before, "the legs were not measured again");
        for (const l of after) { assert.strictEqual(l.destinationState, "running"); }
        const state = lab.pulumi(["stack", "export"]).stdout;
        assert.match(state, /DriftWatch/);
        assert.doesNotMatch(state, /BEGIN OPENSSH PRIVATE KEY/, "the SSH key is encrypted in the state, the drift watches' copy too");
    });

    it("a guest that runs but does not answer (its NIC's link set down by hand): a leg leaves it where it is; pulumi up --refresh restarts it and measures again", () => {
        shared.built();
        // What a guest QEMU broke across a migration looks like from outside (under TCG its
        // kernel sometimes finds its state corrupt: "input.0:id N is not a head!", an oops, a
        // panic): libvirt says running, and nothing reaches the guest.
        const nic = virsh("pc1", "domiflist vm1").stdout.split("\n").slice(2).map((l) => l.trim().split(/\s+/)[0]).find((n) => n);
        assert.ok(nic, "vm1 has no interface on pc1");
        const down = virsh("pc1", `domif-setlink vm1 ${nic} down`);
        assert.strictEqual(down.code, 0, down.stderr);
        const silent = lab.counting(undefined, 6);
        assert.ok(!silent.ok, `vm1 still answers with its link down: ${silent.said}`);
        // What a silent guest's failure shows (nic-state.sh, as a leg asks it): its tap's traffic, QEMU's two virtqueues.
        assert.match(silent.said, /vm1's NIC on pc1: its NIC vnet\d+ \((master \S+ )?state [A-Z]+\) sent \d+ and received \d+ packets in 2 s; QEMU's receive queue shadow-avail-idx=\d+ last-avail-idx=\d+ used-idx=\d+ inuse=\d+; its transmit queue shadow-avail-idx=\d+ last-avail-idx=\d+ used-idx=\d+ inuse=\d+\n/, silent.said);
        // A leg does not move a guest that is silent before it (its NIC may have broken in an
        // earlier leg): it fails naming the source, and the guest stays there.
        const legs = lab.up(...lab.legUrns().flatMap((u) => ["--replace", u]));
        assert.notStrictEqual(legs.code, 0, "the legs of a silent guest did not fail");
        const out = (lab.outputs().legs as LegOutcome[])[0];
        assert.ok(isFailed(out) && out.failed.startsWith("guest vm1 does not answer on pc1 before the leg") &&
            /; its NIC vnet\d+ .*sent \d+ and received \d+ packets in 2 s; QEMU's receive queue .*; it was not migrated;/.test(out.failed), JSON.stringify(out));
        assert.strictEqual(virsh("pc1", "domstate vm1").stdout.trim(), "running");
        assert.doesNotMatch(virsh("pc2", "list --all --name").stdout, /^vm1$/m, "vm1 was moved to pc2");
        const before = JSON.stringify(lab.outputs().legs);
        const r = lab.up("--refresh");
        assert.strictEqual(r.code, 0, whyFailed(r));
        assert.match(r.stdout, /lab-vm1-drift/);
        const g = lab.plan.guests[0];
        assert.ok(r.stdout.includes(`guest vm1 runs on ${lab.plan.hosts[0].address}, but its counter service at ${g.address}:${g.counterPort} ` +
            "does not answer there: restarting it here"), r.stdout.slice(-6000));
        // The silent copy's console, read where it ran before it was stopped (it booted, so it has lines).
        assert.match(r.stdout, /guest vm1 console: \S/, r.stdout.slice(-6000));
        assert.strictEqual(virsh("pc1", "domstate vm1").stdout.trim(), "running");
        const c = lab.counting();
        assert.ok(c.ok, c.said);
        const after = lab.outputs().legs as LegMetrics[];
        assert.deepStrictEqual(after.map((l) => `${l.from}->${l.to}`), ["pc1->pc2", "pc2->pc1"]);
        assert.notStrictEqual(JSON.stringify(after), before, "the legs were not measured again");
    });

    it("a host's libvirtd stopped by hand: pulumi up --refresh starts it again", () => {
        shared.built();
        const pidFile = path.join(lab.plan.stateDir, "nodes", "pc2", "root", "run", "libvirtd.pid");
        const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
        ended(pid, "SIGTERM");
        assert.notStrictEqual(virsh("pc2", "version").code, 0, "libvirtd still answers");
        const r = lab.up("--refresh");
        assert.strictEqual(r.code, 0, whyFailed(r));
        assert.match(r.stdout, /lab-site-drift/);
        assert.strictEqual(virsh("pc2", "version").code, 0, "libvirtd on pc2 does not answer");
        assert.strictEqual(virsh("pc1", "domstate vm1").stdout.trim(), "running");
    });

    it("the NFS server's rpcbind, then its ganesha, killed by hand: pulumi up --refresh serves the export again each time, and the legs measure", () => {
        shared.built();
        const nfs = lab.plan.nfs.name;
        const dir = path.join(lab.plan.stateDir, "nodes", nfs, "ganesha");
        const pidIn = (f: string) => Number(fs.readFileSync(path.join(dir, f), "utf8").trim());
        // What a destination's QEMU needs to open the guest's disk: ganesha's MOUNT service, found through rpcbind.
        const mountd = () => /\bmountd\b/.test(lab.onNode(nfs, "rpcinfo -p 127.0.0.1").stdout);
        // What the up said of the NFS server and its errors (its last lines are the outputs' diff).
        const said = (x: { stdout: string; stderr: string }) => (x.stdout + x.stderr).split("\n").filter((l) => /nfs|error|failed/i.test(l)).slice(-60).join("\n");
        assert.ok(mountd(), "ganesha's MOUNT service is not registered before the test");
        // rpcbind gone: ganesha runs on, but its registration went with it.
        const ganesha = pidIn("ganesha.pid");
        const rpcbindPid = pidIn("rpcbind.pid");
        assert.ok(ended(rpcbindPid, "SIGKILL"), `rpcbind (pid ${rpcbindPid}) outlived SIGKILL`);
        let r = lab.up("--refresh");
        assert.strictEqual(r.code, 0, said(r));
        assert.match(r.stdout, /lab-nfs-drift/);
        assert.ok(mountd(), `MOUNT is not registered after the up:\n${r.stdout.slice(-3000)}`);
        assert.notStrictEqual(pidIn("ganesha.pid"), ganesha, "ganesha was not started again to register with the new rpcbind");
        // ganesha itself gone.
        const ganeshaPid = pidIn("ganesha.pid");
        assert.ok(ended(ganeshaPid, "SIGKILL"), `ganesha (pid ${ganeshaPid}) outlived SIGKILL`);
        r = lab.up("--refresh");
        assert.strictEqual(r.code, 0, said(r));
        assert.match(r.stdout, /lab-nfs-drift/);
        assert.ok(mountd(), `MOUNT is not registered after the up:\n${r.stdout.slice(-3000)}`);
        const c = lab.counting();
        assert.ok(c.ok, c.said);
        // Each leg's destination opens the disk anew, through the restarted server.
        const urns = lab.legUrns();
        assert.strictEqual(urns.length, 2, "the stack has no two legs to measure again");
        r = lab.pulumi(["up", "--yes", ...urns.flatMap((u) => ["--replace", u])]);
        assert.strictEqual(r.code, 0, whyFailed(r));
        const after = lab.outputs().legs as LegMetrics[];
        assert.deepStrictEqual(after.map((l) => [l.from, l.to, l.destinationState]), [["pc1", "pc2", "running"], ["pc2", "pc1", "running"]]);
    });

    it("pulumi destroy leaves nothing", () => {
        shared.built();
        const r = lab.pulumi(["destroy", "--yes"]);
        shared.forget();
        assert.strictEqual(r.code, 0, r.stdout.slice(-3000));
        assert.doesNotMatch(sh("ip netns list").stdout, new RegExp(lab.plan.labId));
        assert.strictEqual(sh(`ps -eo args | grep -F '${lab.plan.stateDir}' | grep -v grep`).stdout, "");
        assert.strictEqual(sh(`ps -eo args | grep -F -- '-uuid ${lab.plan.guests[0].uuid}' | grep -v grep`).stdout, "");
        assert.ok(!fs.existsSync(lab.plan.stateDir), `${lab.plan.stateDir} is still there`);
    });
});
