// A migration's place in the config and the rules about its own options: one copy,
// read by the lab's parser and by a Migration declared without a stack config.
import type { LabConfig, MigrationConfig } from "./types";

/** The migrations with the config path each came from ("migration" or "migrations[i]"). */
export function migrationEntries(cfg: LabConfig): { m: MigrationConfig; at: string }[] {
    return cfg.migration ? [{ m: cfg.migration, at: "migration" }] : cfg.migrations.map((m, i) => ({ m, at: `migrations[${i}]` }));
}

/** The hosts a migration visits in order: its path, or from and to (the schema requires one of the two). */
export function migrationPath(m: Pick<MigrationConfig, "path" | "from" | "to">): string[] {
    return m.path ?? [m.from!, m.to!];
}

/** The options a migration's mode and connections cannot combine. */
type Options = Pick<MigrationConfig, "runs" | "mode" | "postcopySwitch" | "parallelConnections" | "compression" | "autoConverge" | "stopAfter">;

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
