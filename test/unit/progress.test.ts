import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { DOMParser, Element } from "@xmldom/xmldom";
import { LegMetrics, parseLeg } from "../../components/reports/metrics";
import { CompactTimeline, deltaEncode, expandTimeline } from "../../components/reports/timeline";
import {
    LOST_AFTER_MS, PACE_MS, RESUME_SHARE, RESUME_WINDOW_MS, alignedProgress, progressFigures, workSeries,
} from "../../components/reports/progress";
import { VariantCurve, progressPanels, variantsProgressChart } from "../../components/reports/progressChart";
import { ROOT } from "../support";

const fixture = (name: string) => fs.readFileSync(path.join(ROOT, "test", "fixtures", name), "utf8");
// Real legs on the local site (timeline.test.ts has them too): a post-copy leg (push) of a guest
// dirtying 40 MiB/s, a pre-copy leg of the idle guest.
const postcopy = parseLeg("out", "pc1", "pc2", fixture("leg-postcopy.txt"));
const precopy = parseLeg("out", "pc1", "pc2", fixture("leg-precopy.txt"));
// From the bench's grid (docs/benchmarks.md): both legs of push and of demand, guest dirtying 120 MiB/s.
const variants: { cases: { mode: string; variant: string; legs: (Pick<LegMetrics, "leg" | "postcopy"> & { timeline: CompactTimeline })[] }[] } =
    JSON.parse(fixture("progress-variants.json"));

/** The work done over [a, b] by the raw stream, read without the module's helpers: linear between samples. */
function workBetween(tl: CompactTimeline, unit: "MiB" | "tick", a: number, b: number): number {
    const p = expandTimeline(tl).progress!.map((s) => ({ t: s.t, w: unit === "MiB" ? s.dirtyMiB : s.counter }));
    const at = (t: number) => {
        const j = p.findIndex((s) => s.t >= t);
        if (j <= 0) { return p[Math.max(0, j)].w; }
        return p[j - 1].w + ((t - p[j - 1].t) / (p[j].t - p[j - 1].t)) * (p[j].w - p[j - 1].w);
    };
    return at(b) - at(a);
}

/** A leg's timeline with its progress replaced: work at `rate` per second every 100 ms, nothing while `stalled(t)`. */
function synthetic(base: CompactTimeline, rate: number, stalled: (t: number) => boolean, until: number, unit: "MiB" | "tick" = "MiB"): CompactTimeline {
    const t: number[] = [], w: number[] = [];
    let done = 1000;
    for (let at = -500; at <= until; at += 100) {
        if (at > -500 && !stalled(at - 50)) { done += rate / 10; }
        t.push(at); w.push(Math.round(done * 100) / 100);
    }
    const counter = unit === "tick" ? w.map(Math.round) : t.map(() => 7);
    const dirty = unit === "MiB" ? w : t.map(() => 0);
    return { ...base, progress: { t: deltaEncode(t), counter: deltaEncode(counter), dirtyMiB: deltaEncode(dirty.map((x) => Math.round(x))) } };
}

describe("the guest's progress around the switch (components/reports/progress.ts)", () => {
    /** Every figure of a real leg against its stream read directly. */
    function checkAgainstStream(tl: CompactTimeline, what: string): void {
        const f = progressFigures(tl)!;
        const m = tl.marks;
        assert.ok(f, `${what}: no figures`);
        assert.strictEqual(f.unit, "MiB", `${what}: the guest ran a workload`);
        assert.strictEqual(f.switchMs, m.postcopySwitch);
        assert.strictEqual(f.lastPageMs, m.sourceStopped);
        const rate = (a: number, b: number) => (workBetween(tl, "MiB", a, b) / (b - a)) * 1000;
        const near = (a: number | null, b: number, name: string) => assert.ok(a !== null && Math.abs(a - b) <= 0.01, `${what}, ${name}: ${a} against ${b}`);
        near(f.pace, rate(f.switchMs - PACE_MS, f.switchMs), "pace");
        near(f.postcopy, rate(f.switchMs, f.lastPageMs), "post-copy");
        near(f.precopy, rate(m.destinationStarted!, f.switchMs), "pre-copy");
        const until = Math.min(f.lastPageMs + LOST_AFTER_MS, f.switchMs + f.recordAfterMs);
        // (within what the pace's rounding to 0.01 makes of seconds)
        const close = (a: number, b: number, name: string) => assert.ok(Math.abs(a - b) <= 0.01 * (until - f.switchMs) / 1000 + 0.01, `${what}, ${name}: ${a} against ${b}`);
        close(f.lostWork, (f.pace * (until - f.switchMs)) / 1000 - workBetween(tl, "MiB", f.switchMs, until), "lost work");
        near(f.lostSeconds, f.lostWork / f.pace, "lost seconds");
        // The resume: the first window from the switch on that holds 90 % of the pace, none before
        // it; without one, no window of the record does.
        const at = f.resumeMs === null ? Infinity : f.switchMs + f.resumeMs;
        if (f.resumeMs !== null) {
            assert.ok(f.resumeMs >= 0 && f.resumeMs + RESUME_WINDOW_MS <= f.recordAfterMs, `${what}: ${JSON.stringify(f)}`);
            assert.ok(rate(at, at + RESUME_WINDOW_MS) >= RESUME_SHARE * f.pace - 0.01, `${what}: resumed at ${f.resumeMs}`);
        }
        const last = f.switchMs + f.recordAfterMs;
        const starts = [f.switchMs, ...expandTimeline(tl).progress!.map((p) => p.t).filter((t) => t > f.switchMs && t < at && t + RESUME_WINDOW_MS <= last)];
        for (const s of starts) { assert.ok(rate(s, s + RESUME_WINDOW_MS) < RESUME_SHARE * f.pace, `${what}: already at pace from ${s}`); }
    }

    it("a real post-copy leg: phases at its marks, rates, resume and lost work as its stream gives them", () => {
        checkAgainstStream(postcopy.timeline!, "leg-postcopy.txt");
    });

    it("the bench's real push and demand legs (120 MiB/s): the same, whether the guest got back to its pace or not", () => {
        const legs = variants.cases.flatMap((c) => c.legs.map((l) => ({ ...l, variant: c.variant })));
        assert.strictEqual(legs.length, 4);
        for (const l of legs) { checkAgainstStream(l.timeline, `${l.variant} ${l.leg}`); }
        // One demand leg's guest never got back to its pace in the 11 s recorded: the case the table marks ">".
        assert.ok(legs.some((l) => progressFigures(l.timeline)!.resumeMs === null));
    });

    it("a pre-copy leg of an idle guest: its counter is the work, aligned at the pause, no post-copy phase", () => {
        const f = progressFigures(precopy.timeline!)!;
        assert.strictEqual(f.unit, "tick");
        assert.strictEqual(f.switchMs, precopy.timeline!.marks.pause);
        assert.strictEqual(f.lastPageMs, precopy.timeline!.marks.resume);
        assert.strictEqual(f.postcopy, null);
        // One tick per 100 ms the guest runs: its pace is about 10 a second (a loaded machine runs it slower).
        assert.ok(f.pace > 5 && f.pace <= 11, `${f.pace} ticks/s`);
    });

    it("a guest that stalls s ms at the switch and then keeps its pace: resumes after about s, loses s of work", () => {
        const base = postcopy.timeline!;
        const sw = base.marks.postcopySwitch!;
        // Stalls that end before the lost work's span does (the last page + LOST_AFTER_MS).
        for (const s of [0, 300, 1500, 2400]) {
            const tl = synthetic(base, 40, (t) => t >= sw && t < sw + s, Math.max(base.marks.sourceStopped! + 1500, sw + s + 1500));
            const f = progressFigures(tl)!;
            assert.ok(Math.abs(f.pace - 40) < 0.5, `pace ${f.pace}`);
            // The first window holding 90 % of the pace starts 0.1 window before the stall's end, to a sample.
            const expected = Math.max(0, s - (1 - RESUME_SHARE) * RESUME_WINDOW_MS);
            assert.ok(f.resumeMs !== null && Math.abs(f.resumeMs - expected) <= 100, `stall ${s}: resume ${f.resumeMs}`);
            assert.ok(Math.abs(f.lostSeconds - s / 1000) <= 0.15, `stall ${s}: lost ${f.lostSeconds} s`);
        }
    });

    it("a guest that never gets back to its pace within the record has no resume time, and says how far the record reached", () => {
        const base = postcopy.timeline!;
        const sw = base.marks.postcopySwitch!;
        const end = base.marks.sourceStopped! + 1000;
        const tl = synthetic(base, 40, (t) => t >= sw && Math.floor(t / 100) % 2 === 0, end);
        const f = progressFigures(tl)!;
        assert.strictEqual(f.resumeMs, null);
        const last = expandTimeline(tl).progress!.slice(-1)[0].t;
        assert.strictEqual(f.recordAfterMs, last - sw);
        assert.ok(f.lostSeconds > 0.4 * (last - sw) / 1000, `half the time stalled: lost ${f.lostSeconds} s`);
    });

    it("no figures without the guest's stream or without enough of it before the switch", () => {
        const base = postcopy.timeline!;
        assert.strictEqual(progressFigures({ ...base, progress: null }), null);
        assert.strictEqual(workSeries({ ...base, progress: null }), null);
        const late = synthetic(base, 40, () => false, base.marks.end);
        const t = expandTimeline(late).progress!.filter((p) => p.t > base.marks.postcopySwitch! - 200);
        const cut = { ...late, progress: { t: deltaEncode(t.map((p) => p.t)), counter: deltaEncode(t.map((p) => p.counter)), dirtyMiB: deltaEncode(t.map((p) => p.dirtyMiB)) } };
        assert.strictEqual(progressFigures(cut), null, "200 ms before the switch give no pace");
    });

    it("aligned at the switch: the curve passes zero there and keeps the stream's steps", () => {
        const tl = postcopy.timeline!;
        const a = alignedProgress(tl)!;
        const f = progressFigures(tl)!;
        const raw = expandTimeline(tl).progress!;
        assert.strictEqual(a.points.length, raw.length);
        assert.deepStrictEqual(a.points.map(([t]) => t), raw.map((p) => Math.round(p.t - f.switchMs)));
        const i = a.points.findIndex(([t]) => t >= 0);
        assert.ok(a.points[i - 1][1] <= 0 && a.points[i][1] >= 0, JSON.stringify(a.points.slice(i - 1, i + 1)));
        assert.ok(Math.abs(a.points[5][1] - a.points[4][1] - (raw[5].dirtyMiB - raw[4].dirtyMiB)) < 0.01);
    });
});

describe("post-copy's variants against the guest's progress: the SVG", () => {
    const leg = (l: LegMetrics, variant: string, name: string): VariantCurve => {
        const f = progressFigures(l.timeline!)!;
        return { variant, leg: name, points: alignedProgress(l.timeline!)!.points, lastPageMs: f.lastPageMs - f.switchMs, pace: f.pace };
    };

    it("draws each leg where its points are, in seconds of its own pace, its last page on it, and the unmigrated diagonal", () => {
        const curves = [leg(postcopy, "push", "out"), leg(postcopy, "push", "back"), { ...leg(postcopy, "demand", "out"), pace: 20 }];
        const svg = variantsProgressChart([{ title: "guest dirtying 40 MiB/s", curves }, { title: "empty", curves: [] }], "variants & <co>");
        const errors: string[] = [];
        const doc = new DOMParser({ onError: (level, msg) => { if (level !== "warning") { errors.push(msg); } } }).parseFromString(svg, "image/svg+xml");
        assert.deepStrictEqual(errors, []);
        const all = (tag: string) => Array.from(doc.getElementsByTagName(tag)) as Element[];
        const plot = all("g").find((g) => g.getAttribute("class") === "plot")!;
        const n = (e: Element, k: string) => Number(e.getAttribute(k));
        const [t0, t1] = [n(plot, "data-t0"), n(plot, "data-t1")];
        const x = (t: number) => n(plot, "data-x0") + ((t - t0) / (t1 - t0)) * (n(plot, "data-x1") - n(plot, "data-x0"));
        assert.ok(t0 <= -2000 && t1 >= curves[0].points[curves[0].points.length - 1][0], `${t0}..${t1}`);
        const lines = all("polyline");
        assert.deepStrictEqual(lines.map((l) => [l.getAttribute("data-variant"), l.getAttribute("data-leg"), l.getAttribute("stroke-dasharray"), n(l, "data-pace")]),
            [["push", "out", null, curves[0].pace], ["push", "back", "5 3", curves[0].pace], ["demand", "out", null, 20]]);
        assert.notStrictEqual(lines[0].getAttribute("stroke"), lines[2].getAttribute("stroke"), "one colour per variant");
        // Given an order, each variant keeps its colour whichever panel has it first.
        const again = variantsProgressChart([{ title: "only demand", curves: [curves[2]] }, { title: "both", curves }], "t", ["push", "demand"]);
        assert.strictEqual(/<polyline[^>]*data-variant="demand"[^>]*stroke="([^"]+)"/.exec(again)![1], lines[2].getAttribute("stroke"));
        const pts = (l: Element) => l.getAttribute("points")!.split(" ").map((p) => p.split(",").map(Number));
        const shown = curves[0].points.filter(([t]) => t >= t0);
        const push = pts(lines[0]), demand = pts(lines[2]);
        assert.strictEqual(push.length, shown.length);
        push.forEach(([px], i) => assert.ok(Math.abs(px - x(shown[i][0])) <= 0.1));
        // The unmigrated guest: across the whole axis, through zero at the switch. The same work
        // drawn at half the pace stands twice as far from that zero.
        const ref = all("line").find((l) => l.getAttribute("class") === "unmigrated")!;
        assert.ok(Math.abs(n(ref, "x1") - x(t0)) <= 0.1 && Math.abs(n(ref, "x2") - x(t1)) <= 0.1);
        const zero = n(ref, "y1") + ((n(ref, "y2") - n(ref, "y1")) * (0 - t0)) / (t1 - t0);
        const far = push.findIndex(([, py]) => Math.abs(py - zero) > 20);
        const ratio = (demand[far][1] - zero) / (push[far][1] - zero);
        assert.ok(Math.abs(ratio - curves[0].pace / 20) < 0.05 * ratio, `ratio ${ratio}, paces ${curves[0].pace} and 20`);
        const dots = all("circle").filter((c) => c.getAttribute("class") === "last-page");
        assert.deepStrictEqual(dots.map((d) => n(d, "data-ms")), curves.map((c) => c.lastPageMs));
        assert.match(svg, /variants &amp; &lt;co&gt;/);
        assert.match(svg, /no progress recorded/);
    });

    it("the bench's cases as panels: one per case in the grid's order, a curve per post-copy leg", () => {
        const cases = [
            { title: "pre-copy only", variant: "push", legs: [{ ...precopy }] },
            ...variants.cases.map((c) => ({ title: "120 MiB/s", variant: c.variant, legs: c.legs as LegMetrics[] })),
            { title: "no stream", variant: "demand", legs: [{ ...postcopy, timeline: { ...postcopy.timeline!, progress: null } }] },
        ];
        const panels = progressPanels(cases);
        assert.deepStrictEqual(panels.map((p) => p.title), ["120 MiB/s"], "a pre-copy leg and a leg without stream draw nothing");
        assert.deepStrictEqual(panels[0].curves.map((c) => `${c.variant} ${c.leg}`), ["push out", "push back", "demand out", "demand back"]);
        for (const c of panels[0].curves) {
            const l = variants.cases.find((x) => x.variant === c.variant)!.legs.find((x) => x.leg === c.leg)!;
            const f = progressFigures(l.timeline)!;
            assert.strictEqual(c.lastPageMs, f.lastPageMs - f.switchMs);
            assert.strictEqual(c.pace, f.pace);
        }
    });
});
