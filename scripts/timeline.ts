// `npm run timeline`: draws each measured leg of a stack as an SVG (components/reports/timelineChart.ts).
// Reads the stack's outputs only (`pulumi stack output`), or a leg's raw output (--raw); never builds a lab.
import * as fs from "fs";
import * as path from "path";
import { LegOutcome, isFailed, parseLeg, sections } from "../components/reports/metrics";
import { legTimelineChart } from "../components/reports/timelineChart";
import { readStackOutputs } from "./stack-config";

const ROOT = path.resolve(__dirname, "..", "..");

/** The committed examples docs/outputs.md shows, each drawn from a captured real leg. */
export const DOC_EXAMPLES = [
    { raw: "test/fixtures/leg-precopy.txt", svg: "docs/timeline-precopy.svg", leg: "out", from: "pc1", to: "pc2" },
    { raw: "test/fixtures/leg-postcopy.txt", svg: "docs/timeline-postcopy.svg", leg: "out", from: "pc1", to: "pc2" },
];

export interface TimelineArgs { stack: string; out: string; raw?: string; svg?: string; docs: boolean }

export function parseArgs(argv: string[]): TimelineArgs {
    const a: TimelineArgs = { stack: "same-subnet", out: "timelines", docs: false };
    const value = (i: number, flag: string) => {
        const v = argv[i];
        if (!v || v.startsWith("-")) { throw new Error(`timeline: ${flag} needs a value`); }
        return v;
    };
    for (let i = 0; i < argv.length; i++) {
        const x = argv[i];
        if (x === "--out") { a.out = value(++i, "--out"); }
        else if (x === "--raw") { a.raw = value(++i, "--raw"); }
        else if (x === "--svg") { a.svg = value(++i, "--svg"); }
        else if (x === "--docs") { a.docs = true; }
        else if (x.startsWith("-")) { throw new Error(`timeline: unknown option ${x} (known: --out DIR, --raw FILE --svg FILE, --docs)`); }
        else { a.stack = x; }
    }
    if ((a.raw === undefined) !== (a.svg === undefined)) { throw new Error("timeline: --raw FILE and --svg FILE go together"); }
    return a;
}

/** A file name for a leg's chart: the stack and the leg, nothing a path could misread. */
export function chartFile(stack: string, leg: string): string {
    return `${stack}-${leg}`.replace(/[^A-Za-z0-9._-]/g, "_") + ".svg";
}

/** The chart of one leg's raw output (the leg's name and hosts as the raw output cannot say them). */
export function rawChart(text: string, leg = "leg", from = "source", to = "destination", stack?: string): string {
    const guest = sections(text).get("timeline-guest")?.trim() || undefined;
    const chart = legTimelineChart({ ...parseLeg(leg, from, to, text), guest }, stack);
    if (!chart) { throw new Error("timeline: that leg's output holds no timeline (it ran with timelineIntervalMs: 0, or before timelines existed)"); }
    return chart;
}

/** A committed example, drawn from its captured leg. */
export function docChart(d: (typeof DOC_EXAMPLES)[number]): string {
    return rawChart(fs.readFileSync(path.join(ROOT, d.raw), "utf8"), d.leg, d.from, d.to, "same-subnet");
}

/** Writes a picture, its folder made if need be, and prints its path. */
export function write(file: string, svg: string): void {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, svg);
    console.log(path.resolve(file));
}

if (require.main === module) {
    let args: TimelineArgs;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (e) {
        console.error((e as Error).message);
        process.exit(2);
    }
    if (args.docs) {
        for (const d of DOC_EXAMPLES) { write(path.join(ROOT, d.svg), docChart(d)); }
        process.exit(0);
    }
    if (args.raw && args.svg) {
        write(args.svg, rawChart(fs.readFileSync(args.raw, "utf8")));
        process.exit(0);
    }
    const res = readStackOutputs(ROOT, args.stack);
    if (!res.ok) {
        console.error(`timeline: cannot read stack ${args.stack}: ${res.reason}`);
        process.exit(1);
    }
    const legs = ((res.outputs as { legs?: LegOutcome[] }).legs ?? []);
    if (legs.length === 0) {
        console.error(`timeline: stack ${args.stack} has no legs in its outputs; run \`npm run lab -- ${args.stack}\` first`);
        process.exit(1);
    }
    let drawn = 0;
    for (const l of legs) {
        if (isFailed(l)) { console.error(`timeline: leg ${l.leg} failed (${l.failed}): nothing to draw`); continue; }
        const svg = legTimelineChart(l, args.stack);
        if (!svg) { console.error(`timeline: leg ${l.leg} kept no timeline (migration.timelineIntervalMs: 0)`); continue; }
        write(path.join(args.out, chartFile(args.stack, l.leg)), svg);
        drawn++;
    }
    process.exit(drawn > 0 ? 0 : 1);
}
