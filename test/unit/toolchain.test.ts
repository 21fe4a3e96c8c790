// One toolchain: the engine scripts/setup builds is the @pulumi/pulumi release the program runs
// with, and package.json's engines.node is a floor every installed dependency accepts and the
// Node.js setup provides meets.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as semver from "semver";
import { ROOT } from "../support";

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

/** The Node.js release scripts/setup fetches and puts first on PATH. */
function setupNode(): string {
    const m = /^NODE_VERSION=(\S+)$/m.exec(fs.readFileSync(path.join(ROOT, "scripts", "setup"), "utf8"));
    assert.ok(m, "scripts/setup sets no NODE_VERSION");
    return m[1];
}

describe("the toolchain", () => {
    it("the engine's Go modules (tools/go.mod) are the @pulumi/pulumi release package.json pins", () => {
        const gomod = fs.readFileSync(path.join(ROOT, "tools", "go.mod"), "utf8");
        const sdk = pkg.dependencies["@pulumi/pulumi"];
        assert.ok(semver.valid(sdk), `@pulumi/pulumi is pinned to one release, not a range: ${sdk}`);
        for (const mod of ["github.com/pulumi/pulumi/pkg/v3", "github.com/pulumi/pulumi/sdk/v3"]) {
            const m = new RegExp(`^\\s*(?:require\\s+)?${mod.replace(/\./g, "\\.")} (v\\S+)`, "m").exec(gomod);
            assert.ok(m, `tools/go.mod requires no ${mod}`);
            assert.strictEqual(m[1], `v${sdk}`, `${mod} in tools/go.mod`);
        }
    });

    it("setup's Node.js is an LTS line (even major) within package.json's engines.node", () => {
        const node = setupNode();
        assert.ok(semver.valid(node), node);
        assert.strictEqual(semver.major(node) % 2, 0, `Node.js ${node} is not of an LTS line`);
        assert.ok(semver.satisfies(node, pkg.engines.node), `Node.js ${node} is outside engines.node ${pkg.engines.node}`);
    });

    it("the lowest Node.js engines.node admits is one every dependency's own engines.node accepts", () => {
        const floor = semver.minVersion(pkg.engines.node);
        assert.ok(floor, `engines.node ${pkg.engines.node} has no lowest version`);
        const refusing: string[] = [];
        for (const name of [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]) {
            const dep = JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8"));
            const wants = dep.engines?.node;
            if (wants && !semver.satisfies(floor, wants)) { refusing.push(`${name}@${dep.version} wants node ${wants}`); }
        }
        assert.deepStrictEqual(refusing, [], `engines.node ${pkg.engines.node} admits Node.js ${floor.version}, which these refuse`);
    });
});
