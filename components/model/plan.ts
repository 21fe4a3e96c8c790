// Config -> plan: every name, address, port, route and path the lab uses, decided
// in one pure function so resources and tests see the same answers.
import { GuestConfig, LabConfig, MigrationConfig, NodeConfig, migrationEntries, migrationPath } from "./config";
import { DrainMove, drainWaits, placeDrain } from "./drain";
import { cidrOf, fnv1a, intToIp, macFor, networkOf, routerAddressIn, uuidFor } from "./net";
import { Connection, HostSsh, NfsServerKind, SharedPool, planSite } from "./sitePlan";

export type Role = "host" | "nfs" | "outside";

export interface Link { segment: string; cidr: string }

export interface PlannedNode {
    name: string;
    role: Role;
    /** The node's main (first) address, the one other nodes use. */
    address: string;
    prefix: number;
    /** Every segment the node joins, with its address there (the router joins several). */
    links: Link[];
    /** Default gateway, if the topology routes. */
    gateway?: string;
    /** How the program reaches the node's sshd. */
    connect: Connection;
}

/** How guests attach to the network on every host. */
export type GuestNetwork =
    | { kind: "bridge"; bridge: string }
    | { kind: "nat"; network: string; bridge: string; subnet: string; gateway: string; mac: string }
    | { kind: "ovs"; network: string; bridge: string; subnet: string; gateway: string; gatewayHost: string; vni: number; tunnel: "vxlan" | "gre" };

/**
 * A guest's disk in a host's own pool (guests[].storage copy or copy-incremental): the same path
 * on every host; it moves with the guest (virsh migrate --copy-storage-all / -inc) and only the
 * host that runs the guest (or ran it last) holds it.
 */
export interface LocalDisk {
    storage: "copy" | "copy-incremental";
    /** The disk's path in the local pool, the same on every host. */
    path: string;
    /** How the home host makes it when there is none yet: an empty disk of sizeMiB, a copy of an image the hosts see, or an overlay over it. */
    make: { empty: number } | { copyOf: string } | { overlayOn: string };
    /** copy-incremental: the image every host holds (in the shared pool), the overlay's backing file. */
    backing?: string;
}

export interface PlannedGuest extends GuestConfig {
    uuid: string;
    mac: string;
    /** The disk QEMU opens: on the export over NFS (storage shared), or `local.path` (copy, copy-incremental). */
    disk: string;
    /** The disk on the export GuestImage makes or checks (shared: the disk itself; copy-incremental: its backing; copy of a qcow2: the image copied); none for a built-in copy guest. */
    exportDisk?: string;
    local?: LocalDisk;
    kernel?: string;     // direct-boot files in the pool, for the built-in image
    initrd?: string;
    /** The guest's prefix length, default gateway and the address it pings (nat, bridged). */
    prefix: number;
    gateway?: string;
    ping?: { address: string; intervalMs: number };
}

/** Where a guest that is not moving sits during a leg, and who can ask its counter there. */
export interface Bystander { guest: string; host: string }

/** One measured leg: a guest moving between two hosts, with the options of the migration it belongs to. */
export interface PlannedLeg {
    /** Unique in the lab: out/back (-run) for a single `migration`, else <guest>-<n>. */
    name: string;
    guest: string;
    from: string;
    to: string;
    /** The config path of the migration it belongs to ("migration" or "migrations[i]"). */
    at: string;
    migration: MigrationConfig;
    /** The node that pings the guest during the leg (neither source nor destination). */
    probe: string;
    /** Every other guest, where it runs meanwhile: it must keep working. */
    bystanders: Bystander[];
}

/** A drain of the config: where each guest goes, and its legs in the order they start. */
export interface PlannedDrain {
    /** The config path of its entry ("migrations[i]"). */
    at: string;
    host: string;
    parallel: number;
    /** Largest guest first: the order the legs out start in (and the legs back). */
    moves: DrainMove[];
    /** Its legs' names: out (one per move), then back (with roundTrip). */
    legs: string[];
    /** For each leg, the names of the legs it waits for (drainWaits). */
    waits: string[][];
}

export interface Plan {
    stack: string;
    labId: string;
    site: LabConfig["site"];
    topology: LabConfig["topology"];
    /** Where the local site keeps its state, keys and per-node daemons' files (on real hosts: the lab's files there). */
    stateDir: string;
    nodes: PlannedNode[];
    hosts: PlannedNode[];
    nfs: PlannedNode;
    /**
     * The node beyond the router whose address guests ping (nat and bridged): on the local
     * site a namespace of the lab's (in `nodes`); on site ssh the team's own, which miglab
     * only pings (not in `nodes`, no connection).
     */
    outside?: PlannedNode;
    probe: PlannedNode;
    /** Nodes that forward packets, and static routes ("node: destination via"). */
    forward: string[];
    routes: { node: string; dest: string; via: string }[];
    hostUplink: "bridge" | "plain" | "ovs";
    linkMtu: number;
    guestNetwork: GuestNetwork;
    /** The NFS export holding the guests' shared disks; undefined: the lab runs no NFS server (nfs.export omitted). */
    export?: string;
    /** Who may mount the export (none without one). */
    allowedNetworks: string[];
    /** The shared pool over the export on every host; undefined without an export. */
    pool?: SharedPool;
    /**
     * Where every host sees the built-in image's kernel and initramfs: the shared pool, or, in a
     * lab without an export, the local pool, in which each host keeps a copy it built itself.
     */
    boot: { dir: string; perHost: boolean };
    /**
     * Every host's own `dir` pool for the guests whose disks move with them (storage copy,
     * copy-incremental), at the same path on each; undefined when no guest's does.
     */
    localPool?: { name: string; target: string };
    /** The NFS server; undefined: the lab has no export and runs none. */
    nfsServer?: NfsServerKind;
    /** The key hosts use to reach each other (virsh's qemu+ssh, iperf3, the probe): the lab's own. */
    labKey: string;
    /** How hosts check each other's SSH host keys: site ssh verifies them against the recorded ones. */
    hostSsh: HostSsh;
    guests: PlannedGuest[];
    /** Every leg of every migration, in the order they run (a drain's: in the order they start). */
    legs: PlannedLeg[];
    drains: PlannedDrain[];
    /**
     * Migrations over TLS (migration.tls): the hosts they visit, each of which gets a
     * certificate, and the lab's CA, kept on the first of them; undefined when none is.
     */
    tls?: { hosts: string[]; caHost: string; caDir: string };
    /**
     * Where legs with migration.capture capture: the router's node (the local site's nat and
     * bridged labs: on its link towards each leg's source), else undefined: each leg's source, on
     * its own underlay link (real hosts' router is the team's). The pcaps go into `dir` there.
     */
    capture: { node?: string; dir: string };
    config: LabConfig;
}

/**
 * The legs of the migrations, in order, following each guest: a path's steps, one more
 * step back to its start with roundTrip (unless it ends there), all of it `runs` times.
 */
export function planLegs(cfg: LabConfig, defaultProbe: string): PlannedLeg[] {
    return planMigrations(cfg, defaultProbe).legs;
}

/** The legs, and the drains with their placement and schedule (a config parseLabConfig accepted places). */
export function planMigrations(cfg: LabConfig, defaultProbe: string): { legs: PlannedLeg[]; drains: PlannedDrain[] } {
    const legs: PlannedLeg[] = [];
    const drains: PlannedDrain[] = [];
    const where = new Map(cfg.guests.map((g) => [g.name, g.home]));
    const counts = new Map<string, number>();
    const single = cfg.migration !== undefined;
    const nameFor = (guest: string) => {
        const n = (counts.get(guest) ?? 0) + 1;
        counts.set(guest, n);
        return `${guest}-${n}`;
    };
    for (const { m, at } of migrationEntries(cfg)) {
        if (m.drain) {
            const { moves } = placeDrain(cfg, m.drain, at, where);
            const moving = new Set(moves.map((x) => x.guest));
            // The guests that stay put are the bystanders; the others move during the drain themselves.
            const bystanders = cfg.guests.filter((g) => !moving.has(g.name)).map((g) => ({ guest: g.name, host: where.get(g.name)! }));
            const steps = [...moves.map((x) => ({ guest: x.guest, from: m.drain!.host, to: x.to })),
                ...(m.roundTrip ? moves.map((x) => ({ guest: x.guest, from: x.to, to: m.drain!.host })) : [])];
            const names = steps.map((st) => nameFor(st.guest));
            steps.forEach((st, k) => legs.push({ name: names[k], ...st, at, migration: m, probe: m.probeHost ?? defaultProbe, bystanders }));
            drains.push({
                at, host: m.drain.host, parallel: m.drain.parallel, moves, legs: names,
                waits: drainWaits(moves.length, m.drain.parallel, m.roundTrip).map((w) => w.map((k) => names[k])),
            });
            if (!m.roundTrip) { for (const x of moves) { where.set(x.guest, x.to); } }
            continue;
        }
        const guest = m.guest!;
        const path = migrationPath(m);
        const steps = m.roundTrip && path[path.length - 1] !== path[0] ? [...path, path[0]] : path;
        for (let run = 1; run <= m.runs; run++) {
            for (let k = 1; k < steps.length; k++) {
                const n = nameFor(guest);
                // A single from/to migration keeps the leg names scripts/lab --remeasure looks for.
                const name = single && !m.path ? `${k === 1 ? "out" : "back"}${m.runs > 1 ? `-${run}` : ""}` : n;
                legs.push({
                    name, guest, from: steps[k - 1], to: steps[k], at, migration: m,
                    probe: m.probeHost ?? defaultProbe,
                    bystanders: cfg.guests.filter((g) => g.name !== guest).map((g) => ({ guest: g.name, host: where.get(g.name)! })),
                });
                where.set(guest, steps[k]);
            }
        }
    }
    return { legs, drains };
}

/** A short id for the stack's lab; interface names derived from it stay under Linux's 15 characters. */
export function labIdFor(stack: string): string {
    return `m${fnv1a(stack).toString(36).padStart(5, "0").slice(0, 5)}`;
}

export { routerAddressIn };

export function planLab(cfg: LabConfig, stack: string): Plan {
    const labId = labIdFor(stack);
    const stateDir = `/var/lib/miglab/${labId}`;
    const basePort = 22000 + (fnv1a(stack) % 900) * 10;
    const routed = cfg.topology !== "same-subnet";
    // Segments are the distinct subnets, named a, b, ... in the order first seen.
    const segments = new Map<string, string>();
    const segmentOf = (ip: string, prefix: number) => {
        const net = cidrOf(ip, prefix);
        if (!segments.has(net)) { segments.set(net, String.fromCharCode(97 + segments.size)); }
        return segments.get(net)!;
    };
    const site = planSite({ cfg, labId, stateDir, basePort });
    const connect = site.connect;
    const nfsCfg = cfg.nfs.host;
    // In the routed topologies, a site that makes the router makes it on the NFS server's node;
    // else the hosts keep the routes their network gives them.
    const makesRouter = routed && site.makesRouter;
    const gatewayFor = (h: NodeConfig) => !makesRouter ? undefined
        : cidrOf(h.address, h.prefix) === cidrOf(nfsCfg.address, nfsCfg.prefix) ? nfsCfg.address : routerAddressIn(h.address, h.prefix);
    const hosts: PlannedNode[] = cfg.hosts.map((h, i) => ({
        name: h.name, role: "host", address: h.address, prefix: h.prefix,
        links: [{ segment: segmentOf(h.address, h.prefix), cidr: `${h.address}/${h.prefix}` }],
        gateway: gatewayFor(h), connect: connect(h, i),
    }));
    const nfsLinks: Link[] = [{ segment: segmentOf(nfsCfg.address, nfsCfg.prefix), cidr: `${nfsCfg.address}/${nfsCfg.prefix}` }];
    let outside: PlannedNode | undefined;
    if (routed && !makesRouter) {
        const o = cfg.outside;
        outside = {
            name: "outside", role: "outside", address: o.address, prefix: o.prefix, links: [],
            connect: { host: o.address, port: 0, user: "" },
        };
    } else if (routed) {
        for (const h of cfg.hosts) {
            const seg = segmentOf(h.address, h.prefix);
            if (!nfsLinks.some((l) => l.segment === seg)) { nfsLinks.push({ segment: seg, cidr: `${routerAddressIn(h.address, h.prefix)}/${h.prefix}` }); }
        }
        const o = cfg.outside;
        const routerOutside = intToIp(networkOf(o.address, o.prefix) + (o.address.endsWith(".1") ? 2 : 1));
        nfsLinks.push({ segment: segmentOf(o.address, o.prefix), cidr: `${routerOutside}/${o.prefix}` });
        outside = {
            name: "outside", role: "outside", address: o.address, prefix: o.prefix,
            links: [{ segment: segmentOf(o.address, o.prefix), cidr: `${o.address}/${o.prefix}` }],
            gateway: routerOutside, connect: connect({ name: "outside", address: o.address, prefix: o.prefix }, hosts.length + 1),
        };
    }
    const nfs: PlannedNode = {
        name: nfsCfg.name, role: "nfs", address: nfsCfg.address, prefix: nfsCfg.prefix, links: nfsLinks,
        connect: connect(nfsCfg, hosts.length),
    };
    const nodes = [...hosts, nfs, ...(outside && makesRouter ? [outside] : [])];
    // The default probe: the NFS server, a node no guest runs on (a migration may name another).
    const probe = nfs;

    let guestNetwork: GuestNetwork;
    const routes: Plan["routes"] = [];
    if (cfg.topology === "nat") {
        guestNetwork = { kind: "nat", ...cfg.nat };
    } else if (cfg.topology === "bridged") {
        const o = cfg.overlay;
        const gatewayHost = o.gatewayHost ?? cfg.hosts[0].name;
        guestNetwork = {
            kind: "ovs", network: o.network, bridge: o.bridge, subnet: o.subnet, gateway: o.gateway,
            gatewayHost, vni: o.vni, tunnel: o.tunnel,
        };
        // The overlay reaches the rest of the lab through its gateway host (a team's router is told so by the team).
        if (makesRouter) { routes.push({ node: nfs.name, dest: o.subnet, via: hosts.find((h) => h.name === gatewayHost)!.address }); }
    } else {
        guestNetwork = { kind: "bridge", bridge: "br-lab" };
    }

    const exp = cfg.nfs.export;
    const shared = exp === undefined || !cfg.pool ? undefined : site.shared(exp, cfg.pool);
    const pool = shared?.pool;
    const guestPrefix = guestNetwork.kind === "bridge" ? cfg.hosts[0].prefix : Number(guestNetwork.subnet.split("/")[1]);
    // Under libvirt's own directory, which each local-site node has to itself (a bind mount of its state).
    const localPool = cfg.guests.some((g) => g.storage !== "shared")
        ? { name: `local-${labId}`, target: `/var/lib/libvirt/images/miglab-${labId}` } : undefined;
    // The rules leave a lab without a pool only with copy guests, so with a local pool.
    const boot = pool ? { dir: pool.target, perHost: false } : { dir: localPool!.target, perHost: true };
    const guests = cfg.guests.map((g): PlannedGuest => {
        const builtin = g.image.qcow2 === undefined;
        const image = builtin ? `${g.name}.qcow2` : g.image.qcow2!;
        const onExport = exp === undefined ? undefined : `${exp}/${image}`;
        // The hosts see the export's files in the shared pool: the base they copy or overlay.
        const seen = `${pool?.target}/${image}`;
        const local: LocalDisk | undefined = g.storage === "shared" ? undefined : {
            storage: g.storage, path: `${localPool!.target}/${g.name}.qcow2`,
            make: g.storage === "copy-incremental" ? { overlayOn: seen } : builtin ? { empty: g.image.diskMiB } : { copyOf: seen },
            ...(g.storage === "copy-incremental" ? { backing: seen } : {}),
        };
        const disk = local ? local.path : onExport!;
        // As in the reference lab, the guest pings the outside while it migrates (nat, bridged).
        const own = cfg.migrations.find((m) => m.guest === g.name) ?? cfg.migrations[0];
        const routedGuest = guestNetwork.kind === "bridge" ? {} : {
            gateway: guestNetwork.gateway, ping: { address: outside!.address, intervalMs: own.guestPingIntervalMs },
        };
        const planned: PlannedGuest = {
            ...g, uuid: uuidFor(`${stack}/${g.name}`), mac: g.mac ?? macFor(`${stack}/${g.name}`), disk, prefix: guestPrefix, ...routedGuest,
            ...(local && builtin && g.storage === "copy" ? {} : { exportDisk: onExport! }), ...(local ? { local } : {}),
        };
        if (builtin) {
            planned.kernel = `${boot.dir}/miglab-tiny-vmlinuz`;
            planned.initrd = `${boot.dir}/miglab-tiny-initrd.img`;
        }
        return planned;
    });
    const migrations = planMigrations(cfg, nfs.name);
    const tlsVisits = new Set(migrations.legs.filter((l) => l.migration.tls).flatMap((l) => [l.from, l.to]));
    const tlsHosts = hosts.map((h) => h.name).filter((h) => tlsVisits.has(h));
    return {
        stack, labId, site: cfg.site, topology: cfg.topology, stateDir, nodes, hosts, nfs, outside, probe,
        forward: makesRouter ? [nfs.name] : [],
        routes,
        hostUplink: cfg.topology === "same-subnet" ? "bridge" : cfg.topology === "nat" ? "plain" : "ovs",
        linkMtu: cfg.topology === "bridged" ? 1600 : 1500,
        guestNetwork,
        export: exp,
        allowedNetworks: exp === undefined ? [] : cfg.nfs.allowedNetworks ?? [...new Set(hosts.concat(nfs).map((n) => cidrOf(n.address, n.prefix)))],
        pool, localPool, boot,
        nfsServer: shared?.nfsServer, labKey: site.labKey, hostSsh: site.hostSsh,
        guests, ...migrations, config: cfg,
        tls: tlsHosts.length ? { hosts: tlsHosts, caHost: tlsHosts[0], caDir: `${stateDir}/tls-ca` } : undefined,
        capture: { node: makesRouter ? nfs.name : undefined, dir: `${stateDir}/captures` },
    };
}
