// Each component on its own, with hand-written args as a user's program would give
// them (no config, no plan), under the suite's mocks: the children it declares, the
// commands it renders, its outputs, and the errors bad args get.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import {
    Domain, GuestImage, Host, LocalSite, Migration, MigrationTls, NatNetwork, NfsServer, OvsBridge, SshSite, StoragePool,
} from "../../components";
import { declared, find, outputOf, varOf } from "./mocks";

const conn = (port: number) => ({ host: "127.0.0.1", port, user: "root", privateKey: pulumi.secret("KEY") });
const children = (prefix: string) => declared.filter((d) => d.name.startsWith(prefix)).map((d) => `${d.type} ${d.name}`);

describe("components on their own args (mocks)", function () {
    this.timeout(20000);

    describe("Host", () => {
        it("checks the node over its connection and reports the accelerator", async () => {
            const h = new Host("c-h1", { connection: conn(2201), address: "10.1.0.1", hostname: "alpha" });
            assert.strictEqual(await outputOf(h.accel), "tcg");
            const check = (await find("c-h1-check"));
            assert.strictEqual(check.type, "command:remote:Command");
            const { host, port, user, privateKey } = check.inputs.connection;
            assert.deepStrictEqual({ host, port, user, privateKey }, { host: "127.0.0.1", port: 2201, user: "root", privateKey: "KEY" });
            assert.strictEqual(varOf(check.inputs.create, "NODE"), "alpha");
            assert.strictEqual(varOf(check.inputs.create, "ROLE"), "host");
            assert.strictEqual(h.peerKeyPath, "/root/.ssh/id_miglab");
        });

        it("takes its address as another resource's output", async () => {
            const h = new Host("c-h2", { connection: conn(2202), address: pulumi.output("10.1.0.2") });
            assert.strictEqual(await outputOf(h.address), "10.1.0.2");
            assert.strictEqual(h.hostname, "c-h2");
        });

        it("fails an address known only at run time that it cannot use, with its message, and makes no child with it", async () => {
            // The runner reports a rejected input of a resource as the program's error; here it would reach mocha.
            const mochas = process.listeners("unhandledRejection");
            // The failed registration's promises stay pending: in a real run the runner has logged the error and
            // the SDK's leak report stays quiet; here nothing logs it, so they are taken off the report's list.
            const leaks: Set<Promise<unknown>> = require("@pulumi/pulumi/runtime/state").getStore().leakCandidates;
            const before = new Set(leaks);
            const reported: unknown[] = [];
            process.removeAllListeners("unhandledRejection");
            process.on("unhandledRejection", (e) => { reported.push(e); });
            try {
                const h = new Host("c-late", { connection: conn(2203), address: pulumi.output("10.1.0.300"), hostname: "late" });
                const message = /Host 'c-late' has a bad argument:\n {2}- address: '10\.1\.0\.300' must be an IPv4 address/;
                await assert.rejects((h.address as unknown as { promise(): Promise<string> }).promise(),
                    (e: Error) => e instanceof pulumi.ResourceError && message.test(e.message) && (e as pulumi.ResourceError).resource === h);
                await new Promise((resolve) => setTimeout(resolve, 200));
                // The same error, on the Host: the runner logs it there once (it dedupes by identity) and fails the run.
                assert.ok(reported.length > 0 && reported.every((e) => e instanceof pulumi.ResourceError && message.test(e.message) && e.resource === h),
                    `the host's check was not failed with the message: ${reported.map(String).join("; ")}`);
                assert.ok(!declared.some((d) => d.name === "c-late-check"), "the check was made with the bad address pending");
                // The same host with a good address, known as late, is made as usual.
                const ok = new Host("c-late-ok", { connection: conn(2204), address: pulumi.output("10.1.0.4") });
                assert.strictEqual(await outputOf(ok.address), "10.1.0.4");
                assert.strictEqual(varOf((await find("c-late-ok-check")).inputs.create, "NODE"), "c-late-ok");
            } finally {
                process.removeAllListeners("unhandledRejection");
                for (const l of mochas) { process.on("unhandledRejection", l); }
                for (const p of [...leaks]) { if (!before.has(p)) { leaks.delete(p); } }
            }
        });

        it("names itself and each bad field", () => {
            assert.throws(() => new Host("c-bad", { connection: conn(1), address: "10.1.0.300", hostname: "Alpha", role: "router" as any }),
                (e: Error) => e instanceof pulumi.ResourceError &&
                    /Host 'c-bad' has 3 bad arguments:/.test(e.message) &&
                    /- hostname: 'Alpha' must be lower-case letters/.test(e.message) &&
                    /- role: 'router' must be one of 'host', 'nfs', 'outside'/.test(e.message) &&
                    /- address: '10\.1\.0\.300' must be an IPv4 address/.test(e.message));
        });
    });

    describe("storage", () => {
        let nfsHost: Host; let pc: Host; let nfs: NfsServer;
        before(() => {
            nfsHost = new Host("s-nfs", { connection: conn(2210), address: "10.2.0.3", role: "nfs" });
            pc = new Host("s-pc", { connection: conn(2211), address: "10.2.0.1" });
            nfs = new NfsServer("s-export", { host: nfsHost, export: "/srv/guests", allowedNetworks: pulumi.output(["10.2.0.0/24"]) });
        });

        it("NfsServer exports the directory to the given networks with nfs-kernel-server by default", async () => {
            const c = (await find("s-export-export"));
            assert.strictEqual(varOf(c.inputs.create, "EXPORT"), "/srv/guests");
            assert.strictEqual(varOf(c.inputs.create, "CLIENTS"), "10.2.0.0/24");
            assert.strictEqual(varOf(c.inputs.create, "IMPL"), "kernel");
            assert.strictEqual(varOf(c.inputs.delete, "ACTION"), "down");
            assert.strictEqual(c.inputs.connection.port, 2210);
            assert.strictEqual(await outputOf(nfs.address), "10.2.0.3");
            // Watched on its host by the same script's check; the watch's token is in what up runs.
            const w = await find("s-export-drift");
            assert.strictEqual(w.inputs.targets[0].port, 2210);
            assert.strictEqual(varOf(w.inputs.probe, "ACTION"), "check");
            assert.strictEqual(varOf(w.inputs.probe, "EXPORT"), "/srv/guests");
            assert.match(c.inputs.create, /\n# drift watch /);
            assert.doesNotMatch(c.inputs.delete, /# drift watch/);
        });

        it("StoragePool mounts the export as a netfs pool when given the server, else a dir pool", async () => {
            new StoragePool("s-netfs", { host: pc, target: "/var/lib/miglab/pool", nfs });
            new StoragePool("s-dir", { host: pc, name: "local", target: "/srv/guests" });
            const netfs = varOf((await find("s-netfs-pool")).inputs.create, "POOL_XML");
            assert.match(netfs, /<pool type='netfs'>/);
            assert.match(netfs, /<host name='10\.2\.0\.3'\/>\s*<dir path='\/srv\/guests'\/>/);
            const dir = (await find("s-dir-pool")).inputs.create;
            assert.match(varOf(dir, "POOL_XML")!, /<pool type='dir'>\s*<name>local<\/name>/);
            assert.strictEqual(varOf(dir, "TARGET"), "/srv/guests");
        });

        it("GuestImage builds the tiny guest on the NFS host and gives the disk as QEMU opens it", async () => {
            const img = new GuestImage("s-img", { nfs, name: "web", poolTarget: "/var/lib/miglab/pool" });
            const disk = await outputOf(img.disk);
            assert.deepStrictEqual(disk, { server: "10.2.0.3", path: "/srv/guests/web.qcow2" });
            assert.strictEqual(img.kernel, "/var/lib/miglab/pool/miglab-tiny-vmlinuz");
            const c = (await find("s-img-files"));
            assert.strictEqual(c.inputs.connection.port, 2210);
            assert.strictEqual(varOf(c.inputs.create, "KERNEL"), "/srv/guests/miglab-tiny-vmlinuz");
            assert.strictEqual(varOf(c.inputs.create, "BUILTIN"), "tiny");
            const own = new GuestImage("s-own", { nfs, image: { qcow2: "debian.qcow2" } });
            assert.deepStrictEqual(await outputOf(own.disk), { server: "10.2.0.3", path: "/srv/guests/debian.qcow2" });
            assert.strictEqual(own.kernel, undefined);
        });

        it("bad storage args are named with the fix", () => {
            assert.throws(() => new NfsServer("s-bad", { host: nfsHost, export: "srv guests", allowedNetworks: ["10.2.0.0/24"] }),
                /NfsServer 's-bad' has a bad argument:\n {2}- export: 'srv guests' must be an absolute path/);
            assert.throws(() => new NfsServer("s-bad2", { host: nfsHost, export: "/srv", allowedNetworks: ["10.2.0.0"] }),
                /allowedNetworks: '10\.2\.0\.0' must be an IPv4 network/);
            assert.throws(() => new StoragePool("s-bad3", { host: pc, target: "relative" }), /StoragePool 's-bad3'.*\n {2}- target: 'relative'/);
            assert.throws(() => new GuestImage("s-bad4", { nfs, image: { qcow2: "disk.img" } }), /image: qcow2 'disk\.img' must be a file name ending in \.qcow2/);
        });
    });

    describe("networks", () => {
        let a: Host; let b: Host; let c: Host;
        before(() => {
            a = new Host("n-a", { connection: conn(2221), address: "10.3.0.1", hostname: "a" });
            b = new Host("n-b", { connection: conn(2222), address: "10.3.1.1", hostname: "b" });
            c = new Host("n-c", { connection: conn(2223), address: "10.3.2.1", hostname: "c" });
        });

        it("OvsBridge makes a tunnel port to every peer, keyed by the VNI, and the libvirt network over it", async () => {
            const br = new OvsBridge("n-ovs", {
                host: a, address: "10.3.0.1/24", gateway: "10.3.0.254", vni: 77, peers: [b, { name: "c", address: c.address }],
                overlayGateway: "10.9.0.1/24",
            });
            assert.deepStrictEqual(br.attachment, { kind: "network", network: "miglab-ovs", openvswitch: true });
            const up = (await find("n-ovs-bridges")).inputs.create;
            assert.strictEqual(varOf(up, "PEERS"), "tun-b:10.3.1.1 tun-c:10.3.2.1");
            assert.strictEqual(varOf(up, "VNI"), "77");
            assert.strictEqual(varOf(up, "TUNNEL"), "vxlan");
            assert.strictEqual(varOf(up, "ADDR"), "10.3.0.1/24");
            assert.strictEqual(varOf(up, "GW"), "10.3.0.254");
            assert.strictEqual(varOf(up, "OVERLAY_GW"), "10.9.0.1/24");
            assert.strictEqual(varOf(up, "OWN_DAEMONS"), "0");
            assert.ok(up.includes("\nNETWORK='miglab-ovs'\n"), "the libvirt network is rendered after the bridges");
            // Removal takes the network off before the bridge it sits on.
            const down = (await find("n-ovs-bridges")).inputs.delete;
            assert.ok(down.indexOf("libvirt network on this host") < down.indexOf("Open vSwitch bridges"), "network removed after the bridges");
        });

        it("NatNetwork gives every host the same gateway address and MAC", async () => {
            const nat = new NatNetwork("n-nat", { host: b, subnet: "192.168.150.0/24", gateway: "192.168.150.1", mac: "52:54:00:4d:4c:01" });
            assert.deepStrictEqual(nat.attachment, { kind: "network", network: "miglab-nat" });
            const xml = varOf((await find("n-nat-network")).inputs.create, "XML")!;
            assert.match(xml, /<mac address='52:54:00:4d:4c:01'\/>/);
            assert.match(xml, /<ip address='192\.168\.150\.1' prefix='24'>/);
            assert.match(xml, /<range start='192\.168\.150\.128' end='192\.168\.150\.254'\/>/);
        });

        it("bad network args are named with the fix", () => {
            assert.throws(() => new OvsBridge("n-bad", { host: a, address: "10.3.0.1", vni: 0, peers: [a] }),
                (e: Error) => /OvsBridge 'n-bad' has 3 bad arguments/.test(e.message) && /vni: 0 must be an integer from 1 to 16777215/.test(e.message) &&
                    /peers\[0\]: is this bridge's own host 'a'/.test(e.message) && /address: '10\.3\.0\.1' must be an IPv4 network written address\/prefix/.test(e.message));
            assert.throws(() => new NatNetwork("n-bad2", { host: a, subnet: "192.168.150.0/24", gateway: "192.168.151.1", mac: "52:54:00:4d:4c:01" }),
                /gateway: 192\.168\.151\.1 is not in subnet 192\.168\.150\.0\/24/);
        });
    });

    describe("guests and migration", () => {
        let pc1: Host; let pc2: Host; let probe: Host; let vm: Domain; let gnfs: NfsServer;
        before(() => {
            pc1 = new Host("g-pc1", { connection: conn(2231), address: "10.4.0.1", hostname: "pc1", peerKeyPath: "/k/id" });
            pc2 = new Host("g-pc2", { connection: conn(2232), address: "10.4.0.2", hostname: "pc2", peerKeyPath: "/k/id" });
            probe = new Host("g-probe", { connection: conn(2233), address: "10.4.0.3", hostname: "probe", role: "nfs" });
            const nfs = gnfs = new NfsServer("g-nfs", { host: probe, export: "/srv/g", allowedNetworks: ["10.4.0.0/24"] });
            const image = new GuestImage("g-img", { nfs, name: "vm" });
            vm = new Domain("g-vm", {
                host: pc1, hosts: [pc1, pc2], guestName: "vm", memoryMiB: 256, vcpus: 2, image,
                network: { kind: "bridge", bridge: "br-lab" }, address: "10.4.0.10", prefix: 24, workload: { dirtyMiBs: 20 },
            });
        });

        it("Domain defines the guest on its host from XML naming its disk, memory, network and boot", async () => {
            const xml = await outputOf(vm.xml);
            assert.match(xml, /<domain type='qemu'[ >]/);
            assert.match(xml, /<memory unit='MiB'>256<\/memory>/);
            assert.match(xml, /<vcpu placement='static'>2<\/vcpu>/);
            assert.match(xml, /<source protocol='nfs' name='\/srv\/g\/vm\.qcow2'>\s*<host name='10\.4\.0\.3'\/>/);
            assert.match(xml, /<source bridge='br-lab'\/>/);
            assert.match(xml, /<cmdline>console=ttyS0 quiet miglab\.ip=10\.4\.0\.10\/24 miglab\.port=7000 miglab\.dirty_mib_s=20 miglab\.dirty_wss_mib=20<\/cmdline>/);
            const c = (await find("g-vm-domain"));
            assert.strictEqual(c.inputs.connection.port, 2231);
            assert.strictEqual(varOf(c.inputs.create, "PEERS"), "10.4.0.1 10.4.0.2");
            assert.strictEqual(varOf(c.inputs.create, "KEY"), "/k/id");
            assert.strictEqual(varOf(c.inputs.delete, "ACTION"), "down");
        });

        it("Migration runs out and back, each leg on its source, measured, with the options given", async () => {
            const hooks = process.listenerCount("beforeExit");
            const m = new Migration("g-mig", { domain: vm, from: pc1, to: pc2, probe, mode: "postcopy", bandwidthMiBs: 40, probeIntervalMs: 20 });
            const legs = await outputOf(m.legs);
            // The exit-code hook (exit.ts) is for a program the Pulumi runner runs, not the test runner.
            assert.strictEqual(process.listenerCount("beforeExit"), hooks, "a Migration under mocks hooked the test runner's exit");
            assert.deepStrictEqual(legs.map((l) => `${l.leg} ${l.from}->${l.to}`), ["out pc1->pc2", "back pc2->pc1"]);
            assert.strictEqual(m.options.timeoutSeconds, 300, "schema default filled in");
            const out = (await find("g-mig-out")).inputs; const back = (await find("g-mig-back")).inputs;
            assert.strictEqual(out.connection.port, 2231);
            assert.strictEqual(back.connection.port, 2232);
            assert.strictEqual(varOf(out.create, "DST_ADDR"), "10.4.0.2");
            assert.strictEqual(varOf(back.create, "DST_NAME"), "pc1");
            assert.strictEqual(varOf(out.create, "PROBE_ADDR"), "10.4.0.3");
            assert.strictEqual(varOf(out.create, "MODE"), "postcopy");
            assert.strictEqual(varOf(out.create, "BANDWIDTH_MIBS"), "40");
            assert.strictEqual(varOf(out.create, "PROBE_INTERVAL_S"), "0.020");
            assert.strictEqual(varOf(out.create, "PLAIN_BYTES"), String(256 * 1024 * 1024));
            assert.strictEqual(varOf(out.create, "KEY"), "/k/id");
            assert.strictEqual(varOf(out.create, "TUNNEL_PORT"), "");
        });

        it("a Domain with a local disk opens it as a file, makes it at home, and its legs move it with --copy-storage-all", async () => {
            const image = new GuestImage("g-cimg", { nfs: gnfs, name: "cvm", exportDisk: false });
            const cvm = new Domain("g-cvm", {
                host: pc1, hosts: [pc1, pc2], guestName: "cvm", memoryMiB: 256, image, network: { kind: "bridge", bridge: "br-lab" },
                address: "10.4.0.11", prefix: 24,
                localDisk: { storage: "copy", path: "/var/lib/libvirt/images/mine/cvm.qcow2", make: { empty: 64 } },
            });
            assert.match(await outputOf(cvm.xml), /<disk type='file' device='disk'>[\s\S]*<source file='\/var\/lib\/libvirt\/images\/mine\/cvm\.qcow2'\/>/);
            const d = await find("g-cvm-domain");
            assert.strictEqual(varOf(d.inputs.create, "LOCAL_DISK"), "/var/lib/libvirt/images/mine/cvm.qcow2");
            assert.strictEqual(varOf(d.inputs.create, "MAKE_DISK"), "empty 64");
            // The export gets the boot files only.
            assert.strictEqual(varOf((await find("g-cimg-files")).inputs.create, "DISK"), "");
            const m = new Migration("g-cmig", { domain: cvm, from: pc1, to: pc2, probe });
            await outputOf(m.legs);
            const out = (await find("g-cmig-out")).inputs;
            assert.strictEqual(varOf(out.create, "STORAGE"), "copy");
            assert.strictEqual(varOf(out.create, "EXTRA_FLAGS"), "--copy-storage-all --disks-port 49215");
            assert.strictEqual(varOf(out.create, "DISK_SUM"), "1", "the built-in image writes only its counter sector");
            assert.throws(() => new Domain("g-bad", {
                host: pc1, guestName: "bad", memoryMiB: 256, image, network: { kind: "bridge", bridge: "br-lab" }, address: "10.4.0.12", prefix: 24,
                localDisk: { storage: "copy-incremental", path: "/x/bad.qcow2", make: { overlayOn: "/b.qcow2" } },
            }), /localDisk\.backing: copy-incremental needs the absolute path of the backing image/);
        });

        it("Migration without a probe has the hosts ask the guest's counter (behind NAT)", async () => {
            const m = new Migration("g-nat", { domain: vm, from: pc2, to: pc1, roundTrip: false });
            await outputOf(m.legs);
            assert.deepStrictEqual(children("g-nat-").filter((c) => c.startsWith("command")), ["command:remote:Command g-nat-out"]);
            const out = declared.find((d) => d.name === "g-nat-out")!.inputs.create;
            assert.strictEqual(varOf(out, "PROBE_ADDR"), "");
            assert.strictEqual(varOf(out, "COUNTER_FROM"), "hosts");
            assert.strictEqual(varOf(out, "SRC_NAME"), "pc2");
        });

        it("MigrationTls keeps the CA on its first host and gives each host a certificate signed there; Migration's tls adds --tls", async () => {
            const real = new Host("g-real", { connection: conn(2234), address: "10.4.0.4", hostname: "real", peerKeyPath: "/root/.ssh/miglab-x", peerKnownHosts: "/root/.ssh/miglab-x.known_hosts" });
            const tls = new MigrationTls("g-tls", { hosts: [pc1, real], labId: "lab-1" });
            assert.strictEqual(tls.certificates.length, 2);
            const ca = await find("g-tls-ca");
            assert.strictEqual(ca.inputs.connection.port, 2231);
            assert.strictEqual(varOf(ca.inputs.create, "CA_DIR"), "/var/lib/miglab/lab-1/tls-ca");
            const own = (await find("g-tls-cert-pc1")).inputs, other = (await find("g-tls-cert-real")).inputs;
            assert.strictEqual(varOf(own.create, "CA_ADDR"), "");
            assert.strictEqual(varOf(other.create, "CA_ADDR"), "10.4.0.1");
            assert.strictEqual(varOf(other.create, "ADDR"), "10.4.0.4");
            assert.strictEqual(other.connection.port, 2234);
            // Real hosts: wherever their libvirt takes the files from; signed over the lab key, host keys checked.
            assert.strictEqual(varOf(other.create, "EXPECT_DIR"), "");
            assert.strictEqual(varOf(other.create, "KEY"), "/root/.ssh/miglab-x");
            assert.strictEqual(varOf(other.create, "KNOWN_HOSTS"), "/root/.ssh/miglab-x.known_hosts");
            assert.strictEqual(varOf(other.delete, "ACTION"), "down");
            const m = new Migration("g-tlsmig", { domain: vm, from: pc1, to: pc2, tls: true, roundTrip: false }, { dependsOn: [tls] });
            await outputOf(m.legs);
            assert.match(varOf((await find("g-tlsmig-out")).inputs.create, "EXTRA_FLAGS"), /(^| )--tls$/);
            assert.throws(() => new MigrationTls("g-tls-bad", { hosts: [], labId: "Lab 1", caDir: "tls" }),
                (e: Error) => /MigrationTls 'g-tls-bad' has 4 bad arguments/.test(e.message) && /hosts: must list the Hosts/.test(e.message) &&
                    /caHost: must be a Host/.test(e.message) && /labId: must be 1 to 20/.test(e.message) && /caDir: must be an absolute path/.test(e.message));
        });

        it("bad guest and migration args are named with the fix", () => {
            assert.throws(() => new Domain("g-bad", {
                host: pc1, hosts: [pc2], memoryMiB: 16, image: undefined as any, network: { kind: "bridge", bridge: "br-lab" }, address: "10.4.0.11", prefix: 24,
            }), (e: Error) => /Domain 'g-bad'/.test(e.message) && /hosts: must include the guest's host 'pc1'/.test(e.message) &&
                /memoryMiB: 16 must be an integer from 64 to 65536/.test(e.message) && /image: must be a GuestImage/.test(e.message));
            assert.throws(() => new Domain("g-bad-fill", {
                host: pc1, hosts: [pc1, pc2], memoryMiB: 256, image: undefined as any, network: { kind: "bridge", bridge: "br-lab" }, address: "10.4.0.12", prefix: 24,
                workload: { dirtyMiBs: 20, fillMiB: 200 },
            }), /Domain 'g-bad-fill' has 2 bad arguments:[^]*\n {2}- workload\.fillMiB: 200 MiB does not fit: the guest's 256 MiB less 128 MiB for its kernel and 24 MiB for the dirtying working set leaves 104 MiB; lower it or give the guest more memory/);
            assert.throws(() => new Migration("g-bad2", { domain: vm, from: pc1, to: pc1 }),
                /Migration 'g-bad2' has a bad argument:\n {2}- to: is 'pc1', the same host as from; give two different hosts/);
            assert.throws(() => new Migration("g-bad3", { domain: vm, from: pc1, to: probe }),
                /to: 'probe' is not one of the domain's hosts \(pc1, pc2\); add it to the Domain's hosts/);
            assert.throws(() => new Migration("g-bad4", { domain: vm, from: pc1, to: pc2, mode: "postcopy", parallelConnections: 4 }),
                /parallelConnections: QEMU cannot combine multifd with post-copy/);
            const own = new GuestImage("g-own", { nfs: gnfs, image: { qcow2: "debian.qcow2" } });
            assert.throws(() => new Domain("g-bad-own", {
                host: pc1, hosts: [pc1, pc2], memoryMiB: 256, image: own, network: { kind: "bridge", bridge: "br-lab" }, address: "10.4.0.13", prefix: 24,
                workload: { dirtyMiBs: 20 },
            }), /Domain 'g-bad-own' has a bad argument:\n {2}- workload: only the built-in image runs a workload; this guest boots its own qcow2, which would migrate idle/);
            assert.throws(() => new Migration("g-bad5", { domain: vm, from: pc1, to: pc2, mode: "fast" as any, timeoutSeconds: 1 }),
                (e: Error) => /mode: must be one of 'precopy', 'postcopy'/.test(e.message) && /timeoutSeconds: must be an integer from 5 to 86400/.test(e.message));
        });
    });

    describe("SshSite", () => {
        it("records or takes each machine's host key, checks it in a resource of its own, hands it to the connections", async () => {
            // The addresses are documentation ones that lead nowhere. The scan is the HostKeyCheck's, run by the
            // engine (its provider's check), so the program itself scans nothing: spawnSync is watched to say so.
            const scanned = "x ssh-ed25519 AAAAgiven\nx ssh-ed25519 AAAAscanned\n";
            const cp = require("child_process");
            const real = cp.spawnSync;
            const spawned: string[] = [];
            cp.spawnSync = (cmd: string, a: string[], o: any) => { spawned.push(`${cmd} ${(a ?? []).join(" ")}`); return cmd === "ssh-keyscan" ? { stdout: scanned } : real(cmd, a, o); };
            try {
                const site = new SshSite("s-site", {
                    id: "lab1",
                    nodes: [
                        { name: "pc1", address: "192.0.2.1", privateKey: "KEY1", hostKey: "ssh-ed25519 AAAAgiven root@pc1" },
                        { name: "pc2", address: "192.0.2.2", port: 2222, user: "admin", privateKey: pulumi.secret("KEY2") },
                    ],
                });
                assert.deepStrictEqual(await outputOf(site.hostKeys), { pc1: "ssh-ed25519 AAAAgiven", pc2: "ssh-ed25519 AAAAscanned" });
                assert.strictEqual(await outputOf(pulumi.output(site.connections.pc2.hostKey)), "ssh-ed25519 AAAAscanned");
                assert.strictEqual(await outputOf(site.labPublicKey), "ssh-ed25519 AAAAlabpub miglab");
                assert.strictEqual(site.peerKeyPath, "/root/.ssh/miglab-lab1");
                const trust = await find("s-site-pc2-trust");
                await find("s-site-pc1-trust");
                assert.deepStrictEqual(children("s-site-").sort(), [
                    "command:local:Command s-site-lab-key", "command:local:Command s-site-pc2-hostkey",
                    "command:remote:Command s-site-pc1-trust", "command:remote:Command s-site-pc2-trust",
                    "pulumi-nodejs:dynamic/miglab:HostKeyCheck s-site-pc1-hostkey-check", "pulumi-nodejs:dynamic/miglab:HostKeyCheck s-site-pc2-hostkey-check",
                ]);
                // Each check is given the key to expect and where to scan; the connections take the key from it.
                const check = await find("s-site-pc2-hostkey-check");
                const { node, host: at, port: scanPort, hostKey: expected } = check.inputs;
                assert.deepStrictEqual({ node, at, scanPort, expected }, { node: "pc2", at: "192.0.2.2", scanPort: 2222, expected: "ssh-ed25519 AAAAscanned" });
                assert.strictEqual((await find("s-site-pc1-hostkey-check")).inputs.hostKey, "ssh-ed25519 AAAAgiven");
                const { host, port, user, hostKey } = trust.inputs.connection;
                assert.deepStrictEqual({ host, port, user, hostKey }, { host: "192.0.2.2", port: 2222, user: "admin", hostKey: "ssh-ed25519 AAAAscanned" });
                assert.deepStrictEqual(spawned.filter((c) => c.startsWith("ssh-keyscan")), []);
            } finally {
                cp.spawnSync = real;
            }
        });

        it("names each bad machine field", () => {
            assert.throws(() => new SshSite("s-bad", { id: "Lab 1", nodes: [{ name: "pc1", address: "192.0.2.300", privateKey: "K", hostKey: "not a key" }] }),
                (e: Error) => /id: must be 1 to 20 lower-case letters/.test(e.message) && /nodes\[0\]\.address: '192\.0\.2\.300'/.test(e.message) &&
                    /nodes\[0\]\.hostKey: must be a public key line/.test(e.message));
        });
    });

    describe("LocalSite", () => {
        it("gives each node a loopback port and the args of its Host", async () => {
            const site = new LocalSite("l-site", {
                id: "t1", basePort: 23000,
                nodes: [{ name: "pc1", addresses: ["10.5.0.1/24"] }, { name: "nfs", role: "nfs", addresses: ["10.5.0.3/24"] }],
            });
            const args = site.hostArgs("nfs");
            assert.strictEqual(args.address, "10.5.0.3");
            assert.strictEqual(args.role, "nfs");
            assert.strictEqual(args.peerKeyPath, "/var/lib/miglab/t1/ssh/id_ed25519");
            assert.strictEqual((site.connections.nfs as any).port, 23001);
            const up = (await find("l-site-namespaces")).inputs.create;
            assert.strictEqual(varOf(up, "NODES"), "pc1 host 23000 - a:10.5.0.1/24\nnfs nfs 23001 - a:10.5.0.3/24");
            assert.strictEqual(varOf(up, "LAB_ID"), "t1");
            assert.throws(() => site.hostArgs("pc9"), /LocalSite: 'pc9' is not one of its nodes \(pc1, nfs\)/);
            assert.strictEqual(site.nodeDir("nfs"), "/var/lib/miglab/t1/nodes/nfs");
            assert.deepStrictEqual(site.guestBridge, { kind: "bridge", bridge: "br-lab" });
            assert.throws(() => new LocalSite("l-bad", { id: "Too-Long-Id", nodes: [] }),
                (e: Error) => /id: 'Too-Long-Id' must be 1 to 6 lowercase letters or digits/.test(e.message) && /nodes: must list the site's nodes/.test(e.message));
        });
    });
});
