// miglab as a package others install: `npm pack` ships the compiled components with their types,
// the JSON Schema and every host script they read at run time, the `miglab` command and all its
// scripts need, and package.json declares every package the shipped code imports. The tarball is
// packed for real and extracted into an empty project, its dependencies this checkout's (no network).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { commandsOf, summaryOf } from "../../scripts/miglab";
import { ROOT } from "../support";

function sources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []);
}

/** The package a module specifier names ("@pulumi/pulumi/provider" -> "@pulumi/pulumi"). */
function packageOf(spec: string): string {
    return spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
}

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const builtin = new Set(require("module").builtinModules as string[]);

describe("the package", function () {
    this.timeout(120000);

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
        // The stacks `miglab lab` builds: those in git, not a test's or benchmark's left in the checkout.
        const tracked = spawnSync("git", ["ls-files", "stacks"], { cwd: ROOT, encoding: "utf8" }).stdout.split("\n").filter(Boolean);
        assert.deepStrictEqual([...files].filter((f) => f.startsWith("stacks/")).sort(), tracked.sort());
    });

    it("declares every package the components import, as a dependency (not a devDependency)", () => {
        const imported = new Set<string>();
        for (const file of sources(path.join(ROOT, "components"))) {
            const text = fs.readFileSync(file, "utf8");
            for (const m of text.matchAll(/(?:from\s+|require\()["']([^"'.][^"']*)["']/g)) { imported.add(packageOf(m[1])); }
        }
        const missing = [...imported].filter((n) => !builtin.has(n) && !(n in (pkg.dependencies ?? {})));
        assert.deepStrictEqual(missing, [], `imported by components/ but not in package.json dependencies: ${missing.join(", ")}`);
    });

    it("the miglab command's table is package.json's scripts that run a bash script, each with a summary", () => {
        const commands = commandsOf(pkg.scripts, (s) => fs.existsSync(path.join(ROOT, s)));
        const bash = Object.entries(pkg.scripts as Record<string, string>).filter(([, v]) => v.startsWith("bash scripts/")).map(([k]) => k);
        assert.deepStrictEqual(commands.map((c) => c.name), bash);
        assert.deepStrictEqual(commands.find((c) => c.name === "clean"), { name: "clean", script: "scripts/lab", args: ["--clean"] });
        for (const c of commands) {
            const summary = summaryOf(fs.readFileSync(path.join(ROOT, c.script), "utf8"), c);
            assert.ok(summary.length > 20 && !/npm run/.test(summary), `${c.name}: '${summary}'`);
        }
        // A command's own sentence, not its script's first one.
        const clean = commands.find((c) => c.name === "clean")!;
        assert.match(summaryOf(fs.readFileSync(path.join(ROOT, clean.script), "utf8"), clean), /^removes what is left/);
        assert.deepStrictEqual(commandsOf({ a: "bash scripts/a", b: "tsc -p .", c: "bash scripts/c x && rm y" }, () => true).map((c) => c.name), ["a"]);
        assert.deepStrictEqual(commandsOf({ a: "bash scripts/a" }, () => false), []);
    });

    describe("packed, then extracted into an empty project", () => {
        let tmp = "";
        let app = "";
        let installed = "";
        let shipped: string[] = [];
        const miglab = (...args: string[]) =>
            spawnSync("node", [path.join(app, "node_modules", ".bin", "miglab"), ...args], { cwd: app, encoding: "utf8" });

        before(() => {
            tmp = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-pack-"));
            const r = spawnSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], { cwd: ROOT, encoding: "utf8" });
            assert.strictEqual(r.status, 0, r.stderr);
            const tarball = path.join(tmp, JSON.parse(r.stdout)[0].filename);
            app = path.join(tmp, "app");
            installed = path.join(app, "node_modules", "miglab");
            fs.mkdirSync(installed, { recursive: true });
            const x = spawnSync("tar", ["xzf", tarball, "-C", installed, "--strip-components=1"], { encoding: "utf8" });
            assert.strictEqual(x.status, 0, x.stderr);
            shipped = JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path);
            // What `npm install` would put beside it: the dependencies (here this checkout's) and the bin link.
            for (const dep of [...Object.keys(pkg.dependencies), "typescript"]) {
                const at = path.join(app, "node_modules", dep);
                fs.mkdirSync(path.dirname(at), { recursive: true });
                fs.symlinkSync(path.join(ROOT, "node_modules", dep), at);
            }
            fs.mkdirSync(path.join(app, "node_modules", ".bin"));
            fs.symlinkSync(path.join("..", "miglab", pkg.bin.miglab), path.join(app, "node_modules", ".bin", "miglab"));
            fs.copyFileSync(path.join(ROOT, "examples", "installed", "index.ts"), path.join(app, "index.ts"));
        });
        after(() => { if (tmp) { fs.rmSync(tmp, { recursive: true, force: true }); } });

        it("miglab --help lists the shipped commands; an unknown one, or the unshipped test suites, names them", () => {
            const help = miglab("--help");
            assert.strictEqual(help.status, 0, help.stderr);
            const listed = [...help.stdout.matchAll(/^ {2}([\w-]+) {2,}/gm)].map((m) => m[1]);
            assert.deepStrictEqual(listed, commandsOf(pkg.scripts, (s) => shipped.includes(s)).map((c) => c.name));
            for (const c of ["lab", "bench", "compare", "timeline", "clean"]) { assert.ok(listed.includes(c), `${c} is not a command: ${help.stdout}`); }
            for (const bad of ["labb", "test"]) {
                const r = miglab(bad);
                assert.strictEqual(r.status, 2);
                assert.match(r.stderr, new RegExp(`unknown command '${bad}' \\(known: ${listed.join(", ")};`));
            }
            assert.strictEqual(miglab("--version").stdout.trim(), pkg.version);
            const none = miglab();
            assert.strictEqual(none.status, 2);
            assert.match(none.stderr, /^usage: miglab <command>/);
        });

        it("a command runs its script from the package with package.json's arguments, then the user's", () => {
            // lab refuses an unknown option before it sets anything up.
            const r = miglab("clean", "--nonsense");
            assert.strictEqual(r.status, 2);
            assert.match(r.stderr, /^lab: unknown option --nonsense/);
        });

        it("every module the shipped JavaScript requires is shipped, a dependency, or built in", () => {
            const problems: string[] = [];
            for (const f of shipped.filter((s) => s.endsWith(".js"))) {
                const text = fs.readFileSync(path.join(installed, f), "utf8");
                for (const m of text.matchAll(/require\("([^"]+)"\)/g)) {
                    const spec = m[1];
                    if (spec.startsWith(".")) {
                        const target = path.relative(installed, path.resolve(path.dirname(path.join(installed, f)), spec));
                        if (![target, `${target}.js`, `${target}.json`, `${target}/index.js`].some((t) => shipped.includes(t))) { problems.push(`${f}: ${spec}`); }
                    } else if (!builtin.has(spec) && !spec.startsWith("node:") && !(packageOf(spec) in pkg.dependencies)) {
                        problems.push(`${f}: ${spec} is not a dependency`);
                    }
                }
            }
            assert.deepStrictEqual(problems, []);
        });

        it("every file the shipped shell scripts and Pulumi.yaml run is shipped", () => {
            const wanted = new Set<string>();
            for (const f of shipped.filter((s) => /^scripts\/[\w-]+$/.test(s))) {
                for (const m of fs.readFileSync(path.join(installed, f), "utf8").matchAll(/\b((?:bin\/(?:scripts|engine)\/[\w-]+\.js)|scripts\/[\w-]+(?![\w.-]))/g)) {
                    wanted.add(m[1]);
                }
            }
            wanted.add(/^main:\s*(\S+)/m.exec(fs.readFileSync(path.join(installed, "Pulumi.yaml"), "utf8"))![1]);
            for (const f of ["tools/go.mod", "tools/go.sum"]) { wanted.add(f); }
            assert.ok(wanted.has("bin/scripts/print-legs.js") && wanted.has("program.js"), [...wanted].join(" "));
            assert.deepStrictEqual([...wanted].filter((w) => !shipped.includes(w)), []);
        });

        it("the installed components read their host scripts from the package", () => {
            const r = spawnSync("node", ["-e", "const m = require('miglab'); console.log(m.scriptDir()); m.script('migrate-leg.sh', {});"],
                { cwd: app, encoding: "utf8" });
            assert.strictEqual(r.status, 0, r.stderr);
            assert.strictEqual(fs.realpathSync(r.stdout.trim()), fs.realpathSync(path.join(installed, "components", "render", "scripts")));
        });

        it("the 20-line program (examples/installed) type-checks against the package's types", () => {
            const r = spawnSync("node", [path.join(app, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "--strict",
                "--target", "ES2022", "--module", "nodenext", "index.ts"], { cwd: app, encoding: "utf8" });
            assert.strictEqual(r.status, 0, r.stdout + r.stderr);
            assert.ok(fs.readFileSync(path.join(app, "index.ts"), "utf8").split("\n").filter(Boolean).length <= 20);
        });
    });
});
