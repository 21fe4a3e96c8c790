// miglab as a library others install: `npm pack` ships the compiled components with
// their types, the JSON Schema and every host script they read at run time, and
// package.json declares every package the components import.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../support";

function sources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []);
}

describe("the package", function () {
    this.timeout(60000);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

    it("npm pack holds the components' JavaScript and types, the schema and every host script", () => {
        const r = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stderr);
        const files = new Set<string>(JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path));
        for (const f of [pkg.main, pkg.types, "bin/components/model/config.schema.json", "bin/components/resources/migration.d.ts"]) {
            assert.ok(files.has(f), `${f} is not in the package`);
        }
        for (const sh of fs.readdirSync(path.join(ROOT, "components", "render", "scripts"))) {
            assert.ok(files.has(`components/render/scripts/${sh}`), `components/render/scripts/${sh} is not in the package`);
        }
        assert.ok(![...files].some((f) => f.startsWith("bin/test/") || f.startsWith("test/")), "tests are shipped");
    });

    it("declares every package the components import, as a dependency (not a devDependency)", () => {
        const imported = new Set<string>();
        for (const file of sources(path.join(ROOT, "components"))) {
            const text = fs.readFileSync(file, "utf8");
            for (const m of text.matchAll(/(?:from\s+|require\()["']([^"'.][^"']*)["']/g)) {
                const name = m[1].startsWith("@") ? m[1].split("/").slice(0, 2).join("/") : m[1].split("/")[0];
                imported.add(name);
            }
        }
        const builtin = new Set(require("module").builtinModules as string[]);
        const missing = [...imported].filter((n) => !builtin.has(n) && !(n in (pkg.dependencies ?? {})));
        assert.deepStrictEqual(missing, [], `imported by components/ but not in package.json dependencies: ${missing.join(", ")}`);
    });
});
