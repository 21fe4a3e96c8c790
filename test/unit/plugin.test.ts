// miglab as a component package (plugin/): its args generated from the config schema, the package
// schema the Node SDK's component provider infers from them, the Lab it constructs, the YAML
// example's lab, and how the fallback Node.js language host starts the plugin.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parseLabConfig } from "../../components/model/config";
import { schema } from "../../components/model/schema";
import { pluginArgs } from "../../engine/language-host";
import { Lab, labConfig } from "../../plugin";
import { readStackConfig } from "../../scripts/stack-config";
import { ROOT } from "../support";
import { declared, find } from "./mocks";

const yaml = require("js-yaml");
// Plain JavaScript run before tsc: not compiled into bin/.
const generator = require(path.join(ROOT, "scripts", "plugin-types.js")) as { generate(schema?: unknown): string; OUT: string };
const PLUGIN = path.join(ROOT, "plugin");

/** The example's Lab properties, with the stack name its export path interpolates. */
function exampleLab(stack: string): any {
    const program = yaml.load(fs.readFileSync(path.join(ROOT, "examples", "yaml-lab", "Pulumi.yaml"), "utf8"));
    const props = program.resources.lab.properties;
    props.nfs.export = props.nfs.export.replace("${pulumi.stack}", stack);
    return props;
}

describe("plugin/: miglab's components as a Pulumi package", function () {
    this.timeout(120000);

    it("plugin/config.ts is exactly what the config schema gives (else: npm run build, and commit it)", () => {
        assert.ok(generator.generate() === fs.readFileSync(generator.OUT, "utf8"),
            "plugin/config.ts differs from what config.schema.json gives: run `npm run build` and commit the file");
    });

    it("a field added to the schema reaches the Lab's args, optional unless the schema requires it", () => {
        const changed = JSON.parse(JSON.stringify(schema));
        changed.properties.migration.properties.warmupSeconds = { type: "integer", default: 0, description: "seconds to wait" };
        changed.properties.migration.properties.flavour = { type: "string", enum: ["a-b", "c"] };
        const text = generator.generate(changed);
        assert.match(text, /\n {4}\/\*\* seconds to wait; default: 0 \*\/\n {4}warmupSeconds\?: number;\n/);
        assert.match(text, /export enum MigrationFlavour \{\n {4}AB = "a-b",\n {4}C = "c",\n\}/);
        assert.match(text.slice(text.indexOf("export interface LabArgs {")), /\n {4}site: Site;\n/);
    });

    describe("the package schema the component provider infers (what `pulumi package get-schema plugin` prints)", () => {
        let pkg: any;
        before(async () => {
            const { ComponentProvider } = require("@pulumi/pulumi/provider/experimental/provider");
            pkg = JSON.parse(await new ComponentProvider({ name: "miglab", dirname: PLUGIN, components: [Lab] }).getSchema());
        });

        it("has the one resource miglab:index:Lab, versioned as the package", () => {
            assert.deepStrictEqual(Object.keys(pkg.resources), ["miglab:index:Lab"]);
            assert.strictEqual(pkg.name, "miglab");
            assert.strictEqual(pkg.version, require(path.join(ROOT, "package.json")).version);
            assert.strictEqual(pkg.resources["miglab:index:Lab"].isComponent, true);
        });

        it("takes the config's fields as its inputs, requiring what the schema requires", () => {
            const lab = pkg.resources["miglab:index:Lab"];
            assert.deepStrictEqual(Object.keys(lab.inputProperties).sort(), Object.keys(schema.properties).sort());
            assert.deepStrictEqual(lab.requiredInputs, [...schema.required].sort());
            assert.strictEqual(lab.inputProperties.site.description, schema.properties.site.description);
            assert.strictEqual(lab.inputProperties.hosts.items.$ref, "#/types/miglab:index:NodeConfig");
            const node = pkg.types["miglab:index:NodeConfig"];
            assert.deepStrictEqual(node.required, [...schema.definitions.node.required].sort());
        });

        it("gives every choice of the schema as an enum of the same values", () => {
            const enums = (t: string) => pkg.types[`miglab:index:${t}`].enum.map((e: any) => e.value);
            assert.deepStrictEqual(enums("Topology"), schema.properties.topology.enum);
            assert.deepStrictEqual(enums("MigrationMode"), schema.properties.migration.properties.mode.enum);
            assert.deepStrictEqual(enums("OverlayTunnel"), schema.properties.overlay.properties.tunnel.enum);
        });

        it("outputs the legs, their summary, the drains and the topology", () => {
            const lab = pkg.resources["miglab:index:Lab"];
            assert.deepStrictEqual(Object.keys(lab.properties).sort(), ["drains", "legs", "summary", "topology"]);
        });
    });

    describe("examples/yaml-lab", () => {
        it("declares the same-subnet stack's lab (its export path per stack)", () => {
            const same = readStackConfig(ROOT, "same-subnet");
            const mine = parseLabConfig(exampleLab("same-subnet"));
            assert.deepStrictEqual(mine, same);
        });

        it("names this checkout's plugin folder under packages:", () => {
            const program = yaml.load(fs.readFileSync(path.join(ROOT, "examples", "yaml-lab", "Pulumi.yaml"), "utf8"));
            assert.strictEqual(path.resolve(ROOT, "examples", "yaml-lab", program.packages.miglab), PLUGIN);
            assert.strictEqual(program.resources.lab.type, "miglab:index:Lab");
            assert.ok(fs.existsSync(path.join(PLUGIN, "PulumiPlugin.yaml")));
        });
    });

    describe("the Lab's properties", () => {
        it("are checked and completed as the stack config is", () => {
            const cfg = labConfig("lab", exampleLab("s1"));
            assert.strictEqual(cfg.nfs.export, "/var/lib/miglab/exports/s1");
            assert.strictEqual(cfg.migrations[0].guest, "vm1");
        });

        it("a bad one is refused naming the Lab and the field, without a stack trace", () => {
            const bad = exampleLab("s1");
            bad.topology = "ring";
            assert.throws(() => labConfig("lab", bad),
                (e: any) => pulumi.RunError.isInstance(e) && /^Lab 'lab' has 1 problem/.test(e.message) && /topology/.test(e.message));
        });

        it("another resource's output is refused: the plan needs every value at preview", () => {
            const args = { ...exampleLab("s1"), hosts: pulumi.output([]) };
            assert.throws(() => labConfig("lab", args as any), /Lab 'lab': hosts must be plain values/);
        });

        it("construct the whole lab under the Lab (mocked engine)", async () => {
            const props = exampleLab("unit");
            delete props.link; // the kernel's shaping is probed only for link
            new Lab("ylab", props);
            await find("ylab-migration");
            const types = (name: string) => declared.filter((d) => d.name === name).map((d) => d.type).sort();
            assert.deepStrictEqual(types("ylab"), ["miglab:index:Lab", "miglab:lab:Lab"]);
            assert.deepStrictEqual(types("ylab-site"), ["miglab:site:LocalSite"]);
            assert.deepStrictEqual(types("ylab-pc2"), ["miglab:host:Host"]);
        });
    });
});

describe("the fallback Node.js language host's RunPlugin", () => {
    const request = (env: string[], options: Record<string, unknown> = {}) => ({
        getInfo: () => ({ getProgramDirectory: () => PLUGIN, getOptions: () => ({ toJavaScript: () => options }) }),
        getProgram: () => "", getPwd: () => "/tmp", getArgsList: () => ["--logtostderr"], getEnvList: () => env,
    });

    it("runs the plugin's folder with @pulumi/pulumi's plugin runner, the engine's args after it", () => {
        const spec = pluginArgs(request([], { nodeargs: "--max-old-space-size=512" }));
        assert.strictEqual(spec.args[0], require.resolve("@pulumi/pulumi/cmd/run-plugin", { paths: [PLUGIN] }));
        assert.deepStrictEqual(spec.args.slice(1), ["--max-old-space-size=512", PLUGIN, "--logtostderr"]);
        assert.strictEqual(spec.cwd, "/tmp");
    });

    it("gives the plugin the engine's environment over its own", () => {
        const spec = pluginArgs(request(["PULUMI_DEBUG_GRPC=x", "A=b=c"]));
        assert.strictEqual(spec.env.PULUMI_DEBUG_GRPC, "x");
        assert.strictEqual(spec.env.A, "b=c");
        assert.strictEqual(spec.env.PATH, process.env.PATH);
    });
});
