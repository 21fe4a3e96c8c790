import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { DOMParser, Element } from "@xmldom/xmldom";
import { FailedLeg, LegMetrics, parseLeg } from "../../components/reports/metrics";
import { REFERENCE, caseLabel, referenceFor, sideBySideChartSpecs, sideBySideCharts, sideBySideRow, sideBySideTable } from "../../components/reports/reproduce";
import { DowntimeCase, downtimeChartSpecs, downtimeRows, downtimeTable } from "../../components/reports/downtime";
import { panelledCharts } from "../../components/reports/chart";
import { ROOT } from "../support";

// A real leg (pc1 -> pc2, 192 MiB guest) as the base the seed-sized legs vary.
const captured = fs.readFileSync(path.join(ROOT, "test", "fixtures", "leg-out.txt"), "utf8");
const real = parseLeg("out", "pc1", "pc2", captured);
const leg = (f: Partial<LegMetrics>): LegMetrics => ({ ...real, ...f });
const failed: FailedLeg = { leg: "back-2", from: "pc2", to: "pc1", failed: "aborted after 600s", attempt: 0, finishedAt: "" };

const sameSubnet = {
    topology: "same-subnet" as const, memoryMiB: 512, fillMiB: 416, load: [3.25, 4.5] as [number, number],
    legs: [
        leg({ dataProcessedBytes: 509226843, totalTimeMs: 5625, throughputMBs: 90.53, plainMBs: 119.42, ratio: 0.758, downtimeMs: 51 }),
        leg({ leg: "back", dataProcessedBytes: 508241937, totalTimeMs: 4692, throughputMBs: 108.32, plainMBs: 119.68, ratio: 0.905, downtimeMs: 54 }),
        failed,
    ],
};
const nat = {
    topology: "nat" as const, memoryMiB: 720, fillMiB: 624, load: [5, 6] as [number, number],
    legs: [leg({ probe: null, guestPing: { sent: 200, received: 199, lost: 1 }, ratio: 0.9, downtimeMs: 60 })],
};
// The same-subnet lab's last guest migrated cold: paused the whole time, so downtime ≈ total.
const cold = {
    topology: "same-subnet" as const, mode: "cold" as const, memoryMiB: 720, fillMiB: 592, load: [4, 4.25] as [number, number],
    legs: [
        leg({ dataProcessedBytes: 650e6, totalTimeMs: 7400, downtimeMs: 7310, throughputMBs: 87.84, plainMBs: 119.5, ratio: 0.735 }),
        leg({ leg: "back", dataProcessedBytes: 652e6, totalTimeMs: 7000, downtimeMs: 6890, throughputMBs: 93.14, plainMBs: 119.7, ratio: 0.778 }),
    ],
};

describe("the reference experiment beside ours", () => {
    it("pairs each of our guests with the reference case of its topology and nearest size", () => {
        assert.strictEqual(referenceFor("same-subnet", 512).memoryMB, 500);
        assert.strictEqual(referenceFor("same-subnet", 720).memoryMB, 720);
        assert.strictEqual(referenceFor("bridged", 512).migrationMBs, 4.03);
        assert.throws(() => referenceFor("vxlan" as any, 512), /no 'vxlan' case/);
        assert.strictEqual(REFERENCE.length, 6);
    });

    it("takes medians over the measured legs, counts failed ones apart, and the reference's own ratio", () => {
        const row = sideBySideRow(sameSubnet);
        assert.deepStrictEqual(row.reference, { ...REFERENCE[0], ratio: 0.7 });
        assert.strictEqual(row.ours.legs, 2);
        assert.strictEqual(row.ours.failed, 1);
        assert.strictEqual(row.ours.dataMB, 508.7);
        assert.strictEqual(row.ours.totalTimeS, 5.16);
        assert.strictEqual(row.ours.migrationMBs, 99.425);
        assert.strictEqual(row.ours.ratio, 0.832);
        assert.strictEqual(row.ours.downtimeMs, 52.5);
        assert.strictEqual(row.ours.probeLost, real.probe!.lost);
        assert.strictEqual(row.ours.guestPingsLost, null);
        // A case from a run before cold cases were measured names no mode: it was pre-copy.
        assert.strictEqual(row.mode, "precopy");
        // Behind NAT there is no probe; the guest's own pings are the measure.
        const n = sideBySideRow(nat);
        assert.strictEqual(n.ours.probeLost, null);
        assert.strictEqual(n.ours.guestPingsLost, 1);
        assert.strictEqual(n.reference!.memoryMB, 720);
    });

    it("prints the reference's line above ours for each case, with the load and failed legs", () => {
        const lines = sideBySideTable([sideBySideRow(sameSubnet), sideBySideRow(nat)]).split("\n");
        assert.strictEqual(lines.length, 2 + 4);
        assert.match(lines[0], /case\s+who\s+mode\s+guest\s+data MB\s+total s\s+migr MB\/s\s+plain MB\/s\s+ratio\s+downtime ms/);
        assert.match(lines[2], /same-subnet\s+reference\s+live\s+500 MB\s+500\s+9\s+55\.6\s+79\.4\s+0\.7\s+n\/a\s+n\/a\s+n\/a\s+several/);
        assert.match(lines[3], /same-subnet\s+miglab\s+precopy\s+512 MiB\s+508\.7\s+5\.16\s+99\.425\s+119\.55\s+0\.832\s+52\.5\s.*2 \(\+1 failed\)\s+3\.3-4\.5$/);
        assert.match(lines[4], /nat\s+reference\s+live\s+720 MB\s+720\s+96\s+7\.5\s+11\.7\s+0\.641\s.*more than bridged/);
        assert.match(lines[5], /nat\s+miglab\s+precopy\s+720 MiB\s.*\s0\.9\s+60\s+n\/a\s+n\/a\s+1\s+1\s+5\.0-6\.0$/);
    });

    it("gives a cold case our line alone, no reference beside it (the report measured none), its downtime about its total", () => {
        const row = sideBySideRow(cold);
        assert.strictEqual(row.mode, "cold");
        assert.strictEqual(row.reference, null);
        assert.strictEqual(row.ours.legs, 2);
        assert.strictEqual(row.ours.totalTimeS, 7.2);
        assert.strictEqual(row.ours.downtimeMs, 7100);
        assert.strictEqual(row.ours.dataMB, 651);
        assert.strictEqual(caseLabel(cold), "same-subnet 720 MiB cold");
        assert.strictEqual(caseLabel(sameSubnet), "same-subnet 512 MiB");
        // The table: the topology's live case (reference, ours), then its cold line, then the next topology.
        const lines = sideBySideTable([sideBySideRow(sameSubnet), row, sideBySideRow(nat)]).split("\n");
        assert.strictEqual(lines.length, 2 + 2 + 1 + 2);
        assert.deepStrictEqual(lines.slice(2).map((l) => l.trim().split(/\s+/).slice(0, 3).join(" ")), [
            "same-subnet reference live", "same-subnet miglab precopy", "same-subnet miglab cold", "nat reference live", "nat miglab precopy",
        ]);
        assert.match(lines[4], /same-subnet\s+miglab\s+cold\s+720 MiB\s+651\s+7\.2\s+90\.49\s+119\.6\s+0\.757\s+7100\s.*\s2\s+4\.0-4\.3$/);
    });

    it("draws each figure as a panel of bars, the reference's beside ours, in well-formed SVG", () => {
        const rows = [sideBySideRow(sameSubnet), sideBySideRow(nat)];
        const svg = sideBySideCharts(rows);
        const errors: string[] = [];
        const root = new DOMParser({ onError: (level, msg) => { errors.push(`${level}: ${msg}`); } })
            .parseFromString(svg, "image/svg+xml").documentElement as unknown as Element;
        assert.deepStrictEqual(errors, []);
        const panels = (Array.from(root.getElementsByTagName("svg")) as Element[]).filter((e) => e.getAttribute("class") === "panel");
        const specs = sideBySideChartSpecs(rows);
        assert.deepStrictEqual(panels.map((p) => p.getAttribute("data-chart")), ["migration", "plain", "ratio", "time", "downtime", "lost"]);
        const barsOf = (id: string) => (Array.from(panels.find((p) => p.getAttribute("data-chart") === id)!.getElementsByTagName("rect")) as Element[])
            .filter((r) => r.getAttribute("class") === "bar")
            .map((r) => `${r.getAttribute("data-group")}/${r.getAttribute("data-series")}=${r.getAttribute("data-value")}`);
        assert.deepStrictEqual(barsOf("ratio"), ["same-subnet 512 MiB/reference report=0.7", "same-subnet 512 MiB/miglab=0.832",
            "nat 720 MiB/reference report=0.641", "nat 720 MiB/miglab=0.9"]);
        // The reference has no lost-ping figures: only ours are drawn, NAT's missing probe as n/a.
        assert.deepStrictEqual(barsOf("lost"), [`same-subnet 512 MiB/probe @10 ms=${real.probe!.lost}`, "nat 720 MiB/guest to outside=1"]);
        assert.strictEqual(specs.length, panels.length);
    });

    it("draws a cold case as a group of its own, with our bars and none of the reference's", () => {
        const specs = sideBySideChartSpecs([sideBySideRow(sameSubnet), sideBySideRow(cold)]);
        const time = specs.find((s) => s.id === "time")!;
        assert.deepStrictEqual(time.groups, ["same-subnet 512 MiB", "same-subnet 720 MiB cold"]);
        assert.deepStrictEqual(time.series, [{ name: "reference report", values: [9, null] }, { name: "miglab", values: [5.16, 7.2] }]);
        const downtime = specs.find((s) => s.id === "downtime")!;
        assert.deepStrictEqual(downtime.series[0].values, [52.5, 7100]);
        const svg = sideBySideCharts([sideBySideRow(sameSubnet), sideBySideRow(cold)]);
        const root = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement as unknown as Element;
        const coldBars = (Array.from(root.getElementsByTagName("rect")) as Element[])
            .filter((r) => r.getAttribute("class") === "bar" && r.getAttribute("data-group") === "same-subnet 720 MiB cold");
        assert.ok(coldBars.length > 0);
        assert.ok(coldBars.every((r) => r.getAttribute("data-series") !== "reference report"), "a reference bar drawn for the cold case");
    });
});

describe("the benchmark's downtime run", () => {
    const at = (targetMs: number, dirtyMiBs: number, downtimes: number[], extra: Partial<DowntimeCase> = {}): DowntimeCase => ({
        targetMs, dirtyMiBs, outcome: "completed", load: [2, 3],
        legs: downtimes.map((d, i) => leg({ leg: i ? "back" : "out", downtimeMs: d, maxDowntimeMs: targetMs, totalTimeMs: 1000 + d, dataProcessedBytes: 86e6 + d * 1e5 })),
        ...extra,
    });

    it("gives each target the downtime's median and spread, what QEMU held, total time and data", () => {
        const [row] = downtimeRows([at(50, 0, [51, 64])]);
        assert.deepStrictEqual(row.readBackMs, [50]);
        assert.deepStrictEqual(row.downtimeMs, { median: 57.5, min: 51, max: 64 });
        assert.strictEqual(row.totalTimeMs, 1057.5);
        assert.strictEqual(row.dataMB, 91.8);
        assert.deepStrictEqual(row.failed, []);
    });

    it("prints one line per target, a failed leg's reason after its line", () => {
        const stuck = at(20, 40, [300], { outcome: "failed", legs: [failed, leg({ maxDowntimeMs: 20, downtimeMs: 300 })] });
        const lines = downtimeTable(downtimeRows([at(300, 0, [131, 179]), stuck])).split("\n");
        assert.strictEqual(lines.length, 4);
        assert.match(lines[2], /^\s*300\s+0 MiB\/s\s+300\s+155\s+131-179\s+1155\s+101\.5\s+\d+\s+[\d.]+\s+2\s+2\.0-3\.0$/);
        assert.match(lines[3], /^\s*20\s+40 MiB\/s\s+20\s+300\s+300-300\s.*\s1\s+2\.0-3\.0  failed: aborted after 600s$/);
    });

    it("draws downtime, gap, time and data by target, one series per dirty rate, in well-formed SVG", () => {
        const rows = downtimeRows([at(300, 0, [131, 179]), at(50, 0, [51, 64]), at(300, 40, [340]), at(50, 40, [60])]);
        const specs = downtimeChartSpecs(rows);
        assert.deepStrictEqual(specs.map((s) => s.id), ["downtime", "gap", "total", "data"]);
        assert.deepStrictEqual(specs[0].groups, ["300 ms", "50 ms"]);
        assert.deepStrictEqual(specs[0].series, [{ name: "guest dirtying 0 MiB/s", values: [155, 57.5] }, { name: "guest dirtying 40 MiB/s", values: [340, 60] }]);
        const errors: string[] = [];
        new DOMParser({ onError: (level, msg) => { errors.push(`${level}: ${msg}`); } }).parseFromString(panelledCharts(specs, "t"), "image/svg+xml");
        assert.deepStrictEqual(errors, []);
    });
});
