// A guest's CPU as the config names it, and the hosts whose CPU it must run on.
import type { GuestConfig, LabConfig } from "./types";

export interface CpuFeature { name: string; policy: "require" | "disable" }

/** guests[].cpu, read: libvirt's two host modes, or a named model with features added or removed. */
export type GuestCpu =
    | { mode: "host-model" }
    | { mode: "host-passthrough" }
    | { mode: "custom"; model: string; features: CpuFeature[] };

/** "Nehalem", "EPYC,-vme,+pcid", "host-model" (the schema's pattern has admitted the text). */
export function parseGuestCpu(text: string): GuestCpu {
    if (text === "host-model" || text === "host-passthrough") { return { mode: text }; }
    const [model, ...items] = text.split(",");
    return {
        mode: "custom", model,
        features: items.map((f) => ({ name: f.slice(1), policy: f.startsWith("+") ? "require" : "disable" })),
    };
}

/** The config's text for a CPU: parseGuestCpu's inverse, so a suggested CPU can be pasted into guests[].cpu. */
export function formatGuestCpu(c: GuestCpu): string {
    if (c.mode !== "custom") { return c.mode; }
    return [c.model, ...c.features.map((f) => `${f.policy === "require" ? "+" : "-"}${f.name}`)].join(",");
}

/**
 * Every host a guest may run on, in the order it gets there: its home, then where each of the
 * plan's legs (paths, round trips and drains alike) takes it. A guest no leg moves stays at home.
 */
export function guestVisits(guests: Pick<GuestConfig, "name" | "home">[], legs: { guest: string; to: string }[]): Record<string, string[]> {
    const visits: Record<string, string[]> = Object.fromEntries(guests.map((g) => [g.name, [g.home]]));
    for (const l of legs) {
        const seen = visits[l.guest];
        if (seen && !seen.includes(l.to)) { seen.push(l.to); }
    }
    return visits;
}

/** The config's rules about guests[].cpu that need no host to answer (as "field: problem" lines). */
export function guestCpuProblems(cfg: Pick<LabConfig, "site" | "guests">): string[] {
    const p: string[] = [];
    cfg.guests.forEach((g, i) => {
        if (g.cpu === undefined) { return; }
        const c = parseGuestCpu(g.cpu);
        // The local site's hosts are namespaces of this machine, whose guests always run under TCG.
        if (cfg.site === "local" && c.mode === "host-passthrough") {
            p.push(`guests[${i}].cpu: host-passthrough hands the host's CPU to the guest through KVM, and the local site runs its guests under TCG ` +
                `(QEMU's emulator), which has no host CPU to pass; use host-model (the emulator's widest CPU) or a named model such as Nehalem`);
        }
        if (c.mode === "custom") {
            const names = c.features.map((f) => f.name);
            const twice = names.filter((n, k) => names.indexOf(n) !== k);
            if (twice.length > 0) {
                p.push(`guests[${i}].cpu: '${g.cpu}' names ${[...new Set(twice)].join(", ")} more than once; give each feature once, with + or -`);
            }
        }
    });
    return p;
}
