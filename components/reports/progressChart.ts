// Post-copy's variants against the guest's own progress: per case (a dirty rate, a cap) one
// panel, each leg's work since the switch over one time axis aligned at the switch, with the
// line an unmigrated guest would have drawn. The work is counted in seconds of the leg's own
// pace before the switch (progress.ts), so every leg's unmigrated line is the same diagonal
// and the gap below it is the work lost, whatever pace the emulator gave that leg. Pure string
// building in the style of chart.ts; each curve carries its leg and figures in data-* attributes, so a test reads the picture back.
import { FONT, PALETTE, XML_DECL, escapeXml, fmt, formatValue, niceTicks, svgOpen, textWidth } from "./chart";
import type { LegMetrics } from "./metrics";
import { alignedProgress, progressFigures } from "./progress";

export interface VariantCurve {
    /** The variant (the legend's name; one colour per name across panels). */
    variant: string;
    /** The leg's name (out, back): the second and later legs of a variant are drawn dashed. */
    leg: string;
    /** [ms since the switch, work since the switch (in the unit the leg's pace is in)] */
    points: [number, number][];
    /** The last page, ms since the switch: marked on the curve. */
    lastPageMs: number;
    /** The guest's pace just before the switch (work per second): its work is drawn in seconds of it. */
    pace: number;
}

export interface VariantsPanel { title: string; curves: VariantCurve[] }

/**
 * The post-copy legs of measured cases as panels: one per title (a dirty rate and cap), in the
 * order the titles first come; a leg that did not switch (it completed in pre-copy first) or
 * kept no progress stream has no curve, and a panel without curves is left out.
 */
export function progressPanels(cases: { title: string; variant: string; legs: LegMetrics[] }[]): VariantsPanel[] {
    const panels: VariantsPanel[] = [...new Set(cases.map((c) => c.title))].map((title) => ({ title, curves: [] }));
    for (const c of cases) {
        for (const l of c.legs) {
            const a = l.timeline && l.postcopy ? alignedProgress(l.timeline) : null;
            const f = l.timeline ? progressFigures(l.timeline) : null;
            if (!a || !f) { continue; }
            panels.find((p) => p.title === c.title)!.curves.push({ variant: c.variant, leg: l.leg, points: a.points, lastPageMs: f.lastPageMs - f.switchMs, pace: f.pace });
        }
    }
    return panels.filter((p) => p.curves.length > 0);
}

const WIDTH = 960;
const M = { left: 64, right: 20, top: 48 };
const PLOT_W = WIDTH - M.left - M.right;
const PANEL_H = 180, GAP = 70;
/** How much of the pre-copy before the switch is drawn (ms). */
export const LEAD_MS = 3000;
const REFERENCE = "#888888";

/**
 * The SVG document: one panel per case, the variants' curves aligned at the switch (t = 0).
 * `order`: the variants' colours and legend in this order (e.g. the grid's), whichever panel
 * has which; by default as they first come.
 */
export function variantsProgressChart(panels: VariantsPanel[], title: string, order: string[] = []): string {
    const variants = [...new Set([...order, ...panels.flatMap((p) => p.curves.map((c) => c.variant))])];
    const colour = (v: string) => PALETTE[variants.indexOf(v) % PALETTE.length];
    const allT = panels.flatMap((p) => p.curves.flatMap((c) => c.points.map(([t]) => t)));
    const ticks = niceTicks(Math.max(-LEAD_MS, Math.min(0, ...allT)), Math.max(1000, ...allT), 12);
    const tA = ticks[0], tB = ticks[ticks.length - 1];
    const x = (t: number) => M.left + ((t - tA) / (tB - tA)) * PLOT_W;
    const inAxis = ([t]: [number, number]) => t >= tA && t <= tB;

    const out: string[] = [];
    let top = M.top + 30;
    for (const panel of panels) {
        // Work in seconds of the leg's pace: an unmigrated guest does one second of it per second.
        const visible = panel.curves.map((c) => c.points.filter(inAxis).map(([t, w]): [number, number] => [t, w / c.pace]));
        const ref = (t: number) => t / 1000;
        const values = [...visible.flatMap((ps) => ps.map(([, v]) => v)), ref(tA), ref(tB)];
        const yt = niceTicks(Math.min(0, ...values), Math.max(0, ...values), 5);
        const y0 = yt[0], y1 = yt[yt.length - 1];
        const y = (v: number) => top + PANEL_H - ((v - y0) / (y1 - y0)) * PANEL_H;
        out.push(`<g class="panel" data-panel="${escapeXml(panel.title)}">`);
        out.push(`<text class="panel-title" x="${M.left}" y="${top - 10}" font-weight="bold">${escapeXml(panel.title)}</text>`);
        for (const t of yt) {
            out.push(`<line x1="${M.left}" x2="${M.left + PLOT_W}" y1="${fmt(y(t))}" y2="${fmt(y(t))}" stroke="#e0e0e0"/>`);
            out.push(`<text class="tick" x="${M.left - 5}" y="${fmt(y(t) + 4)}" text-anchor="end" fill="#555555">${escapeXml(formatValue(t))}</text>`);
        }
        const cy = top + PANEL_H / 2;
        out.push(`<text class="unit" x="14" y="${fmt(cy)}" text-anchor="middle" transform="rotate(-90 14 ${fmt(cy)})">s of work since the switch</text>`);
        // The switch, and the unmigrated guest: its pace before the switch, kept up.
        out.push(`<line class="switch" x1="${fmt(x(0))}" x2="${fmt(x(0))}" y1="${top}" y2="${top + PANEL_H}" stroke="#b07aa1" stroke-dasharray="4 3"/>`);
        out.push(`<line class="unmigrated" x1="${fmt(x(tA))}" y1="${fmt(y(ref(tA)))}" x2="${fmt(x(tB))}" y2="${fmt(y(ref(tB)))}" stroke="${REFERENCE}" stroke-width="1" stroke-dasharray="2 3"/>`);
        const seen = new Set<string>();
        panel.curves.forEach((c, i) => {
            const pts = visible[i];
            if (pts.length === 0) { return; }
            const again = seen.has(c.variant);
            seen.add(c.variant);
            out.push(`<polyline class="curve" data-variant="${escapeXml(c.variant)}" data-leg="${escapeXml(c.leg)}" data-last-page="${c.lastPageMs}" data-pace="${c.pace}" data-points="${pts.length}" ` +
                `points="${pts.map(([t, v]) => `${fmt(x(t))},${fmt(y(v))}`).join(" ")}" fill="none" stroke="${colour(c.variant)}" stroke-width="1.5"${again ? ` stroke-dasharray="5 3"` : ""}/>`);
            // The last page, on the curve: from here the guest depends on its source no more.
            const at = pts.reduce((best, p) => (Math.abs(p[0] - c.lastPageMs) < Math.abs(best[0] - c.lastPageMs) ? p : best), pts[0]);
            {
                out.push(`<circle class="last-page" data-variant="${escapeXml(c.variant)}" data-leg="${escapeXml(c.leg)}" data-ms="${c.lastPageMs}" cx="${fmt(x(at[0]))}" cy="${fmt(y(at[1]))}" r="3.5" fill="${colour(c.variant)}"/>`);
            }
        });
        if (visible.every((ps) => ps.length === 0)) {
            out.push(`<text class="empty" x="${fmt(M.left + PLOT_W / 2)}" y="${fmt(cy)}" text-anchor="middle" fill="#888888">no progress recorded</text>`);
        }
        out.push(`<line x1="${M.left}" x2="${M.left}" y1="${top}" y2="${top + PANEL_H}" stroke="#333333"/>`);
        // Its own time axis, so each panel reads alone.
        const bottom = top + PANEL_H;
        out.push(`<line x1="${M.left}" x2="${M.left + PLOT_W}" y1="${bottom}" y2="${bottom}" stroke="#333333"/>`);
        for (const t of ticks) {
            out.push(`<line x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${bottom}" y2="${bottom + 4}" stroke="#333333"/>`);
            out.push(`<text class="tick" x="${fmt(x(t))}" y="${bottom + 16}" text-anchor="middle" fill="#555555">${escapeXml(formatValue(t))}</text>`);
        }
        out.push(`</g>`);
        top += PANEL_H + GAP;
    }
    const bottom = top - GAP;
    out.push(`<text class="unit" x="${fmt(M.left + PLOT_W / 2)}" y="${bottom + 34}" text-anchor="middle">ms since the post-copy switch</text>`);

    // One legend for all panels: the variants' colours, the second leg's dash, the reference and the marks.
    const legend: string[] = [];
    let lx = M.left;
    const item = (draw: string, label: string) => {
        legend.push(draw.replace(/\bLX\b/g, fmt(lx)).replace(/\bLX2\b/g, fmt(lx + 18)), `<text x="${fmt(lx + 22)}" y="${M.top + 4}">${escapeXml(label)}</text>`);
        lx += 22 + textWidth(label) + 18;
    };
    for (const v of variants) { item(`<line x1="LX" x2="LX2" y1="${M.top}" y2="${M.top}" stroke="${colour(v)}" stroke-width="2"/>`, v); }
    item(`<line x1="LX" x2="LX2" y1="${M.top}" y2="${M.top}" stroke="#333333" stroke-width="1.5" stroke-dasharray="5 3"/>`, "second leg (back)");
    item(`<line x1="LX" x2="LX2" y1="${M.top}" y2="${M.top}" stroke="${REFERENCE}" stroke-dasharray="2 3"/>`, "unmigrated guest at its pace before the switch");
    item(`<circle cx="LX" cy="${M.top}" r="3.5" fill="#333333"/>`, "last page");
    const height = Math.ceil(bottom + 48);
    return [XML_DECL, svgOpen(WIDTH, height),
        `<rect class="background" x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
        `<text class="title" x="${M.left}" y="22" font-size="${FONT + 3}" font-weight="bold">${escapeXml(title)}</text>`,
        `<g class="legend">`, ...legend, `</g>`,
        `<g class="plot" data-t0="${tA}" data-t1="${tB}" data-x0="${M.left}" data-x1="${M.left + PLOT_W}">`, ...out, `</g>`,
        `</svg>`, ""].join("\n");
}
