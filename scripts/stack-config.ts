// A stack's lab config read from its file in stacks/, for the scripts that only draw or label
// (graph, metrics): they work before `pulumi up`, without the stack's state or its passphrase.
import * as fs from "fs";
import * as path from "path";
import { LabConfig, parseLabConfig } from "../components/model/config";

const yaml = require("js-yaml");

/**
 * The stack's validated `miglab:lab`. This machine's kernel and memory are not asked: what a
 * picture or a label shows does not depend on them, and the lab's own `pulumi up` checks them.
 */
export function readStackConfig(root: string, stack: string): LabConfig {
    const file = path.join(root, "stacks", `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        const known = fs.readdirSync(path.join(root, "stacks")).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter(Boolean);
        throw new Error(`no stacks/Pulumi.${stack}.yaml (stacks: ${known.join(", ")})`);
    }
    const raw = yaml.load(fs.readFileSync(file, "utf8"))?.config?.["miglab:lab"];
    return parseLabConfig(raw, () => ({ ok: true }), () => undefined);
}
