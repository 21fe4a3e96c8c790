// What a leg's report becomes in the stack's outputs (components/reports/metrics.ts).
import * as assert from "assert";
import { asOutputValue, summarize } from "../../components/reports/metrics";

describe("a report as the outputs hold it", () => {
    it("gives null for a figure a leg could not measure (NaN, infinite), as JSON does, and keeps the rest", () => {
        const report = { totalTimeMs: 1200, ratio: NaN, postcopy: { tailMs: Infinity, faults: 3 }, legs: [NaN, 2], gone: undefined };
        assert.deepStrictEqual(asOutputValue(report), { totalTimeMs: 1200, ratio: null, postcopy: { tailMs: null, faults: 3 }, legs: [null, 2] });
    });

    it("holds no non-finite number in a summary of legs that measured nothing (Pulumi 3.276 would tag it)", () => {
        const summary = asOutputValue(summarize([{ leg: "out", from: "pc1", to: "pc2", totalTimeMs: NaN, downtimeMs: NaN, ratio: NaN } as any]));
        const numbers: unknown[] = [];
        JSON.stringify(summary, (_k, v) => { if (typeof v === "number") { numbers.push(v); } return v; });
        assert.ok(numbers.every((n) => Number.isFinite(n as number)), JSON.stringify(summary));
        assert.strictEqual(summary[0].totalTimeMs.median, null);
    });
});
