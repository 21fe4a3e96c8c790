import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { DOMParser, Element } from "@xmldom/xmldom";
import { ChartSpec, comparisonChartSpecs, comparisonCharts, escapeXml, formatValue, groupedBarChart, niceTicks } from "../../components/reports/chart";
import { comparisonRows, comparisonTable, median, slaBreaches } from "../../components/reports/compare";
import { LegMetrics, parseLeg, summarize } from "../../components/reports/metrics";
import { judgeSla, slaBreachLine } from "../../components/reports/sla";
import { defaultStacks, parseArgs, readOutputs } from "../../scripts/compare";
import { ROOT } from "../support";

// A real leg (pc1 -> pc2, 1159 ms, 60 ms downtime) as the base every hand-made leg varies.
const captured = fs.readFileSync(path.join(ROOT, "test", "fixtures", "leg-out.txt"), "utf8");
const real = parseLeg("out", "pc1", "pc2", captured);

function leg(name: string, back: boolean, f: Partial<Omit<LegMetrics, "probe">> & { lost?: number; gap?: number }): LegMetrics {
    const { lost, gap, ...rest } = f;
    const probe = real.probe!;
    return {
        ...real, leg: name, from: back ? "pc2" : "pc1", to: back ? "pc1" : "pc2", ...rest,
        probe: { ...probe, lost: lost ?? probe.lost, received: probe.sent - (lost ?? probe.lost), longestGapMs: gap ?? probe.longestGapMs },
    };
}

function stackOutputs(topology: string, legs: LegMetrics[] | undefined) {
    return { topology, site: "local", guest: "tiny", ...(legs ? { legs, summary: summarize(legs) } : {}) };
}

// same-subnet: 3 legs (odd count), routed: 4 legs (even count, medians average the middle two).
const sameSubnet = [
    leg("out", false, { totalTimeMs: 1159, downtimeMs: 60, lost: 3, gap: 70.6, throughputMBs: 74.4, plainMBs: 119.85, ratio: 0.621, postcopyRequests: 0 }),
    leg("back", true, { totalTimeMs: 1300, downtimeMs: 45, lost: 1, gap: 40, throughputMBs: 66.3, plainMBs: 118.2, ratio: 0.561, postcopyRequests: 0 }),
    leg("out-2", false, { totalTimeMs: 1020, downtimeMs: 80, lost: 5, gap: 95.5, throughputMBs: 84.5, plainMBs: 121, ratio: 0.698, postcopyRequests: 2 }),
];
const routed = [
    leg("out", false, { totalTimeMs: 2000, downtimeMs: 100, lost: 4, gap: 120, throughputMBs: 43, plainMBs: 60, ratio: 0.717, postcopyRequests: 10 }),
    leg("back", true, { totalTimeMs: 2400, downtimeMs: 120, lost: 6, gap: 150, throughputMBs: 36, plainMBs: 58, ratio: 0.621, postcopyRequests: 20 }),
    leg("out-2", false, { totalTimeMs: 1800, downtimeMs: 90, lost: 2, gap: 100, throughputMBs: 48, plainMBs: 61, ratio: 0.787, postcopyRequests: 5 }),
    leg("back-2", true, { totalTimeMs: 2600, downtimeMs: 150, lost: 8, gap: 200, throughputMBs: 33, plainMBs: 57, ratio: 0.579, postcopyRequests: 40 }),
];
const stacks = [
    { stack: "same-subnet", outputs: stackOutputs("same-subnet", sameSubnet) },
    { stack: "routed", outputs: stackOutputs("routed", routed) },
    { stack: "nfs-pending", outputs: stackOutputs("shared-nfs", undefined) },
];

const parseSvg = (svg: string) => {
    const errors: string[] = [];
    const doc = new DOMParser({ onError: (level, msg) => { errors.push(`${level}: ${msg}`); } }).parseFromString(svg, "image/svg+xml");
    assert.deepStrictEqual(errors, [], "the SVG is not well-formed XML");
    return doc.documentElement as unknown as Element;
};
const all = (root: Element, tag: string) => Array.from(root.getElementsByTagName(tag)) as Element[];
const bars = (root: Element) => all(root, "rect").filter((r) => r.getAttribute("class") === "bar");
const texts = (root: Element, cls: string) => all(root, "text").filter((t) => t.getAttribute("class") === cls);

/** Every value of the spec, read back from its chart: a bar with data-value and a label, or "n/a" and no bar. */
function assertChartMatches(root: Element, spec: ChartSpec) {
    let expectedBars = 0;
    for (const s of spec.series) {
        spec.groups.forEach((g, gi) => {
            const at = (e: Element) => e.getAttribute("data-series") === s.name && e.getAttribute("data-group") === g;
            const rect = bars(root).filter(at);
            const value = texts(root, "value").filter(at);
            const na = texts(root, "na").filter(at);
            const v = s.values[gi];
            if (v === null) {
                assert.strictEqual(rect.length, 0, `${s.name}/${g}: a null value has no bar`);
                assert.deepStrictEqual(na.map((t) => t.textContent), ["n/a"], `${s.name}/${g}`);
            } else {
                expectedBars++;
                assert.strictEqual(rect.length, 1, `${s.name}/${g}: one bar`);
                assert.strictEqual(Number(rect[0].getAttribute("data-value")), v, `${s.name}/${g}: data-value`);
                assert.strictEqual(value.length, 1, `${s.name}/${g}: one value label`);
                assert.strictEqual(Number(value[0].textContent), v, `${s.name}/${g}: label`);
                assert.strictEqual(na.length, 0);
            }
        });
    }
    assert.strictEqual(bars(root).length, expectedBars, "no bar beyond the spec's values");
}

describe("comparison of stacks", () => {
    const rows = comparisonRows(stacks);

    it("takes medians over all legs of a stack, both directions together", () => {
        const [a, b] = rows;
        assert.deepStrictEqual(a, {
            stack: "same-subnet", topology: "same-subnet", legs: 3,
            totalTimeMs: 1159, downtimeMs: 60, probeLost: 3, longestGapMs: 70.6, guestPingsLost: null,
            throughputMBs: 74.4, plainMBs: 119.85, ratio: 0.621, postcopyRequests: 0,
        });
        assert.deepStrictEqual(b, {
            stack: "routed", topology: "routed", legs: 4,
            totalTimeMs: 2200, downtimeMs: 110, probeLost: 5, longestGapMs: 135, guestPingsLost: null,
            throughputMBs: 39.5, plainMBs: 59, ratio: 0.669, postcopyRequests: 15,
        });
    });

    it("takes the median of the legs' ratios, not the ratio of the medians", () => {
        // Three legs whose own ratios are 0.1, 0.9, 1; the medians of their throughputs give 50 / 100.
        const legs = [
            leg("out", false, { throughputMBs: 10, plainMBs: 100, ratio: 0.1 }),
            leg("back", true, { throughputMBs: 90, plainMBs: 100, ratio: 0.9 }),
            leg("out-2", false, { throughputMBs: 50, plainMBs: 50, ratio: 1 }),
        ];
        const [r] = comparisonRows([{ stack: "s", outputs: stackOutputs("same-subnet", legs) }]);
        assert.deepStrictEqual([r.throughputMBs, r.plainMBs, r.ratio], [50, 100, 0.9]);
    });

    it("gives a stack without legs a row of nulls that says why", () => {
        const c = rows[2];
        assert.strictEqual(c.legs, 0);
        assert.strictEqual(c.topology, "shared-nfs");
        for (const k of ["totalTimeMs", "downtimeMs", "probeLost", "longestGapMs", "throughputMBs", "plainMBs", "ratio", "postcopyRequests"] as const) {
            assert.strictEqual(c[k], null, k);
        }
        assert.match(c.note ?? "", /no legs/);
        const [empty, none] = comparisonRows([{ stack: "x", outputs: {} }, { stack: "y", outputs: { topology: "t", legs: [] } }]);
        assert.match(empty.note ?? "", /no outputs/);
        assert.strictEqual(empty.topology, null);
        assert.match(none.note ?? "", /no legs measured/);
    });

    it("skips a field a leg does not have instead of counting it as 0", () => {
        const old = sameSubnet.map(({ postcopyRequests: _, ...l }) => l);
        const [r] = comparisonRows([{ stack: "old", outputs: { topology: "same-subnet", legs: old } }]);
        assert.strictEqual(r.postcopyRequests, null);
        assert.strictEqual(r.totalTimeMs, 1159);
        assert.strictEqual(median([]), null);
        assert.strictEqual(median([3, NaN, 1, "2"]), 2);
    });

    it("prints a padded table, n/a for what was not measured", () => {
        const lines = comparisonTable(rows).split("\n");
        assert.strictEqual(lines.length, 5);
        assert.match(lines[0], /^\s*stack\s+topology\s+legs\s+total ms\s+downtime ms\s+probe lost\s+longest gap ms\s+guest pings lost\s+migr MB\/s\s+plain MB\/s\s+ratio\s+postcopy req\s+SLA$/);
        assert.match(lines[1], /^[- ]+$/);
        assert.strictEqual(lines[0].length, lines[1].length);
        assert.strictEqual(lines[2].length, lines[0].length, "columns are padded to one width");
        assert.deepStrictEqual(lines[2].trim().split(/\s+/), ["same-subnet", "same-subnet", "3", "1159", "60", "3", "70.6", "n/a", "74.4", "119.85", "0.621", "0", "-"]);
        assert.deepStrictEqual(lines[3].trim().split(/\s+/), ["routed", "routed", "4", "2200", "110", "5", "135", "n/a", "39.5", "59", "0.669", "15", "-"]);
        assert.deepStrictEqual(lines[4].slice(0, lines[0].length).trim().split(/\s+/),
            ["nfs-pending", "shared-nfs", "0", ...Array(9).fill("n/a"), "-"]);
        assert.match(lines[4].slice(lines[0].length), /^ {2}\(no legs output: not measured yet\)$/);
    });
});

describe("comparison of stacks whose legs an SLA judged", () => {
    const bounds = { maxDowntimeMs: 60 };
    const judged = sameSubnet.map((l) => ({ ...l, sla: judgeSla(l, bounds) }));
    const failed = { leg: "back-2", from: "pc2", to: "pc1", failed: "migration of vm1 from pc2 to pc1 failed", attempt: 0, finishedAt: "" };
    const input = [
        { stack: "same-subnet", outputs: { topology: "same-subnet", legs: [...judged, failed] } },
        { stack: "routed", outputs: stackOutputs("routed", routed.map((l) => ({ ...l, sla: judgeSla(l, { maxDowntimeMs: 1000 }) }))) },
        { stack: "unbound", outputs: stackOutputs("same-subnet", sameSubnet) },
    ];
    const rows = comparisonRows(input);

    it("counts the measured legs judged and names those that broke the SLA", () => {
        // out (60 ms) meets 60 ms, back (45 ms) too; out-2 (80 ms) breaks it; the failed leg measured nothing.
        assert.deepStrictEqual(rows.map((r) => r.sla), [{ judged: 3, broken: ["out-2"] }, { judged: 4, broken: [] }, undefined]);
    });

    it("marks them in the table and lists each broken bound under it", () => {
        const lines = comparisonTable(rows).split("\n");
        const width = lines[0].length;
        assert.match(lines[2].slice(0, width), /\s1\/3 broken$/);
        assert.strictEqual(lines[2].slice(width), "  (SLA broken by out-2)");
        assert.match(lines[3], /\spassed$/);
        assert.match(lines[4], /\s-$/);
        assert.deepStrictEqual(slaBreaches(input), [`same-subnet: ${slaBreachLine(judged[2], judged[2].sla.broken[0])}`]);
        assert.strictEqual(slaBreaches(input)[0], "same-subnet: leg out-2 (pc1 -> pc2) breaks its SLA: downtimeMs 80 > maxDowntimeMs 60");
    });
});

describe("grouped bar chart", () => {
    const spec: ChartSpec = {
        title: "Throughput <MB/s> & \"ratio\"",
        unit: "MB/s",
        groups: ["same-subnet", "routed", "a<b&c"],
        series: [
            { name: "migration", values: [74.4, 39.5, null] },
            { name: "plain TCP", values: [119.85, 0, 0.621] },
            { name: "other's", values: [null, 1234567, 0.005] },
        ],
    };

    it("is well-formed XML whose every bar carries the number it was given", () => {
        const svg = groupedBarChart(spec);
        assert.ok(svg.startsWith("<?xml"));
        const root = parseSvg(svg);
        assert.strictEqual(root.tagName, "svg");
        assert.strictEqual(root.getAttribute("xmlns"), "http://www.w3.org/2000/svg");
        assertChartMatches(root, spec);
    });

    it("escapes text and keeps the names readable back", () => {
        const root = parseSvg(groupedBarChart(spec));
        assert.strictEqual(texts(root, "title")[0].textContent, spec.title);
        assert.deepStrictEqual(texts(root, "group-label").map((t) => t.textContent), spec.groups);
        assert.strictEqual(escapeXml("a<b>&\"'\u0001"), "a&lt;b&gt;&amp;&quot;&apos;");
    });

    it("has a legend with every series, round y ticks from 0 past the largest value", () => {
        const root = parseSvg(groupedBarChart(spec));
        const legend = all(root, "g").find((g) => g.getAttribute("class") === "legend")!;
        assert.deepStrictEqual(all(legend, "text").map((t) => t.textContent), spec.series.map((s) => s.name));
        const ticks = texts(root, "tick").map((t) => Number(t.textContent));
        assert.strictEqual(ticks[0], 0);
        assert.ok(ticks[ticks.length - 1] >= 1234567);
        assert.deepStrictEqual(niceTicks(0, 1159), [0, 250, 500, 750, 1000, 1250]);
        assert.deepStrictEqual(niceTicks(0, 0.3), [0, 0.1, 0.2, 0.3]);
        assert.deepStrictEqual(niceTicks(0, 0), [0, 0.2, 0.4, 0.6, 0.8, 1]);
        assert.deepStrictEqual(niceTicks(-3, 7), [-4, -2, 0, 2, 4, 6, 8]);
    });

    it("formats numbers to at most 3 decimals, tiny ones to 3 significant digits", () => {
        assert.deepStrictEqual([1159, 70.6, 119.85, 0.6214, 2.34567, 0.000123456, -4.5].map(formatValue),
            ["1159", "70.6", "119.85", "0.621", "2.346", "0.000123", "-4.5"]);
    });

    it("grows with the number of bars", () => {
        const width = (s: string) => Number(parseSvg(s).getAttribute("width"));
        const one = groupedBarChart({ title: "t", groups: ["a"], series: [{ name: "s", values: [1] }] });
        const many = groupedBarChart({ title: "t", groups: ["a", "b", "c", "d", "e", "f"], series: [{ name: "s", values: [1, 2, 3, 4, 5, 6] }, { name: "u", values: [1, 2, 3, 4, 5, 6] }] });
        assert.ok(width(many) > width(one));
    });

    it("draws an empty chart without failing", () => {
        const root = parseSvg(groupedBarChart({ title: "nothing", groups: [], series: [] }));
        assert.strictEqual(bars(root).length, 0);
    });
});

describe("comparison charts", () => {
    const rows = comparisonRows(stacks);

    it("holds one panel per figure, each with the rows' numbers, n/a for the unmeasured stack", () => {
        const root = parseSvg(comparisonCharts(rows));
        const panels = all(root, "svg").filter((s) => s.getAttribute("class") === "panel");
        const specs = comparisonChartSpecs(rows);
        assert.deepStrictEqual(panels.map((p) => p.getAttribute("data-chart")), ["migration-time", "downtime", "probe-lost", "throughput", "ratio"]);
        assert.deepStrictEqual(specs.map((s) => s.id), panels.map((p) => p.getAttribute("data-chart")));
        for (const s of specs) {
            const panel = panels.find((p) => p.getAttribute("data-chart") === s.id)!;
            assert.deepStrictEqual(s.groups, ["same-subnet", "routed", "nfs-pending"]);
            assertChartMatches(panel, s);
        }
        const throughput = specs.find((s) => s.id === "throughput")!;
        assert.deepStrictEqual(throughput.series, [
            { name: "migration", values: [74.4, 39.5, null] },
            { name: "plain TCP", values: [119.85, 59, null] },
        ]);
        assert.deepStrictEqual(specs.find((s) => s.id === "migration-time")!.series[0].values, [1159, 2200, null]);
        assert.deepStrictEqual(specs.find((s) => s.id === "downtime")!.series[0].values, [60, 110, null]);
        assert.deepStrictEqual(specs.find((s) => s.id === "probe-lost")!.series[0].values, [3, 5, null]);
        assert.deepStrictEqual(specs.find((s) => s.id === "ratio")!.series[0].values, [0.621, 0.669, null]);
    });
});

describe("compare CLI's pure parts", () => {
    it("reads its arguments", () => {
        assert.deepStrictEqual(parseArgs([]), { svg: "compare.svg", stacks: [] });
        assert.deepStrictEqual(parseArgs(["a", "--svg", "out.svg", "b"]), { svg: "out.svg", stacks: ["a", "b"] });
        assert.deepStrictEqual(parseArgs(["--svg=x.svg"]), { svg: "x.svg", stacks: [] });
        assert.throws(() => parseArgs(["--svg"]), /needs a file/);
        assert.throws(() => parseArgs(["--png"]), /unknown option --png/);
    });

    it("compares every stack file but the ci- ones by default", () => {
        assert.deepStrictEqual(defaultStacks(["Pulumi.same-subnet.yaml", "Pulumi.ci-abc.yaml", "README.md", "Pulumi.routed.yaml"]),
            ["routed", "same-subnet"]);
    });

    it("turns a failed or empty `pulumi stack output` into a reason, not an exception", () => {
        assert.deepStrictEqual(readOutputs(0, '{"topology":"x"}\n', ""), { ok: true, outputs: { topology: "x" } });
        assert.deepStrictEqual(readOutputs(0, "", ""), { ok: true, outputs: {} });
        assert.deepStrictEqual(readOutputs(255, "", "error: no stack named 'nope' found\n"), { ok: false, reason: "no stack named 'nope' found" });
        assert.deepStrictEqual(readOutputs(0, "warning", ""), { ok: false, reason: "its output is not JSON" });
    });
});
