// The stack files' schema for editors (components/model/stackSchema.ts): derived from the lab's
// schema, committed beside the stacks as `npm run schema` writes it, named by every shipped
// stack's first line, and saying of a shipped stack and a broken one what the program says.
import * as assert from "assert";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import * as fs from "fs";
import * as path from "path";
// eslint-disable-next-line @typescript-eslint/no-var-requires -- js-yaml ships no types (as in lab-stack.ts)
const yaml = require("js-yaml");
import { STACK_MODELINE, STACK_SCHEMA_FILE, stackSchema } from "../../components/model/stackSchema";
import { ROOT } from "../support";

const stacksDir = path.join(ROOT, "stacks");
const shipped = fs.readdirSync(stacksDir).filter((f) => /^Pulumi\.(same-subnet|nat|bridged|local-disks)\.yaml$/.test(f));
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(stackSchema());

describe("the stack files' schema (npm run schema)", () => {
    it("is committed as npm run schema writes it", () => {
        const committed = fs.readFileSync(path.join(stacksDir, STACK_SCHEMA_FILE), "utf8");
        assert.strictEqual(committed, `${JSON.stringify(stackSchema(), null, 2)}\n`, "stacks/stack.schema.json is stale: run npm run schema");
    });

    it("is named by the first line of every shipped stack, each of which it accepts", () => {
        assert.strictEqual(shipped.length, 4);
        for (const f of shipped) {
            const text = fs.readFileSync(path.join(stacksDir, f), "utf8");
            assert.strictEqual(text.split("\n")[0], STACK_MODELINE, f);
            assert.ok(validate(yaml.load(text)), `${f}: ${JSON.stringify(validate.errors)}`);
        }
    });

    it("points an editor at the field a broken lab gets wrong", () => {
        const doc = yaml.load(fs.readFileSync(path.join(stacksDir, "Pulumi.same-subnet.yaml"), "utf8")) as any;
        doc.config["miglab:lab"].hosts[1].address = "10.10.10.300";
        doc.config["miglab:lab"].migration.mode = "warm";
        assert.ok(!validate(doc));
        const at = validate.errors!.map((e) => e.instancePath);
        assert.ok(at.includes("/config/miglab:lab/hosts/1/address"), JSON.stringify(at));
        assert.ok(at.includes("/config/miglab:lab/migration/mode"), JSON.stringify(at));
    });
});
