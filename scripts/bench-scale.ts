// `npm run bench -- scale`: how a lab grows. Builds bridged labs (two underlay subnets,
// VXLAN overlay) of more and more hosts (one guest), then of more and more guests
// (on three hosts), each from nothing with `pulumi up` and destroyed after, and
// measures the build time and the memory the lab's processes hold (PSS of every
// process in the lab's network namespaces: QEMU, libvirtd, Open vSwitch, sshd, ...),
// so other work on the machine does not count. Every lab also runs the same two
// measured legs (vm1 pc1 -> pc2 and back), so the differences are the build's.
// A benchmark that prints figures, not a test. MIGLAB_SCALE_HOSTS / MIGLAB_SCALE_GUESTS
// change the series (default 2,3,4,6,8 and 2,4,8).
import * as fs from "fs";
import * as path from "path";
import { textTable } from "../components/reports/table";
import { LabStack } from "./lab-stack";
import { ROOT, sh } from "./pulumi-cli";

interface Point {
    hosts: number; guests: number; ok: boolean; upSeconds: number; destroySeconds: number;
    labMiB: number; byProcess: Record<string, number>; machineUsedMiB: number; load1: number; error?: string;
    /** The first `pulumi up` failed with this and a second one was run (its time is included). */
    retried?: string;
}

const errorsOf = (stdout: string) => stdout.split("\n").filter((l) => /error:/.test(l)).slice(0, 3).join(" | ");

const HOSTS = (process.env.MIGLAB_SCALE_HOSTS ?? "2,3,4,6,8").split(",").map(Number).filter((n) => n > 0);
const GUESTS = (process.env.MIGLAB_SCALE_GUESTS ?? "2,4,8").split(",").map(Number).filter((n) => n > 0);
const GUEST_HOSTS = 3;

/** pc1.. alternate between two /27 subnets; the NFS server (the router) sits in the first. */
function configure(lab: LabStack, hosts: number, guests: number): void {
    lab.configure((c) => {
        c.hosts = Array.from({ length: hosts }, (_, i) => ({
            name: `pc${i + 1}`, address: `10.10.10.${(i % 2) * 32 + 1 + Math.floor(i / 2)}`, prefix: 27,
        }));
        c.nfs.host = { name: "nfs", address: "10.10.10.29", prefix: 27 };
        c.guests = Array.from({ length: guests }, (_, i) => ({
            name: `vm${i + 1}`, home: `pc${(i % hosts) + 1}`, address: `10.10.30.${10 + i}`, memoryMiB: 192,
        }));
        c.migration = { ...c.migration, guest: "vm1", from: "pc1", to: "pc2" };
    });
}

/** PSS of every process whose network namespace is one of the lab's, by command name (MiB). */
function labMemory(labId: string): Record<string, number> {
    const script = `
      declare -A want
      for f in /run/netns/${labId}-*; do want[$(stat -L -c %i "$f")]=1; done
      for p in /proc/[0-9]*; do
        ino=$(stat -L -c %i "$p/ns/net" 2>/dev/null) || continue
        [ -n "\${want[$ino]:-}" ] || continue
        pss=$(awk '/^Pss:/ {print $2}' "$p/smaps_rollup" 2>/dev/null) || continue
        echo "$(cat "$p/comm" 2>/dev/null) \${pss:-0}"
      done`;
    const out: Record<string, number> = {};
    for (const line of sh(script).stdout.trim().split("\n").filter(Boolean)) {
        const [comm, kb] = line.split(/\s+(?=\d+$)/);
        const name = /^qemu/.test(comm) ? "qemu" : /^ovs/.test(comm) ? "openvswitch" : comm;
        out[name] = (out[name] ?? 0) + Number(kb) / 1024;
    }
    return out;
}

function machine(): { usedMiB: number; load1: number } {
    const mem = fs.readFileSync("/proc/meminfo", "utf8");
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(mem)?.[1] ?? NaN);
    return { usedMiB: Math.round((kb("MemTotal") - kb("MemAvailable")) / 1024), load1: Number(fs.readFileSync("/proc/loadavg", "utf8").split(" ")[0]) };
}

function measure(hosts: number, guests: number): Point {
    const lab = new LabStack(`ci-bench-scale-${hosts}h${guests}g`, "bridged");
    process.stderr.write(`bench scale: ${hosts} hosts, ${guests} guests ... `);
    let point: Point;
    try {
        configure(lab, hosts, guests);
        lab.init();
        const t0 = Date.now();
        let r = lab.up();
        // A busy machine can fail one step of a build (a time-out, a refused connection); pulumi up
        // converges, so a second one finishes it. Only a second failure counts as the limit.
        let retried: string | undefined;
        if (r.code !== 0) { retried = errorsOf(r.stdout); process.stderr.write(`retrying after: ${retried} ... `); r = lab.up(); }
        const upSeconds = (Date.now() - t0) / 1000;
        const byProcess = labMemory(lab.plan.labId);
        const m = machine();
        const labMiB = Object.values(byProcess).reduce((a, b) => a + b, 0);
        point = { hosts, guests, ok: r.code === 0, upSeconds, destroySeconds: NaN, labMiB, byProcess, machineUsedMiB: m.usedMiB, load1: m.load1, retried };
        if (r.code !== 0) { point.error = errorsOf(r.stdout); }
        const t1 = Date.now();
        lab.pulumi(["destroy", "--yes", "--skip-preview"]);
        point.destroySeconds = (Date.now() - t1) / 1000;
    } finally {
        lab.remove();
    }
    process.stderr.write(`${point.ok ? "built" : `FAILED (${point.error})`} in ${point.upSeconds.toFixed(0)} s, lab ${point.labMiB.toFixed(0)} MiB\n`);
    return point;
}

/** Least-squares slope of y over x. */
function slope(pts: { x: number; y: number }[]): number {
    const n = pts.length;
    if (n < 2) { return NaN; }
    const mx = pts.reduce((a, p) => a + p.x, 0) / n, my = pts.reduce((a, p) => a + p.y, 0) / n;
    const num = pts.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0), den = pts.reduce((a, p) => a + (p.x - mx) ** 2, 0);
    return num / den;
}

function main(): void {
    const points: Point[] = [];
    for (const h of HOSTS) { points.push(measure(h, 1)); if (!points[points.length - 1].ok) { break; } }
    for (const g of GUESTS) { points.push(measure(GUEST_HOSTS, g)); if (!points[points.length - 1].ok) { break; } }
    const ok = points.filter((p) => p.ok);
    const byHost = ok.filter((p) => p.guests === 1).map((p) => ({ x: p.hosts, t: p.upSeconds, m: p.labMiB }));
    const byGuest = ok.filter((p) => p.hosts === GUEST_HOSTS && (p.guests > 1 || HOSTS.includes(GUEST_HOSTS)))
        .map((p) => ({ x: p.guests, t: p.upSeconds, m: p.labMiB }));
    const procs = [...new Set(points.flatMap((p) => Object.keys(p.byProcess)))].sort();
    const top = procs.filter((k) => points.some((p) => (p.byProcess[k] ?? 0) > 20));
    console.log(`\nmiglab bench scale: bridged (VXLAN, two /27 subnets), local site, 192 MiB TCG guests, two measured legs each\n`);
    console.log(textTable(["hosts", "guests", "outcome", "pulumi up s", "destroy s", "lab MiB (PSS)", ...top.map((k) => `${k} MiB`), "machine used MiB", "load1"],
        points.map((p) => [p.hosts, p.guests, p.ok ? (p.retried ? "built (2nd up)" : "built") : `failed: ${(p.error ?? "").replace(/\s+/g, " ").slice(0, 80)}`, p.upSeconds.toFixed(1), p.destroySeconds.toFixed(1),
            p.labMiB.toFixed(0), ...top.map((k) => (p.byProcess[k] ?? 0).toFixed(0)), p.machineUsedMiB, p.load1].map(String))));
    const perHostS = slope(byHost.map((p) => ({ x: p.x, y: p.t }))), perHostM = slope(byHost.map((p) => ({ x: p.x, y: p.m })));
    const perGuestS = slope(byGuest.map((p) => ({ x: p.x, y: p.t }))), perGuestM = slope(byGuest.map((p) => ({ x: p.x, y: p.m })));
    console.log(`\nper added host: +${perHostS.toFixed(1)} s of pulumi up, +${perHostM.toFixed(0)} MiB`);
    console.log(`per added guest: +${perGuestS.toFixed(1)} s of pulumi up, +${perGuestM.toFixed(0)} MiB`);
    const failed = points.find((p) => !p.ok);
    console.log(failed ? `limit: ${failed.hosts} hosts with ${failed.guests} guests did not build (${failed.error}; whole message in bench/scale.json)`
        : `limit: not reached; the largest lab built was ${Math.max(...ok.map((p) => p.hosts))} hosts (the schema's maximum is 8) and ${Math.max(...ok.map((p) => p.guests))} guests`);
    const dir = path.join(ROOT, "bench");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "scale.json"), JSON.stringify({ points, perHostS, perHostM, perGuestS, perGuestM }, null, 2));
    console.log(`wrote ${path.join(dir, "scale.json")}`);
}

main();
