// One leg's timeline as a standalone SVG: libvirt's job statistics, the guest's own progress and
// the probe's replies over one time axis, with the leg's phases and marks (post-copy switch,
// pause, resume) drawn across. Pure string building, in the style of chart.ts; the marks and
// phases carry their times in data-* attributes, so a test can read the picture back.
import { FONT, PALETTE, XML_DECL, escapeXml, fmt, formatValue, niceTicks, svgOpen, textWidth } from "./chart";
import { LegMetrics } from "./metrics";
import { CompactTimeline, LegPhases, expandTimeline, legPhases } from "./timeline";

export interface TimelineChartSpec {
    title: string;
    /** A line under the title (the leg's headline figures). */
    subtitle?: string;
    timeline: CompactTimeline;
    /** libvirt's downtime for the leg, shown beside the pause the events give. */
    downtimeMs?: number;
}

const WIDTH = 960;
const M = { left: 64, right: 20, top: 64 };
const PLOT_W = WIDTH - M.left - M.right;
const PHASE_H = 20, PANEL_H = 120, PROBE_H = 26, GAP = 34;

const PHASES: { key: keyof LegPhases; label: string; colour: string }[] = [
    { key: "preparationMs", label: "preparation", colour: "#bab0ac" },
    { key: "transferMs", label: "transfer", colour: "#4e79a7" },
    { key: "pauseMs", label: "pause", colour: "#e15759" },
    { key: "finishMs", label: "finish", colour: "#76b7b2" },
];
const MARKS: { key: keyof CompactTimeline["marks"]; label: string; colour: string }[] = [
    { key: "destinationStarted", label: "destination started", colour: "#7f7f7f" },
    { key: "postcopySwitch", label: "post-copy switch", colour: "#b07aa1" },
    { key: "pause", label: "pause", colour: "#e15759" },
    { key: "resume", label: "resume", colour: "#59a14f" },
    { key: "firstReply", label: "first reply", colour: "#edc948" },
    { key: "sourceStopped", label: "source stopped", colour: "#9c755f" },
    { key: "end", label: "virsh returned", colour: "#333333" },
];

const PHASE_NAMES: [keyof LegPhases, string][] = [
    ["preparationMs", "preparation"], ["transferMs", "transfer"], ["pauseMs", "pause"], ["networkRecoveryMs", "network recovery"], ["finishMs", "finish"],
];

interface Line { name: string; points: [number, number][] }

/** The SVG document for one leg. */
export function timelineChart(spec: TimelineChartSpec): string {
    const tl = spec.timeline;
    const series = expandTimeline(tl);
    const marks = tl.marks;
    const phases = legPhases(marks);
    const times = [0, marks.end, marks.firstReply ?? 0, ...series.job.map((s) => s.t), ...(series.progress ?? []).map((p) => p.t)];
    const ticks = niceTicks(Math.min(...times), Math.max(...times), 10);
    const tA = ticks[0], tB = ticks[ticks.length - 1];
    const x = (t: number) => M.left + ((t - tA) / (tB - tA)) * PLOT_W;

    const out: string[] = [];
    let top = M.top;
    const panels: { top: number; height: number }[] = [];

    // The phases as one band: where each began and how long it took.
    const phaseTop = top;
    out.push(`<g class="phases">`);
    let at = 0;
    for (const p of PHASES) {
        const d = phases[p.key];
        const from = p.key === "finishMs" ? marks.resume : at;
        if (d === null || from === null) { continue; }
        const w = Math.max(1, x(from + d) - x(from));
        out.push(`<rect class="phase" data-phase="${p.label}" data-ms="${from}" data-duration="${d}" x="${fmt(x(from))}" y="${phaseTop}" width="${fmt(w)}" height="${PHASE_H}" fill="${p.colour}" fill-opacity="0.55"/>`);
        const label = `${p.label} ${formatValue(d)} ms`;
        if (textWidth(label, FONT - 1) + 4 < w) {
            out.push(`<text x="${fmt(x(from) + w / 2)}" y="${phaseTop + 14}" text-anchor="middle" font-size="${FONT - 1}">${escapeXml(label)}</text>`);
        }
        at = from + d;
    }
    out.push(`</g>`);
    top += PHASE_H + GAP - 10;

    const panel = (title: string, unit: string, lines: Line[], height = PANEL_H) => {
        const values = lines.flatMap((l) => l.points.map((p) => p[1]));
        const yt = niceTicks(Math.min(0, ...values), Math.max(0, ...values), 4);
        const y0 = yt[0], y1 = yt[yt.length - 1];
        const y = (v: number) => top + height - ((v - y0) / (y1 - y0)) * height;
        panels.push({ top, height });
        out.push(`<g class="panel" data-panel="${escapeXml(title)}">`);
        out.push(`<text class="panel-title" x="${M.left}" y="${top - 8}" font-weight="bold">${escapeXml(title)}</text>`);
        let lx = M.left + textWidth(title) + 24;
        lines.forEach((l, i) => {
            const c = PALETTE[i % PALETTE.length];
            out.push(`<rect x="${fmt(lx)}" y="${top - 17}" width="10" height="10" fill="${c}"/>`);
            out.push(`<text x="${fmt(lx + 14)}" y="${top - 8}">${escapeXml(l.name)}</text>`);
            lx += 14 + textWidth(l.name) + 16;
        });
        for (const t of yt) {
            out.push(`<line x1="${M.left}" x2="${M.left + PLOT_W}" y1="${fmt(y(t))}" y2="${fmt(y(t))}" stroke="#e0e0e0"/>`);
            out.push(`<text class="tick" x="${M.left - 5}" y="${fmt(y(t) + 4)}" text-anchor="end" fill="#555555">${escapeXml(formatValue(t))}</text>`);
        }
        const cy = top + height / 2;
        out.push(`<text class="unit" x="14" y="${fmt(cy)}" text-anchor="middle" transform="rotate(-90 14 ${fmt(cy)})">${escapeXml(unit)}</text>`);
        lines.forEach((l, i) => {
            if (l.points.length === 0) { return; }
            const pts = l.points.map(([t, v]) => `${fmt(x(t))},${fmt(y(v))}`).join(" ");
            out.push(`<polyline class="series" data-series="${escapeXml(l.name)}" data-points="${l.points.length}" points="${pts}" fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="1.5"/>`);
        });
        if (lines.every((l) => l.points.length === 0)) {
            out.push(`<text class="empty" x="${fmt(M.left + PLOT_W / 2)}" y="${fmt(cy)}" text-anchor="middle" fill="#888888">not recorded</text>`);
        }
        out.push(`<line x1="${M.left}" x2="${M.left}" y1="${top}" y2="${top + height}" stroke="#333333"/>`);
        out.push(`</g>`);
        top += height + GAP;
        return y;
    };

    const job = series.job;
    const yMem = panel("Memory (libvirt's job statistics)", "MB", [
        { name: "remaining", points: job.map((s) => [s.t, s.remainingMB]) },
        { name: "transferred", points: job.map((s) => [s.t, s.transferredMB]) },
    ]);
    // Where each pre-copy pass began.
    const memTop = panels[0].top;
    job.forEach((s, i) => {
        if (i > 0 && s.iteration !== job[i - 1].iteration) {
            out.push(`<line class="iteration" data-iteration="${s.iteration}" x1="${fmt(x(s.t))}" x2="${fmt(x(s.t))}" y1="${memTop}" y2="${memTop + PANEL_H}" stroke="#bbbbbb" stroke-dasharray="1 2"/>`);
            out.push(`<text x="${fmt(x(s.t) + 2)}" y="${fmt(memTop + 10)}" font-size="${FONT - 2}" fill="#555555">pass ${s.iteration}</text>`);
        }
    });
    void yMem;
    // libvirt's completed job gives an average rate, not the rate at its end: the rates stop at the last sample.
    const live = series.completed ? job.slice(0, -1) : job;
    panel("Rates (libvirt)", "MB/s", [
        { name: "transfer rate", points: live.map((s) => [s.t, s.rateMBs]) },
        { name: "guest dirty rate", points: live.map((s) => [s.t, s.dirtyRateMBs]) },
    ]);
    const prog = series.progress ?? [];
    const c0 = prog[0]?.counter ?? 0, d0 = prog[0]?.dirtyMiB ?? 0;
    panel("Guest workload progress (from inside the guest)", "since start", [
        { name: "counter ticks (one per 100 ms run)", points: prog.map((p) => [p.t, p.counter - c0]) },
        { name: "MiB its workload wrote", points: prog.map((p) => [p.t, p.dirtyMiB - d0]) },
    ]);

    // The probe: green where a 10 ms bucket had a reply; red where 30 ms or more passed without one
    // (a bucket or two without is the probe's own jitter at a 10 ms interval).
    const probeTop = top;
    panels.push({ top: probeTop, height: PROBE_H });
    out.push(`<g class="probe">`);
    out.push(`<text class="panel-title" x="${M.left}" y="${probeTop - 8}" font-weight="bold">Probe replies (10 ms buckets)</text>`);
    if (series.replies && series.replies.length > 0) {
        const first = series.replies[0][0], last = series.replies[series.replies.length - 1][1];
        out.push(`<rect x="${fmt(x(Math.max(tA, first)))}" y="${probeTop}" width="${fmt(x(Math.min(tB, last)) - x(Math.max(tA, first)))}" height="${PROBE_H}" fill="#dddddd"/>`);
        series.replies.forEach(([, b], i) => {
            const next = series.replies![i + 1]?.[0];
            if (next === undefined || next - b < 30) { return; }
            out.push(`<rect class="no-reply" data-from="${b}" data-to="${next}" x="${fmt(x(b))}" y="${probeTop}" width="${fmt(x(next) - x(b))}" height="${PROBE_H}" fill="#e15759"/>`);
        });
        for (const [a, b] of series.replies) {
            if (b < tA || a > tB) { continue; }
            const xa = x(Math.max(tA, a)), xb = x(Math.min(tB, b));
            out.push(`<rect class="reply" data-from="${a}" data-to="${b}" x="${fmt(xa)}" y="${probeTop}" width="${fmt(Math.max(0.5, xb - xa))}" height="${PROBE_H}" fill="#59a14f"/>`);
        }
    } else {
        out.push(`<text class="empty" x="${fmt(M.left + PLOT_W / 2)}" y="${probeTop + 16}" text-anchor="middle" fill="#888888">no probe (no third node reaches the guest)</text>`);
    }
    out.push(`</g>`);
    const bottom = probeTop + PROBE_H;

    // The time axis.
    out.push(`<g class="x-axis">`);
    out.push(`<line x1="${M.left}" x2="${M.left + PLOT_W}" y1="${bottom}" y2="${bottom}" stroke="#333333"/>`);
    for (const t of ticks) {
        out.push(`<line x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${bottom}" y2="${bottom + 4}" stroke="#333333"/>`);
        out.push(`<text class="tick" x="${fmt(x(t))}" y="${bottom + 16}" text-anchor="middle" fill="#555555">${escapeXml(formatValue(t))}</text>`);
    }
    out.push(`<text class="unit" x="${fmt(M.left + PLOT_W / 2)}" y="${bottom + 32}" text-anchor="middle">ms after virsh migrate started</text>`);
    out.push(`</g>`);

    // The pause, shaded across every panel, and the marks as lines through them all.
    const markTop = phaseTop + PHASE_H + 4;
    if (marks.pause !== null && marks.resume !== null) {
        out.push(`<rect class="pause" data-from="${marks.pause}" data-to="${marks.resume}" x="${fmt(x(marks.pause))}" y="${markTop}" width="${fmt(Math.max(1, x(marks.resume) - x(marks.pause)))}" height="${bottom - markTop}" fill="#e15759" fill-opacity="0.15"/>`);
    }
    out.push(`<g class="marks">`);
    // Each label on the first row where it clears the one before it.
    const rowEnds: number[] = [];
    for (const m of MARKS) {
        const t = marks[m.key];
        if (t === null) { continue; }
        const mx = x(t);
        out.push(`<line class="mark" data-mark="${m.key}" data-ms="${t}" x1="${fmt(mx)}" x2="${fmt(mx)}" y1="${markTop}" y2="${bottom}" stroke="${m.colour}" stroke-width="1.2" stroke-dasharray="4 3"/>`);
        const label = `${m.label} ${formatValue(t)}`;
        let row = rowEnds.findIndex((end) => end < mx);
        if (row < 0) { row = rowEnds.length; }
        rowEnds[row] = mx + 3 + textWidth(label, FONT - 1) + 6;
        out.push(`<text class="mark-label" data-mark="${m.key}" x="${fmt(mx + 3)}" y="${fmt(bottom + 46 + row * 13)}" font-size="${FONT - 1}" fill="${m.colour}">${escapeXml(label)}</text>`);
    }
    out.push(`</g>`);

    const height = Math.ceil(bottom + 46 + 13 * Math.max(1, MARKS.length) + 6);
    const phaseNote = PHASE_NAMES.filter(([k]) => phases[k] !== null).map(([k, name]) => `${name} ${phases[k]}`).join(" · ");
    const pauseNote = spec.downtimeMs !== undefined ? `libvirt's downtime ${spec.downtimeMs} ms` : "";
    const head = [
        `<rect class="background" x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
        `<text class="title" x="${M.left}" y="20" font-size="${FONT + 3}" font-weight="bold">${escapeXml(spec.title)}</text>`,
        `<text class="subtitle" x="${M.left}" y="36" fill="#333333">${escapeXml([spec.subtitle, pauseNote].filter(Boolean).join("; "))}</text>`,
        `<text class="phases-note" x="${M.left}" y="52" fill="#333333">${escapeXml(phaseNote ? `phases (ms, from libvirt's events): ${phaseNote}` : "no libvirt events recorded")}</text>`,
    ];
    const plot = `<g class="plot" data-t0="${tA}" data-t1="${tB}" data-x0="${M.left}" data-x1="${M.left + PLOT_W}">`;
    return [XML_DECL, svgOpen(WIDTH, height), ...head, plot, ...out, `</g>`, `</svg>`, ""].join("\n");
}

/** The chart of a measured leg (null: the leg kept no timeline, e.g. it ran with timelineIntervalMs 0). */
export function legTimelineChart(leg: LegMetrics, stack?: string): string | null {
    if (!leg.timeline) { return null; }
    const mode = leg.timeline.marks.postcopySwitch !== null ? "post-copy" : "pre-copy";
    const probe = leg.probe ? `, probe lost ${leg.probe.lost}/${leg.probe.sent}` : "";
    return timelineChart({
        title: `${stack ? `${stack}: ` : ""}leg ${leg.leg}, ${leg.guest ?? "guest"} ${leg.from} → ${leg.to} (${mode})`,
        subtitle: `total ${leg.totalTimeMs} ms (libvirt), ${formatValue(Math.round(leg.dataProcessedBytes / 1e5) / 10)} MB sent in ${leg.iterations} passes` +
            `${leg.postcopyRequests ? `, ${leg.postcopyRequests} post-copy requests` : ""}${probe}`,
        timeline: leg.timeline,
        downtimeMs: leg.downtimeMs,
    });
}
