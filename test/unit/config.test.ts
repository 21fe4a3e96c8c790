import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ConfigError, LabConfig, parseLabConfig } from "../../components/model/config";
import { ROOT } from "../support";

/** The same-subnet stack's lab value, read from its stack file, as a starting point for bad variants. */
export function sampleLab(): any {
    const text = fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.same-subnet.yaml"), "utf8");
    // The stack files are YAML; the parts we need are plain enough for the js-yaml that @pulumi/pulumi ships.
    const yaml = require("js-yaml");
    return JSON.parse(JSON.stringify(yaml.load(text).config["miglab:lab"]));
}

function problems(mutate: (c: any) => void): string[] {
    const c = sampleLab();
    mutate(c);
    try {
        parseLabConfig(c);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        return (e as ConfigError).problems;
    }
    assert.fail("the config was accepted");
}

describe("config (ajv schema + cross-field rules)", () => {
    it("accepts the shipped same-subnet stack and fills in defaults", () => {
        const cfg: LabConfig = parseLabConfig(sampleLab());
        assert.strictEqual(cfg.guests[0].vcpus, 1);
        assert.strictEqual(cfg.guests[0].counterPort, 7000);
        assert.deepStrictEqual(cfg.guests[0].image, { builtin: "tiny", diskMiB: 64 });
        assert.strictEqual(cfg.hosts[0].prefix, 24);
        assert.strictEqual(cfg.migration.mode, "precopy");
    });

    it("names a bad host address by its path", () => {
        assert.deepStrictEqual(problems((c) => { c.hosts[1].address = "10.10.10.300"; }),
            ["hosts[1].address: must be an IPv4 address"]);
    });

    it("lists every error at once", () => {
        const p = problems((c) => { c.site = "cloud"; delete c.pool; c.guests[0].memoryMiB = 12; c.extra = 1; });
        assert.ok(p.includes("site: must be one of 'local', 'ssh'"), p.join("\n"));
        assert.ok(p.includes("pool: is required"), p.join("\n"));
        assert.ok(p.some((x) => x.startsWith("guests[0].memoryMiB: must be >= 64")), p.join("\n"));
        assert.ok(p.includes("extra: is not a known field; remove it or check its spelling"), p.join("\n"));
    });

    it("explains a bad name with the schema's description", () => {
        assert.deepStrictEqual(problems((c) => { c.hosts[0].name = "PC 1"; c.migration.from = "PC 1"; c.guests[0].home = "PC 1"; }).slice(0, 1),
            ["hosts[0].name: must be lower-case letters, digits and '-', at most 15 characters"]);
    });

    it("rejects duplicate guest names", () => {
        const p = problems((c) => { c.guests.push({ ...c.guests[0], address: "10.10.10.11" }); });
        assert.deepStrictEqual(p, ["guests[1].name: 'vm1' is already the name of guests[0]; guest names must be unique"]);
    });

    it("rejects duplicate host names and addresses", () => {
        const p = problems((c) => { c.hosts[1].name = "pc1"; c.nfs.host.address = "10.10.10.1"; });
        assert.ok(p.includes("hosts[1].name: 'pc1' is already the name of hosts[0]; names must be unique"), p.join("\n"));
        assert.ok(p.includes("nfs.host.address: 10.10.10.1 is already the address of hosts[0]"), p.join("\n"));
    });

    it("checks the migration refers to real hosts and guests", () => {
        const p = problems((c) => { c.migration.to = "pc9"; c.migration.guest = "vm9"; });
        assert.ok(p.includes("migration.to: 'pc9' is not one of the hosts (pc1, pc2)"), p.join("\n"));
        assert.ok(p.includes("migration.guest: 'vm9' is not one of the guests (vm1)"), p.join("\n"));
    });

    it("refuses a migration to the same host and from a host that is not the guest's home", () => {
        assert.ok(problems((c) => { c.migration.to = "pc1"; }).includes("migration.to: must differ from migration.from ('pc1')"));
        assert.ok(problems((c) => { c.migration.from = "pc2"; c.migration.to = "pc1"; })[0].startsWith("migration.from: 'pc2' is not where guest 'vm1' is declared"));
    });

    it("keeps same-subnet labs on one subnet", () => {
        assert.deepStrictEqual(problems((c) => { c.hosts[1].address = "10.10.20.2"; }),
            ["hosts[1].address: 10.10.20.2/24 is not in pc1's subnet 10.10.10.1/24; topology 'same-subnet' puts every node on one subnet"]);
    });

    it("requires ssh credentials on site ssh and refuses them on site local", () => {
        const p = problems((c) => { c.site = "ssh"; delete c.link; });
        assert.ok(p.includes("hosts[0].ssh: is required on site 'ssh' (user, port and privateKey to reach pc1)"), p.join("\n"));
        const q = problems((c) => { c.hosts[0].ssh = { privateKey: "x" }; });
        assert.deepStrictEqual(q, ["hosts[0].ssh: is not used on site 'local' (the lab makes its own key); remove it"]);
    });

    it("keeps nat and bridged guests on their own networks, and those topologies on the local site", () => {
        assert.deepStrictEqual(problems((c) => { c.topology = "nat"; }),
            ["guests[0].address: 10.10.10.10 is not in nat.subnet 192.168.150.0/24; in topology 'nat' guests live there"]);
        assert.deepStrictEqual(problems((c) => { c.topology = "bridged"; c.guests[0].address = "10.10.30.10"; c.overlay = { gatewayHost: "pc9" }; }),
            ["overlay.gatewayHost: 'pc9' is not one of the hosts (pc1, pc2)"]);
        const p = problems((c) => { c.topology = "nat"; c.site = "ssh"; delete c.link; c.guests[0].address = "192.168.150.10";
            for (const n of [...c.hosts, c.nfs.host]) { n.ssh = { privateKey: "k" }; } });
        assert.deepStrictEqual(p, ["topology: 'nat' is built on the local site only by this version of miglab (the router and outside are namespaces); use site: local"]);
    });

    it("refuses combinations QEMU cannot do", () => {
        assert.ok(problems((c) => { c.migration.mode = "postcopy"; c.migration.parallelConnections = 4; })
            .includes("migration.parallelConnections: QEMU cannot combine multifd with post-copy; use 1 or mode: precopy"));
        assert.ok(problems((c) => { c.migration.parallelConnections = 2; c.migration.compression = "xbzrle"; })
            .includes("migration.compression: xbzrle does not work over multifd; use compression: none or parallelConnections: 1"));
        assert.ok(problems((c) => { c.migration.postcopySwitch = "on-stall"; })
            .includes("migration.postcopySwitch: applies to mode 'postcopy' only; remove it or set mode: postcopy"));
        assert.ok(problems((c) => { c.migration.runs = 3; c.migration.roundTrip = false; })
            .includes("migration.runs: repeating needs roundTrip: true (each run starts where the guest is declared)"));
        assert.ok(problems((c) => { c.guests[0].workload = { dirtyMiBs: 200 }; })[0]
            .startsWith("guests[0].workload.workingSetMiB: 200 MiB is more than half the guest's 192 MiB"));
    });

    it("says what to do when miglab:lab is missing", () => {
        assert.throws(() => parseLabConfig(undefined), /miglab:lab: is not set/);
    });
});
