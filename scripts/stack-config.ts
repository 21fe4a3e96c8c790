// What the scripts that only print or draw (graph, metrics) read of a stack: its lab config from
// its file in stacks/ (before `pulumi up`, without the stack's state or passphrase), and its outputs.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LabConfig, parseLabConfig } from "../components/model/config";
import { ReadResult, readOutputs } from "./compare";

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
    return parseLabConfig(raw);
}

/** `pulumi stack output --json` of the stack; no pulumi at all is a reason too, not an exception. */
export function readStackOutputs(root: string, stack: string): ReadResult {
    const r = spawnSync("pulumi", ["stack", "output", "--json", "--stack", stack, "--non-interactive"],
        { cwd: root, encoding: "utf8", maxBuffer: 256 << 20 });
    if (r.error) { return { ok: false, reason: `cannot run pulumi (${r.error.message}); run through npm run, which sets it up` }; }
    return readOutputs(r.status, r.stdout ?? "", r.stderr ?? "");
}
