// The machine preflight: what this machine's kernel and memory allow a local-site lab, asked
// before the site is made, in a step of its own (parsing the config asks the machine nothing).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, LabConfig } from "../model/config";
import { FeatureProbe, KernelFeature, MemoryProbe, machineMemoryOf, machineProblems } from "../model/kernel";

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

/** This machine's memory, from /proc (undefined where it cannot be read: then nothing is judged). */
export const probeMemory: MemoryProbe = () => {
    try {
        return machineMemoryOf(fs.readFileSync("/proc/meminfo", "utf8"), fs.readFileSync("/proc/sys/vm/overcommit_memory", "utf8"));
    } catch {
        return undefined;
    }
};

export interface MachinePreflightArgs {
    /** The parsed config: its link shaping and its guests' memory are what this machine is asked about. */
    config: LabConfig;
    /** How the kernel and the memory are asked; default this machine's (a test gives its own answers). */
    kernel?: FeatureProbe;
    memory?: MemoryProbe;
}

/**
 * Asks this machine whether it can hold the lab (tc and iptables features its `link` needs, memory
 * for its guests) at every preview and up, as the program runs. `passed` resolves when it can; when
 * it cannot, it fails with the config's own message (one line per field, with the fix), on this
 * resource, and whatever is given it (the local site's namespaces) is never made.
 */
export class MachinePreflight extends pulumi.ComponentResource {
    readonly passed: pulumi.Output<true>;

    constructor(name: string, args: MachinePreflightArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:site:MachinePreflight", name, {}, opts);
        const problems = machineProblems(args.config, args.kernel ?? probeKernel, args.memory ?? probeMemory);
        this.passed = pulumi.output(problems).apply((p) => {
            if (p.length > 0) { throw new pulumi.ResourceError(new ConfigError(p).message, this, true); }
            return true as const;
        });
        this.registerOutputs({ passed: this.passed });
    }
}
