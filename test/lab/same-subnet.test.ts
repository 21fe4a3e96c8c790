// A real `pulumi up` of the same-subnet lab on this machine: namespaces as hosts,
// libvirt daemons, ganesha, a TCG guest, and live migrations that really happen.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LegMetrics } from "../../components/reports/metrics";
import { legSpecOf } from "../../components/render/specs";
import { migrateLegScript, hostCheckScript } from "../../components/render";
import { CommandProvider } from "../../engine/command-provider";
import { LabStack } from "../../scripts/lab-stack";
import { whyFailed } from "../../scripts/pulumi-cli";
import { sh } from "../support";
import { sharedStack } from "../labFixture";

describe("same-subnet lab, built by a real pulumi up", function () {
    this.timeout(30 * 60 * 1000);
    const lab = new LabStack("ci-same-subnet");
    const onNode = (node: string, command: string, input?: string) => lab.onNode(node, command, input);
    // Built by the first test that needs it, checked (and put back) before each, removed at the end.
    const shared = sharedStack(lab);

    it("builds the lab and migrates the guest there and back", () => {
        const out = shared.built().outputs;
        const legs: LegMetrics[] = out.legs;
        assert.strictEqual(out.topology, "same-subnet");
        assert.deepStrictEqual(legs.map((l) => `${l.from}->${l.to}`), ["pc1->pc2", "pc2->pc1"]);
    });

    it("measured each leg consistently", () => {
        const legs: LegMetrics[] = shared.built().outputs.legs;
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
        // Where the first up left it (the check before each test would have moved it home since).
        const { placement } = shared.built();
        assert.deepStrictEqual(placement.pc1, { guests: { vm1: "running" } }, JSON.stringify(placement));
        assert.deepStrictEqual(placement.pc2, { guests: {} }, JSON.stringify(placement));
        assert.strictEqual(onNode("pc1", "virsh -c qemu:///system domstate vm1").stdout.trim(), "running");
        assert.doesNotMatch(onNode("pc2", "virsh -c qemu:///system list --all --name").stdout, /vm1/);
        const c = lab.counting();
        assert.ok(c.ok, c.said);
    });

    it("keeps every host bridge at its uplink's MAC, a guest's tap on it or not", () => {
        shared.built();
        // A bridge left to pick its own MAC took the guest tap's, and the migration's destination
        // (a tap of the same MAC) swallowed the source's frames: every leg from that host stalled.
        const ports: Record<string, string[]> = {};
        for (const h of ["pc1", "pc2"]) {
            const r = onNode(h, "cat /sys/class/net/br-lab/addr_assign_type /sys/class/net/br-lab/address /sys/class/net/eth0/address; ls /sys/class/net/br-lab/brif");
            const [assigned, bridge, uplink, ...brif] = r.stdout.trim().split("\n");
            ports[h] = brif;
            assert.match(uplink, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, r.stdout + r.stderr);
            assert.strictEqual(bridge, uplink, `${h}: br-lab has ${bridge}, its uplink ${uplink} (ports: ${brif.join(" ")})`);
            // Set, not picked (NET_ADDR_SET): the kernel no longer changes it as ports come and go,
            // whichever MACs the veth and the taps happen to have.
            assert.strictEqual(assigned, "3", `${h}: br-lab's MAC was not set (addr_assign_type ${assigned})`);
        }
        assert.ok(ports.pc1.some((p) => /^vnet/.test(p)), `the guest's tap is not on pc1's bridge (ports: ${ports.pc1.join(" ")})`);
    });

    it("changes nothing on a second pulumi up", () => {
        shared.built();
        const p = lab.pulumi(["preview", "--expect-no-changes"]);
        assert.strictEqual(p.code, 0, p.stdout.slice(-3000));
        // The machine preflight is a step of its own in the stack (parsing the config asks the machine nothing).
        const types = (JSON.parse(lab.pulumi(["stack", "export"]).stdout).deployment.resources ?? []).map((x: { type: string; urn: string }) => `${x.type} ${x.urn.split("::").pop()}`);
        assert.ok(types.includes("miglab:site:MachinePreflight lab-site-preflight"), types.join("\n"));
        const r = lab.up();
        assert.strictEqual(r.code, 0, r.stdout.slice(-3000));
        assert.match(r.stdout, /\d+ unchanged/);
        assert.doesNotMatch(r.stdout, /\d+ (created|updated|deleted|replaced)/);
    });

    it("an SLA the legs cannot meet fails the up, one line per leg; the next up measures the migration again", () => {
        shared.built();
        const measured = lab.outputs().legs as LegMetrics[];
        // No leg of a TCG guest is down for 1 ms or less. The up judges the figures the state keeps: nothing migrates.
        lab.configure((l) => { l.sla = { maxDowntimeMs: 1 }; });
        const broke = lab.up();
        assert.notStrictEqual(broke.code, 0, `an up whose legs broke the SLA succeeded:\n${broke.stdout.slice(-3000)}`);
        for (const l of measured) {
            const line = `leg ${l.leg} (${l.from} -> ${l.to}) breaks its SLA: downtimeMs ${l.downtimeMs} > maxDowntimeMs 1`;
            // An error of the update (the preview before it only warns), the line whole.
            const asError = broke.stdout.split("\n").some((x) => x.includes(`error: ${line}`));
            assert.ok(asError, `no error line '${line}':\n${whyFailed(broke)}`);
        }
        const kept = lab.outputs().legs as LegMetrics[];
        assert.deepStrictEqual(kept.map((l) => [l.leg, l.finishedAt, l.downtimeMs, l.sla?.passed]), measured.map((l) => [l.leg, l.finishedAt, l.downtimeMs, false]));
        assert.deepStrictEqual(kept[0].sla?.broken, [{ bound: "maxDowntimeMs", limit: 1, figure: "downtimeMs", value: measured[0].downtimeMs }]);
        // The migration's own bound replaces the lab's: the next up runs out and back again, and they meet it.
        lab.configure((l) => { l.sla = { maxDowntimeMs: 1 }; l.migration.sla = { maxDowntimeMs: 60000 }; });
        const again = lab.up();
        assert.strictEqual(again.code, 0, whyFailed(again));
        const legs = lab.outputs().legs as LegMetrics[];
        assert.deepStrictEqual(legs.map((l) => [l.leg, l.attempt, l.sla?.passed]), [["out", 1, true], ["back", 1, true]]);
        legs.forEach((l, i) => assert.ok(Date.parse(l.finishedAt) > Date.parse(measured[i].finishedAt), `leg ${l.leg} was not measured again`));
        assert.strictEqual(onNode("pc1", "virsh -c qemu:///system domstate vm1").stdout.trim(), "running");
        // The lab stays under this config, the one it runs: the check before the next test accepts it.
    });

    it("previews a guest cpu no host runs as a failure naming hosts, features and a CPU they run, and that CPU as fine", () => {
        // The lab is built: the preflight asks its hosts during the preview. Under TCG no host runs Skylake-Server.
        shared.built();
        const config = fs.readFileSync(lab.file, "utf8");
        try {
            lab.configure((l) => { l.guests[0].cpu = "Skylake-Server"; });
            const bad = lab.pulumi(["preview"]);
            assert.notStrictEqual(bad.code, 0, bad.stdout.slice(-3000));
            const said = bad.stdout + bad.stderr;
            const line = /guest vm1: cpu 'Skylake-Server' does not run on pc1 \(missing: ([^)]*)\), pc2 \(missing: ([^)]*)\); a CPU all of pc1, pc2 run: '([^']+)' \(set guests\[0\]\.cpu to it\)/.exec(said);
            assert.ok(line, said.slice(-3000));
            for (const missing of [line[1], line[2]]) { assert.match(missing, /(^|, )avx512f(,|$)/); }
            // The CPU it suggests is one the same preflight passes on both hosts.
            lab.configure((l) => { l.guests[0].cpu = line[3]; });
            const good = lab.pulumi(["preview"]);
            assert.strictEqual(good.code, 0, (good.stdout + good.stderr).slice(-3000));
        } finally {
            // Previews changed nothing: the config file as it was, the one the lab runs.
            fs.writeFileSync(lab.file, config);
        }
    });

    it("a failed migration says why and leaves the guest running where it was", () => {
        shared.built();
        const g = lab.plan.guests[0];
        // The NFS node has no libvirt: virsh migrate to it must fail.
        const script = migrateLegScript(legSpecOf(lab.plan, g, { leg: "fault", from: lab.plan.hosts[0], to: lab.plan.nfs }));
        const r = onNode("pc1", "bash -s", script);
        // The leg's outcome is its "failed" section (the outputs show it), not an exit code.
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stdout, /^=== failed\nmigration of vm1 from pc1 to nfs failed: .+; the guest is 'running' on pc1$/m);
        assert.match(r.stderr, /migration of vm1 from pc1 to nfs failed: .+; the guest is 'running' on pc1/);
        assert.strictEqual(onNode("pc1", "virsh -c qemu:///system domstate vm1").stdout.trim(), "running");
        const c = lab.counting();
        assert.ok(c.ok, c.said);
    });

    it("a migration past its timeout is aborted and the guest stays on its source", () => {
        shared.built();
        const g = lab.plan.guests[0];
        const script = migrateLegScript(legSpecOf(lab.plan, g, { leg: "slow", from: lab.plan.hosts[0], to: lab.plan.hosts[1] }))
            .replace(/^TIMEOUT_S=.*$/m, "TIMEOUT_S='5'").replace(/^BANDWIDTH_MIBS=.*$/m, "BANDWIDTH_MIBS='1'");
        const r = onNode("pc1", "bash -s", script);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stderr, /timeout 5s reached: aborting/);
        assert.match(r.stdout, /^=== failed\nmigration of vm1 from pc1 to pc2 failed: aborted after 5s \(migration.timeoutSeconds\); the guest is 'running' on pc1$/m);
        assert.strictEqual(onNode("pc1", "virsh -c qemu:///system domstate vm1").stdout.trim(), "running");
        const gone = lab.dropsGuest("pc2");
        assert.ok(gone.ok, gone.said);
        const c = lab.counting();
        assert.ok(c.ok, c.said);
    });

    it("a wrong SSH key or an unreachable host is named in the error", async () => {
        shared.built();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-wrongkey-"));
        try {
            spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "k")]);
            const wrong = fs.readFileSync(path.join(dir, "k"), "utf8");
            const port = lab.plan.hosts[0].connect.port;
            const p = new CommandProvider();
            const urn = "urn:pulumi:s::p::miglab:host:Host$command:remote:Command::fault";
            // Two failed dials allowed (a third ends it), not the default ten (40 s of retries here): the same message.
            await assert.rejects(p.create(urn, { create: "true", connection: { host: "127.0.0.1", port, user: "root", privateKey: wrong, dialErrorLimit: 2 } }),
                new RegExp(`cannot reach root@127\\.0\\.0\\.1:${port} over SSH: .*Permission denied.*\\(3 attempts\\).*privateKey is authorized`, "s"));
            await assert.rejects(p.create(urn, { create: "true", connection: { host: "127.0.0.1", port: 1, user: "root", privateKey: wrong, dialErrorLimit: 2 } }),
                /cannot reach root@127\.0\.0\.1:1 over SSH: .*Connection refused.*\(3 attempts\)/s);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("a missing package on a host is named with the package to install", () => {
        shared.built();
        // The check as rendered, asking for one tool this host lacks.
        const script = hostCheckScript(lab.plan.hosts[1]).replace("need iperf3 iperf3", "need miglab-absent-tool miglab-absent-tool");
        const r = onNode("pc2", "bash -s", script);
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /host pc2 is missing prerequisites:\n {2}- miglab-absent-tool is not installed on pc2: install miglab-absent-tool/);
    });

    it("pulumi destroy leaves no namespace, daemon, mount, link, domain or file", () => {
        shared.built();
        const r = lab.pulumi(["destroy", "--yes", "--skip-preview"]);
        shared.forget();
        assert.strictEqual(r.code, 0, r.stdout.slice(-3000));
        assert.doesNotMatch(sh("ip netns list").stdout, new RegExp(lab.plan.labId));
        assert.doesNotMatch(sh("ip -o link show").stdout, new RegExp(`${lab.plan.labId}[sn]\\d`));
        assert.strictEqual(sh(`ps -eo args | grep -F '${lab.plan.stateDir}' | grep -v grep`).stdout, "");
        assert.strictEqual(sh(`ps -eo args | grep -F -- '-uuid ${lab.plan.guests[0].uuid}' | grep -v grep`).stdout, "");
        assert.doesNotMatch(fs.readFileSync("/proc/self/mounts", "utf8"), new RegExp(lab.plan.labId));
        assert.ok(!fs.existsSync(lab.plan.stateDir), `${lab.plan.stateDir} is still there`);
        assert.ok(!fs.existsSync(lab.export), `${lab.export} is still there`);
    });
});
