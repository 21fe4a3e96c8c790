// A real `pulumi up` of the same-subnet lab on this machine: namespaces as hosts,
// libvirt daemons, ganesha, a TCG guest, and live migrations that really happen.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseLabConfig } from "../../components/config";
import { LegMetrics } from "../../components/metrics";
import { Plan, planLab } from "../../components/plan";
import { localSiteScript, migrateLegScript, hostCheckScript } from "../../components/render";
import { CommandProvider } from "../../engine/command-provider";
import { ROOT, pulumi, pulumiEnv, sh } from "../support";
import { sampleLab } from "../unit/config.test";

const STACK = "ci-same-subnet";
const EXPORT = `/var/lib/miglab/exports/${STACK}`;

describe("same-subnet lab, built by a real pulumi up", function () {
    this.timeout(30 * 60 * 1000);
    const stackFile = path.join(ROOT, "stacks", `Pulumi.${STACK}.yaml`);
    let env: NodeJS.ProcessEnv;
    let state: string;
    let plan: Plan;
    let key: string;
    let legs: LegMetrics[];

    /** Runs a command on a lab node through its sshd, as the program does. */
    const onNode = (node: string, command: string, input?: string) => {
        const n = plan.nodes.find((x) => x.name === node)!;
        const r = spawnSync("ssh", ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-i", key, "-p", String(n.connect.port), "root@127.0.0.1", command],
        { encoding: "utf8", input: input ?? "", timeout: 10 * 60 * 1000 });
        return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    };
    const counter = () => Number(/counter=(\d+)/.exec(onNode(plan.probe.name,
        `timeout 5 bash -c 'exec 3<>/dev/tcp/10.10.10.10/7000; head -n1 <&3'`).stdout)?.[1] ?? NaN);

    before(() => {
        const text = fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.same-subnet.yaml"), "utf8")
            .replace("/var/lib/miglab/exports/same-subnet", EXPORT);
        fs.writeFileSync(stackFile, text);
        const cfg = sampleLab();
        cfg.nfs.export = EXPORT;
        plan = planLab(parseLabConfig(cfg), STACK);
        key = path.join(plan.stateDir, "ssh", "id_ed25519");
        state = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-lab-state-"));
        env = pulumiEnv({ PULUMI_BACKEND_URL: `file://${state}` });
        assert.strictEqual(pulumi(["stack", "init", STACK], ROOT, env).code, 0);
    });

    after(() => {
        // Whatever happened above, leave nothing behind.
        const r = pulumi(["destroy", "--yes", "--skip-preview", "--stack", STACK], ROOT, env);
        if (r.code !== 0) {
            console.error(r.stdout.slice(-3000));
            sh(localSiteScript(plan, "down"));
        }
        pulumi(["stack", "rm", STACK, "--yes", "--force"], ROOT, env);
        fs.rmSync(stackFile, { force: true });
        fs.rmSync(state, { recursive: true, force: true });
    });

    it("builds the lab and migrates the guest there and back", () => {
        const r = pulumi(["up", "--yes", "--skip-preview", "--stack", STACK], ROOT, env);
        assert.strictEqual(r.code, 0, r.stdout.slice(-6000) + r.stderr);
        const out = JSON.parse(pulumi(["stack", "output", "--json", "--stack", STACK], ROOT, env).stdout);
        legs = out.legs;
        assert.strictEqual(out.topology, "same-subnet");
        assert.deepStrictEqual(legs.map((l) => `${l.from}->${l.to}`), ["pc1->pc2", "pc2->pc1"]);
    });

    it("measured each leg consistently", () => {
        assert.ok(legs, "no legs: the up failed");
        for (const l of legs) {
            const at = `leg ${l.from}->${l.to}: ${JSON.stringify(l)}`;
            assert.ok(l.downtimeMs > 0 && l.downtimeMs < l.totalTimeMs, at);
            // An idle guest sends what it has touched: more than a MiB, at most twice its memory.
            assert.ok(l.dataProcessedBytes > 1 << 20 && l.dataProcessedBytes < 2 * 192 * (1 << 20), at);
            assert.ok(l.memoryTotalBytes >= 192 * (1 << 20), at);
            assert.ok(l.iterations >= 1, at);
            assert.ok(l.probe && l.probe.sent > 50 && l.probe.received > 0 && l.probe.lost >= 0, at);
            assert.ok(l.plainMBs > 1 && l.throughputMBs > 0 && l.ratio > 0, at);
            assert.strictEqual(l.destinationState, "running", at);
            assert.ok(l.counterAfter > l.counterBefore, `the guest's counter did not advance across the leg: ${at}`);
        }
    });

    it("ends with the guest back home, answering, and nowhere else", () => {
        assert.strictEqual(onNode("pc1", "virsh -c qemu:///system domstate vm1").stdout.trim(), "running");
        assert.doesNotMatch(onNode("pc2", "virsh -c qemu:///system list --all --name").stdout, /vm1/);
        const a = counter();
        spawnSync("sleep", ["1"]);
        assert.ok(counter() > a, "the counter does not advance");
    });

    it("changes nothing on a second pulumi up", () => {
        const p = pulumi(["preview", "--expect-no-changes", "--stack", STACK], ROOT, env);
        assert.strictEqual(p.code, 0, p.stdout.slice(-3000));
        const r = pulumi(["up", "--yes", "--skip-preview", "--stack", STACK], ROOT, env);
        assert.strictEqual(r.code, 0, r.stdout.slice(-3000));
        assert.match(r.stdout, /\d+ unchanged/);
        assert.doesNotMatch(r.stdout, /\d+ (created|updated|deleted|replaced)/);
    });

    it("a failed migration says why and leaves the guest running where it was", () => {
        const g = plan.guests[0];
        // The NFS node has no libvirt: virsh migrate to it must fail.
        const script = migrateLegScript(plan, g, { leg: "fault", from: plan.hosts[0], to: plan.nfs });
        const before = counter();
        const r = onNode("pc1", "bash -s", script);
        assert.notStrictEqual(r.code, 0);
        assert.match(r.stderr, /migration of vm1 from pc1 to nfs failed: .+; the guest is 'running' on pc1/);
        assert.strictEqual(onNode("pc1", "virsh -c qemu:///system domstate vm1").stdout.trim(), "running");
        assert.ok(counter() > before, "the guest stopped counting");
    });

    it("a migration past its timeout is aborted and the guest stays on its source", () => {
        const g = plan.guests[0];
        const script = migrateLegScript(plan, g, { leg: "slow", from: plan.hosts[0], to: plan.hosts[1] })
            .replace(/^TIMEOUT_S=.*$/m, "TIMEOUT_S='5'").replace(/^BANDWIDTH_MIBS=.*$/m, "BANDWIDTH_MIBS='1'");
        const before = counter();
        const r = onNode("pc1", "bash -s", script);
        assert.notStrictEqual(r.code, 0);
        assert.match(r.stderr, /timeout 5s reached: aborting/);
        assert.match(r.stderr, /failed: aborted after 5s; the guest is 'running' on pc1/);
        assert.strictEqual(onNode("pc1", "virsh -c qemu:///system domstate vm1").stdout.trim(), "running");
        assert.doesNotMatch(onNode("pc2", "virsh -c qemu:///system list --all --name").stdout, /vm1/);
        assert.ok(counter() > before, "the guest stopped counting");
    });

    it("a wrong SSH key or an unreachable host is named in the error", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-wrongkey-"));
        try {
            spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "k")]);
            const wrong = fs.readFileSync(path.join(dir, "k"), "utf8");
            const port = plan.hosts[0].connect.port;
            const p = new CommandProvider();
            const urn = "urn:pulumi:s::p::miglab:host:Host$command:remote:Command::fault";
            await assert.rejects(p.create(urn, { create: "true", connection: { host: "127.0.0.1", port, user: "root", privateKey: wrong } }),
                new RegExp(`cannot reach root@127\\.0\\.0\\.1:${port} over SSH: .*Permission denied.*privateKey is authorized`, "s"));
            await assert.rejects(p.create(urn, { create: "true", connection: { host: "127.0.0.1", port: 1, user: "root", privateKey: wrong } }),
                /cannot reach root@127\.0\.0\.1:1 over SSH: .*Connection refused/s);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("a missing package on a host is named with the package to install", () => {
        // The check as rendered, asking for one tool this host lacks.
        const script = hostCheckScript(plan.hosts[1]).replace("need iperf3 iperf3", "need miglab-absent-tool miglab-absent-tool");
        const r = onNode("pc2", "bash -s", script);
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /host pc2 is missing prerequisites:\n {2}- miglab-absent-tool is not installed on pc2: install miglab-absent-tool/);
    });

    it("pulumi destroy leaves no namespace, daemon, mount, link, domain or file", () => {
        const r = pulumi(["destroy", "--yes", "--skip-preview", "--stack", STACK], ROOT, env);
        assert.strictEqual(r.code, 0, r.stdout.slice(-3000));
        assert.doesNotMatch(sh("ip netns list").stdout, new RegExp(plan.labId));
        assert.doesNotMatch(sh("ip -o link show").stdout, new RegExp(`${plan.labId}[sn]\\d`));
        assert.strictEqual(sh(`ps -eo args | grep -F '${plan.stateDir}' | grep -v grep`).stdout, "");
        assert.strictEqual(sh(`ps -eo args | grep -F -- '-uuid ${plan.guests[0].uuid}' | grep -v grep`).stdout, "");
        assert.doesNotMatch(fs.readFileSync("/proc/self/mounts", "utf8"), new RegExp(plan.labId));
        assert.ok(!fs.existsSync(plan.stateDir), `${plan.stateDir} is still there`);
        assert.ok(!fs.existsSync(EXPORT), `${EXPORT} is still there`);
    });
});
