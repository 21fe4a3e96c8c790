import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DOMParser, Element } from "@xmldom/xmldom";
import { LegMetrics, parseLeg, sections } from "../../components/reports/metrics";
import {
    CompactTimeline, MAX_POINTS, deltaDecode, deltaEncode, expandTimeline, parseEvents, parseProgress, parseSamples,
    parseTimeline, replyRanges, replyRuns, thin,
} from "../../components/reports/timeline";
import { legTimelineChart, timelineChart } from "../../components/reports/timelineChart";
import { DOC_EXAMPLES, chartFile, docChart, parseArgs, rawChart } from "../../scripts/timeline";
import { ROOT } from "../support";

// Captured from real legs on the local site (192 MiB TCG guest, links at 1 Gbit/s): a pre-copy leg of
// the idle guest, and a post-copy leg of a guest dirtying 40 MiB/s under a 20 MiB/s cap (both pc1 -> pc2).
const fixture = (name: string) => fs.readFileSync(path.join(ROOT, "test", "fixtures", name), "utf8");
const precopy = parseLeg("out", "pc1", "pc2", fixture("leg-precopy.txt"));
const postcopy = parseLeg("out", "pc1", "pc2", fixture("leg-postcopy.txt"));

/** The chart parsed back, with the plot's time-to-x scale it declares. */
function readChart(svg: string) {
    const errors: string[] = [];
    const doc = new DOMParser({ onError: (level, msg) => { if (level !== "warning") { errors.push(msg); } } }).parseFromString(svg, "image/svg+xml");
    assert.deepStrictEqual(errors, [], "the SVG does not parse");
    const all = (tag: string) => Array.from(doc.getElementsByTagName(tag)) as Element[];
    const plot = all("g").find((g) => g.getAttribute("class") === "plot")!;
    const n = (e: Element, a: string) => Number(e.getAttribute(a));
    const x = (t: number) => n(plot, "data-x0") + ((t - n(plot, "data-t0")) / (n(plot, "data-t1") - n(plot, "data-t0"))) * (n(plot, "data-x1") - n(plot, "data-x0"));
    return { all, n, x };
}

function xmllint(svg: string): void {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "miglab-timeline-")), "t.svg");
    fs.writeFileSync(file, svg);
    const r = spawnSync("xmllint", ["--noout", file], { encoding: "utf8" });
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    if (r.error) { assert.fail(`xmllint is not installed (${r.error.message}): apt-get install libxml2-utils`); }
    assert.strictEqual(r.status, 0, `xmllint: ${r.stderr}`);
}

describe("leg timeline: parsing a real leg", () => {
    for (const [mode, leg] of [["pre-copy", precopy], ["post-copy", postcopy]] as [string, LegMetrics][]) {
        it(`${mode}: the phases follow each other and the pause holds libvirt's downtime`, () => {
            const tl = leg.timeline!;
            const m = tl.marks;
            assert.ok(m.destinationStarted! > 0 && m.destinationStarted! < m.pause! && m.pause! < m.resume! && m.resume! <= m.end, JSON.stringify(m));
            assert.ok(m.firstReply! > m.resume!, "the first reply after the resume comes after it");
            // Pre-copy: the same window within a sample (198 and 176 ms here). Post-copy: QEMU's downtime
            // ends when the switch's package is sent (8 ms); the guest runs again once the destination
            // loaded it (its "Resumed Post-copy", 92 ms after the source's "Suspended").
            assert.ok(leg.phases!.pauseMs! >= leg.downtimeMs - tl.intervalMs, `pause ${leg.phases!.pauseMs} ms, downtime ${leg.downtimeMs} ms`);
            if (mode === "pre-copy") {
                assert.ok(Math.abs(leg.phases!.pauseMs! - leg.downtimeMs) <= tl.intervalMs,
                    `pause ${leg.phases!.pauseMs} ms from the events, libvirt's downtime ${leg.downtimeMs} ms`);
            }
            const p = leg.phases!;
            assert.strictEqual(p.preparationMs! + p.transferMs! + p.pauseMs! + p.finishMs!, m.end);
            assert.strictEqual(p.networkRecoveryMs, m.firstReply! - m.resume!);
        });

        it(`${mode}: the job's samples cover the transfer and end with nothing remaining and everything sent`, () => {
            const s = expandTimeline(leg.timeline!);
            assert.strictEqual(leg.timeline!.intervalMs, 100);
            assert.ok(s.job.length >= 5, `${s.job.length} samples`);
            const t = s.job.map((x) => x.t);
            assert.deepStrictEqual(t, [...t].sort((a, b) => a - b), "sample times increase");
            // The first sample within one interval (and the time virsh takes to answer) of the transfer's start.
            assert.ok(t[0] <= leg.timeline!.marks.destinationStarted! + 2 * leg.timeline!.intervalMs + 200, `first sample at ${t[0]} ms`);
            const last = s.job[s.job.length - 1];
            assert.strictEqual(last.remainingMB, 0);
            assert.strictEqual(last.transferredMB, Math.round(leg.memoryProcessedBytes / 1e5) / 10);
            assert.ok(s.progress!.length > 10 && s.replies!.length > 0);
        });
    }

    it("post-copy: the switch is marked before the pause", () => {
        const m = postcopy.timeline!.marks;
        assert.ok(postcopy.postcopyRequests > 0, "the fixture's leg served post-copy requests");
        assert.ok(m.postcopySwitch !== null && m.postcopySwitch <= m.pause! + postcopy.timeline!.intervalMs, JSON.stringify(m));
        assert.strictEqual(precopy.timeline!.marks.postcopySwitch, null);
    });

    it("a leg without a timeline (timelineIntervalMs 0, or an older leg) has none, and no chart", () => {
        const old = parseLeg("out", "pc1", "pc2", fixture("leg-out.txt"));
        assert.strictEqual(old.timeline, null);
        assert.strictEqual(old.phases, null);
        assert.strictEqual(legTimelineChart(old), null);
        assert.throws(() => rawChart(fixture("leg-out.txt")), /holds no timeline/);
    });

    it("keeps the outputs small: the leg's timeline is a few KB, a long leg's is thinned", () => {
        assert.ok(JSON.stringify(precopy.timeline).length < 8000, `${JSON.stringify(precopy.timeline).length} bytes`);
        // Ten minutes of samples every 100 ms.
        const start = 1000;
        const lines = Array.from({ length: 6000 }, (_, i) =>
            `${start + i / 10} ${6000 - i} ${i * 1000} 100000000 2000 ${1 + Math.floor(i / 100)} 0`);
        const s = sections([
            "=== wallclock", `${start} ${start + 600}`, "=== timeline-interval", "0.100", "=== samples", ...lines,
            "=== probe", "skipped: no node", "=== events-src", "=== events-dst", ""].join("\n"));
        const tl = parseTimeline(s)!;
        assert.strictEqual(deltaDecode(tl.job.t).length, MAX_POINTS);
        assert.deepStrictEqual(deltaDecode(tl.job.t).slice(-1), [599900]);
        assert.ok(JSON.stringify(tl).length < 60000, `${JSON.stringify(tl).length} bytes`);
        assert.strictEqual(tl.probe, null);
        assert.strictEqual(tl.progress, null);
    });
});

describe("leg timeline: the pure parts", () => {
    it("delta-encodes and decodes series losslessly", () => {
        const v = [194, 180, 180, 3, 0, 0, 12];
        assert.deepStrictEqual(deltaEncode(v), [194, -14, 0, -177, -3, 0, 12]);
        assert.deepStrictEqual(deltaDecode(deltaEncode(v)), v);
    });

    it("thins evenly, keeping the first and the last", () => {
        const v = Array.from({ length: 10 }, (_, i) => i);
        assert.deepStrictEqual(thin(v, 4), [0, 3, 6, 9]);
        assert.strictEqual(thin(v, 20), v);
    });

    it("buckets the probe's replies into runs and back", () => {
        // Replies at 0-29 ms, none 30-79, one at 85, then 100-119 (ms after a start at 1000).
        const r = replyRuns([1000, 1012, 1025, 1085, 1100, 1111], 1000);
        assert.deepStrictEqual(r, { bucketMs: 10, first: 0, runs: [3, 5, 1, 1, 2] });
        assert.deepStrictEqual(replyRanges(r), [[0, 3], [8, 9], [10, 12]]);
    });

    it("skips the job's samples from before libvirt counts anything", () => {
        const s = parseSamples("10.0 0 0 0 0 0 0\n10.1 100 5 7 0 1 0\nnot a sample\n10.2 50 55 7 0 1 0\n");
        assert.deepStrictEqual(s.map((x) => x.t), [10100, 10200]);
    });

    it("reads libvirt's events with their millisecond stamps, for the guest only", () => {
        const e = parseEvents([
            "2026-12-01 20:06:29.106+0000: event 'lifecycle' for domain 'vm1': Suspended Migrated",
            "2026-12-01 20:06:29.200+0000: event 'lifecycle' for domain 'vm2': Started Booted",
            "2026-12-01 20:06:31.383+0000: event 'job-completed' for domain 'vm1':",
            "\ttime_elapsed: 1886",
        ].join("\n"), "source", "vm1");
        assert.deepStrictEqual(e, [
            { at: Date.UTC(2026, 11, 1, 20, 6, 29, 106), host: "source", kind: "lifecycle", detail: "Suspended Migrated" },
            { at: Date.UTC(2026, 11, 1, 20, 6, 31, 383), host: "source", kind: "job-completed", detail: "" },
        ]);
    });

    it("places the guest's progress on the hosts' clock: a line that arrived late at its guest time", () => {
        // Guest uptime 5.0, 5.1 arrive promptly (offset 995 s); the guest pauses 0.2 s (its clock
        // stops), so 5.2 is produced at 1000.4 but arrives at 1000.7 (resent); 5.3 arrives promptly.
        const p = parseProgress("1000.000 5.00 50 0\n1000.100 5.10 51 0\n1000.700 5.20 52 0\n1000.500 5.30 53 0\n");
        assert.deepStrictEqual(p.map((x) => Math.round(x.t)), [1000000, 1000100, 1000400, 1000500]);
    });
});

describe("leg timeline: the SVG", () => {
    for (const [mode, leg] of [["pre-copy", precopy], ["post-copy", postcopy]] as [string, LegMetrics][]) {
        it(`${mode}: well-formed, with every mark and phase where the leg's figures put them`, () => {
            const svg = legTimelineChart(leg, "same-subnet")!;
            xmllint(svg);
            const { all, n, x } = readChart(svg);
            const marks = leg.timeline!.marks;
            const lines = all("line").filter((l) => l.getAttribute("class") === "mark");
            for (const [key, ms] of Object.entries(marks)) {
                const l = lines.find((e) => e.getAttribute("data-mark") === key);
                if (ms === null) { assert.strictEqual(l, undefined, `${key} is not drawn`); continue; }
                assert.ok(l, `mark ${key} drawn`);
                assert.strictEqual(n(l!, "data-ms"), ms);
                assert.ok(Math.abs(n(l!, "x1") - x(ms)) <= 0.1, `${key} at x ${l!.getAttribute("x1")}, expected ${x(ms)}`);
            }
            const pause = all("rect").find((r) => r.getAttribute("class") === "pause")!;
            assert.ok(Math.abs(n(pause, "width") - (x(marks.resume!) - x(marks.pause!))) <= 0.2);
            const phases = all("rect").filter((r) => r.getAttribute("class") === "phase");
            assert.deepStrictEqual(phases.map((r) => [r.getAttribute("data-phase"), n(r, "data-duration")]), [
                ["preparation", leg.phases!.preparationMs], ["transfer", leg.phases!.transferMs],
                ["pause", leg.phases!.pauseMs], ["finish", leg.phases!.finishMs]]);
            const series = all("polyline").map((p) => [p.getAttribute("data-series"), n(p, "data-points")]);
            const jobPoints = deltaDecode(leg.timeline!.job.t).length;
            assert.deepStrictEqual(series.slice(0, 2), [["remaining", jobPoints], ["transferred", jobPoints]]);
            assert.ok(svg.includes(mode) && svg.includes(`libvirt&apos;s downtime ${leg.downtimeMs} ms`));
        });
    }

    it("escapes what it prints, and draws a leg without probe or progress", () => {
        const tl: CompactTimeline = { ...precopy.timeline!, progress: null, probe: null };
        const svg = timelineChart({ title: "a <b> & 'c'", timeline: tl });
        xmllint(svg);
        assert.match(svg, /a &lt;b&gt; &amp; &apos;c&apos;/);
        assert.match(svg, /no probe/);
    });

    it("the committed examples in docs/ are what `npm run timeline -- --docs` draws from the fixtures", () => {
        for (const d of DOC_EXAMPLES) {
            assert.strictEqual(fs.readFileSync(path.join(ROOT, d.svg), "utf8"), docChart(d), d.svg);
        }
    });
});

describe("npm run timeline's pure parts", () => {
    it("reads its arguments, and says what is wrong with bad ones", () => {
        assert.deepStrictEqual(parseArgs([]), { stack: "same-subnet", out: "timelines", docs: false });
        assert.deepStrictEqual(parseArgs(["nat", "--out", "x"]), { stack: "nat", out: "x", docs: false });
        assert.throws(() => parseArgs(["--raw", "a"]), /--raw FILE and --svg FILE go together/);
        assert.throws(() => parseArgs(["--out"]), /--out needs a value/);
        assert.throws(() => parseArgs(["--bogus"]), /unknown option --bogus/);
    });

    it("names a leg's file after its stack and leg", () => {
        assert.strictEqual(chartFile("same-subnet", "vm1-2"), "same-subnet-vm1-2.svg");
        assert.strictEqual(chartFile("a/b", "out"), "a_b-out.svg");
    });
});
