// Drains without a lab: where the guests go (placement by free memory, or as listed), which
// leg waits for which (at most `parallel` at once), the config errors (destinations short of
// memory among them), the drain's report from its legs, its SLA bound, and the Lab's Drain
// under the mocked engine.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseLabConfig } from "../../components/model/config";
import { drainWaits, placeGuests } from "../../components/model/drain";
import { planLab } from "../../components/model/plan";
import { drainAttempts, drainReport, drainsTable, judgeDrain, drainBreachLine, linkShares, maxOverlap } from "../../components/reports/drain";
import { LegMetrics, LegOutcome, parseLeg } from "../../components/reports/metrics";
import { refusals, sampleLab } from "./config.test";
import { find, legOutput, outputOf, varOf } from "./mocks";

/** A same-subnet lab of three hosts, four guests on pc1 (vm4 on pc3), and a drain of pc1. */
function drainLab(drain: any = {}, more: any = {}): any {
    const c = sampleLab();
    c.hosts.push({ name: "pc3", address: "10.10.10.4" });
    c.guests = [
        { name: "vm1", home: "pc1", address: "10.10.10.10", memoryMiB: 128 },
        { name: "vm2", home: "pc1", address: "10.10.10.11", memoryMiB: 256 },
        { name: "vm3", home: "pc1", address: "10.10.10.12", memoryMiB: 192 },
        { name: "vm4", home: "pc3", address: "10.10.10.13", memoryMiB: 128 },
    ];
    delete c.migration;
    c.migrations = [{ drain: { host: "pc1", ...drain }, probeIntervalMs: 10, ...more }];
    return c;
}

const problems = refusals;

/**
 * Runs legs as Pulumi does with their dependsOn: each starts once every leg it waits for has
 * ended; returns the most running at once and when each ran.
 */
function simulate(waits: number[][], duration: (k: number) => number): { most: number; ran: { start: number; end: number }[] } {
    const ran: { start: number; end: number }[] = [];
    waits.forEach((w, k) => {
        assert.ok(w.every((j) => j < k), `leg ${k} waits for a later leg`);
        const start = Math.max(0, ...w.map((j) => ran[j].end));
        ran.push({ start, end: start + duration(k) });
    });
    return { most: maxOverlap(ran), ran };
}

describe("drain planning: placement", () => {
    const guests = [{ name: "a", memoryMiB: 128 }, { name: "b", memoryMiB: 512 }, { name: "c", memoryMiB: 256 }];

    it("places the largest guest first, each on the destination with the most memory free", () => {
        const r = placeGuests(guests, [{ host: "h2", capacityMiB: 1024, usedMiB: 256 }, { host: "h3", capacityMiB: 1024, usedMiB: 0 }]);
        // b (512) -> h3 (1024 free); c (256) -> h2 (768 vs 512 free); a (128): 512 free on both, 512 MiB placed on both: the first.
        assert.deepStrictEqual(r.moves, [
            { guest: "b", to: "h3", memoryMiB: 512 }, { guest: "c", to: "h2", memoryMiB: 256 }, { guest: "a", to: "h2", memoryMiB: 128 },
        ]);
    });

    it("without memory figures, places by the least guest memory already on each destination", () => {
        const r = placeGuests(guests, [{ host: "h2", usedMiB: 300 }, { host: "h3", usedMiB: 0 }]);
        // b -> h3 (0 placed); c -> h2 (300 < 512); a -> h3 (512 < 556)
        assert.deepStrictEqual(r.moves!.map((m) => `${m.guest}>${m.to}`), ["b>h3", "c>h2", "a>h3"]);
    });

    it("sends listed guests where listed, counting their memory before placing the others", () => {
        const r = placeGuests(guests, [{ host: "h2", capacityMiB: 1024, usedMiB: 0 }, { host: "h3", capacityMiB: 1024, usedMiB: 0 }], { b: "h2", a: "h2" });
        assert.deepStrictEqual(r.moves!.map((m) => `${m.guest}>${m.to}`), ["b>h2", "c>h3", "a>h2"]);
    });

    it("says which guest fits nowhere, with each destination's free memory", () => {
        const r = placeGuests(guests, [{ host: "h2", capacityMiB: 600, usedMiB: 0 }, { host: "h3", capacityMiB: 300, usedMiB: 100 }]);
        assert.strictEqual(r.problem, "guest 'c' (256 MiB) fits on none of its destinations: h2 88 of 600 MiB free, h3 200 of 300 MiB free");
        const listed = placeGuests(guests, [{ host: "h2", capacityMiB: 400, usedMiB: 0 }], { b: "h2" });
        assert.strictEqual(listed.problem, "guest 'b' (512 MiB) does not fit on h2 400 of 400 MiB free, where place sends it");
    });
});

describe("drain planning: concurrency", () => {
    for (const [n, parallel] of [[3, 2], [4, 1], [4, 4], [7, 3], [2, 5]] as const) {
        it(`runs ${n} guests at most ${parallel} at once, out then back, whatever each leg takes`, () => {
            const waits = drainWaits(n, parallel, true);
            assert.strictEqual(waits.length, 2 * n);
            for (const duration of [() => 10, (k: number) => 1 + ((k * 7) % 5), (k: number) => (k % 2 ? 50 : 3)]) {
                const { most, ran } = simulate(waits, duration);
                assert.strictEqual(most, Math.min(n, parallel), `${JSON.stringify(ran)}`);
                // Nothing comes back before the host is empty.
                const lastOut = Math.max(...ran.slice(0, n).map((r) => r.end));
                assert.ok(ran.slice(n).every((r) => r.start >= lastOut), JSON.stringify(ran));
            }
        });
    }

    it("chains leg k after leg k - parallel, and the legs back after every leg out", () => {
        assert.deepStrictEqual(drainWaits(3, 2, true), [[], [], [0], [0, 1, 2], [0, 1, 2], [0, 1, 2, 3]]);
        assert.deepStrictEqual(drainWaits(3, 2, false), [[], [], [0]]);
    });
});

describe("drain planning: config and plan", () => {
    it("plans a drain: guests largest first, placed on the others' free memory, legs chained, the guest that stays a bystander", () => {
        const c = drainLab({ parallel: 2 });
        c.hosts[1].memoryMiB = 1024;
        c.hosts[2].memoryMiB = 1024;
        const plan = planLab(parseLabConfig(c), "unit-drain");
        assert.deepStrictEqual(plan.drains.map((d) => ({ ...d })), [{
            at: "migrations[0]", host: "pc1", parallel: 2,
            // vm2 (256) -> pc2 (1024 free, emptier than pc3 which holds vm4); vm3 (192) -> pc3 (896 vs 768 free); vm1 (128) -> pc2 (768 vs 704)
            moves: [{ guest: "vm2", to: "pc2", memoryMiB: 256 }, { guest: "vm3", to: "pc3", memoryMiB: 192 }, { guest: "vm1", to: "pc2", memoryMiB: 128 }],
            legs: ["vm2-1", "vm3-1", "vm1-1", "vm2-2", "vm3-2", "vm1-2"],
            waits: [[], [], ["vm2-1"], ["vm2-1", "vm3-1", "vm1-1"], ["vm2-1", "vm3-1", "vm1-1"], ["vm2-1", "vm3-1", "vm1-1", "vm2-2"]],
        }]);
        assert.deepStrictEqual(plan.legs.map((l) => `${l.name} ${l.from}->${l.to} ${l.bystanders.map((b) => `${b.guest}@${b.host}`)}`), [
            "vm2-1 pc1->pc2 vm4@pc3", "vm3-1 pc1->pc3 vm4@pc3", "vm1-1 pc1->pc2 vm4@pc3",
            "vm2-2 pc2->pc1 vm4@pc3", "vm3-2 pc3->pc1 vm4@pc3", "vm1-2 pc2->pc1 vm4@pc3",
        ]);
    });

    it("takes the listed destinations and placements, and follows the guests from the migrations before", () => {
        const c = drainLab({ to: ["pc3"], place: { vm1: "pc3" } });
        c.migrations.unshift({ guest: "vm4", from: "pc3", to: "pc1", roundTrip: false });
        const plan = planLab(parseLabConfig(c), "unit-drain");
        assert.deepStrictEqual(plan.drains[0].moves.map((m) => `${m.guest}>${m.to}`), ["vm2>pc3", "vm3>pc3", "vm1>pc3", "vm4>pc3"]);
        assert.strictEqual(plan.legs.filter((l) => l.at === "migrations[1]").length, 8);
    });

    it("refuses, as a config error, a drain whose destinations lack the memory, naming the host and the memory", () => {
        const c = drainLab();
        c.hosts[1].memoryMiB = 256;
        c.hosts[2].memoryMiB = 384;
        assert.deepStrictEqual(problems(c), [
            "migrations[0].drain: cannot empty 'pc1': guest 'vm1' (128 MiB) fits on none of its destinations: pc2 0 of 256 MiB free, pc3 64 of 384 MiB free; " +
            "give the destinations more memory (hosts[1].memoryMiB, hosts[2].memoryMiB), add destinations (drain.to), or make the guests smaller",
        ]);
    });

    it("names every field a drain cannot take, and what is wrong with its hosts and placements", () => {
        assert.deepStrictEqual(problems(drainLab({ host: "pc9" })), ["migrations[0].drain.host: 'pc9' is not one of the hosts (pc1, pc2, pc3)"]);
        assert.deepStrictEqual(problems(drainLab({ to: ["pc1", "pc7"] })), [
            "migrations[0].drain.to[0]: 'pc1' is the host the drain empties; list other hosts, or use to: any",
            "migrations[0].drain.to[1]: 'pc7' is not one of the hosts (pc1, pc2, pc3)",
        ]);
        assert.deepStrictEqual(problems(drainLab({ to: ["pc2"], place: { vm4: "pc2", vm1: "pc3" } })), [
            "migrations[0].drain.place.vm4: 'vm4' is not a guest on 'pc1' when this drain starts (vm1, vm2, vm3); list only those",
            "migrations[0].drain.place.vm1: 'pc3' is not one of the drain's destinations (pc2)",
        ]);
        assert.deepStrictEqual(problems(drainLab({ host: "pc2" })), [
            "migrations[0].drain.host: no guest runs on 'pc2' when this drain starts (guests: vm1 on pc1, vm2 on pc1, vm3 on pc1, vm4 on pc3); drain a host that has guests",
        ]);
        const p = problems(drainLab({}, { guest: "vm1", runs: 2 }));
        assert.ok(p.includes("migrations[0].guest: a drain moves every guest on drain.host, each to a host it picks (or drain.place names); remove guest"), p.join("\n"));
        assert.ok(p.some((x) => x.startsWith("migrations[0].runs: a drain runs once per pulumi up")), p.join("\n"));
        assert.deepStrictEqual(problems(drainLab({}, { probeHost: "pc2" })), ["migrations[0].probeHost: must be none of the hosts the guests visit (pc1, pc2, pc3)"]);
        assert.deepStrictEqual(problems(drainLab({ to: "every" })), ["migrations[0].drain.to: give a list of host names (e.g. [pc2, pc3]) or 'any' (every other host)"]);
        assert.deepStrictEqual(problems(drainLab({ parallel: 0 })), ["migrations[0].drain.parallel: must be an integer from 1 to 16"]);
        const nfs = drainLab();
        nfs.nfs.host.memoryMiB = 512;
        assert.deepStrictEqual(problems(nfs), ["nfs.host.memoryMiB: is what a hypervisor host gives its guests (drains place by it), and the NFS server runs none; remove it"]);
    });

    it("takes maxDrainMs on a drain and the lab, not on a single guest's migration", () => {
        const c = drainLab({}, { sla: { maxDrainMs: 60000 } });
        c.sla = { maxDrainMs: 90000, maxDowntimeMs: 500 };
        assert.deepStrictEqual(parseLabConfig(c).migrations[0].sla, { maxDrainMs: 60000 });
        const single = sampleLab();
        single.migration.sla = { maxDrainMs: 1000 };
        assert.deepStrictEqual(problems(single), [
            "migration.sla.maxDrainMs: bounds a drain's total time, and this is a single guest's migration; remove it (or give it to a drain entry or the lab's sla)",
        ]);
        const open = drainLab({}, { roundTrip: false, sla: { maxDrainMs: 1000 } });
        assert.ok(problems(open).some((x) => x.startsWith("migrations[0].sla: a leg that breaks the SLA is measured again")), "an SLA needs the guests back home");
    });
});

describe("a drain's report", () => {
    const base = parseLeg("x", "pc1", "pc2", legOutput);
    const at = Date.parse("2026-12-01T10:00:00Z");
    /** A measured leg of `guest` that migrated from `start` (ms after `at`) for `ms`, moving `mb` MB. */
    const leg = (name: string, guest: string, to: string, start: number, ms: number, mb: number, extra: Partial<LegMetrics> = {}): LegMetrics => ({
        ...base, leg: name, guest, from: "pc1", to, startedAt: new Date(at + start).toISOString(), wallClockMs: ms, dataProcessedBytes: mb * 1e6,
        bystanders: [{ guest: "vm4", host: "pc3", counterBefore: 10, counterAfter: 20, guestPing: null, probe: { sent: 100, received: 98, lost: 2, longestGapMs: 30 } }],
        ...extra,
    });
    const spec = { at: "migrations[0]", host: "pc1", parallel: 2, out: ["vm2-1", "vm3-1", "vm1-1"], back: [] as string[] };
    const legs: LegOutcome[] = [
        leg("vm2-1", "vm2", "pc2", 0, 4000, 200, { downtimeMs: 120 }),
        leg("vm3-1", "vm3", "pc3", 0, 2000, 100, { downtimeMs: 90 }),
        leg("vm1-1", "vm1", "pc2", 2500, 2500, 100, { downtimeMs: 60 }),
    ];

    it("times the drain from the first migration's start to the last one's end, and counts the legs at once", () => {
        const r = drainReport(spec, legs);
        assert.strictEqual(r.drainMs, 5000);
        assert.strictEqual(r.returnMs, null);
        assert.strictEqual(r.maxConcurrent, 2);
        assert.strictEqual(r.worstDowntimeMs, 120);
        assert.deepStrictEqual(r.out.map((l) => `${l.guest}>${l.to} ${l.downtimeMs} ${l.probe?.lost}/${l.probe?.sent}`),
            [`vm2>pc2 120 ${base.probe!.lost}/${base.probe!.sent}`, `vm3>pc3 90 ${base.probe!.lost}/${base.probe!.sent}`, `vm1>pc2 60 ${base.probe!.lost}/${base.probe!.sent}`]);
        assert.deepStrictEqual(r.bystanders, [{ guest: "vm4", host: "pc3", counting: true, probe: { sent: 300, lost: 6 }, guestPingLostMax: null }]);
        assert.match(drainsTable([r]), /drain of pc1 \(migrations\[0\]\), 2 at once: 5000 ms to empty it; at most 2 legs at once; worst downtime 120 ms/);
    });

    it("gives each leg its share of the bytes leaving the host while it ran (1 alone)", () => {
        const s = linkShares(legs);
        // vm3 ran 0-2 s beside vm2 (200 MB over 4 s: 100 MB then): 100 / 200.
        assert.strictEqual(s.get("vm3-1"), 0.5);
        // vm2: 200 MB; vm3's 100 MB all within vm2's window; vm1's 1.5 s of 2.5 s overlap: 60 MB.
        assert.strictEqual(s.get("vm2-1"), Math.round(200 / 360 * 1000) / 1000);
        assert.strictEqual(linkShares([legs[0]]).get("vm2-1"), 1);
    });

    it("has no drain time when a leg out failed: the host was not emptied, which breaks maxDrainMs", () => {
        const failed: LegOutcome[] = [legs[0], legs[1], { leg: "vm1-1", guest: "vm1", from: "pc1", to: "pc2", failed: "migration of vm1 failed", attempt: 0, finishedAt: "" }];
        const r = drainReport(spec, failed);
        assert.strictEqual(r.drainMs, null);
        assert.strictEqual(r.out[2].failed, "migration of vm1 failed");
        const v = judgeDrain(r, { maxDrainMs: 10000 })!;
        assert.strictEqual(v.passed, false);
        assert.strictEqual(drainBreachLine(r, v.broken[0]), "drain of pc1 (migrations[0]) breaks its SLA: drainMs not measured (a leg out failed; maxDrainMs 10000)");
    });

    it("judges the drain's time against maxDrainMs, a time equal to it meeting it", () => {
        const r = drainReport(spec, legs);
        assert.deepStrictEqual(judgeDrain(r, { maxDrainMs: 5000 }), { passed: true, bounds: { maxDrainMs: 5000 }, broken: [] });
        const v = judgeDrain(r, { maxDrainMs: 4999, maxDowntimeMs: 1 })!;
        assert.deepStrictEqual(v.broken, [{ bound: "maxDrainMs", limit: 4999, figure: "drainMs", value: 5000 }]);
        assert.strictEqual(drainBreachLine(r, v.broken[0]), "drain of pc1 (migrations[0]) breaks its SLA: drainMs 5000 > maxDrainMs 4999");
        assert.strictEqual(judgeDrain(r, { maxDowntimeMs: 1 }), undefined, "no drain bound, no drain verdict");
    });

    it("runs every leg of a drain that broke its bound again, and otherwise as any migration's legs", () => {
        const previous = [{ leg: "vm2-1", attempt: 0 }, { leg: "vm3-1", attempt: 2 }, { leg: "vm1-1", attempt: 0 }];
        const names = ["vm2-1", "vm3-1", "vm1-1"];
        assert.deepStrictEqual(drainAttempts(previous, [{ at: "migrations[0]", sla: { passed: false } }], "migrations[0]", names), [1, 3, 1]);
        assert.deepStrictEqual(drainAttempts(previous, [{ at: "migrations[0]", sla: { passed: true } }], "migrations[0]", names), [0, 2, 0]);
        assert.deepStrictEqual(drainAttempts(previous, [{ at: "migrations[1]", sla: { passed: false } }], "migrations[0]", names), [0, 2, 0]);
    });
});

describe("Drain in a Lab (mocks)", function () {
    this.timeout(20000);

    it("declares the legs chained `parallel` apart, each chain with its own plain-transfer port, and reports the drain", async () => {
        const { Lab } = await import("../../components/resources/lab");
        const cfg = parseLabConfig(drainLab({ parallel: 2 }));
        const lab = new Lab("dlab", { config: cfg, stack: "unit-drain" });
        assert.strictEqual(lab.drains.length, 1);
        assert.deepStrictEqual(lab.drains[0].schedule, lab.plan.drains[0].legs.map((leg, k) => ({
            leg, after: lab.plan.drains[0].waits[k], iperfPort: 5201 + (k % 3) % 2,
        })));
        const legs = await outputOf(lab.legs);
        assert.deepStrictEqual(legs.map((l) => `${l.leg} ${l.from}->${l.to}`), lab.plan.legs.map((l) => `${l.name} ${l.from}->${l.to}`));
        const third = await find("dlab-migration-vm1-1");
        assert.strictEqual(varOf(third.inputs.create, "IPERF_PORT"), "5201");
        assert.strictEqual(varOf((await find("dlab-migration-vm3-1")).inputs.create, "IPERF_PORT"), "5202");
        const [report] = await outputOf(lab.drainReports);
        assert.strictEqual(report.host, "pc1");
        assert.strictEqual(report.out.length, 3);
        assert.strictEqual(report.back.length, 3);
    });

    it("fails the update with one line naming the drain when it breaks maxDrainMs", async () => {
        const { Lab } = await import("../../components/resources/lab");
        const log = pulumi.log as { error: (msg: string, resource?: pulumi.Resource) => void };
        const real = log.error, code = process.exitCode;
        const errors: string[] = [];
        const on: unknown[] = [];
        log.error = (msg: string, resource?: pulumi.Resource) => { errors.push(msg); on.push(resource); };
        try {
            const lab = new Lab("dsla", { config: parseLabConfig(drainLab({}, { sla: { maxDrainMs: 1 } })), stack: "unit-drain-sla" });
            const [report] = await outputOf(lab.drainReports);
            // Logged as an error on the Drain (which fails the program once done: exit.ts), kept in the report.
            assert.deepStrictEqual(errors, [`drain of pc1 (migrations[0]) breaks its SLA: drainMs ${report.drainMs} > maxDrainMs 1`]);
            assert.deepStrictEqual(on, [lab.drains[0]]);
            assert.strictEqual(process.exitCode, code, "no exit code is set while the program runs");
            assert.strictEqual(report.sla!.passed, false);
        } finally {
            log.error = real;
        }
    });
});
