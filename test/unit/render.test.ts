import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseLabConfig } from "../../components/model/config";
import { planLab, labIdFor } from "../../components/model/plan";
import { legSpecOf, ovsSpecOf, siteSpecOf } from "../../components/render/specs";
import * as r from "../../components/render";
import { sampleLab } from "./config.test";

const plan = planLab(parseLabConfig(sampleLab()), "same-subnet");
const guest = plan.guests[0];
const domainSpec: r.DomainSpec = {
    name: guest.name, uuid: guest.uuid, mac: guest.mac, memoryMiB: guest.memoryMiB, vcpus: guest.vcpus,
    disk: { server: plan.nfs.address, path: guest.disk },
    boot: { kernel: guest.kernel!, initrd: guest.initrd!, cmdline: r.tinyGuestCmdline(guest) },
    network: { kind: "bridge", bridge: "br-lab" },
};
const site = siteSpecOf(plan);
const leg = legSpecOf(plan, guest, { leg: "out", from: plan.hosts[0], to: plan.hosts[1] });

function validates(xml: string, kind: string): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-xml-"));
    const file = path.join(dir, `${kind}.xml`);
    fs.writeFileSync(file, xml);
    const res = spawnSync("virt-xml-validate", [file, kind], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true });
    assert.strictEqual(res.status, 0, `virt-xml-validate ${kind}: ${res.stdout}${res.stderr}`);
}

function bashParses(script: string): void {
    const res = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
    assert.strictEqual(res.status, 0, `bash -n: ${res.stderr}`);
}

describe("plan", () => {
    it("gives each stack its own short lab id, ports and state dir", () => {
        assert.match(plan.labId, /^m[0-9a-z]{5}$/);
        assert.notStrictEqual(labIdFor("same-subnet"), labIdFor("nat"));
        assert.strictEqual(plan.stateDir, `/var/lib/miglab/${plan.labId}`);
        const ports = plan.nodes.map((n) => n.connect.port);
        assert.strictEqual(new Set(ports).size, ports.length);
        assert.ok(plan.nodes.every((n) => n.connect.host === "127.0.0.1"), "the local site is reached over loopback only");
    });

    it("uses a dir pool over the export on the local site and a netfs pool on real hosts", () => {
        assert.deepStrictEqual(plan.pool, { name: "miglab", type: "dir", target: plan.export });
        const c = sampleLab();
        c.site = "ssh"; delete c.link;
        for (const n of [...c.hosts, c.nfs.host]) { n.ssh = { privateKey: "k" }; }
        const ssh = planLab(parseLabConfig(c), "x");
        assert.deepStrictEqual(ssh.pool, { name: "miglab", type: "netfs", target: "/var/lib/miglab/pool" });
        assert.strictEqual(ssh.nodes[0].connect.host, "10.10.10.1");
    });

    it("leaves the router and the outside node to a team's network on site ssh, and routes them on the local site", () => {
        const routedLab = (site: string) => {
            const c = sampleLab();
            c.topology = "bridged"; c.site = site; delete c.link; c.guests[0].address = "10.10.30.10";
            c.hosts[1].address = "10.10.11.1"; c.outside = { address: "10.10.20.2" };
            if (site === "ssh") { for (const n of [...c.hosts, c.nfs.host]) { n.ssh = { privateKey: "k" }; } }
            return planLab(parseLabConfig(c), "x");
        };
        const ssh = routedLab("ssh");
        // miglab reaches only the hosts and the NFS server, keeps their own routes and configures no router.
        assert.deepStrictEqual(ssh.nodes.map((n) => n.name), ["pc1", "pc2", "nfs"]);
        assert.ok(ssh.nodes.every((n) => n.gateway === undefined && n.links.length === 1), JSON.stringify(ssh.nodes));
        assert.deepStrictEqual([ssh.forward, ssh.routes], [[], []]);
        assert.strictEqual(ssh.guests[0].ping?.address, "10.10.20.2");
        const spec = ovsSpecOf(ssh, ssh.hosts[0]);
        assert.deepStrictEqual([spec.uplink, spec.gateway, spec.stateDir], ["", undefined, ssh.stateDir]);
        // The local site makes the router (the NFS server), its routes and the outside namespace.
        const local = routedLab("local");
        assert.deepStrictEqual(local.nodes.map((n) => n.name), ["pc1", "pc2", "nfs", "outside"]);
        assert.deepStrictEqual(local.forward, ["nfs"]);
        assert.deepStrictEqual(local.routes, [{ node: "nfs", dest: "10.10.30.0/24", via: "10.10.10.1" }]);
        assert.strictEqual(ovsSpecOf(local, local.hosts[1]).gateway, "10.10.11.254");
    });

    it("keeps a guest's uuid and MAC stable", () => {
        const again = planLab(parseLabConfig(sampleLab()), "same-subnet").guests[0];
        assert.strictEqual(again.uuid, guest.uuid);
        assert.strictEqual(again.mac, guest.mac);
        assert.match(guest.mac, /^52:54:00(:[0-9a-f]{2}){3}$/);
    });
});

describe("libvirt XML", () => {
    for (const accel of ["tcg", "kvm"] as const) {
        it(`renders a domain that passes virt-xml-validate (${accel})`, () => {
            const xml = r.domainXml(domainSpec, accel);
            validates(xml, "domain");
            assert.match(xml, accel === "tcg" ? /<domain type='qemu'[ >]/ : /<domain type='kvm'[ >]/);
            assert.match(xml, /<source protocol='nfs' name='\/var\/lib\/miglab\/exports\/same-subnet\/vm1.qcow2'>/);
            assert.match(xml, /<driver name='qemu' type='qcow2' cache='none'\/>/);
            assert.ok(xml.includes(`<uuid>${guest.uuid}</uuid>`));
            // The console kept on each host, which a leg with a silent guest prints the end of.
            assert.strictEqual(r.consoleLogPath(domainSpec.name), `/var/log/libvirt/qemu/${domainSpec.name}-console.log`);
            assert.ok(xml.includes(`<log file='${r.consoleLogPath(domainSpec.name)}' append='on'/>`), xml);
            // The second QMP monitor post-copy recovery holds on the destination (migrate-leg.sh
            // reaches it at the path the leg's header names).
            const sock = r.recoveryMonitorPath(domainSpec.name);
            assert.ok(xml.includes(`<qemu:arg value='socket,id=miglab-qmp,path=${sock},server=on,wait=off'/>`), xml);
            assert.ok(xml.includes("<qemu:arg value='chardev=miglab-qmp,mode=control'/>"), xml);
            assert.match(r.migrateLegScript(leg), new RegExp(`^QMP_SOCK='${sock}'$`, "m"));
        });
    }

    it("renders dir and netfs pools that pass virt-xml-validate", () => {
        validates(r.poolXml({ name: "miglab", target: plan.export! }), "storagepool");
        const xml = r.poolXml({ name: "p", target: "/mnt/p", nfs: { address: plan.nfs.address, export: plan.export! } });
        validates(xml, "storagepool");
        assert.match(xml, /<dir path='\/var\/lib\/miglab\/exports\/same-subnet'\/>/);
    });

    it("renders NAT networks libvirt itself defines up to a /15, and refuses from a /14, as the nat.subnet rule says", () => {
        // libvirt's own parser, in process (the test driver: no daemon, nothing made on the machine).
        const define = (subnet: string, gateway: string) => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-net-"));
            const file = path.join(dir, "net.xml");
            fs.writeFileSync(file, r.natNetworkXml({ network: "miglab-nat", bridge: "virbr-mlnat", subnet, gateway, mac: "52:54:00:4d:4c:01" }));
            const res = spawnSync("virsh", ["-c", "test:///default", "net-define", file], { encoding: "utf8" });
            fs.rmSync(dir, { recursive: true });
            return res;
        };
        for (const [subnet, gateway] of [["192.168.150.0/30", "192.168.150.1"], ["192.168.0.0/16", "192.168.0.1"], ["10.0.0.0/15", "10.0.0.1"]]) {
            const res = define(subnet, gateway);
            assert.strictEqual(res.status, 0, `${subnet}: ${res.stderr}`);
        }
        const wide = define("10.0.0.0/14", "10.0.0.1");
        assert.notStrictEqual(wide.status, 0);
        assert.match(wide.stderr, /range 10\.2\.0\.0 - 10\.3\.255\.254 is too large \(> 65535\)/);
    });

    it("escapes what it puts in XML", () => {
        assert.strictEqual(r.xmlEscape(`a<b>&"c'`), "a&lt;b&gt;&amp;&quot;c&apos;");
    });
});

describe("the built-in guest's command line", () => {
    it("asks guest-init.sh to fill memory only when the workload has a fill", () => {
        const base = { address: "10.0.0.10", prefix: 24, counterPort: 7000 };
        assert.strictEqual(r.tinyGuestCmdline({ ...base, workload: { dirtyMiBs: 0, fillMiB: 416 } }),
            "console=ttyS0 quiet miglab.ip=10.0.0.10/24 miglab.port=7000 miglab.fill_mib=416");
        assert.doesNotMatch(r.tinyGuestCmdline({ ...base, workload: { dirtyMiBs: 0 } }), /fill_mib/);
        // guest-init.sh reads the parameter it is given.
        assert.match(fs.readFileSync(path.join(__dirname, "..", "..", "..", "components", "render", "scripts", "guest-init.sh"), "utf8"), /miglab\.fill_mib=\*\)/);
    });
});

describe("host scripts", () => {
    const scripts: Record<string, string> = {
        "local-site up": r.localSiteScript(site, "up"),
        "local-site down": r.localSiteScript(site, "down"),
        "nfs up": r.nfsScript({ export: plan.export!, clients: plan.allowedNetworks, implementation: "ganesha", stateDir: "/tmp/g" }, "up"),
        "host check": r.hostCheckScript(plan.hosts[0]),
        "pool up": r.poolScript({ name: "miglab", target: plan.export! }, "up"),
        "guest image up": r.guestImageScript({ name: "vm1", export: plan.export!, disk: guest.disk, diskMiB: 64, builtin: "tiny",
            kernel: `${plan.export}/k`, initrd: `${plan.export}/i` }, "up"),
        "domain up": r.domainScript({ name: "vm1", xml: r.domainXml(domainSpec, "tcg"), address: guest.address,
            counterPort: 7000, keyPath: plan.labKey, peers: ["10.10.10.1", "10.10.10.2"] }, "up"),
        "migration leg": r.migrateLegScript(leg),
    };
    for (const [name, text] of Object.entries(scripts)) {
        it(`${name}: bash parses it`, () => bashParses(text));
    }

    it("quotes every header value so config cannot inject shell", () => {
        const text = r.script("pool.sh", { POOL: "x'; rm -rf / #" });
        const out = execFileSync("bash", ["-c", `${text.split("\n")[0]}; printf %s "$POOL"`], { encoding: "utf8" });
        assert.strictEqual(out, "x'; rm -rf / #");
    });

    it("shapes links with the configured rate and sets the lab's nodes", () => {
        const text = r.localSiteScript(site, "up");
        assert.match(text, /^LINK_RATE='1gbit'$/m);
        assert.ok(text.includes(`NODES='pc1 host ${plan.hosts[0].connect.port} - a:10.10.10.1/24`), text.slice(0, 600));
        assert.match(text, /^HOST_UPLINK='bridge'$/m);
    });

    it("runs a leg with the configured probe interval and guest memory as the plain transfer size", () => {
        const text = r.migrateLegScript(leg);
        assert.match(text, /^PROBE_INTERVAL_S='0\.010'$/m);
        assert.match(text, new RegExp(`^PLAIN_BYTES='${192 * 1024 * 1024}'$`, "m"));
        assert.match(text, /^PROBE_ADDR='10\.10\.10\.3'$/m);
    });

    it("passes pre-copy's stop conditions to the leg, 0 for those not set", () => {
        const header = (stopAfter?: object) => r.migrateLegScript({ ...leg, tuning: { ...leg.tuning, stopAfter } })
            .split("\n").filter((l) => /^STOP_\w+='/.test(l)).join(" ");
        assert.strictEqual(header({ iterations: 3, dirtyPagesBelow: 250 }), "STOP_ITERATIONS='3' STOP_SENT_MIB='0' STOP_DIRTY_PAGES_BELOW='250'");
        assert.strictEqual(header({ sentMiB: 512 }), "STOP_ITERATIONS='0' STOP_SENT_MIB='512' STOP_DIRTY_PAGES_BELOW='0'");
        assert.strictEqual(header(undefined), "STOP_ITERATIONS='0' STOP_SENT_MIB='0' STOP_DIRTY_PAGES_BELOW='0'");
    });
});
