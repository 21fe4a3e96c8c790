// A measured leg judged against its migration's SLA (the `sla` bounds of the config): which
// bounds it broke, with the figure and the value, and the one line `pulumi up` fails with.
import type { SlaConfig } from "../model/types";
import type { LegMetrics, LegOutcome } from "./metrics";

export type SlaBound = keyof SlaConfig;

/** One bound a leg broke. */
export interface SlaBreach {
    bound: SlaBound;
    /** The bound's value in the config. */
    limit: number;
    /** The leg's figure the bound is on, as the outputs name it (e.g. downtimeMs, probe.lost). */
    figure: string;
    /** What the leg measured; null: the leg has no such figure, which breaks the bound (it cannot show it met it). */
    value: number | null;
}

/** A leg's verdict, kept in the outputs beside its figures. */
export interface SlaResult {
    passed: boolean;
    /** The bounds the leg was judged by (the lab's, overridden by its migration's own). */
    bounds: SlaConfig;
    broken: SlaBreach[];
}

interface Check {
    figure: string;
    /** max: the figure may be at most the bound; min: at least. */
    side: "max" | "min";
    value: (l: LegMetrics) => number | null | undefined;
}

/** The bounds on a drain as a whole (components/reports/drain.ts judges them), not on one leg. */
export const DRAIN_BOUNDS = ["maxDrainMs"] as const;
export type LegSlaBound = Exclude<SlaBound, typeof DRAIN_BOUNDS[number]>;

// Keyed by every leg bound the schema has, so a bound added there without a check does not compile.
const CHECKS: Record<LegSlaBound, Check> = {
    maxDowntimeMs: { figure: "downtimeMs", side: "max", value: (l) => l.downtimeMs },
    maxTotalMs: { figure: "totalTimeMs", side: "max", value: (l) => l.totalTimeMs },
    maxProbeLost: { figure: "probe.lost", side: "max", value: (l) => l.probe?.lost },
    maxNetworkRecoveryMs: { figure: "phases.networkRecoveryMs", side: "max", value: (l) => l.phases?.networkRecoveryMs },
    minRatio: { figure: "ratio", side: "min", value: (l) => l.ratio },
};

/**
 * A measured leg against `bounds`: a figure equal to its bound meets it. A figure the leg lacks
 * (null, or not a number) breaks its bound: the config's rules refuse bounds a lab can never
 * measure (a probe's figures behind NAT, network recovery without a timeline), so a missing
 * figure means this leg lost it (e.g. no reply to the probe after the guest resumed), and the
 * next `pulumi up` measures again.
 */
export function judgeSla(leg: LegMetrics, bounds: SlaConfig): SlaResult {
    const broken: SlaBreach[] = [];
    for (const bound of Object.keys(CHECKS) as LegSlaBound[]) {
        const limit = bounds[bound];
        if (limit === undefined) { continue; }
        const c = CHECKS[bound];
        const v = c.value(leg);
        const value = typeof v === "number" && Number.isFinite(v) ? v : null;
        if (value === null || (c.side === "max" ? value > limit : value < limit)) {
            broken.push({ bound, limit, figure: c.figure, value });
        }
    }
    return { passed: broken.length === 0, bounds, broken };
}

/** A leg with a verdict that broke its SLA (outputs of any age: a leg without one is not). */
export function brokeSla(l: LegOutcome | Partial<LegMetrics>): boolean {
    return (l as { sla?: { passed?: unknown } }).sla?.passed === false;
}

/** The one line a broken bound fails `pulumi up` with: the leg, the figure, the bound and the value measured. */
export function slaBreachLine(leg: Pick<LegOutcome, "leg" | "from" | "to">, b: SlaBreach): string {
    const side = CHECKS[b.bound as LegSlaBound]?.side ?? (b.bound.startsWith("min") ? "min" : "max");
    const what = b.value === null ? `${b.figure} not measured (${b.bound} ${b.limit})` : `${b.figure} ${b.value} ${side === "max" ? ">" : "<"} ${b.bound} ${b.limit}`;
    return `leg ${leg.leg} (${leg.from} -> ${leg.to}) breaks its SLA: ${what}`;
}

/** Every broken bound of the legs, one line each, in the legs' order. */
export function slaBreachLines(legs: LegOutcome[]): string[] {
    return legs.flatMap((l) => (brokeSla(l) ? ((l as LegMetrics).sla?.broken ?? []).map((b) => slaBreachLine(l, b)) : []));
}
