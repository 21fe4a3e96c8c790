// The A/B comparison of two checkouts' legs, measured side by side in one run on one machine
// (`npm run bench -- ab <ref>`): absolute times move from machine to machine, so a change is
// judged only against the other version's legs measured beside it, never against README's.
import { LegMetrics, Spread, spread } from "./metrics";
import { textTable } from "./table";

/** One figure the A/B bench compares, and which way is better. */
export interface AbFigure {
    key: string;
    label: string;
    better: "lower" | "higher";
    of: (l: LegMetrics) => number;
}

/** libvirt's own transfer rate over the plain transfer of the same path in the same leg. */
export function libvirtRateRatio(l: LegMetrics): number {
    return l.plainMBs > 0 ? l.memoryBps / 1e6 / l.plainMBs : NaN;
}

/** What the A/B bench prints, in order. Phases are null on a leg without a timeline: left out (NaN). */
export const AB_FIGURES: AbFigure[] = [
    { key: "totalTimeMs", label: "libvirt total ms", better: "lower", of: (l) => l.totalTimeMs },
    { key: "downtimeMs", label: "downtime ms", better: "lower", of: (l) => l.downtimeMs },
    { key: "rateRatio", label: "libvirt rate ÷ plain", better: "higher", of: libvirtRateRatio },
    { key: "ratio", label: "end-to-end ratio", better: "higher", of: (l) => l.ratio },
    { key: "wallClockMs", label: "virsh migrate wall ms", better: "lower", of: (l) => l.wallClockMs },
    { key: "probeLost", label: "probe lost", better: "lower", of: (l) => l.probe?.lost ?? l.guestPing?.lost ?? NaN },
    { key: "preparationMs", label: "preparation ms", better: "lower", of: (l) => l.phases?.preparationMs ?? NaN },
    { key: "finishMs", label: "finish ms", better: "lower", of: (l) => l.phases?.finishMs ?? NaN },
];

export type AbVerdict = "worse" | "better" | "within spread" | "n/a";

export interface AbRow {
    figure: AbFigure;
    new: Spread;
    old: Spread;
    /** new median ÷ old median */
    ratio: number;
    verdict: AbVerdict;
}

/**
 * "Worse beyond the spread": the new median lies past every old leg on the worse side (and
 * "better" the same way round). A difference inside the old version's own spread is what the
 * machine does from leg to leg, not what the change did.
 */
export function verdictOf(better: AbFigure["better"], n: Spread, o: Spread): AbVerdict {
    if (![n.median, o.min, o.max].every(Number.isFinite)) { return "n/a"; }
    const worse = better === "lower" ? n.median > o.max : n.median < o.min;
    const improved = better === "lower" ? n.median < o.min : n.median > o.max;
    return worse ? "worse" : improved ? "better" : "within spread";
}

export function abRows(newLegs: LegMetrics[], oldLegs: LegMetrics[], figures = AB_FIGURES): AbRow[] {
    return figures.map((figure) => {
        const n = spread(newLegs.map(figure.of));
        const o = spread(oldLegs.map(figure.of));
        return { figure, new: n, old: o, ratio: o.median ? Math.round(n.median / o.median * 1000) / 1000 : NaN, verdict: verdictOf(figure.better, n, o) };
    });
}

/** The figures the current code is worse in, beyond the spread: the bench exits non-zero on any. */
export function regressions(rows: AbRow[]): AbRow[] { return rows.filter((r) => r.verdict === "worse"); }

function cell(s: Spread): string {
    if (!Number.isFinite(s.median)) { return "-"; }
    const f = (x: number) => (Math.abs(x) >= 100 ? String(Math.round(x)) : String(Math.round(x * 1000) / 1000));
    return `${f(s.median)} (${f(s.min)}-${f(s.max)})`;
}

/** The A/B table: median (min-max) of each side, new ÷ old, and the verdict. */
export function abTable(rows: AbRow[], names: { new: string; old: string }): string {
    return textTable(["figure", `new: ${names.new}`, `old: ${names.old}`, "new ÷ old", "verdict"],
        rows.map((r) => [r.figure.label, cell(r.new), cell(r.old), Number.isFinite(r.ratio) ? r.ratio.toFixed(3) : "-", r.verdict]));
}

/**
 * The order of the two sides in each round: new, old, then old, new (ABBA), so a machine that
 * drifts during the run (a cache warming, a neighbour starting) weighs on both sides alike.
 */
export function abOrder(rounds: number): ("new" | "old")[] {
    const out: ("new" | "old")[] = [];
    for (let i = 0; i < rounds; i++) { out.push(...(i % 2 === 0 ? ["new", "old"] as const : ["old", "new"] as const)); }
    return out;
}
