// SLAs: a measured leg judged against the bounds of its migration (the lab's, overridden bound
// by bound), the line an update fails with, the rules that refuse an SLA no lab can judge, and
// a broken leg's migration measured again on the next update.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parseLabConfig } from "../../components/model/config";
import { migrationSla } from "../../components/model/migrations";
import { LegMetrics, LegOutcome, nextAttempts, parseLeg, parseLegOutcome } from "../../components/reports/metrics";
import { brokeSla, judgeSla, slaBreachLine, slaBreachLines } from "../../components/reports/sla";
import { legsTable } from "../../scripts/print-legs";
import { ROOT } from "../support";
import { problems, sampleLab } from "./config.test";
import { declared, legOutput, outputOf } from "./mocks";

const fixture = (name: string) => fs.readFileSync(path.join(ROOT, "test", "fixtures", name), "utf8");
// A precopy leg with a timeline (so network recovery is measured) and a probe.
const leg = parseLeg("out", "pc1", "pc2", fixture("leg-precopy.txt"));

describe("an SLA judges a measured leg", () => {
    it("passes a leg whose figures equal their bounds, each bound on its own figure", () => {
        const exact = {
            maxDowntimeMs: leg.downtimeMs, maxTotalMs: leg.totalTimeMs, maxProbeLost: leg.probe!.lost,
            maxNetworkRecoveryMs: leg.phases!.networkRecoveryMs!, minRatio: leg.ratio,
        };
        assert.deepStrictEqual(judgeSla(leg, exact), { passed: true, bounds: exact, broken: [] });
    });

    it("breaks a maximum the figure exceeds and a minimum it falls short of, naming figure, bound and value", () => {
        const r = judgeSla(leg, { maxDowntimeMs: leg.downtimeMs - 1, maxTotalMs: leg.totalTimeMs, minRatio: leg.ratio + 0.001 });
        assert.strictEqual(r.passed, false);
        assert.deepStrictEqual(r.broken, [
            { bound: "maxDowntimeMs", limit: leg.downtimeMs - 1, figure: "downtimeMs", value: leg.downtimeMs },
            { bound: "minRatio", limit: leg.ratio + 0.001, figure: "ratio", value: leg.ratio },
        ]);
        assert.deepStrictEqual(judgeSla(leg, { maxProbeLost: leg.probe!.lost - 1 }).broken.map((b) => [b.figure, b.value]), [["probe.lost", leg.probe!.lost]]);
        assert.deepStrictEqual(judgeSla(leg, { maxNetworkRecoveryMs: leg.phases!.networkRecoveryMs! - 1 }).broken.map((b) => [b.figure, b.value]),
            [["phases.networkRecoveryMs", leg.phases!.networkRecoveryMs]]);
    });

    it("counts a figure the leg lacks as not measured, which breaks its bound", () => {
        // No reply to the probe after the guest resumed: no network recovery; a leg without a probe: no probe.lost.
        const lost: LegMetrics = { ...leg, probe: null, phases: { ...leg.phases!, networkRecoveryMs: null } };
        const r = judgeSla(lost, { maxProbeLost: 1000, maxNetworkRecoveryMs: 100000 });
        assert.strictEqual(r.passed, false);
        assert.deepStrictEqual(r.broken.map((b) => [b.bound, b.value]), [["maxProbeLost", null], ["maxNetworkRecoveryMs", null]]);
        assert.strictEqual(slaBreachLine(lost, r.broken[1]),
            "leg out (pc1 -> pc2) breaks its SLA: phases.networkRecoveryMs not measured (maxNetworkRecoveryMs 100000)");
        assert.strictEqual(judgeSla({ ...leg, phases: null }, { maxNetworkRecoveryMs: 100000 }).passed, false, "a leg without a timeline");
    });

    it("says each broken bound in one line naming the leg, the figure, the bound and the value measured", () => {
        const judged = { ...leg, sla: judgeSla(leg, { maxDowntimeMs: 1, minRatio: 0.9 }) };
        assert.deepStrictEqual(slaBreachLines([judged]), [
            `leg out (pc1 -> pc2) breaks its SLA: downtimeMs ${leg.downtimeMs} > maxDowntimeMs 1`,
            `leg out (pc1 -> pc2) breaks its SLA: ratio ${leg.ratio} < minRatio 0.9`,
        ]);
        assert.ok(brokeSla(judged));
        assert.ok(!brokeSla(leg), "a leg judged by no SLA broke none");
        assert.deepStrictEqual(slaBreachLines([leg, { ...leg, sla: judgeSla(leg, { maxDowntimeMs: leg.downtimeMs }) }]), []);
    });
});

describe("a migration's SLA: the lab's bounds, its own replacing them one by one", () => {
    it("merges bound by bound, and is none when neither gives one", () => {
        assert.deepStrictEqual(migrationSla({ maxDowntimeMs: 500, maxTotalMs: 9000 }, { maxDowntimeMs: 800, minRatio: 0.2 }),
            { maxDowntimeMs: 800, maxTotalMs: 9000, minRatio: 0.2 });
        assert.deepStrictEqual(migrationSla({ maxDowntimeMs: 500 }, undefined), { maxDowntimeMs: 500 });
        assert.strictEqual(migrationSla(undefined, undefined), undefined);
        assert.strictEqual(migrationSla({}, {}), undefined);
    });

    it("is accepted on the lab and on a migration, and bounds outside the schema are named", () => {
        const cfg = sampleLab();
        cfg.sla = { maxDowntimeMs: 500, maxProbeLost: 10 };
        cfg.migration.sla = { maxDowntimeMs: 800 };
        const parsed = parseLabConfig(cfg);
        assert.deepStrictEqual(parsed.sla, { maxDowntimeMs: 500, maxProbeLost: 10 });
        assert.deepStrictEqual(parsed.migrations[0].sla, { maxDowntimeMs: 800 });
        const p = problems((c) => { c.sla = { maxDowntimeMs: -1, maxJitterMs: 10 }; c.migration.sla = { maxProbeLost: 1.5 }; });
        assert.ok(p.includes("sla.maxDowntimeMs: must be a number from 0 to 86400000"), p.join("\n"));
        assert.ok(p.includes("sla.maxJitterMs: is not a known field; remove it or check its spelling"), p.join("\n"));
        assert.ok(p.includes("migration.sla.maxProbeLost: must be an integer from 0 to 100000000"), p.join("\n"));
    });

    it("refuses a migration that does not end where it starts: its broken leg could not be measured again", () => {
        assert.deepStrictEqual(problems((c) => { c.migration.roundTrip = false; c.migration.sla = { maxTotalMs: 5000 }; }), [
            "migration.sla: a leg that breaks the SLA is measured again on the next pulumi up by running its migration again from the start, " +
            "so the guest must end where it starts: set migration.roundTrip: true, or end the path where it starts",
        ]);
        assert.deepStrictEqual(problems((c) => { c.migration.roundTrip = false; c.sla = { maxTotalMs: 5000 }; }), [
            "sla: applies to migration, whose guest does not end where it starts; a leg that breaks the SLA is measured again on the next pulumi up " +
            "by running its migration again from the start, so the guest must end where it starts: set migration.roundTrip: true, or end the path where it starts",
        ]);
        // A path that ends where it starts needs no roundTrip.
        const closed = sampleLab();
        Object.assign(closed.migration, { roundTrip: false, from: undefined, to: undefined, path: ["pc1", "pc2", "pc1"], sla: { maxTotalMs: 5000 } });
        assert.deepStrictEqual(parseLabConfig(JSON.parse(JSON.stringify(closed))).migrations[0].sla, { maxTotalMs: 5000 });
    });

    it("refuses bounds the lab cannot measure, naming where the bound came from, once for the lab's", () => {
        const nat = (c: any) => {
            Object.assign(c, { topology: "nat", nat: { subnet: "192.168.150.0/24", gateway: "192.168.150.1" } });
            c.guests[0].address = "192.168.150.10";
        };
        const why = "is measured by a probe pinging the guest from a third node, and topology 'nat' has none (no node outside the guest's host reaches it): remove the bound";
        assert.deepStrictEqual(problems((c) => {
            nat(c);
            c.guests.push({ name: "vm2", home: "pc2", address: "192.168.150.11" });
            delete c.migration;
            c.migrations = [{ guest: "vm1", from: "pc1", to: "pc2" }, { guest: "vm2", from: "pc2", to: "pc1", sla: { maxNetworkRecoveryMs: 50 } }];
            c.sla = { maxProbeLost: 0, maxDowntimeMs: 500 };
        }), [`sla.maxProbeLost: ${why}`, `migrations[1].sla.maxNetworkRecoveryMs: ${why}`]);
        assert.deepStrictEqual(problems((c) => { c.migration.timelineIntervalMs = 0; c.sla = { maxNetworkRecoveryMs: 50 }; }), [
            "sla.maxNetworkRecoveryMs: is read from the leg's timeline, which migration.timelineIntervalMs: 0 turns off; set it above 0 or remove the bound",
        ]);
    });
});

describe("a leg that broke its SLA is measured again", () => {
    const out = parseLegOutcome("out", "pc1", "pc2", legOutput);
    const back = parseLegOutcome("back", "pc2", "pc1", legOutput);
    const judged = (l: LegOutcome, bounds: object) => ({ ...l, sla: judgeSla(l as LegMetrics, bounds) });

    it("with every leg of its migration, from the start, on the next update", () => {
        const broke = [judged(out, { maxDowntimeMs: 1 }), judged(back, { maxDowntimeMs: 100000 })];
        assert.deepStrictEqual(nextAttempts(broke, ["out", "back"]), [1, 1]);
        // Measured again and passed: the try numbers stay, nothing runs on the update after.
        const passed = [{ ...judged(out, { maxDowntimeMs: 100000 }), attempt: 1 }, { ...judged(back, { maxDowntimeMs: 100000 }), attempt: 1 }];
        assert.deepStrictEqual(nextAttempts(passed, ["out", "back"]), [1, 1]);
        // Another migration's legs are not its.
        assert.deepStrictEqual(nextAttempts(broke, ["vm2-1", "vm2-2"]), [0, 0]);
    });

    it("after the failed legs of its migration are tried again: a failed leg left the guest on its source", () => {
        const failed = { leg: "back", from: "pc2", to: "pc1", failed: "migration of vm1 from pc2 to pc1 failed", attempt: 0, finishedAt: "" };
        assert.deepStrictEqual(nextAttempts([judged(out, { maxDowntimeMs: 1 }), failed], ["out", "back"]), [0, 1]);
    });
});

describe("npm run lab's table of legs", () => {
    it("marks a leg that broke its SLA and lists the bounds it broke", () => {
        const back = parseLeg("back", "pc2", "pc1", legOutput);
        const text = legsTable([{ ...leg, sla: judgeSla(leg, { maxDowntimeMs: 1 }) }, { ...back, sla: judgeSla(back, { maxDowntimeMs: back.downtimeMs }) }]);
        const lines = text.split("\n");
        assert.match(lines.find((l) => l.includes("pc1 -> pc2"))!, /^\s*pc1 -> pc2 !\s/);
        assert.match(lines.find((l) => l.includes("pc2 -> pc1"))!, /^\s*pc2 -> pc1\s+\d/);
        assert.ok(lines.includes(`! leg out (pc1 -> pc2) breaks its SLA: downtimeMs ${leg.downtimeMs} > maxDowntimeMs 1`), text);
        assert.match(text, /the next `pulumi up` \(npm run lab\) measures again every migration with a leg that broke its SLA/);
    });
});

describe("Migration with an SLA (mocks)", function () {
    this.timeout(20000);
    const measured = parseLeg("out", "pc1", "pc2", legOutput);

    /** Runs `body` with pulumi.log.error captured: each message and the name of the resource it was logged on. */
    async function capturing(body: () => Promise<void>): Promise<{ errors: string[]; on: string[] }> {
        const log = pulumi.log as { error: (msg: string, resource?: pulumi.Resource) => void };
        const real = log.error;
        const errors: string[] = [], resources: (pulumi.Resource | undefined)[] = [];
        log.error = (msg: string, resource?: pulumi.Resource) => { errors.push(msg); resources.push(resource); };
        try {
            await body();
            const on = await Promise.all(resources.map(async (x) => (x ? (await outputOf(x.urn)).split("::").pop()! : "(none)")));
            return { errors, on };
        } finally {
            log.error = real;
        }
    }

    it("keeps a leg that breaks a bound with its verdict, and fails the update with one line per broken bound", async () => {
        const { Lab } = await import("../../components/resources/lab");
        const cfg = sampleLab();
        cfg.sla = { maxDowntimeMs: measured.downtimeMs - 1, maxProbeLost: measured.probe!.lost };
        let legs: LegOutcome[] = [];
        const code = process.exitCode;
        const r = await capturing(async () => { legs = await outputOf(new Lab("slab", { config: parseLabConfig(cfg), stack: "unit-sla" }).legs); });
        assert.strictEqual(process.exitCode, code, "no exit code is set while the program runs");
        // Logged as errors on each leg's command: what makes the program exit non-zero once done (exit.test.ts).
        assert.deepStrictEqual(r.on, ["slab-migration-out", "slab-migration-back"]);
        assert.deepStrictEqual(r.errors, [
            `leg out (pc1 -> pc2) breaks its SLA: downtimeMs ${measured.downtimeMs} > maxDowntimeMs ${measured.downtimeMs - 1}`,
            `leg back (pc2 -> pc1) breaks its SLA: downtimeMs ${measured.downtimeMs} > maxDowntimeMs ${measured.downtimeMs - 1}`,
        ]);
        const l = legs[0] as LegMetrics;
        assert.strictEqual(l.downtimeMs, measured.downtimeMs, "the broken leg keeps its figures");
        assert.deepStrictEqual(l.sla, {
            passed: false, bounds: cfg.sla,
            broken: [{ bound: "maxDowntimeMs", limit: measured.downtimeMs - 1, figure: "downtimeMs", value: measured.downtimeMs }],
        });
    });

    it("judges each migration by its own bound where it gives one, the lab's elsewhere", async () => {
        const { Lab } = await import("../../components/resources/lab");
        const cfg = sampleLab();
        cfg.sla = { maxDowntimeMs: measured.downtimeMs - 1, maxTotalMs: measured.totalTimeMs };
        cfg.migration.sla = { maxDowntimeMs: measured.downtimeMs };
        let legs: LegOutcome[] = [];
        const r = await capturing(async () => { legs = await outputOf(new Lab("slaok", { config: parseLabConfig(cfg), stack: "unit-sla-ok" }).legs); });
        assert.deepStrictEqual(r.errors, []);
        assert.deepStrictEqual(legs.map((x) => (x as LegMetrics).sla),
            [0, 1].map(() => ({ passed: true, bounds: { maxDowntimeMs: measured.downtimeMs, maxTotalMs: measured.totalTimeMs }, broken: [] })));
    });

    it("runs every leg of the migration again when a leg broke its SLA last time", async () => {
        const { Lab } = await import("../../components/resources/lab");
        const cfg = sampleLab();
        cfg.sla = { maxDowntimeMs: 100000 };
        const last = [
            { ...parseLegOutcome("out", "pc1", "pc2", legOutput), sla: judgeSla(measured, { maxDowntimeMs: 1 }) },
            { ...parseLegOutcome("back", "pc2", "pc1", legOutput), sla: judgeSla(measured, { maxDowntimeMs: 100000 }) },
        ];
        const r = await capturing(async () => {
            const legs = await outputOf(new Lab("slaagain", { config: parseLabConfig(cfg), stack: "unit-sla-again", previousLegs: last }).legs);
            assert.deepStrictEqual(legs.map((l) => [l.leg, l.attempt, (l as LegMetrics).sla?.passed]), [["out", 1, true], ["back", 1, true]]);
        });
        assert.deepStrictEqual(r.errors, []);
        const triggers = (n: string) => declared.find((d) => d.name === `slaagain-migration-${n}`)!.inputs.triggers as unknown[];
        // The try number is the last trigger: a new one replaces the leg's command, which runs it again.
        assert.deepStrictEqual([triggers("out").at(-1), triggers("back").at(-1)], [1, 1]);
    });

    it("refuses, as a Migration's argument, a bound on a probe figure without a probe", async () => {
        const { Migration } = await import("../../components/resources/migration");
        const { Host } = await import("../../components/resources/host");
        const { Domain } = await import("../../components/resources/domain");
        const { GuestImage } = await import("../../components/resources/guestImage");
        const { NfsServer } = await import("../../components/resources/nfsServer");
        const conn = (port: number) => ({ host: "127.0.0.1", port, user: "root", privateKey: "k" });
        const pc1 = new Host("sla-pc1", { connection: conn(2241), address: "10.5.0.1", hostname: "pc1", peerKeyPath: "/k/id" });
        const pc2 = new Host("sla-pc2", { connection: conn(2242), address: "10.5.0.2", hostname: "pc2", peerKeyPath: "/k/id" });
        const nfsHost = new Host("sla-nfs", { connection: conn(2243), address: "10.5.0.3", hostname: "nfs", role: "nfs" });
        const image = new GuestImage("sla-img", { nfs: new NfsServer("sla-nfs-server", { host: nfsHost, export: "/srv/s", allowedNetworks: ["10.5.0.0/24"] }), name: "vm" });
        const vm = new Domain("sla-vm", {
            host: pc1, hosts: [pc1, pc2], guestName: "vm", memoryMiB: 256, image,
            network: { kind: "bridge", bridge: "br-lab" }, address: "10.5.0.10", prefix: 24,
        });
        assert.throws(() => new Migration("sla-noprobe", { domain: vm, from: pc1, to: pc2, sla: { maxProbeLost: 0 } }),
            /Migration 'sla-noprobe' has a bad argument:\n {2}- sla\.maxProbeLost: is measured by a probe pinging the guest from a third node, and this Migration has none: give it a probe, or remove the bound/);
        assert.throws(() => new Migration("sla-open", { domain: vm, from: pc1, to: pc2, probe: nfsHost, roundTrip: false, sla: { maxDowntimeMs: 100 } }),
            /- sla: a leg that breaks the SLA is measured again on the next pulumi up by running its migration again from the start, so the guest must end where it starts: set roundTrip: true/);
    });
});
