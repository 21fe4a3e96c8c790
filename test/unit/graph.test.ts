// The component graph under pulumi.runtime.setMocks: what the Lab declares, and how.
// Mocks stand in for the engine only; the lab itself is exercised in test/lab.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { parseLabConfig } from "../../components/model/config";
import { LocalSite } from "../../components/resources/localSite";
import { LOCAL_MIGRATION_TLS_DIR } from "../../components/render";
import { siteSpecOf } from "../../components/render/specs";
import { LegMetrics } from "../../components/reports/metrics";
import { sampleLab } from "./config.test";
import { declared as all, outputOf, varOf } from "./mocks";

/** What this file's Lab named "lab" declared (other files declare their own resources under the same mocks). */
const declared = { filter: (f: (d: typeof all[0]) => boolean) => all.filter((d) => /^lab(-|$)/.test(d.name) && f(d)),
    find: (f: (d: typeof all[0]) => boolean) => all.find((d) => /^lab(-|$)/.test(d.name) && f(d)) };

describe("Lab component graph (mocks)", function () {
    this.timeout(20000);
    let lab: import("../../components/resources/lab").Lab;

    before(async () => {
        const { Lab } = await import("../../components/resources/lab");
        lab = new Lab("lab", { config: parseLabConfig(sampleLab()), stack: "unit" });
        await outputOf(lab.legs);
    });

    const count = (type: string) => declared.filter((d) => d.type === type).length;

    it("declares one component of each kind per node, pool, guest and migration", () => {
        assert.strictEqual(count("miglab:lab:Lab"), 1);
        assert.strictEqual(count("miglab:site:LocalSite"), 1);
        assert.strictEqual(count("miglab:host:Host"), 3);
        assert.strictEqual(count("miglab:storage:NfsServer"), 1);
        assert.strictEqual(count("miglab:storage:StoragePool"), 2);
        assert.strictEqual(count("miglab:guest:GuestImage"), 1);
        assert.strictEqual(count("miglab:guest:Domain"), 1);
        assert.strictEqual(count("miglab:migration:Migration"), 1);
    });

    it("runs every host-side action as a remote.Command over the loopback port of the node's sshd", () => {
        const remote = declared.filter((d) => d.type === "command:remote:Command");
        assert.ok(remote.length >= 10, `only ${remote.length} remote commands`);
        for (const d of remote) {
            assert.strictEqual(d.inputs.connection.host, "127.0.0.1", d.name);
            assert.ok(d.inputs.connection.port > 22000, d.name);
            // As root, directly or through sudo for a non-root SSH user.
            assert.match(d.inputs.create, /^if \[ "\$\(id -u\)" -eq 0 \]; then exec bash -s; elif .* then exec sudo -n bash -s; .*fi <<'MIGLAB_SCRIPT_END'\n/, d.name);
        }
    });

    it("gives ensure scripts an update and a delete, so pulumi up converges and destroy cleans up", () => {
        for (const suffix of ["-namespaces", "-export", "-pool", "-files", "-domain"]) {
            const found = declared.filter((d) => d.type.startsWith("command:") && d.name.endsWith(suffix));
            assert.ok(found.length > 0, suffix);
            for (const d of found) {
                assert.ok(d.inputs.update, `${d.name} has no update`);
                assert.ok(d.inputs.delete, `${d.name} has no delete`);
            }
        }
    });

    it("measures two legs, out from pc1 and back from pc2", () => {
        const legs = declared.filter((d) => /-migration-(out|back)$/.test(d.name));
        assert.deepStrictEqual(legs.map((l) => l.name), ["lab-migration-out", "lab-migration-back"]);
        const ports = Object.fromEntries(lab.plan.nodes.map((n) => [n.name, n.connect.port]));
        assert.strictEqual(legs[0].inputs.connection.port, ports.pc1);
        assert.strictEqual(legs[1].inputs.connection.port, ports.pc2);
        assert.match(legs[0].inputs.create, /^SRC_NAME='pc1'$/m);
        assert.match(legs[1].inputs.create, /^DST_NAME='pc1'$/m);
    });

    it("exposes the parsed legs as outputs", async () => {
        const legs = await outputOf(lab.legs);
        assert.strictEqual(legs.length, 2);
        assert.deepStrictEqual(legs.map((l) => `${l.from}->${l.to}`), ["pc1->pc2", "pc2->pc1"]);
        assert.strictEqual((legs[0] as LegMetrics).downtimeMs, 60);
    });

    it("renders the domain for TCG when a host has no usable KVM", async () => {
        const xml = await outputOf(lab.domains.vm1.xml);
        assert.match(xml, /<domain type='qemu'[ >]/);
        assert.match(xml, /<model fallback='allow'>qemu64<\/model>/);
    });

    it("gives the LocalSite the same site the plan's cleanup renders (scripts/lab-stack.ts)", () => {
        assert.ok(lab.site instanceof LocalSite, "site 'local' made another kind of site");
        assert.deepStrictEqual(lab.site.spec, siteSpecOf(lab.plan));
    });

    it("keeps the site key a secret", async () => {
        const key = declared.find((d) => d.name.endsWith("-key"))!;
        assert.ok(key, "no key command");
        assert.strictEqual(await pulumi.isSecret((lab.hosts.pc1.connection as unknown as { privateKey: pulumi.Output<string> }).privateKey), true);
    });
});

describe("Lab component graph with repeated runs (mocks)", function () {
    this.timeout(20000);

    it("declares out and back legs per run, chained, and summarizes each direction", async () => {
        const { Lab } = await import("../../components/resources/lab");
        const cfg = sampleLab();
        cfg.migration.runs = 3;
        const before = all.length;
        const lab = new Lab("rep", { config: parseLabConfig(cfg), stack: "unit-runs" });
        const summary = await outputOf(lab.summary);
        const legs = all.slice(before).filter((d) => /^rep-migration-(out|back)-\d$/.test(d.name)).map((d) => d.name);
        assert.deepStrictEqual(legs, ["rep-migration-out-1", "rep-migration-back-1", "rep-migration-out-2",
            "rep-migration-back-2", "rep-migration-out-3", "rep-migration-back-3"]);
        assert.deepStrictEqual(summary.map((s) => [s.direction, s.runs]), [["pc1 -> pc2", 3], ["pc2 -> pc1", 3]]);
        assert.deepStrictEqual(summary[0].downtimeMs, { median: 60, min: 60, max: 60 });
    });
});

describe("Lab component graph with a list of migrations (mocks)", function () {
    this.timeout(20000);

    it("declares one Migration per entry, in order, each guest's legs named as planned, the others its bystanders", async () => {
        const { Lab } = await import("../../components/resources/lab");
        const cfg = sampleLab();
        cfg.hosts.push({ name: "pc3", address: "10.10.10.4" });
        cfg.guests.push({ name: "vm2", home: "pc2", address: "10.10.10.11" });
        delete cfg.migration;
        cfg.migrations = [{ guest: "vm1", path: ["pc1", "pc3", "pc2"], roundTrip: false }, { guest: "vm2", from: "pc2", to: "pc1" }];
        const before = all.length;
        const lab = new Lab("multi", { config: parseLabConfig(cfg), stack: "unit-multi" });
        const legs = await outputOf(lab.legs);
        assert.strictEqual(lab.migrations.length, 2);
        assert.deepStrictEqual(legs.map((l) => `${l.guest} ${l.leg} ${l.from}->${l.to}`),
            ["vm1 vm1-1 pc1->pc3", "vm1 vm1-2 pc3->pc2", "vm2 vm2-1 pc2->pc1", "vm2 vm2-2 pc1->pc2"]);
        const mine = all.slice(before);
        assert.deepStrictEqual(mine.filter((d) => d.type === "miglab:migration:Migration").map((d) => d.name), ["multi-migration", "multi-migration-2"]);
        const leg = (n: string) => mine.find((d) => d.name === `multi-migration-${n}`)!.inputs.create as string;
        // vm2 waits at home on pc2 while vm1 tours; then vm1 (left on pc2) stands by.
        assert.match(leg("vm1-1"), /^BYSTANDERS='vm2 10\.10\.10\.11 7000 10\.10\.10\.3 pc2'$/m);
        assert.match(leg("vm2-1"), /^BYSTANDERS='vm1 10\.10\.10\.10 7000 10\.10\.10\.3 pc2'$/m);
        assert.match(leg("vm2-2"), /^SRC_NAME='pc1'$/m);
    });
});

describe("Lab component graph with migration.tls (mocks)", function () {
    this.timeout(20000);

    it("gives the hosts a TLS migration visits the lab's CA, kept on the first, and each a certificate for its address; its legs migrate with --tls", async () => {
        const { Lab } = await import("../../components/resources/lab");
        const cfg = sampleLab();
        cfg.migration.tls = true;
        const before = all.length;
        const lab = new Lab("tls", { config: parseLabConfig(cfg), stack: "unit-tls" });
        await outputOf(lab.legs);
        const mine = all.slice(before);
        assert.deepStrictEqual(mine.filter((d) => d.type === "miglab:migration:MigrationTls").map((d) => d.name), ["tls-tls"]);
        const ca = mine.find((d) => d.name === "tls-tls-ca")!;
        assert.strictEqual(ca.inputs.connection.port, lab.plan.hosts[0].connect.port);
        assert.strictEqual(varOf(ca.inputs.create, "CA_DIR"), `${lab.plan.stateDir}/tls-ca`);
        assert.strictEqual(varOf(ca.inputs.delete, "ACTION"), "down");
        for (const [i, h] of lab.plan.hosts.entries()) {
            const c = mine.find((d) => d.name === `tls-tls-cert-${h.name}`)!;
            assert.strictEqual(c.inputs.connection.port, h.connect.port);
            assert.strictEqual(varOf(c.inputs.create, "ADDR"), h.address);
            // pc1 keeps the CA and signs its own; pc2 sends its request to pc1's lab address.
            assert.strictEqual(varOf(c.inputs.create, "CA_ADDR"), i === 0 ? "" : lab.plan.hosts[0].address);
            assert.strictEqual(varOf(c.inputs.create, "EXPECT_DIR"), LOCAL_MIGRATION_TLS_DIR);
            assert.strictEqual(varOf(c.inputs.create, "KEY"), lab.plan.labKey);
            assert.strictEqual(varOf(c.inputs.delete, "ACTION"), "down");
        }
        for (const leg of ["out", "back"]) {
            assert.match(varOf(mine.find((d) => d.name === `tls-migration-${leg}`)!.inputs.create, "EXTRA_FLAGS"), /(^| )--tls$/);
        }
        // This file's labs without tls declared none.
        assert.deepStrictEqual(all.filter((d) => d.type === "miglab:migration:MigrationTls" && /^(lab|rep|multi)-/.test(d.name)), []);
    });
});

