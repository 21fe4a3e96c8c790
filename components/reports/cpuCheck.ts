// The CPU preflight's reading of what the hosts said (render/scripts/cpu-check.sh) and its
// verdict: for each guest with a configured CPU, the hosts it may visit that cannot run that
// CPU, the features each lacks, and a CPU all of them run (libvirt's baseline of their CPUs).
import { GuestCpu, formatGuestCpu } from "../model/cpu";

/** Whether a host runs a CPU document (virsh hypervisor-cpu-compare --error). */
export type CompareAnswer =
    | { runs: true }
    /** missing: the features libvirt says the host lacks; error: why it could not compare (an unknown model). */
    | { runs: false; missing: string[]; error?: string };

export interface HostCpuAnswer {
    /** The CPU modes the host offers guests (host-passthrough, host-model, custom, ...): supported or not. */
    modes: Record<string, boolean>;
    /** libvirt's host-model CPU on the host, as a CPU document. */
    hostModel?: string;
    compares: Record<string, CompareAnswer>;
    /** The common CPU of the documents given (a CPU document), or libvirt's error. */
    baseline?: { xml: string } | { error: string };
}

/** The last "error: ..." line of virsh's output, without its prefixes. */
function virshError(text: string): string {
    const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
    const errors = lines.filter((l) => l.startsWith("error: "));
    const last = errors[errors.length - 1] ?? lines[lines.length - 1] ?? "no output";
    return last.replace(/^error: /, "").replace(/^(internal error|invalid argument|operation failed): /, "");
}

/** Reads cpu-check.sh's "=== " sections. */
export function parseCpuCheck(out: string): HostCpuAnswer {
    const answer: HostCpuAnswer = { modes: {}, compares: {} };
    const sections = out.split(/^=== /m).slice(1);
    for (const s of sections) {
        const nl = s.indexOf("\n");
        const [kind, ...args] = (nl < 0 ? s : s.slice(0, nl)).trim().split(/\s+/);
        const body = nl < 0 ? "" : s.slice(nl + 1);
        if (kind === "modes") {
            for (const line of body.split("\n")) {
                const m = /^(\S+) (yes|no)$/.exec(line.trim());
                if (m) { answer.modes[m[1]] = m[2] === "yes"; }
            }
        } else if (kind === "host-model") {
            if (/<model\b/.test(body)) { answer.hostModel = body.trim() + "\n"; }
        } else if (kind === "compare") {
            const [id, rc] = args;
            if (rc === "0") { answer.compares[id] = { runs: true }; continue; }
            const features = /does not provide required features: (.+)$/m.exec(body);
            answer.compares[id] = features
                ? { runs: false, missing: features[1].split(",").map((f) => f.trim()).filter((f) => f !== "") }
                : { runs: false, missing: [], error: virshError(body) };
        } else if (kind === "baseline") {
            answer.baseline = args[0] === "0" && /<cpu\b/.test(body) ? { xml: body.trim() + "\n" } : { error: virshError(body) };
        }
    }
    return answer;
}

/**
 * A CPU document (libvirt's baseline) as the smallest guests[].cpu that runs wherever the
 * baseline does: its model, less the model's features it disables. Features it adds beyond the
 * model are left out: every host has them, and a guest runs without them.
 */
export function baselineCpu(xml: string): GuestCpu | undefined {
    const model = /<model\b[^>]*>([^<]+)<\/model>/.exec(xml)?.[1]?.trim();
    if (!model) { return undefined; }
    const disabled = [...xml.matchAll(/<feature\s+policy='disable'\s+name='([^']+)'\s*\/>/g)].map((m) => m[1]);
    return { mode: "custom", model, features: disabled.map((name) => ({ name, policy: "disable" as const })) };
}

/** One guest the preflight judges: its CPU as configured and the hosts it may visit (its home first). */
export interface CpuCase {
    guest: string;
    cpu: string;
    /** The config field the CPU came from (guests[i].cpu), named in the fix. */
    field: string;
    visits: string[];
}

/** What the hosts said about one guest's CPU. */
export interface CpuFindings {
    /** Hosts whose libvirt does not offer the guest's mode (host-model, host-passthrough). */
    unsupported: string[];
    /** Hosts that cannot run the CPU, with the features each lacks. */
    missing: { host: string; features: string[] }[];
    /** Hosts where libvirt could not compare the CPU, and why. */
    errors: { host: string; error: string }[];
    /** A CPU every visited host runs, when one could be had. */
    suggestion?: GuestCpu;
}

function hostList(hosts: string[]): string {
    return hosts.length <= 2 ? hosts.join(" and ") : `${hosts.slice(0, -1).join(", ")} and ${hosts[hosts.length - 1]}`;
}

/**
 * The line that says why a guest's CPU cannot go where the guest may go, naming the hosts, the
 * features each lacks, and the fix; undefined when it runs on every one of them.
 */
export function cpuProblem(c: CpuCase, f: CpuFindings, virtType: "kvm" | "qemu"): string | undefined {
    const head = `guest ${c.guest}: cpu '${c.cpu}'`;
    const fix = f.suggestion ? `; a CPU all of ${c.visits.join(", ")} run: '${formatGuestCpu(f.suggestion)}' (set ${c.field} to it)` : "";
    if (f.unsupported.length > 0) {
        const why = c.cpu === "host-passthrough" && virtType === "qemu"
            ? " (they run guests under TCG, QEMU's emulator, which has no host CPU to pass through)" : "";
        return `${head} is not offered by libvirt on ${hostList(f.unsupported)}${why}; use ` +
            `${c.cpu === "host-passthrough" ? "host-model or " : ""}a named model such as Nehalem (${c.field})`;
    }
    const unknown = f.errors.filter((e) => /unknown cpu model/i.test(e.error));
    if (unknown.length > 0) {
        return `${head} names a model libvirt does not know on ${hostList(unknown.map((e) => e.host))}; ` +
            `\`virsh cpu-models x86_64\` lists the ones it does (${c.field})`;
    }
    const parts: string[] = [];
    if (f.missing.length > 0) {
        const where = c.cpu === "host-model" || c.cpu === "host-passthrough" ? ` (${c.visits[0]}'s CPU, where it starts)` : "";
        parts.push(`${head}${where} does not run on ${f.missing.map((m) => `${m.host} (missing: ${m.features.join(", ")})`).join(", ")}`);
    }
    if (f.errors.length > 0) {
        parts.push(`${parts.length ? "and" : head} could not be checked on ${f.errors.map((e) => `${e.host} (${e.error})`).join(", ")}`);
    }
    return parts.length > 0 ? parts.join("; ") + fix : undefined;
}
