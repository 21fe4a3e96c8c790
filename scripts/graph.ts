// `npm run graph [-- STACK] [--out DIR] [--docs]`: STACK's lab (default same-subnet) as an SVG
// picture and a Mermaid text (components/reports/labGraph.ts, labSvg.ts, labMermaid.ts), written
// to DIR (default graphs/), paths printed. Drawn from the stack's config, so it works before
// `pulumi up`; once the stack has outputs, with its measured legs and its guests where they are.
// --docs redraws the shipped stacks' pictures in docs/ (from their config alone, so they do not
// change with one machine's figures).
import * as path from "path";
import { planLab } from "../components/model/plan";
import { labGraph } from "../components/reports/labGraph";
import { labMermaid } from "../components/reports/labMermaid";
import { labSvg } from "../components/reports/labSvg";
import { LegOutcome } from "../components/reports/metrics";
import { legsOfOutputs } from "../components/reports/openmetrics";
import { readStackConfig, readStackOutputs } from "./stack-config";
import { write } from "./timeline";

const ROOT = path.resolve(__dirname, "..", "..");

/** The stacks docs/outputs.md shows, drawn into docs/lab-<stack>.svg and .mmd by --docs. */
export const DOC_STACKS = ["same-subnet", "nat", "bridged"];

export interface GraphArgs { stack: string; out: string; docs: boolean }

export function parseArgs(argv: string[]): GraphArgs {
    const a: GraphArgs = { stack: "same-subnet", out: "graphs", docs: false };
    for (let i = 0; i < argv.length; i++) {
        const x = argv[i];
        if (x === "--out") {
            const v = argv[++i];
            if (!v || v.startsWith("-")) { throw new Error("graph: --out needs a directory"); }
            a.out = v;
        } else if (x === "--docs") { a.docs = true; }
        else if (x.startsWith("-")) { throw new Error(`graph: unknown option ${x} (known: --out DIR, --docs)`); }
        else { a.stack = x; }
    }
    return a;
}

/** The stack's picture, as SVG and Mermaid text, from its config and the legs given. */
export function drawStack(stack: string, legs?: LegOutcome[]): { svg: string; mermaid: string } {
    const g = labGraph(planLab(readStackConfig(ROOT, stack), stack), legs);
    return { svg: labSvg(g), mermaid: labMermaid(g) };
}

/** The stack's measured legs, or why there are none (no state yet, never measured, no pulumi). */
function measuredLegs(stack: string): { legs?: LegOutcome[]; why?: string } {
    const res = readStackOutputs(ROOT, stack);
    if (!res.ok) { return { why: res.reason }; }
    const legs = legsOfOutputs(res.outputs);
    return legs.length ? { legs } : { why: "no legs in its outputs yet" };
}

if (require.main === module) {
    let args: GraphArgs;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (e) {
        console.error((e as Error).message);
        process.exit(2);
    }
    try {
        if (args.docs) {
            for (const s of DOC_STACKS) {
                const d = drawStack(s);
                write(path.join(ROOT, "docs", `lab-${s}.svg`), d.svg);
                write(path.join(ROOT, "docs", `lab-${s}.mmd`), d.mermaid);
            }
            process.exit(0);
        }
        readStackConfig(ROOT, args.stack); // a stack with no config file is said first, before its outputs are asked for
        const m = measuredLegs(args.stack);
        if (m.why) { console.error(`graph: stack ${args.stack} drawn from its config alone: ${m.why}`); }
        const d = drawStack(args.stack, m.legs);
        const base = path.join(args.out, args.stack.replace(/[^A-Za-z0-9._-]/g, "_"));
        write(`${base}.svg`, d.svg);
        write(`${base}.mmd`, d.mermaid);
    } catch (e) {
        console.error(`graph: ${(e as Error).message}`);
        process.exit(1);
    }
}
