import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../support";

// The pipeline runs one way (model -> render -> resources -> reports): the model is pure and knows
// none of the layers after it, and its modules import each other without a circle.
const MODEL = path.join(ROOT, "components", "model");

/** The relative modules a source file imports (type-only imports count: they tie the layers too). */
function importsOf(file: string): string[] {
    const text = fs.readFileSync(file, "utf8");
    return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gm)].map((m) => m[1]);
}

describe("the model's place in the pipeline", () => {
    const files = fs.readdirSync(MODEL).filter((f) => f.endsWith(".ts"));

    it("imports nothing from the renderers, the resources or the reports", () => {
        const out = files.flatMap((f) => importsOf(path.join(MODEL, f)).filter((i) => !i.startsWith("./")).map((i) => `${f} imports ${i}`));
        assert.deepStrictEqual(out, []);
    });

    it("has no import cycle among its modules", () => {
        const edges = new Map(files.map((f) => [f.replace(/\.ts$/, ""),
            importsOf(path.join(MODEL, f)).filter((i) => i.startsWith("./") && !i.endsWith(".json")).map((i) => i.slice(2))]));
        const cycles: string[] = [];
        const visit = (m: string, trail: string[]) => {
            if (trail.includes(m)) { cycles.push([...trail.slice(trail.indexOf(m)), m].join(" -> ")); return; }
            for (const n of edges.get(m) ?? []) { visit(n, [...trail, m]); }
        };
        for (const m of edges.keys()) { visit(m, []); }
        assert.ok(edges.size > 5 && [...edges.values()].some((e) => e.length > 0), "the model's imports were not read");
        assert.deepStrictEqual([...new Set(cycles)], []);
    });
});
