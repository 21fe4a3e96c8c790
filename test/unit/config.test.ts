import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ConfigError, LabConfig, checkMigrationOptions, parseLabConfig } from "../../components/model/config";
import { KernelFeature, guestMemoryProblems, kernelFeatureProblems, machineMemoryOf, machineProblems } from "../../components/model/kernel";
import { probeKernel, probeMemory } from "../../components/resources/preflight";
import { ROOT, sh } from "../support";

/** The same-subnet stack's lab value, read from its stack file, as a starting point for bad variants. */
export function sampleLab(): any {
    const text = fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.same-subnet.yaml"), "utf8");
    // The stack files are YAML; the parts we need are plain enough for the js-yaml that @pulumi/pulumi ships.
    const yaml = require("js-yaml");
    return JSON.parse(JSON.stringify(yaml.load(text).config["miglab:lab"]));
}

/** A private key's shape (not a usable key): what site ssh expects in ssh.privateKey. */
export const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n";

/** What parseLabConfig refuses in `c`, as its problem lines; fails the test when it accepts `c`. */
export function refusals(c: any): string[] {
    try {
        parseLabConfig(c);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        return (e as ConfigError).problems;
    }
    return assert.fail("the config was accepted");
}

export function problems(mutate: (c: any) => void): string[] {
    const c = sampleLab();
    mutate(c);
    return refusals(c);
}

describe("config (ajv schema + cross-field rules)", () => {
    it("accepts the shipped same-subnet stack and fills in defaults", () => {
        const cfg: LabConfig = parseLabConfig(sampleLab());
        assert.strictEqual(cfg.guests[0].vcpus, 1);
        assert.strictEqual(cfg.guests[0].counterPort, 7000);
        assert.deepStrictEqual(cfg.guests[0].image, { builtin: "tiny", diskMiB: 64 });
        assert.strictEqual(cfg.hosts[0].prefix, 24);
        assert.strictEqual(cfg.migration!.mode, "precopy");
        assert.deepStrictEqual(cfg.migrations, [cfg.migration]);
    });

    it("names a bad host address by its path", () => {
        assert.deepStrictEqual(problems((c) => { c.hosts[1].address = "10.10.10.300"; }),
            ["hosts[1].address: must be an IPv4 address such as 10.10.10.1 (decimal octets 0-255 without leading zeros)"]);
    });

    it("lists every error at once", () => {
        const p = problems((c) => { c.site = "cloud"; delete c.nfs.host; c.guests[0].memoryMiB = 12; c.extra = 1; });
        assert.ok(p.includes("site: must be one of 'local', 'ssh'"), p.join("\n"));
        assert.ok(p.includes("nfs.host: is required"), p.join("\n"));
        assert.ok(p.some((x) => x.startsWith("guests[0].memoryMiB: must be an integer from 64 to 65536")), p.join("\n"));
        assert.ok(p.includes("extra: is not a known field; remove it or check its spelling"), p.join("\n"));
    });

    it("explains a bad name with the schema's description", () => {
        assert.deepStrictEqual(problems((c) => { c.hosts[0].name = "PC 1"; c.migration.from = "PC 1"; c.guests[0].home = "PC 1"; }).slice(0, 1),
            ["hosts[0].name: must be lower-case letters, digits and '-', starting with a letter, at most 15 characters"]);
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

    it("keeps nat and bridged guests on their own networks", () => {
        assert.deepStrictEqual(problems((c) => { c.topology = "nat"; }),
            ["guests[0].address: 10.10.10.10 is not in nat.subnet 192.168.150.0/24; in topology 'nat' guests live there"]);
        assert.deepStrictEqual(problems((c) => { c.topology = "bridged"; c.guests[0].address = "10.10.30.10"; c.overlay = { gatewayHost: "pc9" }; }),
            ["overlay.gatewayHost: 'pc9' is not one of the hosts (pc1, pc2)"]);
    });

    it("builds nat and bridged on site ssh over the team's router, whose outside address must be given", () => {
        // Two subnets through a router that is the team's: no address in them is the lab's to reserve.
        const routedSsh = (topology: string, guest: string) => (c: any) => {
            c.topology = topology; c.site = "ssh"; delete c.link; c.guests[0].address = guest;
            c.hosts[0].address = "10.10.10.1"; c.hosts[0].prefix = 29; c.hosts[1].address = "10.10.10.14"; c.hosts[1].prefix = 29;
            c.nfs.host.address = "10.10.10.6"; c.nfs.host.prefix = 29;
            for (const n of [...c.hosts, c.nfs.host]) { n.ssh = { privateKey: KEY }; }
        };
        for (const [topology, guest] of [["nat", "192.168.150.10"], ["bridged", "10.10.30.10"]]) {
            assert.deepStrictEqual(problems(routedSsh(topology, guest)), [`outside.address: is required on site 'ssh' with topology '${topology}': ` +
                "an address beyond your router that answers pings from every host (the guests ping it while they migrate), e.g. your router's own address on the far side"]);
            // The local site's router address beyond it (10.10.20.1 here) is the team's router on site ssh: a fine outside address.
            const c = sampleLab();
            routedSsh(topology, guest)(c);
            c.outside = { address: "10.10.20.1" };
            assert.strictEqual(parseLabConfig(c).outside.address, "10.10.20.1");
        }
        // On the local site 10.10.10.14 is where the lab's router sits in 10.10.10.8/29.
        assert.ok(problems((c) => { routedSsh("nat", "192.168.150.10")(c); c.site = "local"; for (const n of [...c.hosts, c.nfs.host]) { delete n.ssh; } })
            .some((x) => x.startsWith("hosts[1].address: 10.10.10.14 is the router's address in 10.10.10.8/29")));
    });

    it("refuses combinations QEMU cannot do", () => {
        assert.ok(problems((c) => { c.migration.mode = "postcopy"; c.migration.parallelConnections = 4; })
            .includes("migration.parallelConnections: QEMU cannot combine multifd with post-copy; use 1 or mode: precopy"));
        assert.ok(problems((c) => { c.migration.parallelConnections = 2; c.migration.compression = "xbzrle"; })
            .includes("migration.compression: xbzrle does not work over multifd; use compression: none or parallelConnections: 1"));
        assert.ok(problems((c) => { c.migration.mode = "cold"; c.migration.autoConverge = true; })
            .includes("migration.autoConverge: throttles a running guest, and a cold migration pauses it first; remove it or use mode: precopy"));
        assert.ok(problems((c) => { c.migration.mode = "cold"; c.migration.compression = "xbzrle"; })
            .includes("migration.compression: xbzrle sends deltas of pages sent before, and a cold migration sends each page once; use compression: none or mode: precopy"));
        const cold = sampleLab();
        cold.migration.mode = "cold"; cold.migration.parallelConnections = 2;
        assert.strictEqual(parseLabConfig(cold).migrations[0].mode, "cold");
        assert.ok(problems((c) => { c.migration.mode = "cold"; c.migration.postcopySwitch = "on-stall"; })
            .includes("migration.postcopySwitch: applies to mode 'postcopy' only; remove it or set mode: postcopy"));
        assert.ok(problems((c) => { c.migration.postcopySwitch = "on-stall"; })
            .includes("migration.postcopySwitch: applies to mode 'postcopy' only; remove it or set mode: postcopy"));
        assert.ok(problems((c) => { c.migration.postcopyVariant = "demand"; })
            .includes("migration.postcopyVariant: applies to mode 'postcopy' only; remove it or set mode: postcopy"));
        const demand = sampleLab();
        demand.migration.mode = "postcopy"; demand.migration.postcopyVariant = "demand";
        assert.strictEqual(parseLabConfig(demand).migrations[0].postcopyVariant, "demand");
        assert.ok(problems((c) => { c.migration.runs = 3; c.migration.roundTrip = false; })
            .includes("migration.runs: repeating needs roundTrip: true or a path that ends where it starts (each run starts where the guest is declared)"));
        assert.ok(problems((c) => { c.guests[0].workload = { dirtyMiBs: 200 }; })[0]
            .startsWith("guests[0].workload.workingSetMiB: 200 MiB is more than half the guest's 192 MiB"));
        assert.deepStrictEqual(problems((c) => { c.guests[0].memoryMiB = 512; c.guests[0].workload = { dirtyMiBs: 0, fillMiB: 385 }; }),
            ["guests[0].workload.fillMiB: 385 MiB does not fit: the guest's 512 MiB less 128 MiB for its kernel leaves 384 MiB; lower it or give the guest more memory"]);
        const fits = sampleLab(); fits.guests[0].memoryMiB = 512; fits.guests[0].workload = { dirtyMiBs: 0, fillMiB: 384 };
        assert.strictEqual(parseLabConfig(fits).guests[0].workload.fillMiB, 384);
    });

    it("takes pre-copy's stop conditions for pre-copy only, at least one of them", () => {
        const c = sampleLab();
        c.migration.stopAfter = { iterations: 2, dirtyPagesBelow: 500 };
        assert.deepStrictEqual(parseLabConfig(c).migrations[0].stopAfter, { iterations: 2, dirtyPagesBelow: 500 });
        assert.strictEqual(parseLabConfig(sampleLab()).migrations[0].stopAfter, undefined);
        assert.deepStrictEqual(problems((x) => { x.migration.mode = "postcopy"; x.migration.stopAfter = { sentMiB: 100 }; }),
            ["migration.stopAfter: ends pre-copy's passes, and mode 'postcopy' has its own end (postcopySwitch); remove it or set mode: precopy"]);
        assert.deepStrictEqual(problems((x) => { x.migration.mode = "cold"; x.migration.stopAfter = { iterations: 3 }; }),
            ["migration.stopAfter: ends pre-copy's passes, and mode 'cold' has none; remove it or set mode: precopy"]);
        assert.deepStrictEqual(problems((x) => { x.migration.stopAfter = {}; }),
            ["migration.stopAfter: must be an object with at least one of iterations, sentMiB and dirtyPagesBelow"]);
        assert.deepStrictEqual(problems((x) => { x.migration.stopAfter = { iterations: 0, rounds: 2 }; }),
            ["migration.stopAfter.rounds: is not a known field; remove it or check its spelling", "migration.stopAfter.iterations: must be an integer from 1 to 10000"]);
        // A Migration declared without a stack config is held to the same rules.
        assert.deepStrictEqual(checkMigrationOptions({ mode: "cold", stopAfter: { iterations: 2 } }).problems,
            ["stopAfter: ends pre-copy's passes, and mode 'cold' has none; remove it or set mode: precopy"]);
    });

    it("says what to do when miglab:lab is missing", () => {
        assert.throws(() => parseLabConfig(undefined), /miglab:lab: is not set/);
    });
});

/** A shipped stack's lab value (nat, bridged, ...). */
function stackLab(stack: string): any {
    const yaml = require("js-yaml");
    return yaml.load(fs.readFileSync(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`), "utf8")).config["miglab:lab"];
}

function problemsOf(base: any, mutate: (c: any) => void): string[] {
    const c = JSON.parse(JSON.stringify(base));
    mutate(c);
    try { parseLabConfig(c); } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        return (e as ConfigError).problems;
    }
    return [];
}

describe("cross-field rules: configs that pass the schema but cannot work", () => {
    const nat = () => stackLab("nat");
    const bridged = () => stackLab("bridged");
    // [what, base stack, change, the one problem expected (exact)]
    const cases: [string, () => any, (c: any) => void, string][] = [
        // Subnets that overlap, and addresses that are not a node's to take.
        ["hosts on overlapping subnets of different sizes", sampleLab, (c) => { c.topology = "nat"; c.guests[0].address = "192.168.150.10"; c.hosts[1].prefix = 29; c.hosts[1].address = "10.10.10.9"; },
            "hosts[1].prefix: 10.10.10.9/29 (subnet 10.10.10.8/29) overlaps hosts[0]'s subnet 10.10.10.0/24; nodes on one segment need the same prefix, nodes on different segments disjoint subnets"],
        ["the NAT subnet equal to a host's underlay", nat, (c) => { c.nat.subnet = "10.10.10.0/29"; c.nat.gateway = "10.10.10.1"; c.guests[0].address = "10.10.10.5"; },
            "nat.subnet: 10.10.10.0/29 is hosts[0]'s subnet 10.10.10.0/29; the guests' network must be a subnet of its own (e.g. 192.168.150.0/24)"],
        ["the NAT subnet equal to the outside's", nat, (c) => { c.nat = { subnet: "10.10.20.0/24", gateway: "10.10.20.1", mac: "52:54:00:4d:4c:01" }; c.guests[0].address = "10.10.20.10"; },
            "nat.subnet: 10.10.20.0/24 is the outside network 10.10.20.0/24; the guests' network must be a subnet of its own (e.g. 192.168.150.0/24)"],
        ["the overlay inside the underlay", bridged, (c) => { c.overlay.subnet = "10.10.0.0/16"; c.overlay.gateway = "10.10.30.1"; },
            "overlay.subnet: 10.10.0.0/16 overlaps hosts[0]'s subnet 10.10.10.0/29, hosts[1]'s subnet 10.10.10.8/29 and the outside network 10.10.20.0/24; the guests' network must be a subnet of its own (e.g. 10.10.30.0/24)"],
        ["the outside overlapping a host subnet", nat, (c) => { c.outside = { address: "10.10.10.20", prefix: 24 }; },
            "outside.address: the outside network 10.10.10.0/24 overlaps hosts[0]'s subnet 10.10.10.0/29 and hosts[1]'s subnet 10.10.10.8/29; pick an outside network apart from the lab's"],
        ["a host on the router's address", nat, (c) => { c.hosts[1].address = "10.10.10.14"; },
            "hosts[1].address: 10.10.10.14 is the router's address in 10.10.10.8/29 (the last usable address of a subnet without the NFS node); give the node another address"],
        ["a host on the network address", sampleLab, (c) => { c.hosts[1].address = "10.10.10.0"; },
            "hosts[1].address: 10.10.10.0 is the network address of 10.10.10.0/24; give the node an address inside it"],
        ["a host on the broadcast address", sampleLab, (c) => { c.nfs.host.address = "10.10.10.255"; },
            "nfs.host.address: 10.10.10.255 is the broadcast address of 10.10.10.0/24; give the node an address inside it"],
        ["a guest on the NAT gateway", nat, (c) => { c.guests[0].address = "192.168.150.1"; },
            "guests[0].address: 192.168.150.1 is nat.gateway; give the guest another address"],
        ["a guest on the broadcast address", sampleLab, (c) => { c.guests[0].address = "10.10.10.255"; },
            "guests[0].address: 10.10.10.255 is the broadcast address of 10.10.10.0/24; give the guest an address inside it"],
        ["a guest on the overlay's network address", bridged, (c) => { c.guests[0].address = "10.10.30.0"; },
            "guests[0].address: 10.10.30.0 is the network address of 10.10.30.0/24; give the guest an address inside it"],
        ["the gateway on the broadcast address", nat, (c) => { c.nat.gateway = "192.168.150.255"; },
            "nat.gateway: 192.168.150.255 is the broadcast address of 192.168.150.0/24; use an address inside it (e.g. 192.168.150.1)"],
        ["the outside on the router's own address", nat, (c) => { c.outside = { address: "10.10.20.33", prefix: 28 }; },
            "outside.address: 10.10.20.33 is where the router sits in 10.10.20.32/28; use another address (e.g. 10.10.20.34)"],
        // CIDRs.
        ["a CIDR with host bits set", nat, (c) => { c.nat.subnet = "192.168.150.1/24"; },
            "nat.subnet: 192.168.150.1/24 has host bits set; the network is 192.168.150.0/24: write that"],
        ["a /31 guest network", nat, (c) => { c.nat = { subnet: "192.168.150.0/31", gateway: "192.168.150.1", mac: "52:54:00:4d:4c:01" }; c.guests[0].address = "192.168.150.0"; },
            "nat.subnet: a /31 has no room for a gateway and a guest; use a prefix of 30 or less (e.g. /24)"],
        ["a /32 guest network", bridged, (c) => { c.overlay.subnet = "10.10.30.1/32"; c.guests[0].address = "10.10.30.1"; c.overlay.gateway = "10.10.30.1"; },
            "overlay.subnet: a /32 has no room for a gateway and a guest; use a prefix of 30 or less (e.g. /24)"],
        ["an allowed network with host bits set", sampleLab, (c) => { c.nfs.allowedNetworks = ["10.10.10.1/24"]; },
            "nfs.allowedNetworks[0]: 10.10.10.1/24 has host bits set; the network is 10.10.10.0/24: write that"],
        ["an octet with a leading zero in a CIDR", nat, (c) => { c.nat.subnet = "192.168.150.00/24"; },
            "nat.subnet: must be an IPv4 network written address/prefix, such as 10.10.10.0/24 (decimal octets 0-255 without leading zeros, prefix 0-32)"],
        ["an octet with a leading zero in an address", sampleLab, (c) => { c.hosts[1].address = "10.10.10.02"; },
            "hosts[1].address: must be an IPv4 address such as 10.10.10.1 (decimal octets 0-255 without leading zeros)"],
        // MACs and disks.
        ["two guests with one MAC", sampleLab, (c) => { c.guests[0].mac = "52:54:00:00:00:01"; c.guests.push({ ...c.guests[0], name: "vm2", address: "10.10.10.11", mac: "52:54:00:00:00:01" }); },
            "guests[1].mac: 52:54:00:00:00:01 is already the MAC of guests[0]; every guest needs its own (or leave mac out to derive one)"],
        ["MACs that differ only in case", sampleLab, (c) => { c.guests[0].mac = "52:54:00:0a:0b:0c"; c.guests.push({ ...c.guests[0], name: "vm2", address: "10.10.10.11", mac: "52:54:00:0A:0B:0C" }); },
            "guests[1].mac: 52:54:00:0A:0B:0C is already the MAC of guests[0]; every guest needs its own (or leave mac out to derive one)"],
        ["a guest with the NAT gateway's MAC", nat, (c) => { c.guests[0].mac = "52:54:00:4d:4c:01"; },
            "guests[0].mac: 52:54:00:4d:4c:01 is the NAT gateway's MAC (nat.mac); give the guest another one"],
        ["a multicast MAC", sampleLab, (c) => { c.guests[0].mac = "01:00:5e:00:00:01"; },
            "guests[0].mac: 01:00:5e:00:00:01 is a multicast address (its first octet is odd); a NIC needs a unicast MAC such as 52:54:00:12:34:56"],
        ["the broadcast MAC as the NAT gateway's", nat, (c) => { c.nat.mac = "ff:ff:ff:ff:ff:ff"; },
            "nat.mac: ff:ff:ff:ff:ff:ff is a multicast address (its first octet is odd); a NIC needs a unicast MAC such as 52:54:00:12:34:56"],
        ["the all-zero MAC", sampleLab, (c) => { c.guests[0].mac = "00:00:00:00:00:00"; },
            "guests[0].mac: 00:00:00:00:00:00 is the all-zero address, which no NIC may use; pick one such as 52:54:00:12:34:56"],
        ["a MAC libvirt keeps for taps", sampleLab, (c) => { c.guests[0].mac = "fe:54:00:00:00:01"; },
            "guests[0].mac: fe:54:00:00:00:01 starts with fe, which libvirt keeps for the host side of tap devices; pick one such as 52:54:00:12:34:56"],
        ["a MAC that is not one (the rule, not the field's description)", sampleLab, (c) => { c.guests[0].mac = "52:54:00:zz:00:01"; },
            "guests[0].mac: must be a MAC address: six pairs of hex digits separated by ':', such as 52:54:00:12:34:56"],
        ["two guests on one image", sampleLab, (c) => { c.guests[0].image = { qcow2: "disk.qcow2" }; c.guests.push({ ...c.guests[0], name: "vm2", address: "10.10.10.11" }); },
            "guests[1].image: its disk disk.qcow2 on the export is already guests[0] ('vm1')'s; two running guests on one disk corrupt it: give each guest its own qcow2"],
        ["an image named like another guest's built-in disk", sampleLab, (c) => { c.guests.push({ ...c.guests[0], name: "vm2", address: "10.10.10.11", image: { qcow2: "vm1.qcow2" } }); },
            "guests[1].image: its disk vm1.qcow2 on the export is already guests[0] ('vm1')'s; two running guests on one disk corrupt it: give each guest its own qcow2"],
        ["an image path with a directory", sampleLab, (c) => { c.guests[0].image = { qcow2: "../etc/x.qcow2" }; },
            "guests[0].image.qcow2: must be a file name on the export ending in .qcow2: letters, digits, '.', '_' and '-', not starting with '.' or '-'"],
        // Names.
        ["a host called outside", nat, (c) => { c.hosts[1].name = "outside"; c.migration.to = "outside"; },
            "hosts[1].name: 'outside' is the name of the namespace beyond the router in nat and bridged labs; pick another name"],
        ["a node named like a switch namespace", sampleLab, (c) => { c.nfs.host.name = "swa"; },
            "nfs.host.name: 'swa' is the name of one of the lab's switch namespaces (sw + a letter); pick another name"],
        ["a pool called default", sampleLab, (c) => { c.pool.name = "default"; },
            "pool.name: 'default' is libvirt's own default pool (/var/lib/libvirt/images); pick another name such as 'miglab'"],
        // NFS and paths.
        ["allowedNetworks leaving out a host", nat, (c) => { c.nfs.allowedNetworks = ["10.10.10.0/29"]; },
            "nfs.allowedNetworks: leaves out hosts[1] 'pc2' (10.10.10.9), which opens its guests' disks over NFS; add 10.10.10.8/29 or leave allowedNetworks out (default: the lab's subnets)"],
        ["the export at /", sampleLab, (c) => { c.nfs.export = "/"; },
            "nfs.export: '/' is a system directory; give a directory of the lab's own such as /var/lib/miglab/exports/<stack>"],
        ["the export in /etc", sampleLab, (c) => { c.nfs.export = "/etc/miglab"; },
            "nfs.export: '/etc/miglab' is inside the system directory /etc; give a directory of the lab's own such as /var/lib/miglab/exports/<stack>"],
        ["the pool at /usr", sampleLab, (c) => { c.pool.path = "/usr"; },
            "pool.path: '/usr' is the system directory /usr; give a directory of the lab's own such as /var/lib/miglab/exports/<stack>"],
        ["the export where each node has its own copy", sampleLab, (c) => { c.nfs.export = "/var/lib/libvirt/images"; },
            "nfs.export: '/var/lib/libvirt/images' is inside the system directory /var/lib/libvirt; give a directory of the lab's own such as /var/lib/miglab/exports/<stack>"],
        ["a path with ..", sampleLab, (c) => { c.nfs.export = "/var/lib/miglab/../../etc"; },
            "nfs.export: '/var/lib/miglab/../../etc' contains '.' or '..'; give the directory's own absolute path"],
        ["a path with //", sampleLab, (c) => { c.pool.path = "/srv//pool"; },
            "pool.path: '/srv//pool' contains '//'; write each '/' once"],
        ["a path with a trailing /", sampleLab, (c) => { c.nfs.export = "/srv/exports/"; },
            "nfs.export: '/srv/exports/' ends with '/'; write it without (e.g. /srv/exports)"],
        ["a path with shell characters", sampleLab, (c) => { c.nfs.export = "/srv/$(reboot)"; },
            "nfs.export: must be an absolute path of letters, digits and . _ - + @ , = between '/' (no spaces, quotes, or shell or XML characters such as $ ` ; & | < > * ? ( ) { } [ ] ! #)"],
        ["a path with XML characters", sampleLab, (c) => { c.pool.path = "/srv/<pool>"; },
            "pool.path: must be an absolute path of letters, digits and . _ - + @ , = between '/' (no spaces, quotes, or shell or XML characters such as $ ` ; & | < > * ? ( ) { } [ ] ! #)"],
        // Numbers the tools refuse, or that cannot give a measurement.
        ["a rate of 0kbit", sampleLab, (c) => { c.link.rate = "0kbit"; },
            "link.rate: must be a rate such as 100mbit or 1gbit: a whole number from 1 (no leading zero) followed by kbit, mbit or gbit"],
        ["a rate tc cannot shape", sampleLab, (c) => { c.link.rate = "999999gbit"; },
            "link.rate: 999999gbit is outside what tc shapes well here (64kbit to 100gbit)"],
        ["a rate too slow for the guest to cross before the timeout", sampleLab, (c) => { c.link.rate = "1mbit"; },
            "link.rate: at 1mbit guest vm1's 192 MiB take at least 1611 s to cross, more than migration.timeoutSeconds (300); raise link.rate or the timeout"],
        ["a bandwidth cap too low for the timeout", sampleLab, (c) => { c.migration.bandwidthMiBs = 1; c.migration.timeoutSeconds = 60; },
            "migration.bandwidthMiBs: at 1 MiB/s guest vm1's 192 MiB take at least 192 s to cross, more than migration.timeoutSeconds (60); raise migration.bandwidthMiBs or the timeout"],
        ["a bandwidth of 1e21", sampleLab, (c) => { c.migration.bandwidthMiBs = 1e21; }, "migration.bandwidthMiBs: must be an integer from 0 to 1048576"],
        ["a max downtime of 1e21", sampleLab, (c) => { c.migration.maxDowntimeMs = 1e21; }, "migration.maxDowntimeMs: must be an integer from 0 to 2000000"],
        ["a post-copy switch after 5e-7 s", sampleLab, (c) => { c.migration.mode = "postcopy"; c.migration.postcopySwitch = "after-seconds"; c.migration.postcopyAfterSeconds = 5e-7; },
            "migration.postcopyAfterSeconds: 5e-7 is below the leg's 0.5 s polling; use 0 (switch at once) or 0.5 and more"],
        ["a post-copy switch after the timeout", sampleLab, (c) => { c.migration.mode = "postcopy"; c.migration.postcopySwitch = "after-seconds"; c.migration.postcopyAfterSeconds = 400; },
            "migration.postcopyAfterSeconds: 400 s is not before migration.timeoutSeconds (300 s), when the leg is aborted; switch earlier"],
        ["a loss of 100 %", sampleLab, (c) => { c.link.lossPercent = 100; }, "link.lossPercent: must be a number from 0 to 50"],
        // Keys.
        ["a privateKey that is a file path", sampleLab, (c) => { c.site = "ssh"; delete c.link; for (const n of [...c.hosts, c.nfs.host]) { n.ssh = { privateKey: KEY }; } c.hosts[0].ssh.privateKey = "~/.ssh/id_ed25519"; },
            "hosts[0].ssh.privateKey: '~/.ssh/id_ed25519' looks like a file path, not a key; put the key itself in the config: pulumi config set --secret --path 'miglab:lab.hosts[0].ssh.privateKey' < ~/.ssh/id_ed25519"],
        ["a privateKey that is a public key", sampleLab, (c) => { c.site = "ssh"; delete c.link; for (const n of [...c.hosts, c.nfs.host]) { n.ssh = { privateKey: KEY }; } c.nfs.host.ssh.privateKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK me@host"; },
            "nfs.host.ssh.privateKey: is a public key; give the private key (the file without .pub): pulumi config set --secret --path 'miglab:lab.nfs.host.ssh.privateKey' < ~/.ssh/id_ed25519"],
    ];
    for (const [what, base, change, expected] of cases) {
        it(`refuses ${what}`, () => {
            assert.deepStrictEqual(problemsOf(base(), change), [expected]);
        });
    }

    it("accepts every shipped stack as it is", () => {
        for (const f of fs.readdirSync(path.join(ROOT, "stacks")).filter((x) => /^Pulumi\.[a-z-]+\.yaml$/.test(x))) {
            const stack = f.replace(/^Pulumi\.|\.yaml$/g, "");
            assert.deepStrictEqual(problemsOf(stackLab(stack), () => undefined), [], stack);
        }
    });

    it("accepts what the rules must not refuse: upper-case MACs, a /32 allowed network, paths under /srv", () => {
        assert.deepStrictEqual(problemsOf(sampleLab(), (c) => {
            c.guests[0].mac = "52:54:00:AB:CD:EF"; c.nfs.allowedNetworks = ["10.10.10.0/24", "10.10.10.3/32"];
            c.nfs.export = "/srv/miglab/exports"; c.pool.path = "/srv/miglab/pool";
        }), []);
        assert.deepStrictEqual(problemsOf(stackLab("nat"), (c) => { c.migration.mode = "postcopy"; c.migration.postcopySwitch = "after-seconds"; c.migration.postcopyAfterSeconds = 0; }), []);
    });
});

describe("the local site's kernel features, checked before anything is created", () => {
    const lab = (link: any) => parseLabConfig({ ...sampleLab(), link });

    it("names the field that needs what a kernel lacks, with the tool's own error", () => {
        const noNetem = (f: KernelFeature) => (f === "netem" ? { ok: false, detail: "Error: Specified qdisc kind is unknown." } : { ok: true });
        assert.deepStrictEqual(kernelFeatureProblems(lab({ rate: "1gbit", delayMs: 20, lossPercent: 1 }), noNetem),
            ["link.delayMs: this machine cannot do it for the local site (netem: Error: Specified qdisc kind is unknown.); remove link.delayMs (or load sch_netem: modprobe sch_netem)"]);
        assert.deepStrictEqual(kernelFeatureProblems(lab({ rate: "1gbit" }), noNetem), []);
    });

    it("asks nothing of the kernel for site ssh or a lab without shaping", () => {
        const never = () => { throw new Error("probed"); };
        assert.deepStrictEqual(kernelFeatureProblems(lab(undefined), never), []);
    });

    it("probes this machine's kernel for real, leaving nothing behind", function () {
        if (process.getuid && process.getuid() !== 0) { this.skip(); }
        const before = sh("ip netns list").stdout;
        const tbf = probeKernel("tbf");
        assert.ok(tbf.ok, `tbf: ${tbf.detail}`);
        const stat = probeKernel("iptables-statistic");
        assert.ok(stat.ok, `iptables statistic: ${stat.detail}`);
        // netem is absent on the machines this lab was built on (FACTS.md); where present, the probe says so.
        const netem = probeKernel("netem");
        assert.ok(netem.ok || /qdisc kind is unknown|No such file/.test(netem.detail ?? ""), `netem: ${JSON.stringify(netem)}`);
        assert.strictEqual(sh("ip netns list").stdout, before);
    });
});

describe("cross-field rules: more configs that cannot work", () => {
    const nat = () => stackLab("nat");
    const cases: [string, () => any, (c: any) => void, string][] = [
        ["a loopback host address", sampleLab, (c) => { c.topology = "nat"; c.hosts[1].address = "127.0.0.2"; c.guests[0].address = "192.168.150.10"; },
            "hosts[1].address: 127.0.0.2 is a loopback address (127.0.0.0/8), which no lab network may use; use a private range such as 10.0.0.0/8 or 192.168.0.0/16"],
        ["a multicast guest address", nat, (c) => { c.guests[0].address = "224.0.0.5"; },
            "guests[0].address: 224.0.0.5 is a multicast address (224.0.0.0/4), which no lab network may use; use a private range such as 10.0.0.0/8 or 192.168.0.0/16"],
        ["a NAT subnet in 0.0.0.0/8", nat, (c) => { c.nat = { subnet: "0.0.0.0/24", gateway: "0.0.0.1", mac: "52:54:00:4d:4c:01" }; c.guests[0].address = "0.0.0.10"; },
            "guests[0].address: 0.0.0.10 is in 0.0.0.0/8 ('this network'), which no lab network may use; use a private range such as 10.0.0.0/8 or 192.168.0.0/16"],
        ["an export inside a lab's state directory (removed on destroy)", sampleLab, (c) => { c.nfs.export = "/var/lib/miglab/m1abcd/disks"; },
            "nfs.export: '/var/lib/miglab/m1abcd/disks' is inside a lab's state directory (/var/lib/miglab/<lab id>, removed on destroy); use /var/lib/miglab/exports/<stack> or a directory of your own"],
        ["an export shared by every stack", sampleLab, (c) => { c.nfs.export = "/var/lib/miglab/exports"; },
            "nfs.export: '/var/lib/miglab/exports' holds every stack's export; give this stack its own directory such as /var/lib/miglab/exports/<stack>"],
    ];
    for (const [what, base, change, expected] of cases) {
        it(`refuses ${what}`, () => {
            const p = problemsOf(base(), change);
            assert.ok(p.includes(expected), p.join("\n"));
        });
    }

    it("parses a local-site config without asking the kernel; the machine preflight names link.delayMs when netem is missing", () => {
        const c = { ...sampleLab(), link: { rate: "1gbit", delayMs: 5 } };
        const cfg = parseLabConfig(c);
        assert.strictEqual(cfg.link!.delayMs, 5);
        const noNetem = (f: KernelFeature) => (f === "netem" ? { ok: false, detail: "Error: Specified qdisc kind is unknown." } : { ok: true });
        assert.deepStrictEqual(machineProblems(cfg, noNetem, () => undefined),
            ["link.delayMs: this machine cannot do it for the local site (netem: Error: Specified qdisc kind is unknown.); remove link.delayMs (or load sch_netem: modprobe sch_netem)"]);
        assert.deepStrictEqual(machineProblems(cfg, () => ({ ok: true }), () => undefined), []);
    });
});

describe("cross-field rules: configs a host would take but not do as written", () => {
    const nat = () => stackLab("nat");
    const bridged = () => stackLab("bridged");
    const onSsh = (c: any) => { c.site = "ssh"; delete c.link; for (const n of [...c.hosts, c.nfs.host]) { n.ssh = { privateKey: KEY }; } };
    const twice = (c: any, second: any) => { const m = c.migration; delete c.migration; c.migrations = [{ ...m }, { ...m, ...second }]; };
    // [what, base stack, change, the one problem expected (exact)]
    const cases: [string, () => any, (c: any) => void, string][] = [
        // libvirt: the NAT network's DHCP range (the subnet's upper half) must stay inside one /16.
        ["a NAT subnet wider than a /16", nat, (c) => { c.nat = { subnet: "10.64.0.0/10", gateway: "10.64.0.1", mac: "52:54:00:4d:4c:01" }; c.guests[0].address = "10.64.0.10"; },
            "nat.subnet: a /10 is larger than a libvirt NAT network can serve (its DHCP range, the upper half, must stay inside one /16; libvirt refuses the network as 'too large (> 65535)' on every host); use a prefix of 15 or more (e.g. 192.168.150.0/24)"],
        // Site ssh: two hosts behind one sshd are one machine.
        ["two hosts reached at one ssh host and port", sampleLab, (c) => { onSsh(c); c.hosts[0].ssh.host = "lab.example.org"; c.hosts[1].ssh.host = "LAB.example.org"; },
            "hosts[1].ssh: reaches the same sshd as hosts[0] 'pc1' (lab.example.org:22), so 'pc2' would be that machine again and a migration between them a migration to the host the guest runs on, which libvirt refuses; give hosts[1] the ssh.host or ssh.port of a machine of its own"],
        ["a host whose ssh.host is another host's address", sampleLab, (c) => { onSsh(c); c.hosts[1].ssh.host = "10.10.10.1"; },
            "hosts[1].ssh: reaches the same sshd as hosts[0] 'pc1' (10.10.10.1:22), so 'pc2' would be that machine again and a migration between them a migration to the host the guest runs on, which libvirt refuses; give hosts[1] the ssh.host or ssh.port of a machine of its own"],
        // What the guest does is set once, when it boots.
        ["a later migration of a guest with another ping interval", nat, (c) => { twice(c, { guestPingIntervalMs: 500 }); },
            "migrations[1].guestPingIntervalMs: 500 ms, but guest 'vm1' pings every 50 ms all along (migrations[0].guestPingIntervalMs, set when it boots), so its legs here would be measured at 50 ms; give every migration of 'vm1' the same guestPingIntervalMs"],
        ["a workload on a guest that boots its own qcow2", sampleLab, (c) => { c.guests[0].image = { qcow2: "mine.qcow2" }; c.guests[0].workload = { dirtyMiBs: 20 }; },
            "guests[0].workload: only the built-in image runs a workload; guest 'vm1' boots its own mine.qcow2, which would migrate idle while the legs report it as dirtying or filled: remove workload or use image: { builtin: tiny }"],
        ["a disk size for a qcow2 of the user's", sampleLab, (c) => { c.guests[0].image = { qcow2: "mine.qcow2", diskMiB: 4096 }; },
            "guests[0].image.diskMiB: sizes the built-in image's disk only; mine.qcow2 keeps its own size: remove it"],
        ["an ssh host that ssh-keyscan would read as an option", sampleLab, (c) => { onSsh(c); c.hosts[1].ssh.host = "-4"; },
            "hosts[1].ssh.host: must be a host name or address: letters, digits, '.', ':', '_' and '-', not starting with '-' or '.' (ssh and ssh-keyscan would read a leading '-' as an option)"],
        ["a loss too small for the drop rule", sampleLab, (c) => { c.link.lossPercent = 0.004; },
            "link.lossPercent: 0.004 % is finer than the lab's drop rule takes (its probability has 4 decimals: steps of 0.01 %), so it would drop nothing; use 0 or 0.01 and more"],
        // Fields of another topology or mode, which the lab would ignore.
        ["a nat block in a bridged lab", bridged, (c) => { c.nat = { subnet: "192.168.150.0/24" }; },
            "nat: applies to topology 'nat' only, and this lab is 'bridged' (the block would be ignored); remove it or set topology: nat"],
        ["an overlay block in a nat lab", nat, (c) => { c.overlay = { tunnel: "gre" }; },
            "overlay: applies to topology 'bridged' only, and this lab is 'nat' (the block would be ignored); remove it or set topology: bridged"],
        ["an outside in a same-subnet lab", sampleLab, (c) => { c.outside = { address: "10.10.20.2", prefix: 24 }; },
            "outside: applies to topology 'nat' and 'bridged' only, and this lab is 'same-subnet' (the block would be ignored); remove it or set topology: nat or bridged"],
        ["a guest ping interval in a same-subnet lab", sampleLab, (c) => { c.migration.guestPingIntervalMs = 100; },
            "migration.guestPingIntervalMs: guests ping the outside in topologies 'nat' and 'bridged' only (a same-subnet lab has no outside); remove it"],
        ["a probe host behind NAT", nat, (c) => { c.hosts.push({ name: "pc3", address: "10.10.10.2", prefix: 29 }); twice(c, { probeHost: "pc3" }); c.migrations[0].roundTrip = true; },
            "migrations[1].probeHost: behind NAT no other node reaches the guest, so a nat lab has no probe (the hosts ask the guest's counter and the guest pings the outside); remove it"],
        ["a post-copy switch time without the switch it times", sampleLab, (c) => { c.migration.mode = "postcopy"; c.migration.postcopyAfterSeconds = 5; },
            "migration.postcopyAfterSeconds: applies to mode 'postcopy' with postcopySwitch 'after-seconds' only (it would be ignored); remove it or set both"],
    ];
    for (const [what, base, change, expected] of cases) {
        it(`refuses ${what}`, () => {
            assert.deepStrictEqual(problemsOf(base(), change), [expected]);
        });
    }

    it("accepts their neighbours that work: a /15 NAT subnet, hosts behind one ssh host on their own ports, one interval per guest, the NFS server on a host's machine", () => {
        assert.deepStrictEqual(problemsOf(nat(), (c) => { c.nat = { subnet: "192.168.0.0/15", gateway: "192.168.0.1", mac: "52:54:00:4d:4c:01" }; c.guests[0].address = "192.168.5.5"; }), []);
        assert.deepStrictEqual(problemsOf(sampleLab(), (c) => {
            onSsh(c); c.hosts[0].ssh.host = "127.0.0.1"; c.hosts[0].ssh.port = 2201; c.hosts[1].ssh.host = "localhost"; c.hosts[1].ssh.port = 2202;
            c.nfs.host.ssh.host = "10.10.10.1";
        }), []);
        assert.deepStrictEqual(problemsOf(nat(), (c) => {
            c.guests.push({ name: "vm2", home: "pc2", address: "192.168.150.11" });
            twice(c, { guest: "vm2", from: "pc2", to: "pc1", guestPingIntervalMs: 500 });
            c.migrations[0].guestPingIntervalMs = 100;
        }), []);
        // A later migration that leaves the interval out takes the guest's own.
        assert.deepStrictEqual(problemsOf(nat(), (c) => { c.migration.guestPingIntervalMs = 200; twice(c, {}); delete c.migrations[1].guestPingIntervalMs; }), []);
        assert.deepStrictEqual(problemsOf(sampleLab(), (c) => { c.guests[0].image = { qcow2: "mine.qcow2" }; c.link.lossPercent = 0.01; }), []);
        assert.deepStrictEqual(problemsOf(sampleLab(), (c) => { c.nat = {}; c.overlay = {}; }), [], "an empty block sets nothing");
        assert.deepStrictEqual(problemsOf(bridged(), (c) => { c.migration.mode = "postcopy"; c.migration.postcopySwitch = "after-seconds"; c.migration.postcopyAfterSeconds = 2; }), []);
    });
});

describe("the local site's memory, checked before anything is created", () => {
    const meminfo = "MemTotal:       24683652 kB\nMemFree:        1 kB\nSwapTotal:       2097148 kB\nCommitLimit:    14439972 kB\n";

    it("reads RAM, swap and the most one process may map from /proc/meminfo as the kernel's overcommit mode applies it", () => {
        assert.deepStrictEqual(machineMemoryOf(meminfo, "0\n"),
            { ramMiB: 24105, swapMiB: 2047, map: { limitMiB: 24105 + 2047, why: "RAM 24105 MiB + swap 2047 MiB, vm.overcommit_memory 0" } });
        assert.deepStrictEqual(machineMemoryOf(meminfo, "2\n")!.map, { limitMiB: 14101, why: "its commit limit 14101 MiB, vm.overcommit_memory 2" });
        assert.deepStrictEqual(machineMemoryOf(meminfo, "1\n"), { ramMiB: 24105, swapMiB: 2047 }, "mode 1 maps anything");
    });

    const machine = () => ({ ramMiB: 24105, swapMiB: 0, map: { limitMiB: 24105, why: "RAM 24105 MiB + swap 0 MiB, vm.overcommit_memory 0" } });

    it("refuses a guest larger than one process may map (QEMU: cannot set up guest memory 'pc.ram'), naming the guest and the limit; not on site ssh", () => {
        const big = (c: any) => { c.guests[0].memoryMiB = 32768; c.migration.timeoutSeconds = 3000; };
        const c = sampleLab(); big(c);
        assert.deepStrictEqual(machineProblems(parseLabConfig(c), () => ({ ok: true }), machine), ["guests[0].memoryMiB: 32768 MiB is more than this machine lets one process map (RAM 24105 MiB + swap 0 MiB, vm.overcommit_memory 0), " +
            "so QEMU could not set up the guest's memory; use at most 24105 MiB (or add swap)"]);
        const fits = sampleLab(); fits.guests[0].memoryMiB = 24105; fits.migration.timeoutSeconds = 3000;
        assert.deepStrictEqual(machineProblems(parseLabConfig(fits), () => ({ ok: true }), machine), []);
        const ssh = sampleLab(); big(ssh); ssh.site = "ssh"; delete ssh.link;
        for (const n of [...ssh.hosts, ssh.nfs.host]) { n.ssh = { privateKey: KEY }; }
        assert.deepStrictEqual(guestMemoryProblems(parseLabConfig(ssh), () => { throw new Error("asked"); }), []);
    });

    it("refuses guests whose filled memory, with the moving guest's second copy during a leg, is more than RAM and swap", () => {
        // Two 16 GiB guests, each filled with 15000 MiB: 30000 MiB, and 15000 more while vm1 is on both ends of a leg.
        const two = (fill: number) => (c: any) => {
            c.migration.timeoutSeconds = 3000;
            c.guests[0] = { ...c.guests[0], memoryMiB: 16384, workload: { fillMiB: fill } };
            c.guests.push({ name: "vm2", home: "pc2", address: "10.10.10.11", memoryMiB: 16384, workload: { fillMiB: fill } });
        };
        const c = sampleLab(); two(15000)(c);
        assert.deepStrictEqual(machineProblems(parseLabConfig(c), () => ({ ok: true }), machine), ["guests[*].workload: the guests fill and dirty 30000 MiB (vm1 15000, vm2 15000), and 15000 MiB more for 'vm1''s copy on the destination " +
            "during its legs: 45000 MiB, more than this machine's RAM and swap (24105 + 0 MiB); it would run out of memory and its OOM killer end QEMU or another process: " +
            "lower workload.fillMiB or the number of guests"]);
        // 8000 each: 24000 MiB at most, which fits.
        const fits = sampleLab(); two(8000)(fits);
        assert.deepStrictEqual(machineProblems(parseLabConfig(fits), () => ({ ok: true }), machine), []);
    });

    it("reads this machine's own limit", () => {
        const mode = fs.readFileSync("/proc/sys/vm/overcommit_memory", "utf8").trim();
        const real = probeMemory();
        const total = Math.floor(Number(/^MemTotal:\s+(\d+)/m.exec(fs.readFileSync("/proc/meminfo", "utf8"))![1]) / 1024);
        assert.ok(real && real.ramMiB === total, JSON.stringify(real));
        if (mode === "1") { assert.strictEqual(real!.map, undefined); return; }
        // Under mode 0 one process maps up to RAM and swap; under mode 2 the commit limit, which is positive.
        assert.ok(mode === "2" ? real!.map!.limitMiB > 0 : real!.map!.limitMiB === total + real!.swapMiB, JSON.stringify(real));
    });
});
