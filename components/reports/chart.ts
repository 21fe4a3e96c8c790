// Grouped bar charts as standalone SVG text, for comparing labs side by side.
// Pure string building: no DOM, no fonts to measure, so widths are estimates
// from character counts. Every bar carries its number in data-* attributes
// so a test (or a script) can read the chart back without trusting pixels.
import type { ComparisonRow } from "./compare";
import { xmlEscape as escapeXml } from "../render/text";

export { escapeXml };

export interface Series {
    name: string;
    /** One per group; null (or a non-finite number) = not measured: no bar, an "n/a" label. */
    values: (number | null)[];
}

export interface ChartSpec {
    title: string;
    unit?: string;
    /** The x-axis groups, e.g. one per stack. */
    groups: string[];
    series: Series[];
}

/** Fixed, so a series keeps its colour from one run to the next. */
export const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"];

export const FONT = 11;
const CHAR_W = 6.5;          // average advance of an 11px sans-serif glyph
const PLOT_H = 200;
const MARGIN = { top: 34, right: 16, left: 58 };
const GROUP_GAP = 20;
const BAR_GAP = 3;


/** Integers as they are; others to 3 decimals, or 3 significant digits below 1, trailing zeros dropped. */
export function formatValue(v: number): string {
    if (Number.isInteger(v)) { return String(v); }
    return String(Math.abs(v) >= 1 ? Math.round(v * 1000) / 1000 : Number(v.toPrecision(3)));
}

/** Round tick values (1, 2, 2.5 or 5 × 10^k apart) covering [lo, hi]; always includes 0 when lo ≤ 0 ≤ hi. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
    if (!(hi > lo)) { hi = lo + 1; }
    const raw = (hi - lo) / target;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
    const first = Math.floor(lo / step + 1e-9);
    const last = Math.ceil(hi / step - 1e-9);
    const ticks: number[] = [];
    // toPrecision: 0.1 * 3 should print as 0.3, not 0.30000000000000004.
    for (let i = first; i <= last; i++) { ticks.push(Number((i * step).toPrecision(12))); }
    return ticks;
}

const measured = (v: number | null | undefined): v is number => typeof v === "number" && Number.isFinite(v);
export const textWidth = (s: string, size = FONT) => s.length * CHAR_W * (size / FONT);
/** A coordinate to one decimal. */
export const fmt = (x: number) => String(Math.round(x * 10) / 10);

interface Panel { width: number; height: number; body: string }

/** The chart's elements at (0,0), and the size they need; shared by the standalone and the panelled forms. */
function renderPanel(spec: ChartSpec): Panel {
    const values = spec.series.flatMap((s) => s.values.filter(measured));
    const ticks = niceTicks(Math.min(0, ...values), Math.max(0, ...values));
    const y0 = ticks[0], y1 = ticks[ticks.length - 1];
    const y = (v: number) => MARGIN.top + PLOT_H - ((v - y0) / (y1 - y0)) * PLOT_H;

    // Bars are as wide as their widest label, so every number stays readable.
    const labels = spec.series.flatMap((s) => s.values.map((v) => (measured(v) ? formatValue(v) : "n/a")));
    const barW = Math.max(18, ...labels.map((l) => textWidth(l, FONT - 1) + 4));
    const nSeries = Math.max(1, spec.series.length);
    const barsW = nSeries * barW + (nSeries - 1) * BAR_GAP;
    const groupW = Math.max(barsW, ...spec.groups.map((g) => textWidth(g) + 6));
    const plotW = Math.max(120, spec.groups.length * (groupW + GROUP_GAP) + GROUP_GAP);

    // The legend wraps to the plot's width; the title may widen the whole chart.
    const legendItems = spec.series.map((s) => ({ name: s.name, w: 14 + textWidth(s.name) + 16 }));
    const width = Math.ceil(Math.max(
        MARGIN.left + plotW + MARGIN.right,
        textWidth(spec.title, FONT + 2) + 20,
        MARGIN.left + Math.max(0, ...legendItems.map((i) => i.w)) + MARGIN.right,
    ));
    const legendRows: { name: string; x: number; i: number }[][] = [[]];
    let lx = 0;
    legendItems.forEach((item, i) => {
        if (lx > 0 && MARGIN.left + lx + item.w > width - MARGIN.right) { legendRows.push([]); lx = 0; }
        legendRows[legendRows.length - 1].push({ name: item.name, x: MARGIN.left + lx, i });
        lx += item.w;
    });
    const axisBottom = MARGIN.top + PLOT_H;
    const legendTop = axisBottom + 30;
    const height = Math.ceil(legendTop + legendRows.length * 16 + 8);

    const out: string[] = [];
    out.push(`<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
    out.push(`<text class="title" x="${fmt(width / 2)}" y="20" text-anchor="middle" font-size="${FONT + 2}" font-weight="bold">${escapeXml(spec.title)}</text>`);
    if (spec.unit) {
        const cy = MARGIN.top + PLOT_H / 2;
        out.push(`<text class="unit" x="14" y="${fmt(cy)}" text-anchor="middle" transform="rotate(-90 14 ${fmt(cy)})">${escapeXml(spec.unit)}</text>`);
    }
    out.push(`<g class="y-axis">`);
    for (const t of ticks) {
        out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${fmt(y(t))}" y2="${fmt(y(t))}" stroke="#e0e0e0"/>`);
        out.push(`<text class="tick" x="${MARGIN.left - 5}" y="${fmt(y(t) + 4)}" text-anchor="end" fill="#555555">${escapeXml(formatValue(t))}</text>`);
    }
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${axisBottom}" stroke="#333333"/>`);
    out.push(`</g>`);

    const base = y(0);
    spec.groups.forEach((group, gi) => {
        const gx = MARGIN.left + GROUP_GAP + gi * (groupW + GROUP_GAP);
        const bx0 = gx + (groupW - barsW) / 2;
        out.push(`<g class="group" data-group="${escapeXml(group)}">`);
        spec.series.forEach((s, si) => {
            const v = s.values[gi];
            const bx = bx0 + si * (barW + BAR_GAP);
            const cx = fmt(bx + barW / 2);
            const attrs = `data-series="${escapeXml(s.name)}" data-group="${escapeXml(group)}"`;
            if (!measured(v)) {
                out.push(`<text class="na" ${attrs} x="${cx}" y="${fmt(base - 4)}" text-anchor="middle" font-size="${FONT - 1}" fill="#888888">n/a</text>`);
                return;
            }
            const top = Math.min(y(v), base);
            const h = Math.abs(y(v) - base);
            out.push(`<rect class="bar" ${attrs} data-value="${v}" x="${fmt(bx)}" y="${fmt(top)}" width="${fmt(barW)}" height="${fmt(h)}" fill="${PALETTE[si % PALETTE.length]}"/>`);
            // Below a negative bar's end, above a positive one's.
            const ly = v < 0 ? y(v) + FONT + 2 : y(v) - 4;
            out.push(`<text class="value" ${attrs} x="${cx}" y="${fmt(ly)}" text-anchor="middle" font-size="${FONT - 1}">${formatValue(v)}</text>`);
        });
        out.push(`<text class="group-label" x="${fmt(gx + groupW / 2)}" y="${axisBottom + 16}" text-anchor="middle">${escapeXml(group)}</text>`);
        out.push(`</g>`);
    });
    out.push(`<line class="x-axis" x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${fmt(base)}" y2="${fmt(base)}" stroke="#333333"/>`);
    if (spec.groups.length === 0) {
        out.push(`<text class="empty" x="${fmt(MARGIN.left + plotW / 2)}" y="${fmt(MARGIN.top + PLOT_H / 2)}" text-anchor="middle" fill="#888888">no data</text>`);
    }

    out.push(`<g class="legend">`);
    legendRows.forEach((row, ri) => {
        const ly = legendTop + ri * 16;
        for (const item of row) {
            out.push(`<rect x="${fmt(item.x)}" y="${ly - 9}" width="10" height="10" fill="${PALETTE[item.i % PALETTE.length]}"/>`);
            out.push(`<text x="${fmt(item.x + 14)}" y="${ly}">${escapeXml(item.name)}</text>`);
        }
    });
    out.push(`</g>`);
    return { width, height, body: out.join("\n") };
}

export const XML_DECL = `<?xml version="1.0" encoding="UTF-8"?>`;
export const svgOpen = (width: number, height: number, extra = "") =>
    `<svg xmlns="http://www.w3.org/2000/svg"${extra} width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${FONT}">`;

/** A standalone SVG document: grouped vertical bars, one group per `groups` entry, one bar per series. */
export function groupedBarChart(spec: ChartSpec): string {
    const p = renderPanel(spec);
    return [XML_DECL, svgOpen(p.width, p.height), p.body, `</svg>`, ""].join("\n");
}

/** The panels comparisonCharts draws, in order; each panel's `id` is its nested <svg>'s data-chart. */
export function comparisonChartSpecs(rows: ComparisonRow[]): (ChartSpec & { id: string })[] {
    const groups = rows.map((r) => r.stack);
    const one = (id: string, title: string, unit: string, name: string, pick: (r: ComparisonRow) => number | null) =>
        ({ id, title, unit, groups, series: [{ name, values: rows.map(pick) }] });
    return [
        one("migration-time", "Migration time (median)", "ms", "total time", (r) => r.totalTimeMs),
        one("downtime", "Downtime as libvirt reports it (median)", "ms", "downtime", (r) => r.downtimeMs),
        {
            id: "probe-lost", title: "Pings lost during a leg (median)", unit: "pings", groups,
            series: [
                { name: "probe @10 ms", values: rows.map((r) => r.probeLost) },
                { name: "guest to outside", values: rows.map((r) => r.guestPingsLost) },
            ],
        },
        {
            id: "throughput", title: "Migration vs plain TCP throughput (median)", unit: "MB/s", groups,
            series: [
                { name: "migration", values: rows.map((r) => r.throughputMBs) },
                { name: "plain TCP", values: rows.map((r) => r.plainMBs) },
            ],
        },
        one("ratio", "Migration ÷ plain throughput (median)", "ratio", "ratio", (r) => r.ratio),
    ];
}

/**
 * One standalone SVG document holding every comparison panel (see comparisonChartSpecs), two to a row.
 * Groups are stack names: two stacks may share a topology, a stack name is unique.
 */
export function comparisonCharts(rows: ComparisonRow[], title = "miglab: migration comparison"): string {
    return panelledCharts(comparisonChartSpecs(rows), title);
}

/**
 * Several grouped bar charts in one standalone SVG document, two to a row, under one title.
 * Each panel is a nested <svg class="panel" data-chart="id">, so it can be read back on its own.
 */
export function panelledCharts(specs: (ChartSpec & { id: string })[], title: string): string {
    const COLS = 2, GAP = 12, HEAD = 36;
    const panels = specs.map((s) => ({ id: s.id, ...renderPanel(s) }));
    const colW = Array.from({ length: COLS }, (_, c) => Math.max(0, ...panels.filter((_, i) => i % COLS === c).map((p) => p.width)));
    const rowH: number[] = [];
    panels.forEach((p, i) => { const r = Math.floor(i / COLS); rowH[r] = Math.max(rowH[r] ?? 0, p.height); });
    const width = Math.ceil(Math.max(GAP + colW.reduce((a, b) => a + b + GAP, 0), textWidth(title, 16) + 2 * GAP));
    const height = HEAD + rowH.reduce((a, b) => a + b + GAP, 0);

    const out = [XML_DECL, svgOpen(width, height), `<rect x="0" y="0" width="${width}" height="${height}" fill="#f4f4f4"/>`,
        `<text class="title" x="${GAP}" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`];
    panels.forEach((p, i) => {
        const c = i % COLS, r = Math.floor(i / COLS);
        const x = GAP + colW.slice(0, c).reduce((a, b) => a + b + GAP, 0);
        const y = HEAD + rowH.slice(0, r).reduce((a, b) => a + b + GAP, 0);
        out.push(`<svg class="panel" data-chart="${escapeXml(p.id)}" x="${x}" y="${y}" width="${p.width}" height="${p.height}" viewBox="0 0 ${p.width} ${p.height}">`, p.body, `</svg>`);
    });
    out.push(`</svg>`, "");
    return out.join("\n");
}
