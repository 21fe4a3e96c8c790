// `npm run capture -- STACK LEG`: where a leg's pcap is, and its summary (components/reports/capture.ts),
// read from the stack's outputs (`pulumi stack output`); never builds a lab.
import * as fs from "fs";
import * as path from "path";
import { captureLocation, captureText } from "../components/reports/capture";
import { LegMetrics, LegOutcome, isFailed } from "../components/reports/metrics";
import { readStackOutputs } from "./stack-config";

const ROOT = path.resolve(__dirname, "..", "..");

export interface CaptureArgs { stack: string; leg?: string }

export function parseArgs(argv: string[]): CaptureArgs {
    const words = argv.filter((a) => {
        if (a.startsWith("-")) { throw new Error(`capture: unknown option ${a} (usage: npm run capture -- STACK [LEG])`); }
        return true;
    });
    if (words.length < 1 || words.length > 2) { throw new Error("usage: npm run capture -- STACK [LEG]"); }
    return { stack: words[0], leg: words[1] };
}

/**
 * What the command prints for a stack's legs: the leg's file and summary, or (no leg named) the
 * legs that captured; `here` tells whether a path is a file on this machine (the local site's
 * captures are). Throws with the reason when there is nothing to show.
 */
export function show(stack: string, legs: LegOutcome[], leg: string | undefined, here: (file: string) => boolean): string {
    const captured = legs.filter((l): l is LegMetrics => !isFailed(l) && !!l.capture);
    if (leg === undefined) {
        if (captured.length === 0) { throw new Error(`capture: no leg of stack ${stack} captured; set capture: true on its migration and run npm run lab -- ${stack}`); }
        return captured.map((l) => `${l.leg}  (${l.from} -> ${l.to})  ${captureLocation(l.capture!, here(l.capture!.file))}`).join("\n");
    }
    const l = legs.find((x) => x.leg === leg);
    if (!l) { throw new Error(`capture: stack ${stack} has no leg '${leg}' (its legs: ${legs.map((x) => x.leg).join(", ") || "none"})`); }
    if (isFailed(l)) { throw new Error(`capture: leg ${leg} failed (${l.failed}); its capture until then stays where the leg said`); }
    if (!l.capture) { throw new Error(`capture: leg ${leg} did not capture; set capture: true on its migration and run npm run lab -- ${stack}`); }
    const c = l.capture;
    const local = here(c.file);
    const started = Date.parse(l.startedAt) / 1000;
    return [
        local ? c.file : `${captureLocation(c, false)}  (on ${c.node}: scp it from there)`,
        `open it with: tshark -r ${path.basename(c.file)} -d udp.port==4789,vxlan   (or Wireshark)`,
        "",
        captureText(c, { leg: l.leg, from: l.from, to: l.to, startedAt: Number.isFinite(started) ? started : undefined, tunnelForwardedPackets: l.tunnelForwardedPackets }),
    ].join("\n");
}

if (require.main === module) {
    let args: CaptureArgs;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (e) {
        console.error((e as Error).message);
        process.exit(2);
    }
    const res = readStackOutputs(ROOT, args.stack);
    if (!res.ok) {
        console.error(`capture: cannot read stack ${args.stack}: ${res.reason}`);
        process.exit(1);
    }
    try {
        console.log(show(args.stack, (res.outputs as { legs?: LegOutcome[] }).legs ?? [], args.leg, (f) => fs.existsSync(f)));
    } catch (e) {
        console.error((e as Error).message);
        process.exit(1);
    }
}
