// The leg's output protocol (components/reports/legSections.ts) against the script that prints it.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { LEG_SECTIONS } from "../../components/reports/legSections";

const root = path.join(__dirname, "..", "..", "..");
const read = (p: string) => fs.readFileSync(path.join(root, p), "utf8");

describe("the leg's sections", () => {
    it("are exactly the ones migrate-leg.sh prints (a bystander's probe by its prefix)", () => {
        const printed = new Set([...read("components/render/scripts/migrate-leg.sh").matchAll(/echo "=== ([a-z0-9-]+)(\$name)?"/g)]
            .map((m) => m[1]));
        assert.deepStrictEqual([...printed].sort(), Object.keys(LEG_SECTIONS).sort());
    });

    it("are read only under the names of the table, in every parser and script", () => {
        const files = ["components/reports", "scripts"].flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => f.endsWith(".ts")).map((f) => `${d}/${f}`));
        const read = files.flatMap((f) => [...fs.readFileSync(path.join(root, f), "utf8").matchAll(/sections\([^)]*\)\.get\("([a-z0-9-]+)"\)/g)].map((m) => m[1]));
        assert.ok(read.length >= 2, "no script reads a section by name");
        for (const name of read) { assert.ok(name in LEG_SECTIONS, `'${name}' is read but not in LEG_SECTIONS`); }
    });
});
