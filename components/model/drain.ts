// A drain: every guest on one host moved off it, at most `parallel` legs at once, and (with
// roundTrip) brought back once the host is empty. Where each guest goes and which leg waits for
// which are decided here, once, by pure functions: the config's rules, the plan and the Drain
// component all ask them.
import type { LabConfig, MigrationConfig } from "./types";

export type DrainConfig = NonNullable<MigrationConfig["drain"]>;

/** One guest of a drain and where it goes. */
export interface DrainMove { guest: string; to: string; memoryMiB: number }

/** A destination as placement sees it: its memory (none: no bound) and the guest memory on it now. */
export interface Room { host: string; capacityMiB?: number; usedMiB: number }

const free = (r: Room) => (r.capacityMiB === undefined ? Infinity : r.capacityMiB - r.usedMiB);
const showRoom = (r: Room) => (r.capacityMiB === undefined ? `${r.host} (no bound)` : `${r.host} ${free(r)} of ${r.capacityMiB} MiB free`);

/**
 * Where a drain's guests go. The guests `place` names go where it says; each other guest, the
 * largest first (ties in the order given), goes to the destination with the most memory free
 * (a destination without memoryMiB has no bound), ties to the one holding the least guest memory,
 * then the first in `rooms`. A guest that fits nowhere (or where `place` sends it) is a problem
 * naming the guest, its memory and what each destination has free. The moves come largest first:
 * the order the legs start in, so the longest legs do not all end up in one chain.
 */
export function placeGuests(guests: { name: string; memoryMiB: number }[], rooms: Room[], place: Record<string, string> = {}):
    { moves: DrainMove[]; problem?: undefined } | { problem: string; moves?: undefined } {
    const state = rooms.map((r) => ({ ...r }));
    const bySize = guests.map((g, i) => ({ g, i })).sort((a, b) => b.g.memoryMiB - a.g.memoryMiB || a.i - b.i).map((x) => x.g);
    const to = new Map<string, string>();
    const put = (g: { name: string; memoryMiB: number }, r: Room) => { to.set(g.name, r.host); r.usedMiB += g.memoryMiB; };
    for (const g of bySize.filter((x) => place[x.name] !== undefined)) {
        const r = state.find((x) => x.host === place[g.name])!;
        if (free(r) < g.memoryMiB) {
            return { problem: `guest '${g.name}' (${g.memoryMiB} MiB) does not fit on ${showRoom(r)}, where place sends it` };
        }
        put(g, r);
    }
    for (const g of bySize.filter((x) => place[x.name] === undefined)) {
        const best = state.filter((r) => free(r) >= g.memoryMiB)
            .sort((a, b) => free(b) - free(a) || a.usedMiB - b.usedMiB)[0];
        if (!best) {
            return { problem: `guest '${g.name}' (${g.memoryMiB} MiB) fits on none of its destinations: ${state.map(showRoom).join(", ")}` };
        }
        put(g, best);
    }
    return { moves: bySize.map((g) => ({ guest: g.name, to: to.get(g.name)!, memoryMiB: g.memoryMiB })) };
}

/**
 * Which legs each leg of a drain waits for, by index: the `n` legs out (in the moves' order),
 * then with `back` the `n` legs back. Leg k of a phase waits for leg k - parallel of that phase,
 * so the legs run in `parallel` chains (k mod parallel) and never more than `parallel` at once;
 * every leg back also waits for every leg out (the host is empty before anything returns).
 * Chains rather than waves of `parallel` legs: a wave waits for its slowest leg before the next
 * starts; a chain starts its next leg as soon as its own one ends. (Pulumi's dependsOn cannot
 * say "any one of the running legs", which a true semaphore would wait for.)
 */
export function drainWaits(n: number, parallel: number, back: boolean): number[][] {
    const out = Array.from({ length: n }, (_, k) => (k >= parallel ? [k - parallel] : []));
    if (!back) { return out; }
    const all = out.map((_, k) => k);
    return [...out, ...Array.from({ length: n }, (_, k) => (k >= parallel ? [...all, n + k - parallel] : all))];
}

/** The chain (0 .. parallel-1) leg k of a phase runs in: no two legs of one chain run at once. */
export function drainChain(k: number, parallel: number): number {
    return k % parallel;
}

/** The hosts a drain may send guests to. */
export function drainDestinations(d: DrainConfig, hosts: string[]): string[] {
    return d.to === "any" ? hosts.filter((h) => h !== d.host) : d.to;
}

/** A drain as the rules see it: its guests (those on its host then) and their moves, or why it cannot be placed. */
export interface DrainPlacement { guests: string[]; moves: DrainMove[]; problems: string[] }

/**
 * The guests a drain moves (those on its host when it starts: `where` says where each guest is
 * then) and where each goes, as "<at>.drain...: problem" lines when it cannot be done.
 */
export function placeDrain(cfg: LabConfig, d: DrainConfig, at: string, where: Map<string, string>): DrainPlacement {
    const hosts = cfg.hosts.map((h) => h.name);
    const p: string[] = [];
    const f = (field: string) => `${at}.drain.${field}`;
    if (!hosts.includes(d.host)) {
        return { guests: [], moves: [], problems: [`${f("host")}: '${d.host}' is not one of the hosts (${hosts.join(", ")})`] };
    }
    const dests = drainDestinations(d, hosts);
    if (d.to !== "any") {
        d.to.forEach((h, i) => {
            if (!hosts.includes(h)) { p.push(`${f(`to[${i}]`)}: '${h}' is not one of the hosts (${hosts.join(", ")})`); }
            else if (h === d.host) { p.push(`${f(`to[${i}]`)}: '${h}' is the host the drain empties; list other hosts, or use to: any`); }
        });
    }
    const guests = cfg.guests.filter((g) => where.get(g.name) === d.host);
    if (guests.length === 0) {
        p.push(`${f("host")}: no guest runs on '${d.host}' when this drain starts (guests: ${cfg.guests.map((g) => `${g.name} on ${where.get(g.name)}`).join(", ")}); drain a host that has guests`);
    }
    for (const [g, h] of Object.entries(d.place ?? {})) {
        if (!guests.some((x) => x.name === g)) {
            p.push(`${f(`place.${g}`)}: '${g}' is not a guest on '${d.host}' when this drain starts (${guests.map((x) => x.name).join(", ") || "none"}); list only those`);
        } else if (!dests.includes(h)) {
            p.push(`${f(`place.${g}`)}: '${h}' is not one of the drain's destinations (${dests.join(", ")})`);
        }
    }
    if (p.length > 0) { return { guests: guests.map((g) => g.name), moves: [], problems: p }; }
    const rooms: Room[] = dests.map((h) => ({
        host: h, capacityMiB: cfg.hosts.find((x) => x.name === h)!.memoryMiB,
        usedMiB: cfg.guests.filter((g) => where.get(g.name) === h).reduce((a, g) => a + g.memoryMiB, 0),
    }));
    const placed = placeGuests(guests, rooms, d.place);
    if (placed.problem !== undefined) {
        const memoryAt = dests.filter((h) => rooms.find((r) => r.host === h)!.capacityMiB !== undefined)
            .map((h) => `hosts[${hosts.indexOf(h)}].memoryMiB`);
        return {
            guests: guests.map((g) => g.name), moves: [],
            problems: [`${at}.drain: cannot empty '${d.host}': ${placed.problem}; give the destinations more memory (${memoryAt.join(", ")}), add destinations (drain.to), or make the guests smaller`],
        };
    }
    return { guests: guests.map((g) => g.name), moves: placed.moves, problems: [] };
}

/** Rules about a drain entry's other fields: what a drain does not take. */
export function drainFieldProblems(m: MigrationConfig, at: string): string[] {
    const p: string[] = [];
    for (const field of ["guest", "from", "to", "path"] as const) {
        if (m[field] !== undefined) { p.push(`${at}.${field}: a drain moves every guest on drain.host, each to a host it picks (or drain.place names); remove ${field}`); }
    }
    if (m.runs > 1) { p.push(`${at}.runs: a drain runs once per pulumi up (its legs overlap, so runs would not be separate samples); remove runs, and run it again with npm run lab -- --remeasure`); }
    return p;
}
