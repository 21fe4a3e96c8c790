// guests[].storage copy and copy-incremental: the plan's local disks, the rules, the domain's disk,
// the leg's flags and disk checks (run with the real qemu-img on files made here), the leg's disk
// figures, and how reports show them.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseLabConfig } from "../../components/model/config";
import { planLab } from "../../components/model/plan";
import * as r from "../../components/render";
import { legSpecOf } from "../../components/render/specs";
import { comparisonRows, comparisonTable } from "../../components/reports/compare";
import { LegMetrics, isFailed, parseDisk, parseLegOutcome } from "../../components/reports/metrics";
import { diskText } from "../../scripts/print-legs";
import { readStackConfig } from "../../scripts/stack-config";
import { ROOT } from "../support";
import { problems, sampleLab } from "./config.test";

const withStorage = (storage: string, edit: (c: any) => void = () => undefined) => {
    const c = sampleLab();
    c.guests[0].storage = storage;
    edit(c);
    return planLab(parseLabConfig(c), "unit-storage");
};

/** A bash function of a rendered script, by name. */
function fnOf(text: string, name: string): string {
    const m = new RegExp(`^${name}\\(\\) \\{[\\s\\S]*?^\\}$`, "m").exec(text);
    assert.ok(m, `no ${name} function`);
    return m[0];
}

function bash(script: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
    return spawnSync("bash", ["-c", script], { encoding: "utf8", env: { PATH: process.env.PATH, ...env } });
}

describe("guests[].storage: the plan", () => {
    it("keeps a shared guest's disk on the export, with no local pool", () => {
        const plan = withStorage("shared");
        assert.strictEqual(plan.localPool, undefined);
        assert.strictEqual(plan.guests[0].disk, `${plan.export}/vm1.qcow2`);
        assert.strictEqual(plan.guests[0].exportDisk, plan.guests[0].disk);
        assert.strictEqual(plan.guests[0].local, undefined);
    });

    it("puts a built-in copy guest's disk in every host's own pool, empty at first, and nothing of it on the export", () => {
        const plan = withStorage("copy");
        assert.deepStrictEqual(plan.localPool, { name: `local-${plan.labId}`, target: `/var/lib/libvirt/images/miglab-${plan.labId}` });
        const g = plan.guests[0];
        assert.strictEqual(g.disk, `${plan.localPool!.target}/vm1.qcow2`);
        assert.deepStrictEqual(g.local, { storage: "copy", path: g.disk, make: { empty: 64 } });
        assert.strictEqual(g.exportDisk, undefined);
        // The boot files stay in the shared pool, which every host sees.
        assert.strictEqual(g.kernel, `${plan.pool!.target}/miglab-tiny-vmlinuz`);
    });

    it("copies a guest's own qcow2 from the shared pool, and builds a copy-incremental guest's overlay on the image there", () => {
        const own = withStorage("copy", (c) => { c.guests[0].image = { qcow2: "deb.qcow2" }; }).guests[0];
        assert.deepStrictEqual(own.local!.make, { copyOf: "/var/lib/miglab/exports/same-subnet/deb.qcow2" });
        assert.strictEqual(own.exportDisk, "/var/lib/miglab/exports/same-subnet/deb.qcow2");
        const inc = withStorage("copy-incremental");
        const g = inc.guests[0];
        // The local site's shared pool is the export itself: the backing is where every host sees it.
        assert.deepStrictEqual(g.local!.make, { overlayOn: `${inc.pool!.target}/vm1.qcow2` });
        assert.strictEqual(g.local!.backing, `${inc.pool!.target}/vm1.qcow2`);
        assert.strictEqual(g.exportDisk, `${inc.export}/vm1.qcow2`, "the base image is made on the export");
    });

    it("sees the shipped local-disks stack as a lab whose guests' disks are all in the hosts' own pools", () => {
        const plan = planLab(readStackConfig(ROOT, "local-disks"), "local-disks");
        assert.ok(plan.localPool);
        assert.ok(plan.guests.every((g) => g.local?.storage === "copy" && g.exportDisk === undefined), JSON.stringify(plan.guests));
    });
});

describe("guests[].storage: the rules", () => {
    const two = (a: any, b: any) => (c: any) => {
        c.guests = [{ name: "vm1", home: "pc1", address: "10.10.10.10", ...a }, { name: "vm2", home: "pc2", address: "10.10.10.11", ...b }];
    };

    it("refuses an image one guest writes (shared) and another copies or builds on, naming both", () => {
        const p = problems(two({ image: { qcow2: "base.qcow2" } }, { image: { qcow2: "base.qcow2" }, storage: "copy-incremental" }));
        assert.ok(p.some((x) => /^guests\[1\]\.image: .*base\.qcow2 on the export is the disk guests\[0\] \('vm1'\) writes \(storage shared\) and the image guests\[1\] \('vm2'\) copies or builds its own disk on/.test(x)), p.join("\n"));
        const q = problems(two({ image: { qcow2: "base.qcow2" }, storage: "copy" }, { image: { qcow2: "base.qcow2" } }));
        assert.ok(q.some((x) => /^guests\[1\]\.image: .*the disk guests\[1\] \('vm2'\) writes .* the image guests\[0\] \('vm1'\) copies/.test(x)), q.join("\n"));
        // A built-in copy-incremental guest builds on <name>.qcow2: a shared guest booting that file is refused too.
        const b = problems(two({ storage: "copy-incremental" }, { image: { qcow2: "vm1.qcow2" } }));
        assert.ok(b.some((x) => /^guests\[1\]\.image: .*vm1\.qcow2/.test(x)), b.join("\n"));
    });

    it("lets copy guests read one image, and keeps refusing two shared guests on one disk", () => {
        const c = sampleLab();
        two({ image: { qcow2: "base.qcow2" }, storage: "copy" }, { image: { qcow2: "base.qcow2" }, storage: "copy-incremental" })(c);
        assert.doesNotThrow(() => parseLabConfig(c));
        const p = problems(two({ image: { qcow2: "base.qcow2" } }, { image: { qcow2: "base.qcow2" } }));
        assert.ok(p.some((x) => /already guests\[0\] \('vm1'\)'s; two running guests on one disk corrupt it/.test(x)), p.join("\n"));
    });

    it("takes only the three values, naming them", () => {
        const p = problems((c) => { c.guests[0].storage = "nbd"; });
        assert.ok(p.some((x) => /guests\[0\]\.storage/.test(x) && /shared/.test(x) && /copy-incremental/.test(x)), p.join("\n"));
    });
});

describe("guests[].storage: the domain and the leg as rendered", () => {
    const plan = withStorage("copy");
    const inc = withStorage("copy-incremental");

    it("opens a local disk as a file libvirt validates, with the same driver as over NFS", () => {
        const xml = r.domainXml({ name: "vm1", uuid: plan.guests[0].uuid, memoryMiB: 192, vcpus: 1, mac: plan.guests[0].mac,
            disk: { file: plan.guests[0].disk }, network: { kind: "bridge", bridge: "br-lab" } }, "tcg");
        assert.match(xml, new RegExp(`<disk type='file' device='disk'>\\s*<driver name='qemu' type='qcow2' cache='none'/>\\s*<source file='${plan.guests[0].disk}'/>`));
        assert.doesNotMatch(xml, /protocol='nfs'/);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-xml-"));
        try {
            fs.writeFileSync(path.join(dir, "d.xml"), xml);
            const res = spawnSync("virt-xml-validate", [path.join(dir, "d.xml"), "domain"], { encoding: "utf8" });
            assert.strictEqual(res.status, 0, res.stdout + res.stderr);
        } finally { fs.rmSync(dir, { recursive: true, force: true }); }
    });

    it("gives virsh migrate the storage flag and the NBD port, per guest", () => {
        const m = plan.config.migrations[0];
        assert.deepStrictEqual(r.migrateFlags(m, "copy", 49215).split(" "), ["--copy-storage-all", "--disks-port", "49215"]);
        assert.deepStrictEqual(r.migrateFlags(m, "copy-incremental", 49214).split(" "), ["--copy-storage-inc", "--disks-port", "49214"]);
        assert.strictEqual(r.migrateFlags(m, "shared", 49215), "");
        assert.strictEqual(r.migrateFlags(m), "");
        // Legs to one destination at once (a drain's) each get their own port, down from the top of libvirt's range.
        assert.deepStrictEqual([r.IPERF_PORT, r.IPERF_PORT + 1, r.IPERF_PORT + 3].map(r.disksPortFor), [49215, 49214, 49212]);
        const leg = r.migrateLegScript(legSpecOf(plan, plan.guests[0], { leg: "out", from: plan.hosts[0], to: plan.hosts[1] }));
        assert.match(leg, /^EXTRA_FLAGS='--copy-storage-all --disks-port 49215'$/m);
        assert.match(leg, /^STORAGE='copy'$/m);
        assert.match(leg, new RegExp(`^DISK='${plan.guests[0].disk}'$`, "m"));
        assert.match(leg, /^DISK_SUM='1'$/m, "the built-in guest writes only its counter sector");
        assert.match(leg, /^DISK_PORT='49215'$/m);
        const incLeg = r.migrateLegScript(legSpecOf(inc, inc.guests[0], { leg: "out", from: inc.hosts[0], to: inc.hosts[1] }));
        assert.match(incLeg, new RegExp(`^DISK_BACKING='${inc.guests[0].local!.backing}'$`, "m"));
        const shared = withStorage("shared");
        const plain = r.migrateLegScript(legSpecOf(shared, shared.guests[0], { leg: "out", from: shared.hosts[0], to: shared.hosts[1] }));
        assert.match(plain, /^STORAGE='shared'$/m);
        assert.match(plain, /^DISK=''$/m);
        assert.match(plain, /^DISK_PORT=''$/m);
    });

    it("leaves the NBD connection out of post-copy's count of migration channels", () => {
        const leg = r.migrateLegScript(legSpecOf(plan, plan.guests[0], { leg: "out", from: plan.hosts[0], to: plan.hosts[1] }));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-ss-"));
        try {
            // The main channel, the disk's NBD connection, then (with preempt) a second channel.
            const ss = (ports: number[]) => {
                fs.writeFileSync(path.join(dir, "ss"), `#!/bin/bash\n${ports.map((p) => `echo "0 0 10.0.0.1:4${p % 1000} 10.0.0.2:${p}"`).join("\n")}\n`, { mode: 0o755 });
                const res = bash(`${fnOf(leg, "preempt_channels")}\nmig=999999999\npreempt_channels`, { PATH: `${dir}:${process.env.PATH}`, DST_ADDR: "10.0.0.2", DISK_PORT: "49215" });
                assert.strictEqual(res.status, 0, res.stderr);
                return Number(res.stdout.trim());
            };
            assert.strictEqual(ss([49152, 49215]), 1, "the NBD connection is no migration channel");
            assert.strictEqual(ss([49152, 49215, 49152]), 2, "the preempt channel is");
        } finally { fs.rmSync(dir, { recursive: true, force: true }); }
    });
});

describe("guests[].storage: the disk's print and making (qemu-img on files made here)", function () {
    // Each check runs qemu-img a few times: seconds on a busy 2-core machine.
    this.timeout(60 * 1000);
    const plan = withStorage("copy");
    const leg = r.migrateLegScript(legSpecOf(plan, plan.guests[0], { leg: "out", from: plan.hosts[0], to: plan.hosts[1] }));
    let dir: string;
    beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-disk-")); });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const qemuIo = (file: string, cmd: string) => {
        const res = spawnSync("qemu-io", ["-f", "qcow2", "-c", cmd, file], { encoding: "utf8" });
        assert.strictEqual(res.status, 0, res.stderr);
    };
    const print = (file: string, sum: 0 | 1) => {
        const res = bash(`${fnOf(leg, "disk_print")}\nbash -c "$(disk_print)"`, { DISK: file, DISK_SUM: String(sum) });
        assert.strictEqual(res.status, 0, res.stderr);
        return res.stdout.trim().split(" ");
    };

    it("sums the disk beyond its counter sector: the counter may change, nothing else may", () => {
        const disk = path.join(dir, "vm1.qcow2");
        assert.strictEqual(spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", disk, "4M"]).status, 0);
        qemuIo(disk, "write -P 0x31 0 512");
        const [state, sum] = print(disk, 1);
        assert.strictEqual(state, "clean");
        assert.match(sum, /^[0-9a-f]{64}$/);
        qemuIo(disk, "write -P 0x32 0 512");
        assert.deepStrictEqual(print(disk, 1), ["clean", sum], "a new counter is the guest's own write");
        qemuIo(disk, "write -P 0x33 512 512");
        assert.notStrictEqual(print(disk, 1)[1], sum, "a byte beyond the counter sector changed");
        assert.deepStrictEqual(print(disk, 0), ["clean", "-"], "a guest's own image is only checked");
        assert.deepStrictEqual(print(path.join(dir, "none.qcow2"), 0), ["unreadable", "-"]);
    });

    it("reads a qcow2 disk's size as its guest sees it, not its file's length", () => {
        const disk = path.join(dir, "vm1.qcow2");
        assert.strictEqual(spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", disk, "64M"]).status, 0);
        const res = bash(`${fnOf(leg, "disk_size")}\ndisk_size`, { DISK: disk });
        assert.strictEqual(res.status, 0, res.stderr);
        assert.strictEqual(res.stdout.trim(), String(64 * 2 ** 20));
    });

    it("makes a disk where no host holds one: empty, a copy of the image, or an overlay over it", () => {
        const dom = r.domainScript({ name: "vm1", xml: "<domain/>", address: "10.0.0.10", counterPort: 7000, keyPath: "/k", peers: [],
            localDisk: { storage: "copy", path: path.join(dir, "pool", "vm1.qcow2"), make: { empty: 16 } } }, "up");
        const ensure = fnOf(dom, "ensure_disk");
        const info = (f: string) => JSON.parse(spawnSync("qemu-img", ["info", "--output=json", f], { encoding: "utf8" }).stdout);
        const make = (file: string, how: string) => {
            const res = bash(`set -eu\nSSH=false\nPEERS=''\nGUEST=vm1\nLOCAL_DISK=${file}\nMAKE_DISK='${how}'\n${ensure}\nensure_disk`, {});
            assert.strictEqual(res.status, 0, res.stderr);
            return info(file);
        };
        const empty = make(path.join(dir, "pool", "a.qcow2"), "empty 16");
        assert.strictEqual(empty["virtual-size"], 16 * 2 ** 20);
        const base = path.join(dir, "base.qcow2");
        assert.strictEqual(spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", base, "8M"]).status, 0);
        qemuIo(base, "write -P 0x41 4096 512");
        const copied = make(path.join(dir, "pool", "b.qcow2"), `copy ${base}`);
        assert.strictEqual(copied["virtual-size"], 8 * 2 ** 20);
        assert.strictEqual(copied["backing-filename"], undefined);
        const overlay = make(path.join(dir, "pool", "c.qcow2"), `overlay ${base}`);
        assert.strictEqual(overlay["backing-filename"], base);
        // Made once: a disk already there is the guest's, kept as it is.
        qemuIo(path.join(dir, "pool", "b.qcow2"), "write -P 0x42 0 512");
        const before = fs.readFileSync(path.join(dir, "pool", "b.qcow2"));
        make(path.join(dir, "pool", "b.qcow2"), "empty 16");
        assert.ok(fs.readFileSync(path.join(dir, "pool", "b.qcow2")).equals(before));
    });
});

/**
 * libvirt's completed job after a --copy-storage-all migration (virsh domjobinfo --completed
 * --rawstats): the disk's figures beside memory's, data_* their sums; no disk_bps (an NBD copy
 * gives none).
 */
const COPY_JOB = `Job type: 3

operation: 5
time_elapsed: 3480
time_elapsed_net: 3477
downtime: 64
downtime_net: 61
setup_time: 2
data_total: 269230080
data_processed: 153343029
data_remaining: 0
memory_total: 202121216
memory_processed: 86234165
memory_remaining: 0
memory_bps: 119245612
memory_constant: 28805
memory_normal: 20949
memory_normal_bytes: 85807104
memory_dirty_rate: 0
memory_iteration: 3
memory_postcopy_requests: 0
memory_page_size: 4096
disk_total: 67108864
disk_processed: 67108864
disk_remaining: 0
`;

describe("guests[].storage: the leg's disk figures", () => {
    const start = 1795595756.2;
    const samples = [
        // t remaining processed bps dirty-rate iteration postcopy-requests disk-processed disk-remaining
        `${start + 0.1} 0 0 0 0 0 0 0 67108864`,
        `${start + 0.6} 0 0 0 0 0 0 33554432 33554432`,
        `${start + 1.1} 0 0 0 0 0 0 67108864 0`,
        `${start + 1.2} 190000000 12000000 110000000 0 1 0 67108864 0`,
    ].join("\n");
    const job = Object.fromEntries(COPY_JOB.split("\n").map((l) => /^(\w+): (\d+)$/.exec(l)).filter(Boolean).map((m) => [m![1], Number(m![2])]));

    it("times the disk phase from the timeline's first sample with nothing of the disk left, and its rate from that", () => {
        const d = parseDisk(job, "clean 1a clean 1a", samples, start)!;
        assert.deepStrictEqual(d, { bytes: 67108864, totalBytes: 67108864, ms: 1100, msFrom: "timeline", bps: Math.round(67108864 / 1.1), intact: true, checked: "sum" });
    });

    it("ends the disk phase at the first sample with memory sent, when a writing guest keeps some of the disk dirty", () => {
        // Measured: a guest writing its counter kept 64 KiB of the disk unsynced until the switch.
        const dirty = [
            `${start + 0.1} 0 0 0 0 0 0 0 67174400`,
            `${start + 0.9} 0 0 0 0 0 0 67043328 65536`,
            `${start + 1.4} 190000000 12000000 110000000 0 1 0 67108864 65536`,
            `${start + 2.0} 0 201326592 110000000 0 3 0 67108864 65536`,
        ].join("\n");
        const d = parseDisk(job, "clean 1a clean 1a", dirty, start)!;
        assert.strictEqual(d.ms, 1400);
        assert.strictEqual(d.msFrom, "timeline");
    });

    it("without a timeline, from libvirt's disk rate when it gives one, else not at all", () => {
        assert.deepStrictEqual(parseDisk({ ...job, disk_bps: 33554432 }, "clean - clean -", undefined, start),
            { bytes: 67108864, totalBytes: 67108864, ms: 2000, msFrom: "rate", bps: 33554432, intact: true, checked: "qemu-img-check" });
        const none = parseDisk(job, undefined, undefined, start)!;
        assert.strictEqual(none.ms, null);
        assert.strictEqual(none.msFrom, null);
        assert.strictEqual(none.bps, null);
        assert.strictEqual(none.intact, null);
    });

    it("says a disk whose copy changed, or is damaged, is not intact; and a leg that moved no disk has none", () => {
        assert.strictEqual(parseDisk(job, "clean 1a clean 2b", samples, start)!.intact, false);
        assert.strictEqual(parseDisk(job, "clean 1a corrupt 1a", samples, start)!.intact, false);
        assert.throws(() => parseDisk(job, "clean 1a", samples, start), /disk check: expected 'state sum state sum'/);
        assert.strictEqual(parseDisk({ ...job, disk_total: 0, disk_processed: 0 }, undefined, samples, start), null);
    });

    it("reads a whole leg that copied the disk, and shows it in the legs' notes and beside the other stacks", () => {
        const captured = fs.readFileSync(path.join(ROOT, "test", "fixtures", "leg-out.txt"), "utf8");
        const jobStart = captured.indexOf("=== jobinfo\n");
        const jobEnd = captured.indexOf("=== dest-state");
        const text = `${captured.slice(0, jobStart)}=== jobinfo\n${COPY_JOB}\n${captured.slice(jobEnd)}=== disk-check\nclean ab12 clean ab12\n`;
        const l = parseLegOutcome("out", "pc1", "pc2", text);
        assert.ok(!isFailed(l));
        const m = l as LegMetrics;
        assert.strictEqual(m.disk!.bytes, 67108864);
        assert.strictEqual(m.dataProcessedBytes, 153343029, "data crossing counts the disk's bytes too");
        assert.strictEqual(m.disk!.intact, true);
        assert.strictEqual(m.disk!.msFrom, null, "this leg kept no timeline and libvirt gave no disk rate");
        assert.match(diskText({ ...m.disk!, ms: 1100, msFrom: "timeline", bps: 61008058 }),
            /^disk: 67\.1 MB sent of 67\.1 MB, its phase 1100 ms \(from the timeline\) at 61\.0 MB\/s; on arrival intact \(qemu-img check clean, the same bytes beyond the counter sector\)$/);
        const shared = parseLegOutcome("out", "pc1", "pc2", captured) as LegMetrics;
        assert.strictEqual(shared.disk, null);
        const rows = comparisonRows([
            { stack: "same-subnet", outputs: { topology: "same-subnet", legs: [shared] } },
            { stack: "local-disks", outputs: { topology: "same-subnet", legs: [{ ...m, disk: { ...m.disk!, ms: 1100 } }] } },
        ]);
        assert.strictEqual(rows[0].disk, undefined);
        assert.deepStrictEqual(rows[1].disk, { legs: 1, mb: 67.1, ms: 1100 });
        const table = comparisonTable(rows).split("\n");
        assert.match(table[0], /total ms +disk MB +disk ms +downtime ms/);
        assert.match(table.find((x) => x.startsWith("local-disks"))!, /67\.1 +1100/);
        assert.match(table.find((x) => x.startsWith("same-subnet"))!, / - +- /);
    });
});
