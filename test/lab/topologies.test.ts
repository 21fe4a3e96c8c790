// The bridged topology on a real lab: hosts in two subnets joined by a router namespace,
// the guests' network bridged over a VXLAN overlay on Open vSwitch, migrated across and back.
// (The nat topology's lab is test/lab/scale.test.ts's: three hosts on three subnets.)
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import { LegMetrics, LegOutcome, isFailed, parseLegOutcome } from "../../components/reports/metrics";
import { legSpecOf } from "../../components/render/specs";
import { migrateLegScript } from "../../components/render";
import { sh } from "../../scripts/pulumi-cli";
import { LabStack } from "../../scripts/lab-stack";
import { Placement, sharedStack, stackPlacement } from "../labFixture";

function consistent(l: LegMetrics): void {
    const at = JSON.stringify(l);
    assert.ok(l.downtimeMs > 0 && l.downtimeMs < l.totalTimeMs, at);
    assert.ok(l.dataProcessedBytes > 1 << 20, at);
    assert.strictEqual(l.destinationState, "running", at);
    assert.ok(l.counterAfter > l.counterBefore, `the guest's counter did not advance: ${at}`);
    assert.ok(l.plainMBs > 1 && l.ratio > 0, at);
    // The guest pinged the outside through the whole leg, and most replies came back.
    assert.ok(l.guestPing && l.guestPing.sent > 20 && l.guestPing.received > l.guestPing.sent / 2, at);
}

describe("bridged topology, built by a real pulumi up", function () {
    this.timeout(30 * 60 * 1000);
    const lab = new LabStack("ci-bridged", "bridged");
    const shared = sharedStack(lab);

    it("migrates the guest across the two subnets and back", () => {
        const legs: LegMetrics[] = shared.built().outputs.legs;
        assert.deepStrictEqual(legs.map((l) => `${l.from}->${l.to}`), ["pc1->pc2", "pc2->pc1"]);
        // The hosts really are in two subnets: each one's gateway is the router.
        assert.match(lab.onNode("pc2", "ip route show default").stdout, /via 10\.10\.10\.14/);
        legs.forEach(consistent);
    });

    it("forwards through the tunnel what reaches the old host, and the probe keeps reaching the guest", () => {
        for (const l of shared.built().outputs.legs as LegMetrics[]) {
            assert.ok(l.probe && l.probe.received > l.probe.sent / 2, JSON.stringify(l.probe));
            assert.ok((l.tunnelForwardedPackets ?? 0) > 0, JSON.stringify(l));
        }
    });

    /**
     * Two legs run as the program runs them, with tshark on the router's underlay link towards
     * pc2, the leg out with capture: true: what tshark decoded, and the leg out's own outcome.
     */
    const capturedLegs = shared.step("legs there and back, captured on the router", () => {
        shared.built();
        // Capture on the router's leg towards pc2 while the guest is away on pc2: the probe's
        // pings and the guest's replies then cross the underlay inside the tunnel.
        const pcap = `/tmp/miglab-${lab.name}.pcap`;
        fs.rmSync(pcap, { force: true });
        const pid = lab.inNode("nfs", `setsid timeout 90 tshark -q -i eth1 -f 'udp port 4789' -c 40 -w ${pcap} </dev/null >/dev/null 2>&1 & echo $!`).stdout.trim();
        spawnSync("sleep", ["2"]);
        const g = lab.plan.guests[0];
        const [pc1, pc2] = lab.plan.hosts;
        let captured: LegOutcome | undefined;
        for (const [from, to, leg] of [[pc1, pc2, "cap-out"], [pc2, pc1, "cap-back"]] as const) {
            // The leg out also captures itself (migration.capture).
            const migration = { ...lab.plan.config.migrations[0], capture: leg === "cap-out" };
            const r = lab.onNode(from.name, "bash -s", migrateLegScript(legSpecOf(lab.plan, g, { leg, from, to, migration })));
            assert.strictEqual(r.code, 0, r.stderr);
            if (leg === "cap-out") { captured = parseLegOutcome(leg, from.name, to.name, r.stdout); }
        }
        for (let i = 0; i < 60 && sh(`kill -0 ${pid}`).code === 0; i++) { spawnSync("sleep", ["1"]); }
        const r = lab.inNode("nfs", `tshark -r ${pcap} -d udp.port==4789,vxlan -T fields -e vxlan.vni -e ip.src -e ip.dst 2>/dev/null | sort | uniq -c`);
        fs.rmSync(pcap, { force: true });
        return { decoded: r, captured, placement: stackPlacement(lab) };
    });

    it("carries the overlay as VXLAN with the configured VNI, as tshark decodes it on the underlay", () => {
        const r = capturedLegs().decoded;
        assert.match(r.stdout, /\b5001\s+10\.10\.10\.(1|9)\s+10\.10\.10\.(9|1)\b/, r.stdout + r.stderr);
    });

    it("captures a leg with capture: true at the router: replies pc1 forwarded through the tunnel, the frames its tunnel port counted", () => {
        const { captured } = capturedLegs();
        assert.ok(captured, "the leg out did not run");
        if (isFailed(captured!)) { assert.fail(`the leg out failed: ${captured!.failed}`); }
        const leg = captured as LegMetrics;
        const c = leg.capture;
        const at = JSON.stringify({ capture: c, tunnelForwardedPackets: leg.tunnelForwardedPackets });
        assert.ok(c, `the leg printed no capture section: ${at}`);
        assert.strictEqual(c!.node, lab.plan.nfs.name, at);
        assert.ok(c!.file.startsWith(`${lab.plan.stateDir}/captures/cap-out-`) && fs.statSync(c!.file).size > 24, at);
        assert.ok((c!.framesPerVni["5001"] ?? 0) > 0, at);
        assert.ok(c!.announcements.some((a) => a.kind === "rarp" && a.from === "pc2"), `no RARP from pc2: ${at}`);
        // The guest pings the outside every 50 ms; pc1, its gateway, sends the replies on to pc2 once it has moved.
        assert.ok(c!.forwardedReplies.length > 0, `no forwarded reply: ${at}`);
        // The router captures every frame pc1's tunnel port counted between its two reads (2 more
        // for the halving's rounding: the userspace datapath counts each packet twice). The counter
        // may hold more: the packets Open vSwitch had delivered to the guest's old port since its
        // last dump, credited to the tunnel when the guest's MAC moved there (10, 15 and 23 in three legs
        // at load 6-13; 50 is half a second of the ~100 frames/s towards the guest; docs/capture.md).
        const counted = leg.tunnelForwardedPackets ?? NaN;
        const frames = c!.tunnelFrames ?? NaN;
        assert.ok(frames > 0 && frames <= counted + 2 && counted - frames <= 50, `capture ${frames} vs counter ${counted}: ${at}`);
        assert.strictEqual(c!.dumpcap?.dropped, 0, at);
    });

    it("ends with the guest at home and a destroy that leaves nothing", () => {
        // Home after each set of legs (as they left it: the check before each test moves it home).
        const after: Placement[] = [shared.built().placement];
        const legs = shared.steps.value<{ placement: Placement }>("legs there and back, captured on the router");
        if (legs) { after.push(legs.placement); }
        for (const p of after) { assert.deepStrictEqual([p.pc1, p.pc2], [{ guests: { vm1: "running" } }, { guests: {} }], JSON.stringify(p)); }
        assert.strictEqual(lab.onNode("pc1", "virsh -c qemu:///system domstate vm1").stdout.trim(), "running");
        const r = lab.pulumi(["destroy", "--yes", "--skip-preview"]);
        shared.forget();
        assert.strictEqual(r.code, 0, r.stdout.slice(-3000));
        assert.doesNotMatch(sh("ip netns list").stdout, new RegExp(lab.plan.labId));
        assert.ok(!fs.existsSync(lab.plan.stateDir));
    });
});
