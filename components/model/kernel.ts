// What the local site needs of this machine's kernel, checked before anything is
// created: a config asking for link delay on a kernel without netem would otherwise
// fail late, half built, with tc's "Specified qdisc kind is unknown".
import { spawnSync } from "child_process";
import * as fs from "fs";
import type { LabConfig } from "./config";

export type KernelFeature = "netem" | "tbf" | "iptables-statistic";

/** Answers whether the kernel can do one thing; `detail` is the tool's own error when not. */
export type FeatureProbe = (feature: KernelFeature) => { ok: boolean; detail?: string };

// Each probe runs in a network namespace of its own that ends with the command: nothing is left.
const PROBES: Record<KernelFeature, string> = {
    "netem": "ip link set lo up && tc qdisc add dev lo root netem delay 1ms",
    "tbf": "ip link set lo up && tc qdisc add dev lo root tbf rate 1mbit burst 32kbit latency 50ms",
    "iptables-statistic": "iptables -A OUTPUT ! -o lo -m statistic --mode random --probability 0.5 -j DROP",
};

const answers = new Map<KernelFeature, { ok: boolean; detail?: string }>();

/** Asks this machine's kernel (once per process). Without root nothing can be asked: the lab itself will tell. */
export const probeKernel: FeatureProbe = (feature) => {
    if (process.getuid && process.getuid() !== 0) { return { ok: true, detail: "not checked: not root" }; }
    if (!answers.has(feature)) {
        const r = spawnSync("unshare", ["-n", "sh", "-c", PROBES[feature]], { encoding: "utf8", timeout: 20000 });
        const detail = `${r.stderr ?? ""}${r.error ? r.error.message : ""}`.trim().split("\n").pop();
        answers.set(feature, { ok: r.status === 0, detail });
    }
    return answers.get(feature)!;
};

/** The fields of a local-site config this kernel cannot honour, each with what to do. */
export function kernelFeatureProblems(cfg: LabConfig, probe: FeatureProbe = probeKernel): string[] {
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
 * The most memory this machine's kernel lets one process map for writing (MiB), and how that
 * limit comes about; undefined when it sets none (vm.overcommit_memory 1) or cannot be read.
 */
export type MemoryProbe = () => { limitMiB: number; why: string } | undefined;

/** The limit from /proc/meminfo and vm.overcommit_memory, as the kernel applies it to one new mapping. */
export function memoryLimitOf(meminfo: string, overcommit: string): { limitMiB: number; why: string } | undefined {
    const kb = (key: string) => { const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(meminfo); return m ? Number(m[1]) : NaN; };
    const mode = overcommit.trim();
    // 0 (heuristic): a mapping larger than RAM and swap together is refused outright; 2 (strict): more than the commit limit.
    if (mode === "0") {
        const ram = Math.floor(kb("MemTotal") / 1024), swap = Math.floor(kb("SwapTotal") / 1024);
        return Number.isFinite(ram + swap) ? { limitMiB: ram + swap, why: `RAM ${ram} MiB + swap ${swap} MiB, vm.overcommit_memory 0` } : undefined;
    }
    if (mode === "2") {
        const limit = Math.floor(kb("CommitLimit") / 1024);
        return Number.isFinite(limit) ? { limitMiB: limit, why: `its commit limit ${limit} MiB, vm.overcommit_memory 2` } : undefined;
    }
    return undefined;
}

export const probeMemory: MemoryProbe = () => {
    try {
        return memoryLimitOf(fs.readFileSync("/proc/meminfo", "utf8"), fs.readFileSync("/proc/sys/vm/overcommit_memory", "utf8"));
    } catch {
        return undefined;
    }
};

/**
 * Local-site guests larger than this machine can map: QEMU would fail to start them ("cannot set
 * up guest memory 'pc.ram': Cannot allocate memory") after the lab is half built. Each QEMU maps
 * its guest's memory at once (the destination's too, during a leg), so the bound is per guest.
 */
export function guestMemoryProblems(cfg: LabConfig, probe: MemoryProbe = probeMemory): string[] {
    if (cfg.site !== "local") { return []; }
    const limit = probe();
    if (!limit) { return []; }
    return cfg.guests.flatMap((g, i) => g.memoryMiB <= limit.limitMiB ? [] : [
        `guests[${i}].memoryMiB: ${g.memoryMiB} MiB is more than this machine lets one process map (${limit.why}), ` +
        `so QEMU could not set up the guest's memory; use at most ${limit.limitMiB} MiB (or add swap)`]);
}
