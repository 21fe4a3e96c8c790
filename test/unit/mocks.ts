// The one pulumi.runtime.setMocks of the unit suite (mocha loads every file into one
// process, and the last setMocks would win): it records what each test declares.
// Mocks stand in for the engine only; the resources' scripts run for real in test/lab.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ROOT } from "../support";

export interface Declared { type: string; name: string; inputs: any }
export const declared: Declared[] = [];

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
/** Mocks receive secrets wrapped; the assertions look at the values. */
function plain(v: any): any {
    if (Array.isArray(v)) { return v.map(plain); }
    if (v && typeof v === "object") {
        if (SECRET_SIG in v) { return plain(v.value); }
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    }
    return v;
}

/** A real leg's output, captured: what a migration leg command "prints" under the mocks. */
export const legOutput = fs.readFileSync(path.join(ROOT, "test", "fixtures", "leg-out.txt"), "utf8");

/** What ssh-keyscan "prints" for a machine whose host key is recorded at the first up, and what ssh-keygen makes for the lab. */
export const SCANNED_HOST_KEY = "192.0.2.2 ssh-rsa AAAArsa\n192.0.2.2 ssh-ed25519 AAAAscanned\n";
const LAB_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAlab\n-----END OPENSSH PRIVATE KEY-----\nssh-ed25519 AAAAlabpub miglab\n";

pulumi.runtime.setMocks({
    newResource(args: pulumi.runtime.MockResourceArgs) {
        declared.push({ type: args.type, name: args.name, inputs: plain(args.inputs) });
        const state: any = { ...args.inputs };
        if (args.type === "command:remote:Command" || args.type === "command:local:Command") {
            state.stdout = /-migration-|-(out|back)(-\d+)?$/.test(args.name) ? legOutput : /-check$/.test(args.name) ? "accel=tcg"
                : /-hostkey$/.test(args.name) ? SCANNED_HOST_KEY : /-lab-key$/.test(args.name) ? LAB_KEY : "";
            state.stderr = "";
        }
        return { id: `${args.name}-id`, state };
    },
    call: (args) => args.inputs,
}, "miglab", "unit", false);

export function outputOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => { resolve(v); return v; }));
}

/** What was declared under a name, once the mocked engine has registered it (inputs resolve asynchronously). */
export async function find(name: string): Promise<Declared> {
    for (let i = 0; i < 100; i++) {
        const d = declared.find((x) => x.name === name);
        if (d) { return d; }
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`nothing declared as ${name}; declared: ${declared.map((x) => x.name).join(", ")}`);
}

/** A variable of a rendered script's header, as bash reads it. */
export function varOf(script: string, name: string): string {
    // Past the first line (bashCommand's "run as root" wrapper ending in the heredoc), up to the prelude.
    const header = script.replace(/^[^\n]*<<'MIGLAB_SCRIPT_END'\n/, "").split("# --- miglab prelude")[0];
    return execFileSync("bash", ["-c", `${header}\nprintf %s "\${${name}-<unset>}"`], { encoding: "utf8" });
}
