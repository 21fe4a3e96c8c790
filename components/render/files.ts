// The shell scripts' text as shipped (components/render/scripts/*.sh): read by the host
// scripts' renderers and by the drift probes, which share the prelude's helpers.
import * as fs from "fs";
import * as path from "path";

/** Where the .sh files are: beside this module from source, under the package root when compiled to bin/. */
export function scriptDir(): string {
    const candidates = [path.join(__dirname, "scripts"), path.resolve(__dirname, "..", "..", "..", "components", "render", "scripts")];
    const found = candidates.find((d) => fs.existsSync(path.join(d, "prelude.sh")));
    if (!found) { throw new Error(`miglab: cannot find components/render/scripts (looked in ${candidates.join(", ")})`); }
    return found;
}

export function scriptText(name: string): string {
    return fs.readFileSync(path.join(scriptDir(), name), "utf8");
}
