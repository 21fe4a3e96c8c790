// `npm run compare [-- --svg FILE] [STACK...]`: reads the outputs of several labs'
// stacks, prints one line of medians per stack and writes the comparison charts.
// Only reads stacks (`pulumi stack output`): it never builds or changes a lab.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { comparisonCharts } from "../components/reports/chart";
import { comparisonRows, comparisonTable, slaBreaches, StackOutputs } from "../components/reports/compare";

// Compiled to bin/scripts/, so the project is two levels up.
const ROOT = path.resolve(__dirname, "..", "..");

export interface CompareArgs {
    svg: string;
    /** Empty: every stack of stacks/ (see defaultStacks). */
    stacks: string[];
}

export function parseArgs(argv: string[]): CompareArgs {
    const args: CompareArgs = { svg: "compare.svg", stacks: [] };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--svg") {
            const file = argv[++i];
            if (!file) { throw new Error("compare: --svg needs a file name"); }
            args.svg = file;
        } else if (a.startsWith("--svg=")) {
            args.svg = a.slice("--svg=".length);
        } else if (a.startsWith("-")) {
            throw new Error(`compare: unknown option ${a} (known: --svg FILE)`);
        } else {
            args.stacks.push(a);
        }
    }
    return args;
}

/** Stack names from stacks/'s file names; ci-* stacks are throwaway test labs, not worth comparing. */
export function defaultStacks(files: string[]): string[] {
    return files
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => !!s && !s.startsWith("ci-"))
        .sort();
}

export type ReadResult = { ok: true; outputs: unknown } | { ok: false; reason: string };

/** Interprets one `pulumi stack output --json` run; a failure is a reason to print, not an exception. */
export function readOutputs(code: number | null, stdout: string, stderr: string): ReadResult {
    if (code !== 0) {
        const why = stderr.split("\n").map((l) => l.replace(/^error:\s*/, "").trim()).find((l) => l) ?? `exit code ${code}`;
        return { ok: false, reason: why };
    }
    try {
        return { ok: true, outputs: JSON.parse(stdout.trim() || "{}") };
    } catch {
        return { ok: false, reason: "its output is not JSON" };
    }
}

if (require.main === module) {
    let args: CompareArgs;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (e) {
        console.error((e as Error).message);
        process.exit(2);
    }
    const stacks = args.stacks.length ? args.stacks : defaultStacks(fs.readdirSync(path.join(ROOT, "stacks")));
    if (stacks.length === 0) {
        console.error("compare: no stacks to compare (stacks/ has no Pulumi.<name>.yaml but ci-*)");
        process.exit(2);
    }

    const read: StackOutputs[] = [];
    for (const stack of stacks) {
        const r = spawnSync("pulumi", ["stack", "output", "--json", "--stack", stack, "--non-interactive"],
            { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
        if (r.error) {
            // No pulumi at all: every other stack would fail the same way.
            console.error(`compare: cannot run pulumi (${r.error.message}); run through \`npm run compare\`, which sets it up`);
            process.exit(1);
        }
        const res = readOutputs(r.status, r.stdout ?? "", r.stderr ?? "");
        if (res.ok) {
            read.push({ stack, outputs: res.outputs });
        } else {
            console.log(`compare: skipping stack ${stack}: ${res.reason}`);
        }
    }
    if (read.length === 0) {
        console.error("compare: none of the stacks could be read");
        process.exit(1);
    }

    const rows = comparisonRows(read);
    console.log(`\n${comparisonTable(rows)}\n`);
    const broken = slaBreaches(read);
    if (broken.length) { console.log(`${broken.join("\n")}\n`); }
    const svg = path.resolve(args.svg);
    fs.writeFileSync(svg, comparisonCharts(rows));
    console.log(`compare: charts written to ${svg}`);
}
