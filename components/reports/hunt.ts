// The emulator hunt's report (`npm run bench -- hunt`): per emulator and case, how many legs
// left the guest damaged or silent, and what the downtime target gave.
import { spread } from "./metrics";
import { textTable } from "./table";

export interface HuntLeg {
    outcome: "ok" | "damaged" | "silent" | "failed";
    downtimeMs?: number;
    totalTimeMs?: number;
    why?: string;
    load: number;
}

export interface HuntCase { targetMs: number; dirtyMiBs: number; legs: HuntLeg[] }

export interface HuntRun {
    emulator: { qemu: string; libvirt: string };
    /** busy loops run beside the lab (bench hunt --burn), to hunt at another hunt's load */
    burn?: number;
    load: [number, number];
    cases: HuntCase[];
}

/** Downtime beyond target + this is "over": QEMU's estimate of the pause is allowed that slack. */
export const HUNT_SLACK_MS = 50;

/** The machine's load over a case's legs (each leg's up records it): cases of one hunt differ. */
function loadRange(legs: HuntLeg[]): string {
    const l = legs.map((x) => x.load).filter(Number.isFinite);
    return l.length ? `${Math.min(...l).toFixed(1)}-${Math.max(...l).toFixed(1)}` : "-";
}

export function huntRows(run: HuntRun): string[][] {
    return run.cases.map((c) => {
        const count = (o: HuntLeg["outcome"]) => c.legs.filter((l) => l.outcome === o).length;
        const measured = c.legs.filter((l) => l.downtimeMs !== undefined);
        const d = spread(measured.map((l) => l.downtimeMs!));
        const t = spread(measured.map((l) => l.totalTimeMs!));
        const over = measured.filter((l) => l.downtimeMs! > c.targetMs + HUNT_SLACK_MS).length;
        const f = (x: number) => (Number.isFinite(x) ? String(Math.round(x)) : "-");
        return [`${run.emulator.qemu} / ${run.emulator.libvirt}${run.burn ? ` + ${run.burn} busy loops` : ""}`, String(c.targetMs), String(c.dirtyMiBs), String(c.legs.length),
            String(count("damaged")), String(count("silent")), String(count("failed")),
            `${f(d.median)} (${f(d.min)}-${f(d.max)})`, `${over}/${measured.length}`, `${f(t.median)} (${f(t.min)}-${f(t.max)})`,
            loadRange(c.legs)];
    });
}

export function huntTable(runs: HuntRun[]): string {
    return textTable(["emulator", "target ms", "dirty MiB/s", "legs", "damaged", "silent", "failed", "downtime ms", "over", "total ms", "load"],
        runs.flatMap(huntRows));
}
