// The emulator hunt's report (components/reports/hunt.ts): legs counted by outcome, the
// downtime against target + slack, and each case's own load.
import * as assert from "assert";
import { HUNT_SLACK_MS, HuntRun, huntRows, huntTable } from "../../components/reports/hunt";

const run: HuntRun = {
    emulator: { qemu: "QEMU 10.0.2", libvirt: "libvirt 11.3.0" },
    load: [1, 9],
    cases: [
        { targetMs: 20, dirtyMiBs: 0, legs: [
            { outcome: "ok", downtimeMs: 40, totalTimeMs: 1000, load: 2 },
            { outcome: "ok", downtimeMs: 20 + HUNT_SLACK_MS + 1, totalTimeMs: 1200, load: 3 },
            { outcome: "damaged", why: "on pc2 (console: Oops)", load: 4 },
            { outcome: "silent", why: "does not answer", load: 2.5 },
            { outcome: "failed", why: "timeout", load: 2 },
        ] },
        { targetMs: 50, dirtyMiBs: 40, legs: [] },
    ],
};

describe("emulator hunt report", () => {
    it("counts each outcome, the legs over target + slack, and the case's own load", () => {
        const [row] = huntRows(run);
        assert.deepStrictEqual(row, ["QEMU 10.0.2 / libvirt 11.3.0", "20", "0", "5", "1", "1", "1", "56 (40-71)", "1/2", "1100 (1000-1200)", "2.0-4.0"]);
    });

    it("prints a case without legs as dashes rather than as zeros", () => {
        const row = huntRows(run)[1];
        assert.deepStrictEqual(row.slice(3), ["0", "0", "0", "0", "- (---)", "0/0", "- (---)", "-"]);
        assert.strictEqual(huntRows({ ...run, burn: 2 })[0][0], "QEMU 10.0.2 / libvirt 11.3.0 + 2 busy loops");
        assert.match(huntTable([run]), /emulator +target ms +dirty MiB\/s +legs +damaged +silent +failed/);
    });
});
