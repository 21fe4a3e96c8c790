// A lab without an NFS export (nfs.export omitted): the plan, the rules that refuse what needs an
// export, what the Lab declares under the mocks (no NFS server, boot files built on every host),
// and how a local disk changes shape when a guest switches between copy and copy-incremental.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseLabConfig } from "../../components/model/config";
import { planLab } from "../../components/model/plan";
import * as r from "../../components/render";
import { guestImageSpecOf } from "../../components/render/specs";
import { labGraph } from "../../components/reports/labGraph";
import { readStackConfig } from "../../scripts/stack-config";
import { ROOT } from "../support";
import { refusals, sampleLab } from "./config.test";
import { declared as all, outputOf, varOf } from "./mocks";

/** The shipped stack `name`'s lab value, as written. */
function stackLab(name: string): any {
    const yaml = require("js-yaml");
    return JSON.parse(JSON.stringify(yaml.load(fs.readFileSync(path.join(ROOT, "stacks", `Pulumi.${name}.yaml`), "utf8")).config["miglab:lab"]));
}

/** `c` made a lab without an export: no export, no pool, every guest a built-in copy guest. */
function withoutExport(c: any): any {
    delete c.nfs.export;
    delete c.pool;
    for (const g of c.guests) { g.storage = "copy"; }
    return c;
}

describe("a lab without an NFS export: the plan", () => {
    for (const topology of ["same-subnet", "nat", "bridged"]) {
        it(`${topology}: has no export, shared pool or NFS server; each host boots the guest from its own pool; the probe and router are the same node as with an export`, () => {
            const withNfs = planLab(parseLabConfig(stackLab(topology)), "unit-nonfs");
            const plan = planLab(parseLabConfig(withoutExport(stackLab(topology))), "unit-nonfs");
            assert.strictEqual(plan.export, undefined);
            assert.strictEqual(plan.pool, undefined);
            assert.strictEqual(plan.nfsServer, undefined);
            assert.deepStrictEqual(plan.allowedNetworks, []);
            const local = `/var/lib/libvirt/images/miglab-${plan.labId}`;
            assert.deepStrictEqual(plan.localPool, { name: `local-${plan.labId}`, target: local });
            assert.deepStrictEqual(plan.boot, { dir: local, perHost: true });
            for (const g of plan.guests) {
                assert.strictEqual(g.kernel, `${local}/miglab-tiny-vmlinuz`);
                assert.strictEqual(g.initrd, `${local}/miglab-tiny-initrd.img`);
                assert.strictEqual(g.exportDisk, undefined);
                assert.deepStrictEqual(g.local, { storage: "copy", path: `${local}/${g.name}.qcow2`, make: { empty: g.image.diskMiB } });
            }
            // The third node keeps its every other part: its links, the probe, the routing.
            assert.deepStrictEqual(plan.nodes, withNfs.nodes);
            assert.deepStrictEqual(plan.probe, withNfs.probe);
            assert.deepStrictEqual([plan.forward, plan.routes, plan.capture], [withNfs.forward, withNfs.routes, withNfs.capture]);
            assert.deepStrictEqual(plan.legs.map((l) => l.probe), withNfs.legs.map((l) => l.probe));
            // With an export, the boot files stay in the shared pool.
            assert.deepStrictEqual(withNfs.boot, { dir: withNfs.pool!.target, perHost: false });
            assert.strictEqual(withNfs.guests[0].kernel, `${withNfs.pool!.target}/miglab-tiny-vmlinuz`);
        });
    }

    it("is what the shipped local-disks stack is", () => {
        const plan = planLab(readStackConfig(ROOT, "local-disks"), "local-disks");
        assert.strictEqual(plan.export, undefined);
        assert.strictEqual(plan.pool, undefined);
        assert.ok(plan.boot.perHost);
    });
});

describe("a lab without an NFS export: the rules", () => {
    const none = "this lab has no NFS export (nfs.export is not set)";
    const refused = (edit: (c: any) => void) => { const c = withoutExport(sampleLab()); edit(c); return refusals(c); };

    it("refuses a shared guest (the default storage), naming the field and both fixes", () => {
        assert.deepStrictEqual(refused((c) => { delete c.guests[0].storage; }), [`guests[0].storage: 'vm1' is storage shared (the default), whose disk is on the NFS export, and ${none}; ` +
            "set storage: copy (its disk in a pool of each host's own, moved with the guest), or set nfs.export"]);
    });

    it("refuses a copy-incremental guest, whose backing image is on the export", () => {
        assert.deepStrictEqual(refused((c) => { c.guests[0].storage = "copy-incremental"; }), [`guests[0].storage: copy-incremental keeps 'vm1's backing image on the NFS export, which every host reads, and ${none}; ` +
            "set storage: copy (the whole disk moves), or set nfs.export"]);
    });

    it("refuses a guest's own qcow2, a file on the export", () => {
        assert.deepStrictEqual(refused((c) => { c.guests[0].image = { qcow2: "deb.qcow2" }; }), [`guests[0].image.qcow2: deb.qcow2 is a file on the NFS export, and ${none}; ` +
            "use the built-in image (image: { builtin: tiny }), or set nfs.export and put the file there"]);
    });

    it("refuses the fields that describe the export: pool, nfs.allowedNetworks, nfs.server", () => {
        assert.deepStrictEqual(refused((c) => { c.pool = { name: "miglab", path: "/var/lib/miglab/pool" }; }),
            [`pool: is the shared pool over the NFS export, and ${none}; remove pool, or set nfs.export`]);
        assert.deepStrictEqual(refused((c) => { c.nfs.allowedNetworks = ["10.10.10.0/24"]; }),
            [`nfs.allowedNetworks: says who may mount the NFS export, and ${none}; remove allowedNetworks, or set nfs.export`]);
        const ssh = refused((c) => { c.nfs.server = "kernel"; });
        assert.ok(ssh.includes(`nfs.server: chooses the NFS server that serves the export, and ${none}; remove server, or set nfs.export`), ssh.join("\n"));
    });

    it("still needs a pool with an export", () => {
        const c = sampleLab();
        delete c.pool;
        assert.deepStrictEqual(refusals(c), ["pool: required with nfs.export (the pool every host sees the export's files through); " +
            "add pool: { name: miglab, path: /var/lib/miglab/pool }, or remove nfs.export for a lab without shared storage"]);
    });

    it("keeps every shipped stack with an export as it was", () => {
        for (const s of ["same-subnet", "nat", "bridged"]) {
            const plan = planLab(readStackConfig(ROOT, s), s);
            assert.ok(plan.export && plan.pool && plan.nfsServer === "ganesha" && !plan.boot.perHost, s);
        }
    });
});

describe("a lab without an NFS export: rendering", () => {
    const plan = planLab(parseLabConfig(withoutExport(sampleLab())), "unit-nonfs");

    it("builds the boot files in each host's local pool, with no disk there (the guest's disk is made by its domain)", () => {
        const spec = guestImageSpecOf(plan, plan.guests[0]);
        assert.deepStrictEqual(spec, {
            name: "vm1", export: plan.localPool!.target, marks: ".miglab-boot-made", disk: "", diskMiB: 64, builtin: "tiny",
            kernel: plan.guests[0].kernel, initrd: plan.guests[0].initrd,
        });
        const up = r.guestImageScript(spec, "up");
        assert.strictEqual(varOf(up, "OUT"), plan.localPool!.target);
        assert.strictEqual(varOf(up, "DISK"), "");
        // Not pool.sh's mark of a directory it made (a file .miglab-made in the pool's target).
        assert.strictEqual(varOf(up, "MARKS"), ".miglab-boot-made");
        assert.match(r.poolScript({ name: "p", target: plan.localPool!.target }, "up"), /touch "\$TARGET\/\.miglab-made"/);
        // With an export, the marks stay where labs made before keep them.
        const shared = planLab(parseLabConfig(sampleLab()), "unit-nonfs");
        assert.strictEqual(varOf(r.guestImageScript(guestImageSpecOf(shared, shared.guests[0]), "up"), "MARKS"), ".miglab-made");
    });

    it("draws the third node as the probe, with no export", () => {
        const nfs = labGraph(plan).nodes.find((n) => n.name === "nfs")!;
        assert.deepStrictEqual(nfs.lines, ["probe", "no NFS: local disks"]);
        const routed = planLab(parseLabConfig(withoutExport(stackLab("nat"))), "unit-nonfs");
        assert.deepStrictEqual(labGraph(routed).nodes.find((n) => n.name === routed.nfs.name)!.lines, ["probe, router", "no NFS: local disks"]);
    });
});

describe("a lab without an NFS export: the component graph (mocks)", function () {
    this.timeout(20000);
    const mine = (d: typeof all[0]) => /^nonfs(-|$)/.test(d.name);
    let plan: import("../../components/model/plan").Plan;

    before(async () => {
        const { Lab } = await import("../../components/resources/lab");
        const lab = new Lab("nonfs", { config: parseLabConfig(withoutExport(sampleLab())), stack: "unit-nonfs" });
        plan = lab.plan;
        await outputOf(lab.legs);
    });

    it("declares no NFS server and no shared pool: only each host's local pool", () => {
        const types = all.filter(mine).map((d) => d.type);
        assert.strictEqual(types.filter((t) => t === "miglab:storage:NfsServer").length, 0);
        const pools = all.filter((d) => mine(d) && d.type === "miglab:storage:StoragePool").map((d) => d.name);
        assert.deepStrictEqual(pools, ["nonfs-pc1-local-pool", "nonfs-pc2-local-pool"]);
        assert.ok(!all.some((d) => mine(d) && /-export$/.test(d.name)), "an export command was declared");
    });

    it("builds the boot files on each host, not on the third node, and boots the guest from them", () => {
        const files = all.filter((d) => mine(d) && d.type === "command:remote:Command" && /-image-files/.test(d.name));
        assert.deepStrictEqual(files.map((d) => d.name), ["nonfs-vm1-image-files-pc1", "nonfs-vm1-image-files-pc2"]);
        const port = (n: string) => plan.nodes.find((x) => x.name === n)!.connect.port;
        for (const [d, host] of [[files[0], "pc1"], [files[1], "pc2"]] as const) {
            assert.strictEqual(d.inputs.connection.port, port(host));
            assert.strictEqual(varOf(d.inputs.create, "OUT"), plan.localPool!.target);
            assert.strictEqual(varOf(d.inputs.create, "KERNEL"), plan.guests[0].kernel);
            assert.strictEqual(varOf(d.inputs.create, "MARKS"), ".miglab-boot-made");
            assert.ok(d.inputs.delete, `${d.name} has no delete`);
        }
        const domain = all.find((d) => d.name === "nonfs-vm1-domain")!;
        const xml = varOf(domain.inputs.create, "XML");
        assert.match(xml, new RegExp(`<kernel>${plan.guests[0].kernel}</kernel>`));
        assert.match(xml, new RegExp(`<source file='${plan.guests[0].local!.path}'/>`));
        assert.doesNotMatch(xml, /protocol='nfs'/);
        // The third node runs only its own check: nothing is served from it.
        const onNfs = all.filter((d) => mine(d) && d.type === "command:remote:Command" && d.inputs.connection?.port === port("nfs")).map((d) => d.name);
        assert.deepStrictEqual(onNfs, ["nonfs-nfs-check"]);
    });
});

describe("a local disk whose guest switched between copy and copy-incremental (domain.sh)", () => {
    /** The reshape functions of the rendered domain script, run on files made here with the real qemu-img. */
    const script = r.domainScript({ name: "vm1", xml: "<domain/>", address: "10.0.0.1", counterPort: 7000, keyPath: "/k", peers: [] }, "up");
    const fns = ["want_backing", "disk_backing", "disk_shape_ok", "reshape_disk"].map((f) => {
        // One line, or up to the closing brace alone on its line.
        const m = new RegExp(`^${f}\\(\\) \\{(.*\\}$|[\\s\\S]*?^\\}$)`, "m").exec(script);
        assert.ok(m, `no ${f} in domain.sh`);
        return m[0];
    }).join("\n");
    const run = (dir: string, make: string, body: string) => spawnSync("bash", ["-c", `set -eu\n${fns}\n${body}`],
        // stdin not a socket, or bash takes itself for a remote shell and reads ~/.bashrc.
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH, LOCAL_DISK: `${dir}/vm1.qcow2`, MAKE_DISK: make, GUEST: "vm1" } });
    const img = (...a: string[]) => { const p = spawnSync("qemu-img", a, { encoding: "utf8" }); assert.strictEqual(p.status, 0, p.stderr); return p.stdout; };
    const io = (file: string, cmd: string) => { const p = spawnSync("qemu-io", ["-f", "qcow2", "-c", cmd, file], { encoding: "utf8" }); assert.strictEqual(p.status, 0, p.stderr); return p.stdout; };

    it("rebases the disk to the new storage's shape, keeping what the guest wrote, and leaves a disk of the right shape alone", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-reshape-"));
        try {
            const base = `${dir}/base.qcow2`, disk = `${dir}/vm1.qcow2`;
            img("create", "-q", "-f", "qcow2", base, "64M");
            img("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, disk);
            io(disk, "write -P 0x5a 0 512");
            // copy-incremental -> copy: a disk of its own.
            const toCopy = run(dir, "empty 64", "disk_shape_ok && echo same || { reshape_disk; disk_shape_ok && echo reshaped; }");
            assert.strictEqual(toCopy.status, 0, toCopy.stderr);
            assert.strictEqual(toCopy.stdout.trim(), "reshaped");
            assert.match(toCopy.stderr, /its disk .*vm1\.qcow2 becomes a disk of its own \(its storage changed\), its content kept/);
            assert.doesNotMatch(img("info", disk), /backing file/);
            assert.match(io(disk, "read -P 0x5a 0 512"), /read 512\/512 bytes/);
            // copy -> copy-incremental: an overlay over the image again.
            const toInc = run(dir, `overlay ${base}`, "reshape_disk; disk_shape_ok && echo ok");
            assert.strictEqual(toInc.stdout.trim(), "ok", toInc.stderr);
            assert.match(img("info", disk), new RegExp(`backing file: ${base}`));
            assert.match(io(disk, "read -P 0x5a 0 512"), /read 512\/512 bytes/);
            // Right already: nothing said, nothing changed.
            const same = run(dir, `overlay ${base}`, "reshape_disk; echo done");
            assert.deepStrictEqual([same.stdout.trim(), same.stderr], ["done", ""]);
        } finally { fs.rmSync(dir, { recursive: true, force: true }); }
    });
});
