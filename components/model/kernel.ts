// What the local site needs of this machine (its kernel's features, its memory), judged from
// what the machine answers: a config asking for link delay on a kernel without netem would
// otherwise fail late, half built, with tc's "Specified qdisc kind is unknown". The answers
// come from the machine preflight (resources/preflight.ts), which the program runs before the
// site is made; these functions only judge them.
import type { LabConfig } from "./types";
import { dirtyingMiB } from "./workload";

export type KernelFeature = "netem" | "tbf" | "iptables-statistic";

/** Answers whether the kernel can do one thing; `detail` is the tool's own error when not. */
export type FeatureProbe = (feature: KernelFeature) => { ok: boolean; detail?: string };

/** The fields of a local-site config this kernel cannot honour, each with what to do. */
export function kernelFeatureProblems(cfg: LabConfig, probe: FeatureProbe): string[] {
    if (cfg.site !== "local" || !cfg.link) { return []; }
    const needs: { field: string; set: boolean; feature: KernelFeature; fix: string }[] = [
        { field: "link.delayMs", set: (cfg.link.delayMs ?? 0) > 0, feature: "netem", fix: "remove link.delayMs (or load sch_netem: modprobe sch_netem)" },
        { field: "link.rate", set: cfg.link.rate !== undefined, feature: "tbf", fix: "remove link.rate (or load sch_tbf)" },
        { field: "link.lossPercent", set: (cfg.link.lossPercent ?? 0) > 0, feature: "iptables-statistic", fix: "remove link.lossPercent (or install iptables with its statistic match)" },
    ];
    const out: string[] = [];
    const seen = new Map<KernelFeature, ReturnType<FeatureProbe>>();
    for (const n of needs.filter((x) => x.set)) {
        if (!seen.has(n.feature)) { seen.set(n.feature, probe(n.feature)); }
        const r = seen.get(n.feature)!;
        if (!r.ok) {
            out.push(`${n.field}: this machine cannot do it for the local site (${n.feature}: ${r.detail || "not available"}); ${n.fix}`);
        }
    }
    return out;
}

/**
 * This machine's memory (MiB): RAM and swap, and the most its kernel lets one process map for
 * writing with how that limit comes about (none under vm.overcommit_memory 1).
 */
export interface MachineMemory { ramMiB: number; swapMiB: number; map?: { limitMiB: number; why: string } }
export type MemoryProbe = () => MachineMemory | undefined;

/** The memory from /proc/meminfo and vm.overcommit_memory, with the limit the kernel applies to one new mapping. */
export function machineMemoryOf(meminfo: string, overcommit: string): MachineMemory | undefined {
    const mib = (key: string) => { const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(meminfo); return m ? Math.floor(Number(m[1]) / 1024) : NaN; };
    const ramMiB = mib("MemTotal"), swapMiB = mib("SwapTotal");
    if (!Number.isFinite(ramMiB + swapMiB)) { return undefined; }
    const mode = overcommit.trim();
    // 0 (heuristic): a mapping larger than RAM and swap together is refused outright; 2 (strict): more than the commit limit.
    const commit = mib("CommitLimit");
    const map = mode === "0" ? { limitMiB: ramMiB + swapMiB, why: `RAM ${ramMiB} MiB + swap ${swapMiB} MiB, vm.overcommit_memory 0` }
        : mode === "2" && Number.isFinite(commit) ? { limitMiB: commit, why: `its commit limit ${commit} MiB, vm.overcommit_memory 2` } : undefined;
    return { ramMiB, swapMiB, ...(map ? { map } : {}) };
}

/**
 * Local-site guests this machine cannot hold. A guest larger than one process may map: QEMU
 * fails to start it ("cannot set up guest memory 'pc.ram': Cannot allocate memory") after the
 * lab is half built (each QEMU maps its guest's memory at once, the destination's too during a
 * leg, so that bound is per guest). Memory the guests fill and dirty is really used, and during
 * a leg the destination holds a second copy of the moving guest's: more than RAM and swap
 * together, and the machine's OOM killer ends QEMU or anything else running here.
 */
export function guestMemoryProblems(cfg: LabConfig, probe: MemoryProbe): string[] {
    if (cfg.site !== "local") { return []; }
    const m = probe();
    if (!m) { return []; }
    const out: string[] = [];
    const map = m.map;
    if (map) {
        cfg.guests.forEach((g, i) => {
            if (g.memoryMiB > map.limitMiB) {
                out.push(`guests[${i}].memoryMiB: ${g.memoryMiB} MiB is more than this machine lets one process map (${map.why}), ` +
                    `so QEMU could not set up the guest's memory; use at most ${map.limitMiB} MiB (or add swap)`);
            }
        });
    }
    if (out.length > 0) { return out; }
    const used = cfg.guests.map((g) => ({ g, mib: (g.workload.fillMiB ?? 0) + dirtyingMiB(g.workload) }));
    const moving = new Set(cfg.migrations.map((x) => x.guest));
    // A drain moves up to `parallel` guests at once, each with a copy on its destination: counted
    // as the largest guests of the lab (its own are known only once placed).
    const atOnce = Math.max(1, ...cfg.migrations.map((x) => x.drain?.parallel ?? 1));
    const copies = used.filter((u) => moving.has(u.g.name) || cfg.migrations.some((x) => x.drain)).sort((a, b) => b.mib - a.mib).slice(0, atOnce);
    const copyMiB = copies.reduce((a, u) => a + u.mib, 0);
    const total = used.reduce((a, u) => a + u.mib, 0) + copyMiB;
    if (total > m.ramMiB + m.swapMiB) {
        const each = used.filter((u) => u.mib > 0).map((u) => `${u.g.name} ${u.mib}`).join(", ");
        out.push(`guests[*].workload: the guests fill and dirty ${total - copyMiB} MiB (${each}), and ${copyMiB} MiB more for ` +
            `${copies.length ? copies.map((c) => `'${c.g.name}'`).join(", ") : "a guest"}'s cop${copies.length > 1 ? "ies" : "y"} on the destination during ${copies.length > 1 ? "a drain's" : "its"} legs: ${total} MiB, more than this machine's RAM and swap ` +
            `(${m.ramMiB} + ${m.swapMiB} MiB); it would run out of memory and its OOM killer end QEMU or another process: lower workload.fillMiB or the number of guests`);
    }
    return out;
}

/** Everything this machine cannot do of a local-site config, its kernel's then its memory's; none for other sites. */
export function machineProblems(cfg: LabConfig, kernel: FeatureProbe, memory: MemoryProbe): string[] {
    return [...kernelFeatureProblems(cfg, kernel), ...guestMemoryProblems(cfg, memory)];
}
