// The stack's config: one structured value, `miglab:lab`, checked against the
// JSON Schema shipped beside this file (the single source of truth for its
// shape and defaults), then by the cross-field rules the schema cannot say.
import { ErrorObject } from "ajv";
import { inSubnet } from "./net";
import { givenFieldRules, labRules, sharedStorageRules } from "./rules";
import { ajv, ruleText, schema } from "./schema";
import { fillProblem, workingSetProblem } from "./workload";
import { migrationEntries, migrationOptionProblems, migrationPath, slaProblems } from "./migrations";
import { drainDestinations, drainFieldProblems, placeDrain } from "./drain";
import type { LabConfig, MigrationConfig } from "./types";

export type { GuestConfig, LabConfig, MigrationConfig, NodeConfig, SlaConfig, SshArgs } from "./types";
export { migrationEntries, migrationPath, migrationSla } from "./migrations";
export { drainDestinations, drainWaits, placeDrain, placeGuests } from "./drain";

export class ConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`miglab:lab has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
            problems.map((p) => `  - ${p}`).join("\n"));
        this.name = "ConfigError";
    }
}

const validateSchema = ajv.getSchema(schema.$id)!;

/** "/hosts/1/address" -> "hosts[1].address" */
export function fieldPath(instancePath: string, extra?: string): string {
    const parts = instancePath.split("/").filter(Boolean);
    if (extra) { parts.push(extra); }
    let out = "";
    for (const p of parts) { out += /^\d+$/.test(p) ? `[${p}]` : (out ? `.${p}` : p); }
    return out || "(the lab)";
}

function describe(e: ErrorObject): string {
    switch (e.keyword) {
        case "required": return `${fieldPath(e.instancePath, String(e.params.missingProperty))}: is required`;
        case "additionalProperties": return `${fieldPath(e.instancePath, String(e.params.additionalProperty))}: is not a known field; remove it or check its spelling`;
        case "format": return `${fieldPath(e.instancePath)}: must be ${subschema(e.schemaPath)?.["x-rule"] ?? `a valid ${e.params.format}`}`;
        case "enum": return `${fieldPath(e.instancePath)}: must be one of ${(e.params.allowedValues as string[]).map((v) => `'${v}'`).join(", ")}`;
        case "pattern": {
            const sub = subschema(e.schemaPath);
            // The rule the pattern stands for, not what the field is for.
            return `${fieldPath(e.instancePath)}: must be ${sub?.["x-rule"] ?? `like ${e.params.pattern}`}`;
        }
        // A number's whole range, as a component's check says it too (not only the bound it crossed).
        case "minimum": case "maximum": case "type": {
            const node = e.parentSchema ?? {};
            const ranged = node.minimum !== undefined && node.maximum !== undefined;
            return `${fieldPath(e.instancePath)}: ${ranged ? `must be ${ruleText(node, "")}` : e.message}`;
        }
        // An object that asks for some of its fields (migration.stopAfter): its x-rule names them.
        case "minProperties": return `${fieldPath(e.instancePath)}: must be ${(e.parentSchema as { "x-rule"?: string } | undefined)?.["x-rule"] ?? e.message}`;
        case "oneOf": {
            const sub = e.parentSchema as { "x-oneOf"?: string } | undefined;
            return `${fieldPath(e.instancePath)}: ${sub?.["x-oneOf"] ?? e.message}`;
        }
        default: return `${fieldPath(e.instancePath)}: ${e.message}`;
    }
}

function subschema(schemaPath: string): { description?: string; "x-rule"?: string } | undefined {
    // "#/definitions/name/pattern" -> the schema object that holds the pattern
    let node: any = schema;
    for (const part of schemaPath.replace(/^#\//, "").split("/").slice(0, -1)) {
        node = node?.[decodeURIComponent(part)];
    }
    return node;
}

/**
 * Validates a raw config value; returns it with schema defaults filled in, or throws ConfigError
 * listing every problem. Pure: what this machine can do is the machine preflight's (resources/preflight.ts).
 */
export function parseLabConfig(raw: unknown): LabConfig {
    if (raw === undefined || raw === null) {
        throw new ConfigError(["miglab:lab: is not set; copy a stack from stacks/ or see README.md"]);
    }
    const value = JSON.parse(JSON.stringify(raw));
    if (!validateSchema(value)) {
        // A failing oneOf also reports its branches; the oneOf line says it better.
        const errs = (validateSchema.errors ?? []).filter((e) => !e.schemaPath.includes("/oneOf/"));
        throw new ConfigError([...new Set(errs.map(describe))]);
    }
    const cfg = value as unknown as LabConfig;
    if (!cfg.migrations) { cfg.migrations = [cfg.migration!]; }
    const problems = [...givenFieldProblems(cfg, raw as Record<string, any>), ...givenFieldRules(cfg, raw as Record<string, any>),
        ...crossFieldProblems(cfg), ...sharedStorageRules(cfg), ...labRules(cfg)];
    if (problems.length > 0) { throw new ConfigError(problems); }
    return cfg;
}

/**
 * Fields whose schema default only the local site can use: on real machines the outside
 * node is the team's, so its address must be one the team gave (the default would send
 * the guests' pings to an address nobody chose).
 */
export function givenFieldProblems(cfg: LabConfig, raw: Record<string, any>): string[] {
    if (cfg.site === "ssh" && cfg.topology !== "same-subnet" && raw?.outside?.address === undefined) {
        return [`outside.address: is required on site 'ssh' with topology '${cfg.topology}': an address beyond your router that answers ` +
            "pings from every host (the guests ping it while they migrate), e.g. your router's own address on the far side"];
    }
    return [];
}

/** The rules that relate fields to each other. */
export function crossFieldProblems(cfg: LabConfig): string[] {
    const problems: string[] = [];
    const nodes = [...cfg.hosts.map((h, i) => ({ n: h, at: `hosts[${i}]` })), { n: cfg.nfs.host, at: "nfs.host" }];
    const hostNames = new Set(cfg.hosts.map((h) => h.name));
    const seen = new Map<string, string>();
    const addrs = new Map<string, string>();
    for (const { n, at } of nodes) {
        if (seen.has(n.name)) { problems.push(`${at}.name: '${n.name}' is already the name of ${seen.get(n.name)}; names must be unique`); }
        seen.set(n.name, at);
        if (addrs.has(n.address)) { problems.push(`${at}.address: ${n.address} is already the address of ${addrs.get(n.address)}`); }
        addrs.set(n.address, at);
        if (cfg.site === "ssh" && !n.ssh) { problems.push(`${at}.ssh: is required on site 'ssh' (user, port and privateKey to reach ${n.name})`); }
        if (cfg.site === "local" && n.ssh) { problems.push(`${at}.ssh: is not used on site 'local' (the lab makes its own key); remove it`); }
    }
    const guestNames = new Map<string, number>();
    cfg.guests.forEach((g, i) => {
        if (guestNames.has(g.name)) { problems.push(`guests[${i}].name: '${g.name}' is already the name of guests[${guestNames.get(g.name)}]; guest names must be unique`); }
        guestNames.set(g.name, i);
        if (!hostNames.has(g.home)) { problems.push(`guests[${i}].home: '${g.home}' is not one of the hosts (${[...hostNames].join(", ")})`); }
        if (addrs.has(g.address)) { problems.push(`guests[${i}].address: ${g.address} is already the address of ${addrs.get(g.address)}`); }
        addrs.set(g.address, `guests[${i}]`);
    });
    if (cfg.nfs.host.memoryMiB !== undefined) {
        problems.push("nfs.host.memoryMiB: is what a hypervisor host gives its guests (drains place by it), and the NFS server runs none; remove it");
    }
    problems.push(...migrationProblems(cfg, hostNames, guestNames, new Set(seen.keys())));
    cfg.guests.forEach((g, i) => {
        const set = workingSetProblem(g.memoryMiB, g.workload);
        if (set) { problems.push(`guests[${i}].workload.workingSetMiB: ${set}`); }
        const fill = fillProblem(g.memoryMiB, g.workload);
        if (fill) { problems.push(`guests[${i}].workload.fillMiB: ${fill}`); }
    });
    if (cfg.topology === "same-subnet") {
        const first = cfg.hosts[0];
        for (const { n, at } of nodes) {
            if (!inSubnet(n.address, first.address, first.prefix) || n.prefix !== first.prefix) {
                problems.push(`${at}.address: ${n.address}/${n.prefix} is not in ${first.name}'s subnet ${first.address}/${first.prefix}; topology 'same-subnet' puts every node on one subnet`);
            }
        }
        cfg.guests.forEach((g, i) => {
            if (!inSubnet(g.address, first.address, first.prefix)) {
                problems.push(`guests[${i}].address: ${g.address} is not in the lab subnet ${first.address}/${first.prefix}`);
            }
        });
    } else {
        const [net, bits] = (cfg.topology === "nat" ? cfg.nat.subnet : cfg.overlay.subnet).split("/");
        const field = cfg.topology === "nat" ? "nat" : "overlay";
        const gw = cfg.topology === "nat" ? cfg.nat.gateway : cfg.overlay.gateway;
        if (!inSubnet(gw, net, Number(bits))) { problems.push(`${field}.gateway: ${gw} is not in ${field}.subnet ${net}/${bits}`); }
        cfg.guests.forEach((g, i) => {
            if (!inSubnet(g.address, net, Number(bits))) {
                problems.push(`guests[${i}].address: ${g.address} is not in ${field}.subnet ${net}/${bits}; in topology '${cfg.topology}' guests live there`);
            }
        });
        if (cfg.overlay.gatewayHost !== undefined && !hostNames.has(cfg.overlay.gatewayHost)) {
            problems.push(`overlay.gatewayHost: '${cfg.overlay.gatewayHost}' is not one of the hosts (${[...hostNames].join(", ")})`);
        }
    }
    if (cfg.site === "local") {
        if (cfg.nfs.server) { problems.push(`nfs.server: applies to site 'ssh' only (the local site runs nfs-ganesha); remove it`); }
        if (cfg.pool?.type) { problems.push(`pool.type: applies to site 'ssh' only (the local site's pool is the export itself); remove it`); }
    }
    if (cfg.site === "ssh" && cfg.link) { problems.push(`link: shaping applies to the local site only; remove it for site 'ssh'`); }
    return problems;
}

/**
 * The migrations run in order, so each one starts where the previous ones left its guest
 * (at first, the guest's home): the rules follow every guest along its path.
 */
function migrationProblems(cfg: LabConfig, hostNames: Set<string>, guestNames: Map<string, number>, nodeNames: Set<string>): string[] {
    const problems: string[] = [];
    const hostList = [...hostNames].join(", ");
    const where = new Map(cfg.guests.map((g) => [g.name, { host: g.home, after: "" }]));
    for (const { m, at } of migrationEntries(cfg)) {
        if (m.drain) {
            const d = placeDrain(cfg, m.drain, at, new Map([...where].map(([g, w]) => [g, w.host])));
            problems.push(...drainFieldProblems(m, at), ...d.problems);
            if (!m.roundTrip) { for (const mv of d.moves) { where.set(mv.guest, { host: mv.to, after: at }); } }
            const visits = [m.drain.host, ...drainDestinations(m.drain, [...hostNames])];
            problems.push(...optionProblems(cfg, m, at, m.roundTrip, visits, nodeNames, true).filter((x) => !problems.includes(x)));
            continue;
        }
        const guest = cfg.guests.find((g) => g.name === m.guest);
        if (!guest) { problems.push(`${at}.guest: '${m.guest}' is not one of the guests (${[...guestNames.keys()].join(", ")})`); }
        const path = migrationPath(m);
        const field = (k: number) => (m.path ? `${at}.path[${k}]` : `${at}.${k === 0 ? "from" : "to"}`);
        let known = true;
        path.forEach((h, k) => {
            if (!hostNames.has(h)) { problems.push(`${field(k)}: '${h}' is not one of the hosts (${hostList})`); known = false; }
            else if (k > 0 && h === path[k - 1]) {
                problems.push(m.path ? `${field(k)}: '${h}' again; each step must go to another host` : `${at}.to: must differ from ${at}.from ('${h}')`);
            }
        });
        const at0 = guest ? where.get(guest.name)! : undefined;
        if (guest && at0 && known && path[0] !== at0.host) {
            problems.push(at0.after === ""
                ? `${field(0)}: '${path[0]}' is not where guest '${guest.name}' is declared (home: '${guest.home}'); migrate from its home`
                : `${field(0)}: '${path[0]}' is not where guest '${guest.name}' is then ('${at0.host}', after ${at0.after}); start there`);
        }
        const closed = m.roundTrip || path[path.length - 1] === path[0];
        if (guest && at0) { where.set(guest.name, { host: closed ? path[0] : path[path.length - 1], after: at }); }
        // A bound of the lab's that no migration can measure is said once, not once per migration.
        problems.push(...optionProblems(cfg, m, at, closed, path, nodeNames, false).filter((x) => !problems.includes(x)));
    }
    return problems;
}

/** A migration's (or drain's) options, SLA and probe host; `visits`: the hosts its guests run on during it. */
function optionProblems(cfg: LabConfig, m: MigrationConfig, at: string, closed: boolean, visits: string[], nodeNames: Set<string>, drain: boolean): string[] {
    const problems = [...migrationOptionProblems(m, at, closed), ...slaProblems(m.sla, cfg.sla, at, {
        closed, timeline: m.timelineIntervalMs > 0, drain,
        noProbe: cfg.topology === "nat" ? "topology 'nat' has none (no node outside the guest's host reaches it): remove the bound" : undefined,
    })];
    if (m.probeHost !== undefined) {
        if (!nodeNames.has(m.probeHost)) { problems.push(`${at}.probeHost: '${m.probeHost}' is not a node of the lab`); }
        else if (visits.includes(m.probeHost)) { problems.push(`${at}.probeHost: must be none of the hosts the guest${drain ? "s visit" : " visits"} (${visits.join(", ")})`); }
    }
    return problems;
}

// The migration's own fields, checked by the same schema when a Migration is declared
// without a stack config (its guest, from and to are resources there, not names).
const migrationSchema = {
    type: "object", additionalProperties: false, definitions: schema.definitions,
    properties: Object.fromEntries(Object.entries(schema.properties.migration.properties)
        .filter(([k]) => !["guest", "from", "to", "path", "drain", "probeHost"].includes(k))),
};
const validateMigration = ajv.compile(migrationSchema);

/**
 * A migration's options with the schema's defaults filled in, and every problem the
 * schema and the migration rules find, as "field: problem" lines. `pathCloses`: the
 * hosts it visits end where they start, so runs may repeat without roundTrip. `probe`: a
 * node pings the guest, so the SLA may bound what it measures.
 */
export function checkMigrationOptions(raw: Record<string, unknown>, pathCloses = false, probe = true, drain = false): { options: MigrationConfig; problems: string[] } {
    const value = JSON.parse(JSON.stringify(raw));
    const problems = validateMigration(value) ? [] : [...new Set((validateMigration.errors ?? []).map(describe))];
    const m = value as MigrationConfig;
    if (problems.length === 0) {
        const closed = m.roundTrip || pathCloses;
        problems.push(...migrationOptionProblems(m, "", closed),
            ...slaProblems(m.sla, undefined, "", { closed, timeline: m.timelineIntervalMs > 0, drain, noProbe: probe ? undefined : `this ${drain ? "Drain" : "Migration"} has none: give it a probe, or remove the bound` }));
    }
    return { options: m, problems };
}
