// The Site interface under mocks: a Lab on each kind of site asks its site, and nothing else,
// for what differs between them; a kind is one entry in SITE_KINDS; the local site's machine
// preflight stops the site before anything is made when this machine cannot hold the lab.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { LabConfig, parseLabConfig } from "../../components/model/config";
import { schema } from "../../components/model/schema";
import { Host } from "../../components/resources/host";
import { Lab } from "../../components/resources/lab";
import { LocalSite } from "../../components/resources/localSite";
import { MachinePreflight } from "../../components/resources/preflight";
import { SITE_KINDS, Site } from "../../components/resources/site";
import { SshSite } from "../../components/resources/sshSite";
import { KEY, sampleLab } from "./config.test";
import { declared, find, outputOf, varOf } from "./mocks";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOmiglabSiteTestKey0000000000000000000000000";

function sshLab(topology = "same-subnet"): LabConfig {
    const c = sampleLab();
    c.site = "ssh"; delete c.link;
    for (const n of [...c.hosts, c.nfs.host]) { n.ssh = { privateKey: KEY, hostKey: HOST_KEY }; }
    c.pool = { name: "miglab", path: "/mnt/miglab", type: "dir" };
    if (topology === "bridged") {
        c.topology = "bridged"; c.outside = { address: "192.168.60.1" };
        c.overlay = { subnet: "10.10.30.0/24", gateway: "10.10.30.1", gatewayHost: "pc1" };
        c.guests[0].address = "10.10.30.20";
    }
    return parseLabConfig(c);
}

const of = (prefix: string) => declared.filter((d) => d.name.startsWith(prefix));
const names = (prefix: string, type: string) => of(prefix).filter((d) => d.type === type).map((d) => d.name).sort();

describe("Lab on each kind of site, through the Site interface (mocks)", function () {
    this.timeout(20000);

    it("has one maker per kind of site the config's schema allows", () => {
        assert.deepStrictEqual(Object.keys(SITE_KINDS).sort(), [...schema.properties.site.enum].sort());
    });

    it("site local: namespaces on this machine after the machine preflight; hosts on loopback ports; the bridge is the site's own", async () => {
        const lab = new Lab("sl", { config: parseLabConfig(sampleLab()), stack: "unit-site-local" });
        await outputOf(lab.legs);
        assert.ok(lab.site instanceof LocalSite);
        assert.deepStrictEqual(names("sl-", "miglab:site:MachinePreflight"), ["sl-site-preflight"]);
        assert.deepStrictEqual(names("sl-", "miglab:network:HostBridge"), [], "the site script made br-lab with each host");
        const check = await find("sl-pc1-check");
        assert.strictEqual(check.inputs.connection.host, "127.0.0.1");
        assert.strictEqual(check.inputs.connection.port, (lab.site.connections.pc1 as { port: number }).port);
        assert.strictEqual((await find("sl-nfs-export")).inputs.create.includes(`${lab.plan.stateDir}/nodes/nfs/ganesha`), true);
        assert.strictEqual(varOf((await find("sl-pc1-pool-pool")).inputs.create, "EXPECT_EXPORT"), "", "a dir pool over the export itself");
    });

    it("site ssh: every machine's key checked by a resource, hosts that check each other's keys, a HostBridge, drift watched with the recorded key", async () => {
        const lab = new Lab("ss", { config: sshLab(), stack: "unit-site-ssh" });
        await outputOf(lab.legs);
        assert.ok(lab.site instanceof SshSite);
        assert.deepStrictEqual(names("ss-", "pulumi-nodejs:dynamic/miglab:HostKeyCheck"), ["ss-site-nfs-hostkey-check", "ss-site-pc1-hostkey-check", "ss-site-pc2-hostkey-check"]);
        assert.deepStrictEqual(names("ss-", "miglab:site:MachinePreflight"), [], "no machine of this one's is used");
        assert.deepStrictEqual(names("ss-", "miglab:network:HostBridge"), ["ss-pc1-bridge", "ss-pc2-bridge"]);
        assert.strictEqual(lab.hosts.pc1.peerKnownHosts, `/root/.ssh/miglab-${lab.plan.labId}.known_hosts`);
        const check = await find("ss-pc1-check");
        assert.strictEqual(check.inputs.connection.hostKey, HOST_KEY.split(" ").slice(0, 2).join(" "));
        // The drift watch reaches the guest's hosts through the one SSH layer, with their recorded keys.
        const watch = await find("ss-vm1-drift");
        assert.ok(watch.inputs.targets.length > 0 && watch.inputs.targets.every((t: { hostKey?: string }) => t.hostKey === HOST_KEY),
            JSON.stringify(watch.inputs.targets.map((t: { hostKey?: string }) => t.hostKey)));
        assert.notStrictEqual(varOf((await find("ss-pc1-pool-pool")).inputs.create, "EXPECT_EXPORT"), "", "a dir pool checks it is the export's mount");
    });

    it("site ssh, bridged: the hosts must reach the team's outside node, and its router must carry the overlay", async () => {
        const lab = new Lab("sb", { config: sshLab("bridged"), stack: "unit-site-ssh-br" });
        await outputOf(lab.legs);
        assert.match(varOf((await find("sb-pc1-check")).inputs.create, "REACH"), /^192\.168\.60\.1 outside\.address:/);
        assert.strictEqual(varOf((await find("sb-nfs-check")).inputs.create, "REACH"), "<unset>", "the NFS server is not asked");
        const route = await find("sb-overlay-route");
        assert.strictEqual(route.inputs.connection.port, (lab.site.connections[lab.plan.probe.name] as { port: number }).port);
        assert.match(varOf(route.inputs.create, "REACH"), /^10\.10\.30\.1 overlay\.subnet: your router must route/);
        assert.strictEqual(varOf((await find("sb-pc1-ovs-bridges")).inputs.create, "UPLINK"), "", "OVS takes the NIC holding the address");
    });

    it("a new kind of site is a component implementing Site: Lab uses only what the interface says", async () => {
        // A site that reaches its nodes somewhere else: made by its own entry, asked only through Site.
        class OtherSite extends pulumi.ComponentResource implements Site {
            readonly connections: Record<string, { host: string; port: number; user: string; privateKey: string }> = {};
            readonly ovs = { uplink: "eth7", stateDir: "/srv/other", ownDaemons: true };
            readonly poolMountsExport = false;
            readonly migrationTlsDir = "/srv/other/tls";
            readonly ready: pulumi.Resource[] = [this];
            constructor(name: string, private readonly nodes: { name: string; address: string; role: "host" | "nfs" | "outside" }[]) {
                super("test:site:OtherSite", name, {});
                nodes.forEach((n, i) => { this.connections[n.name] = { host: "198.51.100.1", port: 4000 + i, user: "lab", privateKey: "K" }; });
            }
            hostArgs(node: string) {
                const n = this.nodes.find((x) => x.name === node)!;
                return { connection: this.connections[node], address: n.address, role: n.role, hostname: n.name, peerKeyPath: "/srv/other/key" };
            }
            hostReach() { return [{ address: "198.51.100.9", why: "the other site's gateway" }]; }
            joinGuestBridge(name: string, host: Host) { return new pulumi.ComponentResource("test:site:Joined", name, {}, { dependsOn: [host] }); }
            networkChecks() { return []; }
            nfsStateDir(node: string) { return `/srv/other/${node}`; }
        }
        const real = SITE_KINDS.local;
        SITE_KINDS.local = (name, plan, _config, opts) => new OtherSite(name, plan.nodes.map((n) => ({ name: n.name, address: n.address, role: n.role })));
        try {
            const lab = new Lab("so", { config: parseLabConfig(sampleLab()), stack: "unit-site-other" });
            await outputOf(lab.legs);
            assert.ok(lab.site instanceof OtherSite);
            const check = await find("so-pc1-check");
            assert.deepStrictEqual([check.inputs.connection.host, check.inputs.connection.port], ["198.51.100.1", 4000]);
            assert.strictEqual(varOf(check.inputs.create, "REACH"), "198.51.100.9 the other site's gateway");
            assert.deepStrictEqual(names("so-", "test:site:Joined"), ["so-pc1-bridge", "so-pc2-bridge"]);
            assert.match((await find("so-nfs-export")).inputs.create, /\/srv\/other\/nfs/);
            assert.strictEqual(lab.hosts.pc1.peerKeyPath, "/srv/other/key");
            assert.deepStrictEqual(of("so-site").map((d) => `${d.type} ${d.name}`), ["test:site:OtherSite so-site"], "nothing of another kind of site was made");
        } finally {
            SITE_KINDS.local = real;
        }
    });
});

describe("the machine preflight (mocks)", function () {
    this.timeout(20000);

    it("lets the site be made when this machine can hold the lab", async () => {
        const cfg = parseLabConfig({ ...sampleLab(), link: { rate: "1gbit" } });
        const p = new MachinePreflight("pf-ok", { config: cfg, kernel: () => ({ ok: true }), memory: () => undefined });
        assert.strictEqual(await outputOf(p.passed), true);
    });

    it("fails, on itself, with the config's message when the kernel lacks what `link` asks", async () => {
        const cfg = parseLabConfig({ ...sampleLab(), link: { rate: "1gbit", delayMs: 5 } });
        const noNetem = (f: string) => (f === "netem" ? { ok: false, detail: "Error: Specified qdisc kind is unknown." } : { ok: true });
        const p = new MachinePreflight("pf-bad", { config: cfg, kernel: noNetem, memory: () => undefined });
        await assert.rejects((p.passed as unknown as { promise(): Promise<true> }).promise(), (e: Error) =>
            e instanceof pulumi.ResourceError && e.resource === p && e.message === "miglab:lab has 1 problem:\n" +
            "  - link.delayMs: this machine cannot do it for the local site (netem: Error: Specified qdisc kind is unknown.); remove link.delayMs (or load sch_netem: modprobe sch_netem)");
    });

    it("holds the local site's namespaces until its verdict is in", async () => {
        let pass: (v: true) => void = () => undefined;
        const verdict = pulumi.output(new Promise<true>((resolve) => { pass = resolve; }));
        new LocalSite("pf-site", { id: "pf1", basePort: 23100, nodes: [{ name: "pc1", addresses: ["10.6.0.1/24"] }], after: [verdict] });
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.ok(!declared.some((d) => d.name === "pf-site-namespaces"), "the namespaces were made before the preflight answered");
        pass(true);
        assert.strictEqual(varOf((await find("pf-site-namespaces")).inputs.create, "LAB_ID"), "pf1");
    });
});
