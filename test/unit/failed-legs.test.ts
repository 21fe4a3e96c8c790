// A leg that failed: reported as failed (never as an earlier measurement), tried again next time.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { comparisonRow } from "../../components/reports/compare";
import { LegOutcome, isFailed, nextAttempts, parseLegOutcome, guestFaultOf, summarize } from "../../components/reports/metrics";
import { legsTable } from "../../scripts/print-legs";
import { ROOT } from "../support";

const captured = fs.readFileSync(path.join(ROOT, "test", "fixtures", "leg-out.txt"), "utf8");
// What migrate-leg.sh prints when the destination's libvirtd is killed mid-leg (its progress went to stderr).
const failedOut = "=== counter-before\ncounter=812 uptime=90\n=== iperf3\n{}\n=== wallclock\n1764080000.1 1764080003.9\n" +
    "=== migrate\nMigration: [ 10 %]\rMigration: [ 55 %]\rerror: internal error: client socket is closed\n=== probe\n" +
    "=== failed\nmigration of vm1 from pc1 to pc2 failed: the libvirt daemon on pc2 is not answering (error: failed to connect to the hypervisor); " +
    "restart it (pulumi up --refresh); virsh: internal error: client socket is closed; the incoming copy left on pc2 was stopped; the guest is 'running' on pc1\n" +
    "=== at\n1764080004.2\n";

describe("failed legs", () => {
    const ok = parseLegOutcome("out", "pc1", "pc2", captured);
    const failed = parseLegOutcome("back", "pc2", "pc1", failedOut, 1);

    it("reads a leg's failure as its outcome: one line, naming the host and the cause, with no figures", () => {
        assert.ok(isFailed(failed));
        assert.match(failed.failed, /^migration of vm1 from pc1 to pc2 failed: the libvirt daemon on pc2 is not answering .*; the guest is 'running' on pc1$/);
        assert.doesNotMatch(failed.failed, /Migration: \[/);
        assert.strictEqual(failed.attempt, 1);
        assert.strictEqual(failed.finishedAt, "2025-11-25T14:13:24.200Z");
        assert.strictEqual((failed as any).totalTimeMs, undefined, "a failed leg carries no measurement");
        assert.ok(!isFailed(ok));
        assert.ok((ok as any).totalTimeMs > 0);
    });

    it("tries a failed leg again with a new try number, and keeps a good one's", () => {
        assert.deepStrictEqual(nextAttempts(undefined, ["out", "back"]), [0, 0], "first run");
        assert.deepStrictEqual(nextAttempts([ok], ["out"]), [0], "measured: same triggers, nothing to run");
        assert.deepStrictEqual(nextAttempts([ok, failed], ["out", "back"]), [0, 2], "failed on try 1: try 2; the measured leg stays");
        assert.deepStrictEqual(nextAttempts([{ ...ok, attempt: 2 }], ["out"]), [2], "succeeded on try 2: stays 2");
        assert.deepStrictEqual(nextAttempts([{ leg: "out", failed: "x" }], ["out"]), [1], "older outputs without a try number");
        assert.deepStrictEqual(nextAttempts("garbage", ["out"]), [0]);
    });

    it("leaves failed legs out of the summary and the comparison", () => {
        const legs: LegOutcome[] = [ok, failed];
        const s = summarize(legs);
        assert.deepStrictEqual(s.map((d) => [d.direction, d.runs]), [["pc1 -> pc2", 1]]);
        const row = comparisonRow({ stack: "x", outputs: { topology: "same-subnet", legs } });
        assert.strictEqual(row.legs, 1);
    });

    it("prints a failed leg as failed with its reason, and marks legs an earlier run measured", () => {
        const since = Date.parse("2025-11-25T14:13:00Z");
        const earlier = { ...ok, finishedAt: "2025-11-25T13:00:00.000Z" };
        const text = legsTable([earlier, failed], since);
        const lines = text.split("\n");
        assert.match(lines.find((l) => l.includes("pc2 -> pc1"))!, /pc2 -> pc1\s+FAILED/);
        assert.match(lines.find((l) => l.includes("pc1 -> pc2 *"))!, /pc1 -> pc2 \*/);
        assert.match(text, /^pc2 -> pc1 failed \(try 2\): migration of vm1 from pc1 to pc2 failed: the libvirt daemon on pc2/m);
        assert.match(text, /\* not measured by this run: the outputs still hold what an earlier run measured \(2025-11-25T13:00:00.000Z\)/);
        assert.doesNotMatch(legsTable([{ ...ok, finishedAt: "2025-11-25T14:20:00.000Z" }], since), /\*/);
    });
});

describe("a leg whose output cannot be read", () => {
    it("is reported as failed (and so tried again), never stopping the program", () => {
        const o = parseLegOutcome("out", "pc1", "pc2", "=== iperf3\n{}\n=== probe\n\n=== at\n1764080004.2\n");
        assert.ok(isFailed(o));
        assert.match(o.failed, /^the leg's output could not be read: /);
    });
});

describe("a leg that failed on a fault QEMU left in the guest", () => {
    const leg = (failed: string) => parseLegOutcome("back", "pc2", "pc1", `=== counter-before\ncounter=812 uptime=90\n=== failed\n${failed}\n=== at\n1764080004.2\n`);
    const ring = "[   12.146308] virtio_net virtio0: output.0:id 1 is not a head!";
    it("names the host whose console showed it and the complaint, from either of the leg's failures", () => {
        // As seen on this machine: the ring broke on pc2, and the dead guest was moved back to pc1.
        const after = leg(`migration of vm1 from pc2 to pc1 completed, but the guest does not answer on pc1 (its counter service at 10.10.30.10:7000, asked 3 times) ` +
            `though libvirt says it is 'running' there; its NIC vnet1 sent 0 and received 0 packets in 2 s; its kernel reported a fault on pc2 ` +
            `(console: ${ring}), a fault of QEMU under TCG seen here now and then in a guest it migrated; its console ends as shown above`);
        assert.strictEqual(guestFaultOf(after), `on pc2 (console: ${ring})`);
        const before = leg(`guest vm1 does not answer on pc2 before the leg (...); its kernel reported a fault on pc2 (console: ${ring}) ` +
            `and on pc1 (console: [ 3.1] Kernel panic - not syncing: Fatal exception in interrupt), a fault of QEMU under TCG seen here now and then in a guest it migrated; it was not migrated`);
        assert.strictEqual(guestFaultOf(before), `on pc2 (console: ${ring})`);
    });
    it("is none for any other failure, and for a measured leg", () => {
        assert.strictEqual(guestFaultOf(leg("migration of vm1 from pc1 to pc2 completed, but the guest does not answer on pc2 (...); its NIC vnet1 sent 0 and received 0 packets in 2 s")), undefined);
        assert.strictEqual(guestFaultOf(parseLegOutcome("out", "pc1", "pc2", captured)), undefined);
    });
});
