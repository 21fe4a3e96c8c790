// Labs of any size, without a lab: the config rules for a list of migrations, the legs
// the plan derives from it (tours, round trips, runs, bystanders), the router's address
// in every subnet, and the overlay's tunnel ports for six hosts with long names.
import * as assert from "assert";
import { spawnSync } from "child_process";
import { ConfigError, parseLabConfig } from "../../components/model/config";
import { planLab } from "../../components/model/plan";
import { ovsSpecOf, plannedLegSpec } from "../../components/render/specs";
import * as r from "../../components/render";
import { parseBystanders, sections } from "../../components/reports/metrics";
import { refusals, sampleLab } from "./config.test";

/** A bridged lab of `n` hosts with the longest names the schema allows, three per /29 subnet. */
function bigLab(n: number): any {
    const c = sampleLab();
    c.topology = "bridged";
    c.hosts = Array.from({ length: n }, (_, i) => ({
        name: `hypervisor-${String(i + 1).padStart(4, "0")}`, address: `10.10.10.${Math.floor(i / 3) * 8 + 1 + (i % 3)}`, prefix: 29,
    }));
    c.nfs.host = { name: "nfs", address: "10.10.10.6", prefix: 29 };
    c.guests = [
        { name: "vm1", home: c.hosts[0].name, address: "10.10.30.10" },
        { name: "vm2", home: c.hosts[n - 1].name, address: "10.10.30.11" },
    ];
    delete c.migration;
    c.migrations = [{ guest: "vm1", path: [...c.hosts.map((h: any) => h.name), c.hosts[0].name] }];
    return c;
}

const problems = refusals;

describe("labs of any size: config", () => {
    it("accepts six hosts with long names on two subnets, and a tour through all of them", () => {
        const cfg = parseLabConfig(bigLab(6));
        assert.strictEqual(cfg.migrations.length, 1);
        assert.strictEqual(cfg.migration, undefined);
    });

    it("names a migration's host or guest that does not exist by its field", () => {
        const c = bigLab(3);
        c.migrations.push({ guest: "vm9", from: "hypervisor-0003", to: "pc9" });
        c.migrations[0].path[1] = "nowhere";
        const p = problems(c);
        assert.ok(p.includes("migrations[0].path[1]: 'nowhere' is not one of the hosts (hypervisor-0001, hypervisor-0002, hypervisor-0003)"), p.join("\n"));
        assert.ok(p.includes("migrations[1].guest: 'vm9' is not one of the guests (vm1, vm2)"), p.join("\n"));
        assert.ok(p.includes("migrations[1].to: 'pc9' is not one of the hosts (hypervisor-0001, hypervisor-0002, hypervisor-0003)"), p.join("\n"));
    });

    it("follows each guest: a migration starts where the previous one left it", () => {
        const c = bigLab(3);
        const [h1, h2, h3] = c.hosts.map((h: any) => h.name);
        c.migrations = [{ guest: "vm1", from: h1, to: h2, roundTrip: false }, { guest: "vm1", from: h1, to: h3 }];
        assert.deepStrictEqual(problems(c),
            [`migrations[1].from: '${h1}' is not where guest 'vm1' is then ('${h2}', after migrations[0]); start there`]);
        c.migrations[1].from = h2;
        assert.doesNotThrow(() => parseLabConfig(c));
        c.migrations[0].path = [h1, h2];
        assert.deepStrictEqual(problems(c), ["migrations[0]: give guest with either path or from and to, or give drain"]);
    });

    it("wants exactly one of migration and migrations, and path or from/to", () => {
        const c = bigLab(2);
        c.migration = { guest: "vm1", from: c.hosts[0].name, to: c.hosts[1].name };
        assert.deepStrictEqual(problems(c), ["(the lab): give exactly one of migration (one guest) or migrations (a list)"]);
        const d = bigLab(2);
        d.migrations = [{ guest: "vm1" }];
        assert.deepStrictEqual(problems(d), ["migrations[0]: give guest with either path or from and to, or give drain"]);
        const e = bigLab(3);
        e.migrations[0].path = [e.hosts[0].name, e.hosts[0].name];
        assert.deepStrictEqual(problems(e), [`migrations[0].path[1]: '${e.hosts[0].name}' again; each step must go to another host`]);
    });

    it("refuses a host on the router's address in its subnet", () => {
        const c = bigLab(3);
        c.hosts[2].address = "10.10.10.14";
        c.hosts[1].address = "10.10.10.9";
        assert.deepStrictEqual(problems(c), ["hosts[2].address: 10.10.10.14 is the router's address in 10.10.10.8/29 (the last usable address of a subnet without the NFS node); give the node another address"]);
    });

    it("keeps the probe off the hosts a migration visits", () => {
        const c = bigLab(3);
        c.migrations[0].probeHost = c.hosts[1].name;
        assert.deepStrictEqual(problems(c), [`migrations[0].probeHost: must be none of the hosts the guest visits (${c.migrations[0].path.join(", ")})`]);
    });
});

describe("labs of any size: plan and overlay", () => {
    it("plans a tour's legs, the guest's way back, runs, and who stands by where", () => {
        const c = bigLab(3);
        const [h1, h2, h3] = c.hosts.map((h: any) => h.name);
        c.migrations = [
            { guest: "vm1", path: [h1, h2, h3] },
            { guest: "vm2", from: h3, to: h1, runs: 2 },
        ];
        const legs = planLab(parseLabConfig(c), "unit").legs;
        assert.deepStrictEqual(legs.map((l) => `${l.name} ${l.guest} ${l.from}->${l.to} ${l.bystanders.map((b) => `${b.guest}@${b.host}`)}`), [
            `vm1-1 vm1 ${h1}->${h2} vm2@${h3}`, `vm1-2 vm1 ${h2}->${h3} vm2@${h3}`, `vm1-3 vm1 ${h3}->${h1} vm2@${h3}`,
            `vm2-1 vm2 ${h3}->${h1} vm1@${h1}`, `vm2-2 vm2 ${h1}->${h3} vm1@${h1}`,
            `vm2-3 vm2 ${h3}->${h1} vm1@${h1}`, `vm2-4 vm2 ${h1}->${h3} vm1@${h1}`,
        ]);
        assert.ok(legs.every((l) => l.probe === "nfs"));
    });

    it("keeps the single migration's out/back leg names", () => {
        const plan = planLab(parseLabConfig(sampleLab()), "unit");
        assert.deepStrictEqual(plan.legs.map((l) => `${l.name} ${l.from}->${l.to}`), ["out pc1->pc2", "back pc2->pc1"]);
    });

    it("puts the router in every host subnet at an address no host has", () => {
        const plan = planLab(parseLabConfig(bigLab(6)), "unit");
        const router = plan.nfs.links.map((l) => l.cidr);
        assert.deepStrictEqual(router.slice(0, 2), ["10.10.10.6/29", "10.10.10.14/29"]);
        assert.deepStrictEqual(plan.hosts.map((h) => h.gateway), ["10.10.10.6", "10.10.10.6", "10.10.10.6", "10.10.10.14", "10.10.10.14", "10.10.10.14"]);
        const taken = new Set(plan.hosts.map((h) => h.address));
        assert.ok(router.every((c) => !taken.has(c.split("/")[0])), router.join(" "));
    });

    it("names six hosts' tunnel ports uniquely, within 15 characters, the same every time", () => {
        const plan = planLab(parseLabConfig(bigLab(6)), "unit");
        const names = plan.hosts.map((h) => r.tunnelPort(h));
        assert.strictEqual(new Set(names).size, 6, names.join(" "));
        for (const n of names) { assert.match(n, /^[a-z0-9-]{1,15}$/, n); }
        assert.deepStrictEqual(planLab(parseLabConfig(bigLab(6)), "unit").hosts.map((h) => r.tunnelPort(h)), names);
        assert.strictEqual(r.tunnelPort({ name: "pc2" }), "tun-pc2");
        // The 15-character name every host got before: no longer shared.
        assert.ok(!names.includes("tun-hypervisor-"), names.join(" "));
    });

    it("renders a full mesh of protected (split-horizon) tunnel ports on every host", () => {
        const plan = planLab(parseLabConfig(bigLab(6)), "unit");
        for (const h of plan.hosts) {
            const text = r.ovsScript(ovsSpecOf(plan, h), "up");
            const peers = /^PEERS='(.*)'$/m.exec(text)![1].split(" ");
            assert.deepStrictEqual(peers.map((p) => p.split(":")[0]), plan.hosts.filter((x) => x !== h).map((x) => r.tunnelPort(x)));
            assert.match(text, /protected=true/);
            assert.strictEqual(spawnSync("bash", ["-n"], { input: text }).status, 0);
        }
    });

    it("asks each bystander's counter from a node that reaches it, and reads it back", () => {
        const c = bigLab(3);
        const plan = planLab(parseLabConfig(c), "unit");
        const l = plan.legs[0];
        const text = r.migrateLegScript(plannedLegSpec(plan, l));
        assert.match(text, new RegExp(`^BYSTANDERS='vm2 10\\.10\\.30\\.11 7000 10\\.10\\.10\\.6 ${c.hosts[2].name}'$`, "m"));
        assert.strictEqual(spawnSync("bash", ["-n"], { input: text }).status, 0);
        const out = [
            "=== bystanders-before", `vm2 ${c.hosts[2].name} counter=10 uptime=5 dirty_mib_s=0 ping_sent=100 ping_recv=99`,
            "=== bystander-probe-vm2", "[1.000] 64 bytes from 10.10.30.11: icmp_seq=1 ttl=64 time=1 ms",
            "2 packets transmitted, 1 received, 50% packet loss",
            "=== bystanders-after", `vm2 ${c.hosts[2].name} counter=50 uptime=9 dirty_mib_s=0 ping_sent=180 ping_recv=178`,
        ].join("\n");
        assert.deepStrictEqual(parseBystanders(sections(out)), [{
            guest: "vm2", host: c.hosts[2].name, counterBefore: 10, counterAfter: 50,
            guestPing: { sent: 80, received: 79, lost: 1 }, probe: { sent: 2, received: 1, lost: 1, longestGapMs: 0 },
        }]);
    });
});
