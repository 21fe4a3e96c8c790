#!/usr/bin/env node
// `miglab <command> [args...]`: the project's commands, the same scripts `npm run <command>` runs,
// from this checkout or from the installed package (`npx miglab lab`). The table of commands is
// package.json's own scripts: each one that runs a file of scripts/ with bash is a command, so a
// command is written once, there. A script the package does not ship (the test suites) is no command.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface Command {
    name: string;
    /** The bash script, relative to the package's root, and the arguments package.json gives it first. */
    script: string;
    args: string[];
}

const SCRIPT = /^bash (scripts\/[\w.-]+)((?: [\w.=-]+)*)$/;

/** The commands among package.json's scripts, in its order; only those whose script `exists`. */
export function commandsOf(scripts: Record<string, string>, exists: (script: string) => boolean): Command[] {
    return Object.entries(scripts).flatMap(([name, line]) => {
        const m = SCRIPT.exec(line.trim());
        return m && exists(m[1]) ? [{ name, script: m[1], args: m[2].split(" ").filter(Boolean) }] : [];
    });
}

/**
 * A command's one-line summary from its script's header comment (the comment block after the
 * shebang): the sentence that begins with the command's first argument (`--clean removes ...`),
 * else the first sentence; `npm run X -- ` is written as the `miglab X ` it now also is.
 */
export function summaryOf(header: string, cmd: Command): string {
    const lines: string[] = [];
    for (const line of header.split("\n").slice(header.startsWith("#!") ? 1 : 0)) {
        if (!line.startsWith("#")) { break; }
        lines.push(line.replace(/^#\s?/, ""));
    }
    const sentences = lines.join(" ").split(/(?<=\.)\s+(?=\S)/);
    const byArg = cmd.args.length ? sentences.find((s) => s.startsWith(`${cmd.args[0]} `)) : undefined;
    const chosen = byArg ? byArg.slice(cmd.args[0].length + 1) : sentences[0] ?? "";
    return chosen.replace(/npm run ([\w-]+)/g, "miglab $1").replace(/npm test/g, "miglab test")
        .replace(/\[-- /g, "[").replace(/ -- /g, " ").trim();
}

export function helpText(commands: Command[], root: string): string {
    const width = Math.max(...commands.map((c) => c.name.length));
    const rows = commands.map((c) => {
        const summary = summaryOf(fs.readFileSync(path.join(root, c.script), "utf8"), c);
        return `  ${c.name.padEnd(width)}  ${summary || `${c.script} ${c.args.join(" ")}`.trim()}`;
    });
    return ["usage: miglab <command> [args...]   (the same as `npm run <command> -- [args...]` in a checkout)",
        "", "commands:", ...rows, "", "miglab --version prints the package's version."].join("\n");
}

function main(argv: string[]): number {
    const root = path.resolve(__dirname, "..", "..");
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    const commands = commandsOf(pkg.scripts ?? {}, (s) => fs.existsSync(path.join(root, s)));
    const [name, ...rest] = argv;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
        (name === undefined ? console.error : console.log)(helpText(commands, root));
        return name === undefined ? 2 : 0;
    }
    if (name === "--version" || name === "-v") { console.log(pkg.version); return 0; }
    const cmd = commands.find((c) => c.name === name);
    if (!cmd) {
        console.error(`miglab: unknown command '${name}' (known: ${commands.map((c) => c.name).join(", ")}; miglab --help says what each does)`);
        return 2;
    }
    // As `npm run` does: the script from the package's root, its own arguments first, then the user's.
    const r = spawnSync("bash", [path.join(root, cmd.script), ...cmd.args, ...rest], { cwd: root, stdio: "inherit" });
    if (r.error) { console.error(`miglab: cannot run bash: ${r.error.message}`); return 127; }
    if (r.signal) { process.kill(process.pid, r.signal); }
    return r.status ?? 1;
}

if (require.main === module) { process.exitCode = main(process.argv.slice(2)); }
