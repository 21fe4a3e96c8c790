// The A/B bench's pure part: which way each figure is better, the verdict against the old
// version's spread, the ABBA order, and the table (components/reports/ab.ts).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { AB_FIGURES, abOrder, abRows, abTable, libvirtRateRatio, regressions, verdictOf } from "../../components/reports/ab";
import { LegMetrics, parseLeg } from "../../components/reports/metrics";
import { ROOT } from "../support";

const real = parseLeg("out", "pc1", "pc2", fs.readFileSync(path.join(ROOT, "test", "fixtures", "leg-out.txt"), "utf8"));
const leg = (totalTimeMs: number, downtimeMs: number, ratio = real.ratio): LegMetrics => ({ ...real, totalTimeMs, downtimeMs, ratio });

describe("A/B bench report", () => {
    it("calls a figure worse only when the new median lies past every old leg", () => {
        const old = { median: 100, min: 90, max: 120 };
        assert.strictEqual(verdictOf("lower", { median: 121, min: 110, max: 130 }, old), "worse");
        assert.strictEqual(verdictOf("lower", { median: 120, min: 60, max: 200 }, old), "within spread");
        assert.strictEqual(verdictOf("lower", { median: 89, min: 80, max: 95 }, old), "better");
        assert.strictEqual(verdictOf("higher", { median: 89, min: 80, max: 95 }, old), "worse");
        assert.strictEqual(verdictOf("higher", { median: 121, min: 110, max: 130 }, old), "better");
        assert.strictEqual(verdictOf("lower", { median: NaN, min: NaN, max: NaN }, old), "n/a");
    });

    it("compares every figure, new ÷ old of the medians, and lists what regressed", () => {
        const rows = abRows([leg(2000, 100), leg(2100, 110), leg(2200, 90)], [leg(1000, 100), leg(1100, 105), leg(1200, 95)]);
        assert.deepStrictEqual(rows.map((r) => r.figure.key), AB_FIGURES.map((f) => f.key));
        const total = rows.find((r) => r.figure.key === "totalTimeMs")!;
        assert.strictEqual(total.ratio, 1.909);
        assert.strictEqual(total.verdict, "worse");
        assert.strictEqual(rows.find((r) => r.figure.key === "downtimeMs")!.verdict, "within spread");
        assert.deepStrictEqual(regressions(rows).map((r) => r.figure.key), ["totalTimeMs"]);
        const text = abTable(rows, { new: "aaaa", old: "bbbb" });
        assert.match(text, /libvirt total ms +2100 \(2000-2200\) +1100 \(1000-1200\) +1\.909 +worse/);
    });

    it("derives libvirt's rate over the plain transfer from the leg's own figures", () => {
        assert.strictEqual(libvirtRateRatio({ ...real, memoryBps: 60e6, plainMBs: 120 }), 0.5);
        assert.ok(Number.isNaN(libvirtRateRatio({ ...real, plainMBs: 0 })));
    });

    it("alternates the sides new, old, old, new so drift weighs on both alike", () => {
        assert.deepStrictEqual(abOrder(3), ["new", "old", "old", "new", "new", "old"]);
        const order = abOrder(4);
        assert.strictEqual(order.filter((s) => s === "new").length, 4);
    });
});
