// `npm run metrics [-- STACK]`: prints STACK's measured legs (default same-subnet) as OpenMetrics
// text (components/reports/openmetrics.ts), the same text `pulumi up` writes to metrics/STACK.prom.
// Reads the stack's outputs only (`pulumi stack output`); never builds a lab.
import * as path from "path";
import { planLab } from "../components/model/plan";
import { legModes, legsOfOutputs, renderOpenMetrics } from "../components/reports/openmetrics";
import { readStackConfig, readStackOutputs } from "./stack-config";

const ROOT = path.resolve(__dirname, "..", "..");

export function parseArgs(argv: string[]): { stack: string } {
    const stacks = argv.filter((a) => !a.startsWith("-"));
    const unknown = argv.find((a) => a.startsWith("-"));
    if (unknown) { throw new Error(`metrics: unknown option ${unknown} (usage: npm run metrics -- [STACK])`); }
    if (stacks.length > 1) { throw new Error(`metrics: one stack at a time (given: ${stacks.join(", ")})`); }
    return { stack: stacks[0] ?? "same-subnet" };
}

/** The legs' modes from the stack's config, or none (and why) when its file is gone or invalid. */
function modesOf(stack: string): Record<string, string> | undefined {
    try {
        return legModes(planLab(readStackConfig(ROOT, stack), stack));
    } catch (e) {
        console.error(`metrics: no mode label: ${(e as Error).message.split("\n")[0]}`);
        return undefined;
    }
}

if (require.main === module) {
    let stack: string;
    try {
        ({ stack } = parseArgs(process.argv.slice(2)));
    } catch (e) {
        console.error((e as Error).message);
        process.exit(2);
    }
    const res = readStackOutputs(ROOT, stack);
    if (!res.ok) {
        console.error(`metrics: cannot read stack ${stack}: ${res.reason}`);
        process.exit(1);
    }
    const legs = legsOfOutputs(res.outputs);
    if (legs.length === 0) {
        console.error(`metrics: stack ${stack} has no legs in its outputs; run \`npm run lab -- ${stack}\` first`);
        process.exit(1);
    }
    const topology = (res.outputs as { topology?: unknown }).topology;
    process.stdout.write(renderOpenMetrics({ stack, topology: typeof topology === "string" ? topology : undefined, legs, modes: modesOf(stack) }));
}
