// A leg whose pre-copy a stop condition (migration.stopAfter) ended, as `npm run lab` and
// `npm run compare` show it: the condition beside the downtime it cost.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { comparisonRow, comparisonTable } from "../../components/reports/compare";
import { LegMetrics, parseLeg } from "../../components/reports/metrics";
import { legsTable } from "../../scripts/print-legs";
import { ROOT } from "../support";

const fixture = (name: string) => fs.readFileSync(path.join(ROOT, "test", "fixtures", name), "utf8");
const stopped = parseLeg("out", "pc1", "pc2", fixture("leg-stopafter.txt"));
const plain = parseLeg("back", "pc2", "pc1", fixture("leg-precopy.txt"));

describe("legs a stop condition ended, as reported", () => {
    it("npm run lab's table puts the condition and its iteration beside the downtime, and says what it cost under the table", () => {
        const text = legsTable([stopped, plain]);
        const [head, , out, back] = text.split("\n");
        const col = (line: string) => line.trim().split(/\s{2,}/);
        assert.deepStrictEqual(col(head).slice(0, 4), ["leg", "total ms", "downtime ms", "stopped by"]);
        assert.deepStrictEqual(col(out).slice(0, 4), ["pc1 -> pc2", "1459", "176", "sentMiB @1"]);
        assert.deepStrictEqual(col(back).slice(0, 4), ["pc2 -> pc1", "1459", "176", "-"]);
        assert.match(text, /^pc1 -> pc2: pre-copy stopped by stopAfter\.sentMiB at iteration 1, 1\.7 s in, 52\.4 MB sent and 62\.2 MB left; the stop-and-copy cost 176 ms of downtime$/m);
        assert.doesNotMatch(text, /pc2 -> pc1: pre-copy stopped/);
        // Without a stop condition, the table is as it was.
        assert.doesNotMatch(legsTable([plain]), /stopped/);
    });

    it("npm run compare counts a stack's legs each condition ended, beside its downtime", () => {
        const row = comparisonRow({ stack: "stop", outputs: { topology: "same-subnet", legs: [stopped, plain] } });
        assert.strictEqual(row.stoppedBy, "sentMiB 1/2");
        const other: LegMetrics = { ...stopped, stoppedBy: { ...stopped.stoppedBy!, condition: "iterations" } };
        assert.strictEqual(comparisonRow({ stack: "s", outputs: { legs: [stopped, other, other] } }).stoppedBy, "sentMiB 1/3, iterations 2/3");
        const none = comparisonRow({ stack: "none", outputs: { topology: "same-subnet", legs: [plain] } });
        assert.ok(!("stoppedBy" in none));
        const [head, , a, b] = comparisonTable([row, none]).split("\n").map((l) => l.trim().split(/\s{2,}/));
        assert.deepStrictEqual([head[5], a[5], b[5]], ["stopped by", "sentMiB 1/2", "-"]);
        assert.doesNotMatch(comparisonTable([none]), /stopped by/);
    });
});
