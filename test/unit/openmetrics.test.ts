// The OpenMetrics text of a stack's legs, read back line by line against the format's rules.
// promtool itself checks the same text in test/engine/openmetrics.test.ts: the unit suite needs
// no system package (scripts/test), and Debian's prometheus package comes with the full setup.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseLabConfig } from "../../components/model/config";
import { planLab } from "../../components/model/plan";
import { LegMetrics, parseLegOutcome } from "../../components/reports/metrics";
import { judgeSla } from "../../components/reports/sla";
import { recordLegMetrics, writeMetricsFile } from "../../components/reports/metricsFile";
import { escapeLabelValue, legModes, legsOfOutputs, metricsFileName, renderOpenMetrics } from "../../components/reports/openmetrics";
import { fixtureLegs, fixtureText } from "../openmetrics-fixture";
import { ROOT } from "../support";
import { sampleLab } from "./config.test";

interface Sample { name: string; labels: Record<string, string>; value: number }
interface ParsedFamily { type?: string; unit?: string; help?: string; samples: Sample[] }

/** Reads label pairs, undoing OpenMetrics' escapes; throws on anything else. */
function parseLabels(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
    let m: RegExpExecArray | null;
    while (re.lastIndex < text.length && (m = re.exec(text))) {
        assert.ok(!(m[1] in out), `label ${m[1]} twice in {${text}}`);
        out[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    }
    assert.strictEqual(re.lastIndex, text.length, `labels not in OpenMetrics form: {${text}}`);
    return out;
}

/**
 * The text's families, checked against the OpenMetrics rules a scraper would reject it for:
 * metadata before samples, one TYPE/UNIT/HELP each, the unit a suffix of the name, every
 * sample of a declared family, no two samples with one label set, and `# EOF` last.
 */
function parseOpenMetrics(text: string): Map<string, ParsedFamily> {
    assert.ok(text.endsWith("# EOF\n"), "the text ends with # EOF and a newline");
    const lines = text.slice(0, -"# EOF\n".length).split("\n").slice(0, -1);
    const families = new Map<string, ParsedFamily>();
    const seen = new Set<string>();
    let current: string | undefined;
    for (const line of lines) {
        const meta = /^# (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
        if (meta) {
            const [, kind, name, rest] = meta;
            if (name !== current) {
                assert.ok(!families.has(name), `family ${name} is split in two`);
                families.set(name, { samples: [] });
                current = name;
            }
            const f = families.get(name)!;
            assert.strictEqual(f.samples.length, 0, `${kind} of ${name} after its samples`);
            const key = kind.toLowerCase() as "type" | "unit" | "help";
            assert.strictEqual(f[key], undefined, `${kind} of ${name} twice`);
            f[key] = rest;
            continue;
        }
        const s = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$/.exec(line);
        assert.ok(s, `not a metadata or sample line: ${line}`);
        const [, name, labels, value] = s!;
        assert.strictEqual(name, current, `sample ${name} outside its family`);
        assert.match(value, /^-?(\d+(\.\d+)?(e[+-]?\d+)?)$/, `${line}: value`);
        assert.ok(!seen.has(`${name}{${labels}}`), `${line}: two samples with one label set`);
        seen.add(`${name}{${labels}}`);
        families.get(name)!.samples.push({ name, labels: parseLabels(labels), value: Number(value) });
    }
    for (const [name, f] of families) {
        assert.strictEqual(f.type, "gauge", `${name}: TYPE`);
        assert.ok(f.help && f.help.length > 0, `${name}: HELP`);
        if (f.unit !== undefined) { assert.ok(name.endsWith(`_${f.unit}`), `${name} does not end with its unit ${f.unit}`); }
        assert.ok(f.samples.length > 0, `${name} has no samples`);
    }
    return families;
}

const sample = (f: Map<string, ParsedFamily>, name: string, leg: string) => f.get(name)?.samples.find((s) => s.labels.leg === leg);

describe("OpenMetrics text of a stack's legs", () => {
    const families = parseOpenMetrics(fixtureText());

    it("uses KubeVirt's migration metric names, with their units", () => {
        for (const [name, unit] of [["kubevirt_vmi_migration_data_processed_bytes", "bytes"], ["kubevirt_vmi_migration_data_remaining_bytes", "bytes"],
            ["kubevirt_vmi_migration_dirty_memory_rate_bytes", "bytes"], ["kubevirt_vmi_migration_memory_transfer_rate_bytes", "bytes"],
            ["kubevirt_vmi_migration_succeeded", undefined], ["kubevirt_vmi_migration_failed", undefined]]) {
            assert.ok(families.has(name!), `missing ${name}`);
            assert.strictEqual(families.get(name!)!.unit, unit, name);
        }
        assert.strictEqual(sample(families, "kubevirt_vmi_migration_data_processed_bytes", "out")!.value, 86234165);
        assert.strictEqual(sample(families, "kubevirt_vmi_migration_memory_transfer_rate_bytes", "out")!.value, 119245612);
    });

    it("adds miglab_ figures KubeVirt lacks, in base units", () => {
        assert.strictEqual(sample(families, "miglab_migration_downtime_seconds", "out")!.value, 0.06);
        assert.strictEqual(sample(families, "miglab_migration_total_seconds", "out")!.value, 1.159);
        assert.strictEqual(sample(families, "miglab_migration_probe_lost_packets", "out")!.value, 3);
        assert.strictEqual(sample(families, "miglab_migration_probe_sent_packets", "out")!.value, 384);
        assert.strictEqual(sample(families, "miglab_migration_plain_transfer_ratio", "out")!.value, 0.621);
        assert.strictEqual(sample(families, "miglab_migration_probe_longest_gap_seconds", "out")!.value, 0.0706);
    });

    it("reads network recovery from a leg's timeline, and leaves it out of a leg that kept none", () => {
        const withTimeline = parseLegOutcome("out", "pc1", "pc2", fs.readFileSync(path.join(ROOT, "test", "fixtures", "leg-precopy.txt"), "utf8"));
        const f = parseOpenMetrics(renderOpenMetrics({ stack: "s", legs: [withTimeline] }));
        assert.strictEqual(sample(f, "miglab_migration_network_recovery_seconds", "out")!.value, 0.011);
        assert.strictEqual(sample(f, "kubevirt_vmi_migration_end_time_seconds", "out")!.value, Date.parse("2026-12-01T20:11:10.764Z") / 1000);
        assert.ok(!families.has("miglab_migration_network_recovery_seconds"), "leg-out.txt has no timeline");
    });

    it("labels every sample with stack, topology, leg, guest, source, destination and mode", () => {
        for (const f of families.values()) {
            for (const s of f.samples) {
                for (const k of ["stack", "topology", "leg", "guest", "source", "destination", "mode"]) { assert.ok(s.labels[k], `${s.name}: no ${k}`); }
            }
        }
        assert.deepStrictEqual(sample(families, "kubevirt_vmi_migration_succeeded", "back")!.labels,
            { stack: "same-subnet", topology: "same-subnet", leg: "back", guest: "vm1", source: "pc2", destination: "pc1", mode: "precopy" });
    });

    it("gives a failed leg its status, try number and reason, and no figures", () => {
        assert.strictEqual(sample(families, "kubevirt_vmi_migration_failed", "back")!.value, 1);
        assert.strictEqual(sample(families, "kubevirt_vmi_migration_succeeded", "back")!.value, 0);
        assert.strictEqual(sample(families, "kubevirt_vmi_migration_failed", "out")!.value, 0);
        assert.strictEqual(sample(families, "miglab_migration_attempt", "back")!.value, 1);
        assert.strictEqual(sample(families, "miglab_migration_downtime_seconds", "back"), undefined);
        assert.strictEqual(sample(families, "kubevirt_vmi_migration_data_processed_bytes", "back"), undefined);
        // Quotes and a backslash in the reason survive the label's escaping.
        assert.match(sample(families, "miglab_migration_failure_info", "back")!.labels.reason, /the guest is 'running' on "pc1" \\ still$/);
        assert.strictEqual(sample(families, "kubevirt_vmi_migration_end_time_seconds", "back")!.value, 1764080004.2);
    });

    it("says whether a leg met its SLA, and nothing of a leg no SLA judged", () => {
        // The fixture's out leg (60 ms downtime) was judged by a bound of 50 ms.
        assert.strictEqual(sample(families, "miglab_migration_sla_passed", "out")!.value, 0);
        assert.strictEqual(sample(families, "miglab_migration_sla_passed", "back"), undefined, "a failed leg measured nothing to judge");
        const out = fixtureLegs()[0] as LegMetrics;
        const met = parseOpenMetrics(renderOpenMetrics({ stack: "s", legs: [{ ...out, sla: judgeSla(out, { maxDowntimeMs: out.downtimeMs }) }] }));
        assert.strictEqual(sample(met, "miglab_migration_sla_passed", "out")!.value, 1);
        const unjudged = parseOpenMetrics(renderOpenMetrics({ stack: "s", legs: [{ ...out, sla: undefined }] }));
        assert.ok(!unjudged.has("miglab_migration_sla_passed"));
    });

    it("leaves out a family no leg has a figure for, and a label nobody knows", () => {
        const onlyFailed = renderOpenMetrics({ stack: "s", legs: [fixtureLegs()[1]] });
        const f = parseOpenMetrics(onlyFailed);
        assert.ok(!f.has("miglab_migration_downtime_seconds"));
        assert.deepStrictEqual(Object.keys(sample(f, "kubevirt_vmi_migration_failed", "back")!.labels),
            ["stack", "leg", "guest", "source", "destination"]);
        assert.strictEqual(renderOpenMetrics({ stack: "s", legs: [] }), "# EOF\n");
    });

    it("escapes label values as OpenMetrics wants", () => {
        assert.strictEqual(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
        const odd = renderOpenMetrics({ stack: 'st"ack\\\n', legs: [fixtureLegs()[0]] });
        assert.strictEqual(sample(parseOpenMetrics(odd), "miglab_migration_downtime_seconds", "out")!.labels.stack, 'st"ack\\\n');
    });

    it("takes each leg's mode from the plan, and only legs from the outputs", () => {
        const c = sampleLab();
        c.migration.mode = "postcopy";
        const plan = planLab(parseLabConfig(c), "unit");
        assert.deepStrictEqual(legModes(plan), { out: "postcopy", back: "postcopy" });
        const legs = fixtureLegs();
        assert.deepStrictEqual(legsOfOutputs({ legs: [legs[0], null, "x", { leg: "y" }, legs[1]] }), legs);
        assert.deepStrictEqual(legsOfOutputs({}), []);
        assert.deepStrictEqual(legsOfOutputs(null), []);
    });

    it("names one .prom file per stack under metrics/, whatever the stack's name", () => {
        assert.strictEqual(metricsFileName("same-subnet"), "metrics/same-subnet.prom");
        assert.strictEqual(metricsFileName("../a b"), "metrics/.._a_b.prom");
    });

    it("writes metrics/<stack>.prom after an update that has legs, and nothing in a preview", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-project-"));
        try {
            const src = { stack: "st", legs: fixtureLegs() };
            assert.deepStrictEqual(recordLegMetrics(dir, src, true), {});
            assert.deepStrictEqual(recordLegMetrics(dir, { stack: "st", legs: [] }, false), {});
            assert.ok(!fs.existsSync(path.join(dir, "metrics")), "a preview, or an update without legs, writes nothing");
            assert.deepStrictEqual(recordLegMetrics(dir, src, false), { file: path.join(dir, "metrics", "st.prom") });
            assert.strictEqual(fs.readFileSync(path.join(dir, "metrics", "st.prom"), "utf8"), renderOpenMetrics(src));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("writes the file whole, through a rename, and says why when it cannot", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-metrics-"));
        try {
            const file = path.join(dir, "metrics", "s.prom");
            assert.strictEqual(writeMetricsFile(file, fixtureText()), undefined);
            assert.strictEqual(fs.readFileSync(file, "utf8"), fixtureText());
            assert.deepStrictEqual(fs.readdirSync(path.dirname(file)), ["s.prom"], "no temporary file left");
            fs.writeFileSync(path.join(dir, "plain"), "");
            assert.match(writeMetricsFile(path.join(dir, "plain", "s.prom"), "x") ?? "", /plain\/s\.prom: .*(ENOTDIR|EEXIST)/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
