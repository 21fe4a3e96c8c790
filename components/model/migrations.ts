// A migration's place in the config and the rules about its own options: one copy,
// read by the lab's parser and by a Migration declared without a stack config.
import type { LabConfig, MigrationConfig, SlaConfig } from "./types";

/** The migrations with the config path each came from ("migration" or "migrations[i]"). */
export function migrationEntries(cfg: LabConfig): { m: MigrationConfig; at: string }[] {
    return cfg.migration ? [{ m: cfg.migration, at: "migration" }] : cfg.migrations.map((m, i) => ({ m, at: `migrations[${i}]` }));
}

/** The hosts a migration visits in order: its path, or from and to (the schema requires one of the two). */
export function migrationPath(m: Pick<MigrationConfig, "path" | "from" | "to">): string[] {
    return m.path ?? [m.from!, m.to!];
}

/** Whether a migration entry is a drain (its guests are those on drain.host then: see placeDrain). */
export function isDrain(m: MigrationConfig): m is MigrationConfig & { drain: NonNullable<MigrationConfig["drain"]> } {
    return m.drain !== undefined;
}

/** The options a migration's mode and connections cannot combine. */
type Options = Pick<MigrationConfig, "runs" | "mode" | "postcopySwitch" | "postcopyVariant" | "parallelConnections" | "compression" | "autoConverge" | "stopAfter">;

/**
 * postcopyVariant 'demand': the background push's cap in MiB/s. libvirt's --postcopy-bandwidth
 * takes whole MiB/s and reads 0 as "no cap", so 1 is the smallest trickle it can hold: 256 pages/s.
 */
export const DEMAND_PUSH_MIBS = 1;

/**
 * Options of one migration that cannot work together, as "<at>.field: problem" lines (`at`
 * empty: bare field names). `closed`: its guest ends where it started, so a run can repeat.
 */
export function migrationOptionProblems(m: Options, at: string, closed: boolean): string[] {
    const f = (field: string) => (at ? `${at}.${field}` : field);
    const p: string[] = [];
    if (m.runs > 1 && !closed) { p.push(`${f("runs")}: repeating needs roundTrip: true or a path that ends where it starts (each run starts where the guest is declared)`); }
    if (m.mode !== "postcopy" && m.postcopySwitch !== "after-first-pass") {
        p.push(`${f("postcopySwitch")}: applies to mode 'postcopy' only; remove it or set mode: postcopy`);
    }
    if (m.mode !== "postcopy" && m.postcopyVariant !== "push") {
        p.push(`${f("postcopyVariant")}: applies to mode 'postcopy' only; remove it or set mode: postcopy`);
    }
    if (m.mode === "postcopy" && m.parallelConnections > 1) { p.push(`${f("parallelConnections")}: QEMU cannot combine multifd with post-copy; use 1 or mode: precopy`); }
    // A cold migration pauses the guest first: nothing runs to throttle, and each page goes once.
    if (m.mode === "cold" && m.autoConverge) { p.push(`${f("autoConverge")}: throttles a running guest, and a cold migration pauses it first; remove it or use mode: precopy`); }
    if (m.mode === "cold" && m.compression === "xbzrle") {
        p.push(`${f("compression")}: xbzrle sends deltas of pages sent before, and a cold migration sends each page once; use compression: none or mode: precopy`);
    }
    // Post-copy ends pre-copy by switching, and a cold migration has no pre-copy to end.
    if (m.stopAfter && m.mode !== "precopy") {
        p.push(`${f("stopAfter")}: ends pre-copy's passes, and mode '${m.mode}' has ${m.mode === "cold" ? "none" : "its own end (postcopySwitch)"}; remove it or set mode: precopy`);
    }
    if (m.parallelConnections > 1 && m.compression === "xbzrle") {
        p.push(`${f("compression")}: xbzrle does not work over multifd; use compression: none or parallelConnections: 1`);
    }
    return p;
}

/**
 * A migration's SLA: the lab's bounds, each one the migration gives itself replacing the lab's of
 * that name; undefined when neither gives a bound.
 */
export function migrationSla(lab: SlaConfig | undefined, own: SlaConfig | undefined): SlaConfig | undefined {
    const sla = { ...lab, ...own };
    return Object.keys(sla).length > 0 ? sla : undefined;
}

/** What a migration's SLA is judged against: whether the migration ends where it starts, and the figures its legs can measure. */
export interface SlaContext {
    /** The guest ends where the migration starts (roundTrip, or a path that ends there). */
    closed: boolean;
    /** Why no node pings the guest and what to do, when none does (e.g. topology nat); undefined: a probe pings it. */
    noProbe?: string;
    /** The legs keep a timeline (timelineIntervalMs above 0), where network recovery is read. */
    timeline: boolean;
    /** It is a drain (several guests, several legs at once): only a drain has a drain time to bound. */
    drain?: boolean;
}

/**
 * Bounds of a migration's SLA that could never be met, or whose breach could not be measured
 * again, as "field: problem" lines; `at` is the migration's config path ("" for a Migration's own
 * args). Each names the field the bound came from: the migration's own sla or the lab's.
 */
export function slaProblems(own: SlaConfig | undefined, lab: SlaConfig | undefined, at: string, ctx: SlaContext): string[] {
    const sla = migrationSla(lab, own);
    if (!sla) { return []; }
    const f = (field: string) => (at ? `${at}.${field}` : field);
    const where = (bound: keyof SlaConfig) => (own?.[bound] !== undefined ? f(`sla.${bound}`) : `sla.${bound}`);
    const p: string[] = [];
    // A broken leg is measured again by running its whole migration again, from where it starts.
    if (!ctx.closed) {
        const again = "a leg that breaks the SLA is measured again on the next pulumi up by running its migration again from the start, " +
            `so the guest must end where it starts: set ${f("roundTrip")}: true, or end the path where it starts`;
        p.push(own || !at ? `${f("sla")}: ${again}` : `sla: applies to ${at}, whose guest does not end where it starts; ${again}`);
    }
    for (const bound of ["maxProbeLost", "maxNetworkRecoveryMs"] as const) {
        if (sla[bound] !== undefined && ctx.noProbe) {
            p.push(`${where(bound)}: is measured by a probe pinging the guest from a third node, and ${ctx.noProbe}`);
        }
    }
    // The lab's bound applies to the drains among its migrations; a migration's own, only to a drain.
    if (own?.maxDrainMs !== undefined && !ctx.drain) {
        p.push(`${f("sla.maxDrainMs")}: bounds a drain's total time, and this is a single guest's migration; remove it (or give it to a drain entry or the lab's sla)`);
    }
    if (sla.maxNetworkRecoveryMs !== undefined && !ctx.timeline) {
        p.push(`${where("maxNetworkRecoveryMs")}: is read from the leg's timeline, which ${f("timelineIntervalMs")}: 0 turns off; set it above 0 or remove the bound`);
    }
    return p;
}
