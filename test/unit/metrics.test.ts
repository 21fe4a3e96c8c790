import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { isFailed, parseCounter, parseIperf, parseJobInfo, parseLeg, parseLegOutcome, parseMaxDowntime, parsePing, parseStopCondition, sections } from "../../components/reports/metrics";
import { ROOT } from "../support";

// Captured from a real leg on the local site (pc1 -> pc2, 192 MiB TCG guest, links at 1 Gbit/s).
const captured = fs.readFileSync(path.join(ROOT, "test", "fixtures", "leg-out.txt"), "utf8");

describe("metrics parsers", () => {
    it("splits a leg's output into its sections", () => {
        const s = sections(captured);
        for (const k of ["counter-before", "iperf3", "wallclock", "migrate", "probe", "jobinfo", "dest-state", "counter-after"] as const) {
            assert.ok(s.has(k), `missing ${k}`);
        }
    });

    it("dates a leg without an 'at' section by its migration's end, not 1970", () => {
        assert.ok(!sections(captured).has("at"));
        assert.strictEqual(parseLeg("out", "pc1", "pc2", captured).finishedAt, new Date(1795595759.962419094 * 1000).toISOString());
        assert.strictEqual(parseLegOutcome("out", "pc1", "pc2", "=== failed\nno route\n").finishedAt, "");
    });

    it("reads virsh's raw job statistics as numbers", () => {
        const j = parseJobInfo("time_elapsed: 1159\ndowntime: 60\nmemory_bps: 119245612\nJob type: 3\n");
        assert.deepStrictEqual(j, { time_elapsed: 1159, downtime: 60, memory_bps: 119245612 });
    });

    it("counts lost probes and the longest gap between replies", () => {
        const text = [
            "PING 10.0.0.9 (10.0.0.9) 56(84) bytes of data.",
            "[1000.000000] 64 bytes from 10.0.0.9: icmp_seq=1 ttl=64 time=0.3 ms",
            "[1000.010000] 64 bytes from 10.0.0.9: icmp_seq=2 ttl=64 time=0.3 ms",
            "[1000.150000] 64 bytes from 10.0.0.9: icmp_seq=16 ttl=64 time=0.3 ms",
            "[1000.160000] 64 bytes from 10.0.0.9: icmp_seq=17 ttl=64 time=0.3 ms",
            "",
            "--- 10.0.0.9 ping statistics ---",
            "17 packets transmitted, 4 received, 76.4706% packet loss, time 160ms",
        ].join("\n");
        assert.deepStrictEqual(parsePing(text), { sent: 17, received: 4, lost: 13, longestGapMs: 140 });
    });

    it("refuses a probe output without its summary", () => {
        assert.throws(() => parsePing("PING x\n"), /no ping summary/);
    });

    it("reads iperf3's received throughput, and its errors", () => {
        assert.strictEqual(parseIperf(JSON.stringify({ end: { sum_received: { bits_per_second: 8e8 } } })), 100);
        assert.throws(() => parseIperf(JSON.stringify({ error: "unable to connect" })), /iperf3: unable to connect/);
        assert.throws(() => parseIperf("iperf3: error"), /printed no JSON/);
    });

    it("reads the guest's counter line", () => {
        assert.strictEqual(parseCounter("counter=123 uptime=4 dirty_mib_s=0"), 123);
        assert.ok(Number.isNaN(parseCounter(undefined)));
    });

    it("turns a captured leg into consistent metrics", () => {
        const m = parseLeg("out", "pc1", "pc2", captured);
        assert.strictEqual(m.totalTimeMs, 1159);
        assert.strictEqual(m.downtimeMs, 60);
        assert.strictEqual(m.dataProcessedBytes, 86234165);
        assert.strictEqual(m.iterations, 3);
        assert.deepStrictEqual(m.probe, { sent: 384, received: 381, lost: 3, longestGapMs: 70.6 });
        assert.strictEqual(m.plainMBs, 119.85);
        assert.strictEqual(m.throughputMBs, Math.round(86234165 / 1.159 / 1e6 * 100) / 100);
        assert.strictEqual(m.ratio, Math.round(m.throughputMBs / m.plainMBs * 1000) / 1000);
        assert.strictEqual(m.destinationState, "running");
        assert.ok(m.counterAfter > m.counterBefore);
    });

    it("reads the downtime target QEMU held back, as migrate-getmaxdowntime prints it", () => {
        // virsh prints the value and a blank line (libvirt 9.0 here).
        assert.strictEqual(parseMaxDowntime("50\n\n"), 50);
        assert.strictEqual(parseMaxDowntime("300\n"), 300);
        assert.strictEqual(parseMaxDowntime(undefined), null);
        assert.throws(() => parseMaxDowntime("error: Requested operation is not valid: domain is not running\n"),
            /migrate-getmaxdowntime printed 'error: Requested operation is not valid: domain is not running', not a number of ms/);
    });

    it("reports the downtime target a leg read back, and none from a leg script that did not read it", () => {
        const withTarget = captured.replace("=== counter-before", "=== maxdowntime\n50\n\n=== counter-before");
        assert.strictEqual(parseLeg("out", "pc1", "pc2", withTarget).maxDowntimeMs, 50);
        assert.strictEqual(parseLeg("out", "pc1", "pc2", captured).maxDowntimeMs, null);
        // An unreadable target is a failed leg naming the command, not a leg with a wrong figure.
        const bad = parseLegOutcome("out", "pc1", "pc2", captured.replace("=== counter-before", "=== maxdowntime\nerror: x\n=== counter-before"));
        assert.match((bad as { failed: string }).failed, /downtime target: migrate-getmaxdowntime printed 'error: x'/);
    });

    it("reads what ended pre-copy when a stop condition did, and nothing when QEMU did", () => {
        const fixture = (name: string) => fs.readFileSync(path.join(ROOT, "test", "fixtures", name), "utf8");
        const stopped = parseLeg("out", "pc1", "pc2", fixture("leg-stopafter.txt"));
        assert.deepStrictEqual(stopped.stoppedBy, {
            condition: "sentMiB", iteration: 1, afterMs: 1722, remainingBytes: 62234624, sentBytes: 52420408, lastPassPages: null,
        });
        // What it cost is the leg's downtime, libvirt's as ever; the rest of the leg reads as before.
        const plain = parseLeg("out", "pc1", "pc2", fixture("leg-precopy.txt"));
        assert.strictEqual(plain.stoppedBy, null);
        assert.deepStrictEqual({ ...stopped, stoppedBy: null }, plain);
        assert.deepStrictEqual(parseStopCondition("condition=dirtyPagesBelow iteration=4 elapsed_s=9.5 remaining_bytes=40960 sent_bytes=9 last_pass_pages=12\n"),
            { condition: "dirtyPagesBelow", iteration: 4, afterMs: 9500, remainingBytes: 40960, sentBytes: 9, lastPassPages: 12 });
    });

    it("refuses a stop-condition section it cannot read, naming what is wrong", () => {
        assert.throws(() => parseStopCondition("condition=rounds iteration=2 elapsed_s=1 remaining_bytes=1 sent_bytes=1 last_pass_pages=-"),
            /stop condition: 'rounds' is none of iterations, sentMiB, dirtyPagesBelow/);
        assert.throws(() => parseStopCondition("condition=iterations iteration=? elapsed_s=1 remaining_bytes=1 sent_bytes=1"), /stop condition: no number iteration in/);
        const broken = fs.readFileSync(path.join(ROOT, "test", "fixtures", "leg-stopafter.txt"), "utf8").replace("remaining_bytes=62234624 ", "");
        const o = parseLegOutcome("out", "pc1", "pc2", broken);
        assert.ok(isFailed(o) && /could not be read: stop condition: no number remaining_bytes/.test(o.failed), JSON.stringify(o));
    });

    it("says which section a broken leg output lacks", () => {
        assert.throws(() => parseLeg("out", "a", "b", "=== iperf3\n{}\n"), /no 'jobinfo' section/);
    });
});
