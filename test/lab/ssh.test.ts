// site: ssh end to end, on machines that look like fresh Debian hosts (test/sshbed):
// miglab reaches them only through their sshd, as it would a team's own PCs. One bed
// is shared by every case: the same-subnet lab as root, a changed host key, the
// default passphrase refused, the lab again as a non-root user with sudo, and the nat
// and bridged labs over the bed's routed network (the machines' second NIC, subnets
// joined by a router that is the "team's", not miglab's, and an outside node beyond it).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseLabConfig } from "../../components/model/config";
import { planLab } from "../../components/model/plan";
import { LegMetrics } from "../../components/reports/metrics";
import { LabStack } from "../../scripts/lab-stack";
import { ROOT, Run, sh, testPrefix } from "../support";
import { SshBed } from "../sshbed/bed";
import { sharedSteps } from "../labFixture";

const yaml = require("js-yaml");

function hash(s: string): number { let h = 7; for (const c of s) { h = (h * 31 + c.charCodeAt(0)) >>> 0; } return h; }

describe("site: ssh on a bed of fresh Debian machines", function () {
    this.timeout(40 * 60 * 1000);
    const prefix = testPrefix();
    const subnet = "10.66.0";
    // The routed network: pc1 and the NFS server in 10.66.1.0/29, pc2 in 10.66.1.8/29, the
    // outside node beyond the router, and the route the team gives its router to the overlay.
    const routed = { pc1: "10.66.1.2", nfs: "10.66.1.3", pc2: "10.66.1.10" } as Record<string, string>;
    const outsideAddress = "10.66.2.2";
    const overlay = { subnet: "10.66.3.0/24", gateway: "10.66.3.1", gatewayHost: "pc1" };
    const bed = new SshBed(`sb${hash(prefix) % 1000}`, [
        { name: "pc1", role: "host", address: `${subnet}.11`, prefix: 24, routed: { address: routed.pc1, prefix: 29 } },
        { name: "pc2", role: "host", address: `${subnet}.12`, prefix: 24, routed: { address: routed.pc2, prefix: 29 } },
        { name: "nfs", role: "nfs", address: `${subnet}.10`, prefix: 24, routed: { address: routed.nfs, prefix: 29 } },
    ], 31000 + (hash(prefix) % 500) * 4, "miglabop", {
        router: ["10.66.1.1/29", "10.66.1.9/29"],
        outside: { router: "10.66.2.1/24", address: `${outsideAddress}/24` },
        routes: [{ dest: overlay.subnet, via: routed.pc1 }],
    });
    const passphrase = `test-${process.pid}-${Date.now()}`;
    const initial: Record<string, string> = {};
    const stacks: LabStack[] = [];
    /** Everything pulumi printed, searched for private keys by the last test. */
    const outputs: string[] = [];

    /**
     * A site-ssh stack from docs/ssh-site.md's example, pointed at the bed, keys set as secrets. nat and
     * bridged labs use the machines' routed addresses, and the outside node the team's network has.
     */
    function sshStack(name: string, user: string, guestHost: number, pass = passphrase, topology = "same-subnet", outside = outsideAddress,
        edit: (lab: any) => void = () => undefined): LabStack {
        const s = new LabStack(name, "same-subnet", { PULUMI_CONFIG_PASSPHRASE: pass });
        stacks.push(s);
        const doc = yaml.load(fs.readFileSync(path.join(ROOT, "docs", "ssh-stack.yaml"), "utf8"));
        const lab = doc.config["miglab:lab"];
        const flat = topology === "same-subnet";
        const node = (n: string) => ({
            name: n, address: flat ? bed.machine(n).address : routed[n], prefix: flat ? 24 : 29,
            ssh: { host: "127.0.0.1", port: bed.machine(n).port, user },
        });
        lab.hosts = [node("pc1"), node("pc2")];
        lab.nfs.host = node("nfs");
        // The bed's kernel has no NFS: nfs-ganesha serves the export, and the hosts see it at
        // pool.path the way an fstab mount would show it (the bed binds one directory at both).
        lab.nfs.export = `/srv/miglab/${s.name}`;
        lab.nfs.server = "ganesha";
        lab.pool = { name: "miglab", path: `/mnt/miglab/${s.name}`, type: "dir" };
        // Each lab's guest at an address of its own: a new guest's new MAC at an old address waits out ARP caches.
        lab.guests[0].address = `${subnet}.${guestHost}`;
        lab.guests[0].memoryMiB = 192;
        if (!flat) {
            lab.topology = topology;
            lab.outside = { address: outside };
            if (topology === "nat") { lab.guests[0].address = `192.168.150.${guestHost}`; }
            if (topology === "bridged") { lab.overlay = overlay; lab.guests[0].address = `10.66.3.${guestHost}`; }
            lab.migration.guestPingIntervalMs = 50;
        }
        edit(lab);
        fs.writeFileSync(s.file, yaml.dump(doc));
        s.init();
        const key = fs.readFileSync(bed.clientKey, "utf8");
        for (const at of ["hosts[0]", "hosts[1]", "nfs.host"]) {
            const r = spawnSync("pulumi", ["config", "set", "--path", "--secret", `miglab:lab.${at}.ssh.privateKey`, "--stack", s.name, "--non-interactive"],
                { cwd: ROOT, env: s.env, input: key, encoding: "utf8" });
            assert.strictEqual(r.status, 0, r.stderr);
        }
        for (const n of [...lab.hosts, lab.nfs.host]) { n.ssh.privateKey = key; }
        s.plan = planLab(parseLabConfig(lab), s.name);
        return s;
    }
    const record = (r: Run) => { outputs.push(r.stdout, r.stderr); return r; };
    const legsOf = (s: LabStack): LegMetrics[] => s.outputs().legs;
    const virsh = (m: string, cmd: string) => bed.inMachine(m, `virsh -c qemu:///system ${cmd}`).stdout.trim();
    const sshLog = (m: string) => bed.inMachine(m, "cat /run/sshd.log").stdout;

    before(() => {
        bed.down();   // a bed left by an interrupted run
        bed.up();
        for (const m of bed.machines) { initial[m.name] = bed.snapshot(m.name); }
    });
    after(() => {
        for (const s of stacks) { try { s.remove(); } catch (e) { console.error(e); } }
        bed.down();
    });

    it("refuses the local lab's default passphrase before any connection", () => {
        const s = sshStack("ci-ssh-pass", "root", 20, "miglab-local");
        const logs = bed.machines.map((m) => sshLog(m.name));
        const r = record(s.pulumi(["preview"]));
        assert.notStrictEqual(r.code, 0);
        assert.match(r.stdout + r.stderr, /site 'ssh' keeps your hosts' SSH private keys in this stack, and PULUMI_CONFIG_PASSPHRASE is the local lab's default \('miglab-local'\).*Set PULUMI_CONFIG_PASSPHRASE/s);
        bed.machines.forEach((m, i) => assert.strictEqual(sshLog(m.name), logs[i], `${m.name} was contacted`));
    });

    const steps = sharedSteps();
    /**
     * The same-subnet lab as root, over TLS, built by the first test that needs it: the stack, its
     * legs, and the lab's private key as pc1 held it then (the last test looks for it everywhere).
     */
    const rootLab = steps.step("the same-subnet lab as root", () => {
        const root = sshStack("ci-ssh", "root", 21, passphrase, "same-subnet", outsideAddress, (lab) => { lab.migration.tls = true; });
        const r = record(root.up());
        assert.strictEqual(r.code, 0, r.stdout.slice(-6000) + r.stderr);
        return { root, legs: legsOf(root), labKey: bed.inMachine("pc1", `cat ${root.plan.labKey}`).stdout };
    });

    it("builds the same-subnet lab as root over SSH only, and migrates there and back over TLS", () => {
        const { legs } = rootLab();
        assert.deepStrictEqual(legs.map((l) => `${l.from}->${l.to}`), ["pc1->pc2", "pc2->pc1"]);
        for (const l of legs) {
            const at = JSON.stringify(l);
            assert.strictEqual(l.destinationState, "running", at);
            assert.ok(l.downtimeMs > 0 && l.downtimeMs < l.totalTimeMs, at);
            assert.ok(l.dataProcessedBytes > 1 << 20, at);
            assert.ok(l.probe && l.probe.sent > 50 && l.probe.received > 0, at);
            assert.ok(l.plainMBs > 1, at);
            assert.ok(l.counterAfter > l.counterBefore, `the guest's counter did not advance: ${at}`);
        }
        assert.strictEqual(virsh("pc1", "domstate vm1"), "running");
        assert.doesNotMatch(virsh("pc2", "list --all --name"), /vm1/);
        // Only SSH reached the machines: every command arrived through their sshd.
        for (const m of bed.machines) { assert.match(sshLog(m.name), /Accepted publickey for root/, m.name); }
    });

    it("made the TLS legs' CA on pc1 and each host's key on the host, certificates where libvirt looks, no key in the state", () => {
        const { root } = rootLab();
        const state = root.pulumi(["stack", "export", "--show-secrets"]).stdout;
        const ca = `${root.plan.tls!.caDir}/ca-key.pem`;
        assert.strictEqual(bed.inMachine("pc1", `test -s ${ca}`).code, 0, `no CA key at ${ca} on pc1`);
        assert.notStrictEqual(bed.inMachine("pc2", `test -e ${ca}`).code, 0, "pc2 holds the CA's key");
        for (const h of root.plan.hosts) {
            // libvirt's default on a fresh Debian host (no migrate_tls_x509_cert_dir): /etc/pki/qemu.
            const v = bed.inMachine(h.name, `openssl verify -CAfile /etc/pki/qemu/ca-cert.pem -purpose sslserver -verify_ip ${h.address} /etc/pki/qemu/server-cert.pem`);
            assert.strictEqual(v.code, 0, `${h.name}: ${v.stdout}${v.stderr}`);
            const key = bed.inMachine(h.name, "sed -n '2p' /etc/pki/qemu/server-key.pem").stdout.trim();
            assert.ok(key.length > 40 && !state.includes(key), `${h.name}'s key is in the stack's state`);
        }
        const caKey = bed.inMachine("pc1", `sed -n '2p' ${ca}`).stdout.trim();
        assert.ok(caKey.length > 40 && !state.includes(caKey), "the CA's key is in the stack's state");
    });

    it("records each host key in the stack, and the hosts check each other's against it", () => {
        const { root, labKey } = rootLab();
        assert.match(labKey, /BEGIN OPENSSH PRIVATE KEY/);
        const known = bed.inMachine("pc1", `cat ${root.plan.hostSsh.knownHosts}`).stdout;
        for (const m of bed.machines) { assert.ok(known.includes(`${m.address} ${bed.hostKey(m.name)}`), `${m.name} not in ${known}`); }
        // root on pc1 reaches pc2 with the lab key, checking pc2's recorded key (no -o options).
        assert.strictEqual(bed.inMachine("pc1", `ssh -n -o BatchMode=yes root@${bed.machine("pc2").address} hostname`).stdout.trim(), "pc2");
        const exported = JSON.parse(root.pulumi(["stack", "export"]).stdout);
        const state = JSON.stringify(exported);
        for (const m of bed.machines) { assert.ok(state.includes(bed.hostKey(m.name).split(" ")[1]), `${m.name}'s host key is not in the state`); }
        // Each machine's key is checked by a resource of its own (at every preview and up), holding the key it found.
        const checks = (exported.deployment.resources ?? []).filter((x: { type: string }) => /HostKeyCheck$/.test(x.type));
        for (const m of bed.machines) {
            const c = checks.find((x: { urn: string }) => x.urn.endsWith(`::lab-site-${m.name}-hostkey-check`));
            assert.ok(c, `no HostKeyCheck for ${m.name}: ${checks.map((x: { urn: string }) => x.urn).join(", ")}`);
            assert.strictEqual(c.outputs.hostKey, bed.hostKey(m.name).split(" ").slice(0, 2).join(" "), m.name);
        }
    });

    it("pulumi refresh reads every drift watch back as declared over SSH: the guest answering, the export in nfs-ganesha", () => {
        const { root } = rootLab();
        const r = record(root.pulumi(["refresh", "--yes", "--skip-preview"]));
        assert.strictEqual(r.code, 0, r.stdout.slice(-4000) + r.stderr);
        const watches = (JSON.parse(root.pulumi(["stack", "export"]).stdout).deployment.resources ?? [])
            .filter((x: any) => /DriftWatch/.test(x.type));
        assert.deepStrictEqual(watches.map((w: any) => w.urn.split("::").pop()).sort(), ["lab-nfs-drift", "lab-vm1-drift"]);
        for (const w of watches) {
            assert.strictEqual(w.outputs.drifted, false, `${w.urn}: ${w.outputs.found}`);
            assert.match(w.outputs.found, /as declared/, w.urn);
            assert.doesNotMatch(w.outputs.found, /unreachable|not running|not registered|missing|no marker/, w.urn);
        }
    });

    it("a host whose key changed stops the next pulumi up, named, with nothing changed", () => {
        const { root } = rootLab();
        // The host keys change on purpose, and the running guest keeps writing its counter to its disk.
        const still = (m: string) => bed.snapshot(m).replace(/^etc\/ssh\/ssh_host.*\n/mg, "").replace(/^(\S+\.qcow2) .*$/mg, "$1");
        const snaps = bed.machines.map((m) => still(m.name));
        const restore = bed.rekey("pc2");
        try {
            const r = record(root.up());
            assert.notStrictEqual(r.code, 0);
            assert.match(r.stdout + r.stderr, /host pc2 \(127\.0\.0\.1:\d+\): its SSH host key changed/);
            assert.doesNotMatch(r.stdout + r.stderr, /host pc1 .*host key changed/);
            bed.machines.forEach((m, i) => assert.strictEqual(still(m.name), snaps[i], m.name));
            // The hosts' own traffic refuses the impostor too.
            const hop = bed.inMachine("pc1", `ssh -n -o BatchMode=yes root@${bed.machine("pc2").address} true`);
            assert.notStrictEqual(hop.code, 0);
            assert.match(hop.stderr, /HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
        } finally {
            restore();
        }
    });

    it("pulumi destroy returns the machines to how they were", () => {
        const { root } = rootLab();
        const r = record(root.pulumi(["destroy", "--yes", "--skip-preview"]));
        assert.strictEqual(r.code, 0, r.stdout.slice(-4000) + r.stderr);
        for (const m of bed.machines) { assert.strictEqual(bed.snapshot(m.name), initial[m.name], `${m.name} is not as it was`); }
    });

    it("a non-root user with passwordless sudo builds the lab and migrates", () => {
        const s = sshStack("ci-ssh-sudo", bed.sudoUser, 22);
        const r = record(s.up());
        assert.strictEqual(r.code, 0, r.stdout.slice(-6000) + r.stderr);
        const l = legsOf(s);
        assert.strictEqual(l.length, 2);
        for (const leg of l) {
            assert.strictEqual(leg.destinationState, "running", JSON.stringify(leg));
            assert.ok(leg.counterAfter > leg.counterBefore, `the guest's counter did not advance: ${JSON.stringify(leg)}`);
        }
        for (const m of bed.machines) { assert.match(sshLog(m.name), new RegExp(`Accepted publickey for ${bed.sudoUser}`), m.name); }
        const d = record(s.pulumi(["destroy", "--yes", "--skip-preview"]));
        assert.strictEqual(d.code, 0, d.stdout.slice(-4000) + d.stderr);
        for (const m of bed.machines) { assert.strictEqual(bed.snapshot(m.name), initial[m.name], `${m.name} is not as it was`); }
    });

    it("the CPU check, storage: copy and post-copy's recovery over SSH, no NFS: a CPU no machine runs stops the first up, named; the disk moves with the guest, a 5 s cut of the stream after the switch is resumed, the disk intact", async () => {
        // The guest's disk in each machine's own pool, its memory moved by post-copy. At 16 MiB/s the
        // 64 MiB disk crosses first (4 s), then 4 s of the idle guest's ~86 MB before the switch; the
        // rest, ~20 MB with the push throttled to a trickle ('demand'), gives a post-copy phase of
        // about 20 s in which to cut pc2's link from pc1 for 5 s (at 8 MiB/s it was 60 s: the disk
        // took the 8 s before the switch).
        const s = sshStack("ci-ssh-copy", "root", 25, passphrase, "same-subnet", outsideAddress, (lab) => {
            // No NFS at all: no export, so no NFS server and no shared pool; the NFS machine is the probe.
            delete lab.nfs.export; delete lab.nfs.server; delete lab.pool;
            lab.guests[0].storage = "copy";
            Object.assign(lab.migration, { mode: "postcopy", postcopyVariant: "demand", postcopySwitch: "after-seconds",
                postcopyAfterSeconds: 8, bandwidthMiBs: 16, maxDowntimeMs: 300, timeoutSeconds: 120 });
        });
        // The CPU check asks the machines over SSH before any guest is defined (a lab not built yet is
        // checked during its first up, once its machines answer). A model neither runs under TCG stops
        // it, naming both and a CPU they run; the guest then takes that one and the next up goes on.
        const setCpu = (cpu: string) => assert.strictEqual(s.pulumi(["config", "set", "--path", "miglab:lab.guests[0].cpu", cpu]).code, 0);
        setCpu("Skylake-Server");
        const bad = record(s.up());
        assert.notStrictEqual(bad.code, 0, bad.stdout.slice(-3000));
        const said = /guest vm1: cpu 'Skylake-Server' does not run on pc1 \(missing: [^)]*avx512f[^)]*\), pc2 \(missing: [^)]*avx512f[^)]*\); a CPU all of pc1, pc2 run: '([^']+)'/.exec(bad.stdout + bad.stderr);
        assert.ok(said, (bad.stdout + bad.stderr).slice(-3000));
        for (const m of ["pc1", "pc2"]) { assert.strictEqual(virsh(m, "list --all --name"), "", `${m} got a guest before its CPU was checked`); }
        setCpu(said[1]);
        const pc1 = bed.machine("pc1").address;
        const cut = [`-s ${pc1} -m comment --comment miglab-fault -j DROP`,
            `-p tcp -s ${pc1} --dport 49152:49215 -m comment --comment miglab-fault -j REJECT --reject-with tcp-reset`];
        const cutSeconds = 5;
        let timer: NodeJS.Timeout | undefined;
        let cutting = false;
        const restore = () => { if (cutting) { cutting = false; bed.inMachine("pc2", cut.map((r) => `iptables -D INPUT ${r}`).join("; ")); } };
        let up: { run: Run; seen: boolean };
        try {
            // Only the first leg's post-copy (pc1's QEMU) is cut, 1.5 s after pc1 shows it, well inside
            // its ~20 s. One run cut at once was not resumed: pc2's QEMU answered every try "Migrate
            // recover can only be run when postcopy is paused" (not looked into: perhaps pc2 had not yet
            // entered post-copy). The leg back runs as it comes.
            up = await s.upWhile([], () => /post-copy\)/.test(virsh("pc1", "domstate vm1 --reason")), () => {
                timer = setTimeout(() => {
                    cutting = true;
                    bed.inMachine("pc2", cut.map((r) => `iptables -I INPUT 1 ${r}`).join("; "));
                    timer = setTimeout(restore, cutSeconds * 1000);
                }, 1500);
            });
        } finally {
            if (timer) { clearTimeout(timer); }
            restore();
        }
        record(up.run);
        assert.ok(up.seen, `no post-copy phase was seen on pc1:\n${up.run.stdout.slice(-4000)}`);
        assert.strictEqual(up.run.code, 0, up.run.stdout.slice(-6000) + up.run.stderr);
        assert.doesNotMatch(bed.inMachine("pc2", "iptables -S INPUT").stdout, /miglab-fault/);
        const l = legsOf(s);
        assert.deepStrictEqual(l.map((x) => `${x.from}->${x.to}`), ["pc1->pc2", "pc2->pc1"]);
        for (const leg of l) {
            const at = JSON.stringify(leg);
            assert.strictEqual(leg.destinationState, "running", at);
            assert.ok(leg.counterAfter > leg.counterBefore, `the guest's counter did not advance: ${at}`);
            // The disk crossed with the memory and the leg found it intact on the destination.
            assert.ok(leg.disk && leg.disk.bytes > 0 && leg.disk.intact === true, at);
        }
        // The cut held the resume off for its 5 s (less the moments until the leg saw the break).
        const rec = l[0].postcopy?.recovery;
        assert.ok(rec && rec.pausedMs >= (cutSeconds - 2) * 1000 && rec.tries >= 1 && rec.resumedMs > 0, JSON.stringify(l[0].postcopy));
        console.log(`      over SSH: recovery paused ${rec.pausedMs} ms, resumed transfer ${rec.resumedMs} ms, ${rec.tries} tries; ` +
            `disk ${l.map((x) => `${x.disk!.bytes} B`).join(" / ")}`);
        // Home again, running, its disk on pc1 alone.
        assert.strictEqual(virsh("pc1", "domstate vm1"), "running");
        assert.doesNotMatch(virsh("pc2", "list --all --name"), /vm1/);
        // Nothing of the lab on the NFS machine's server, no shared pool on the hosts: each its own.
        assert.notStrictEqual(bed.inMachine("nfs", `test -e /srv/miglab/${s.name}`).code, 0, "an export was made");
        const pools = virsh("pc1", "pool-list --all --name").split("\n").map((x) => x.trim());
        assert.ok(pools.includes(`local-${s.plan.labId}`) && !pools.includes("miglab"), `pc1's pools: ${pools.join(" ")}`);
        const disk = `/var/lib/libvirt/images/miglab-${s.plan.labId}/vm1.qcow2`;
        assert.strictEqual(bed.inMachine("pc1", `test -f ${disk}`).code, 0, `no ${disk} on pc1`);
        assert.notStrictEqual(bed.inMachine("pc2", `test -e ${disk}`).code, 0, `${disk} left on pc2`);
        const d = record(s.pulumi(["destroy", "--yes", "--skip-preview"]));
        assert.strictEqual(d.code, 0, d.stdout.slice(-4000) + d.stderr);
        for (const m of bed.machines) { assert.strictEqual(bed.snapshot(m.name), initial[m.name], `${m.name} is not as it was`); }
    });

    /** Bytes the team's router sent and received on its link to pc2's subnet. */
    const routerBytes = () => {
        const s = JSON.parse(bed.inRouter("ip -j -s link show r2").stdout)[0].stats64;
        return { tx: Number(s.tx.bytes), rx: Number(s.rx.bytes) };
    };

    /** A first `pulumi up` that a team's network stops: what it must say, and how the team fixes it. */
    interface FirstFailure { outside?: string; before?: () => void; expect: RegExp; fix: (s: LabStack) => void }

    /**
     * Builds a routed lab over the team's router, migrates there and back, checks it, and destroys
     * it. With `first`, a first up meets a network that lacks something: it must stop naming what,
     * with no guest defined on any host; once fixed, the next up goes on from there.
     */
    function routedLab(topology: "nat" | "bridged", guestHost: number, check: (legs: LegMetrics[]) => void, first?: FirstFailure) {
        const s = sshStack(`ci-ssh-${topology}`, "root", guestHost, passphrase, topology, first?.outside ?? outsideAddress);
        if (first) {
            first.before?.();
            const bad = record(s.up());
            assert.notStrictEqual(bad.code, 0);
            assert.match(bad.stdout + bad.stderr, first.expect);
            for (const m of ["pc1", "pc2"]) { assert.strictEqual(virsh(m, "list --all --name"), "", `${m} got a guest`); }
            first.fix(s);
        }
        const before = routerBytes();
        const r = record(s.up());
        assert.strictEqual(r.code, 0, r.stdout.slice(-6000) + r.stderr);
        const l = legsOf(s);
        assert.deepStrictEqual(l.map((x) => `${x.from}->${x.to}`), ["pc1->pc2", "pc2->pc1"]);
        for (const leg of l) {
            const at = JSON.stringify(leg);
            assert.strictEqual(leg.destinationState, "running", at);
            assert.ok(leg.downtimeMs > 0 && leg.downtimeMs < leg.totalTimeMs, at);
            assert.ok(leg.counterAfter > leg.counterBefore, `the guest's counter did not advance: ${at}`);
            // The guest reached the outside node beyond the team's router while it moved.
            assert.ok(leg.guestPing && leg.guestPing.sent > 10 && leg.guestPing.received > 0, at);
        }
        // Both legs crossed the team's router: the migration streams (and the plain transfers) went
        // through its link to pc2's subnet, out and back.
        const after = routerBytes();
        assert.ok(after.tx - before.tx > l[0].dataProcessedBytes, `router sent ${after.tx - before.tx} B to pc2's subnet; leg out moved ${l[0].dataProcessedBytes} B`);
        assert.ok(after.rx - before.rx > l[1].dataProcessedBytes, `router got ${after.rx - before.rx} B from pc2's subnet; leg back moved ${l[1].dataProcessedBytes} B`);
        assert.strictEqual(virsh("pc1", "domstate vm1"), "running");
        assert.doesNotMatch(virsh("pc2", "list --all --name"), /vm1/);
        for (const x of l) {
            console.log(`      ${topology} ${x.from}->${x.to}: ${x.totalTimeMs} ms, downtime ${x.downtimeMs} ms, ` +
                `guest pings lost ${x.guestPing!.lost}/${x.guestPing!.sent}` + (x.probe ? `, probe lost ${x.probe.lost}/${x.probe.sent}` : "") +
                `, ${x.throughputMBs} MB/s (plain ${x.plainMBs}, ratio ${x.ratio})`);
        }
        check(l);
        const d = record(s.pulumi(["destroy", "--yes", "--skip-preview"]));
        assert.strictEqual(d.code, 0, d.stdout.slice(-4000) + d.stderr);
        for (const m of bed.machines) { assert.strictEqual(bed.snapshot(m.name), initial[m.name], `${m.name} is not as it was`); }
    }

    it("nat over the team's router: an outside address that does not answer stops the up, named; fixed, it builds, migrates there and back with the guest pinging the outside, and destroys", () => {
        routedLab("nat", 23, (l) => {
            for (const leg of l) { assert.strictEqual(leg.probe, null, "no third node reaches a guest behind NAT"); }
            assert.strictEqual(virsh("pc2", "net-info miglab-nat | awk '/^Active:/ {print $2}'"), "yes");
        }, {
            // The host check stops it before any host gets the NAT network.
            outside: "10.66.2.99", expect: /host pc[12]: 10\.66\.2\.99 does not answer its pings: outside\.address: /,
            fix: (s) => {
                for (const m of ["pc1", "pc2"]) { assert.strictEqual(virsh(m, "net-list --all --name | grep miglab || true"), "", m); }
                const set = s.pulumi(["config", "set", "--path", "miglab:lab.outside.address", outsideAddress]);
                assert.strictEqual(set.code, 0, set.stderr);
            },
        });
    });

    it("bridged over the team's router: a router without the overlay's route stops the up, named; with it, VXLAN between the hosts, the probe reaching the guest through the overlay gateway", () => {
        routedLab("bridged", 24, (l) => {
            for (const leg of l) {
                assert.ok(leg.probe && leg.probe.sent > 50 && leg.probe.received > 0, JSON.stringify(leg));
            }
            // Each host's lab address moved onto br-phy with its route through the team's router.
            for (const m of ["pc1", "pc2"]) {
                const a = bed.inMachine(m, "ip -o -4 addr show dev br-phy; ip route show default").stdout;
                assert.match(a, new RegExp(`inet ${routed[m].replace(/\./g, "\\.")}/29`), `${m}: ${a}`);
                assert.match(a, /default via 10\.66\.1\.(1|9) dev br-phy/, `${m}: ${a}`);
            }
            // The overlay's frames crossed between the hosts in the tunnel (replies reaching pc1, the
            // overlay gateway, while the guest was on pc2).
            const tx = Number(bed.inMachine("pc1", "ovs-vsctl get interface tun-pc2 statistics:tx_packets").stdout.trim());
            assert.ok(tx > 0, `pc1's tunnel to pc2 sent ${tx} packets`);
        }, {
            // A router not told where the overlay is: found once the overlay is up, before any guest.
            before: () => assert.strictEqual(bed.inRouter(`ip route del ${overlay.subnet}`).code, 0),
            expect: new RegExp(`host nfs: 10\\.66\\.3\\.1 does not answer its pings: overlay\\.subnet: your router must route 10\\.66\\.3\\.0/24 via pc1 \\(${routed.pc1.replace(/\./g, "\\.")}\\)`),
            fix: () => assert.strictEqual(bed.inRouter(`ip route replace ${overlay.subnet} via ${routed.pc1}`).code, 0),
        });
    });

    it("no private key appears in any output, log or file outside the state", () => {
        // The lab's key (its lab built, if no test before needed it) and every output so far.
        const labPrivateKey = rootLab().labKey;
        assert.ok(labPrivateKey, "no lab key was seen");
        // A line from the middle of each key: long, and nothing else contains it.
        const lines = (k: string) => k.split("\n").filter((x) => /^[A-Za-z0-9+/=]{60,}$/.test(x)).slice(1, 2);
        const needles = [...lines(fs.readFileSync(bed.clientKey, "utf8")), ...lines(labPrivateKey)];
        assert.strictEqual(needles.length, 2);
        needles.forEach((n, which) => {
            const key = ["the operator's key", "the lab key"][which];
            for (const o of outputs) {
                const at = o.indexOf(n);
                assert.ok(at < 0, `${key} is in pulumi's output, after: ${o.slice(Math.max(0, at - 300), at)}`);
            }
            for (const s of stacks) {
                assert.ok(!fs.readFileSync(s.file, "utf8").includes(n), `a private key is in plain text in ${s.file}`);
                assert.ok(!s.pulumi(["stack", "output", "--json"]).stdout.includes(n), "a private key is in the outputs");
            }
            // Files: the checkout, temp files, Pulumi's home (logs, plugins), every machine; not the bed's own client key.
            const where = [ROOT, "/tmp", "/dev/shm", process.env.PULUMI_HOME ?? "", bed.state].filter(Boolean);
            const g = sh(`grep -rlF -- ${JSON.stringify(n)} ${where.map((w) => JSON.stringify(w)).join(" ")} 2>/dev/null | ` +
                `grep -v -e '^${bed.state}/client/' -e '/node_modules/' || true`);
            assert.strictEqual(g.stdout.trim(), "", `${key} is in: ${g.stdout}`);
        });
    });
});
