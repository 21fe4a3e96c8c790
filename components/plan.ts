// Config -> plan: every name, address, port and path the lab uses, decided in
// one pure function so resources and tests see the same answers.
import { GuestConfig, LabConfig, NodeConfig } from "./config";
import { cidrOf, macFor, uuidFor } from "./net";

export type Role = "host" | "nfs";

export interface PlannedNode {
    name: string;
    role: Role;
    address: string;
    prefix: number;
    /** How the program reaches the node's sshd. */
    connect: { host: string; port: number; user: string };
}

export interface PlannedGuest extends GuestConfig {
    uuid: string;
    mac: string;
    disk: string;        // path of the disk on the export (what QEMU opens over NFS)
    kernel?: string;     // direct-boot files in the pool, for the built-in image
    initrd?: string;
    cmdline?: string;
}

export interface Plan {
    stack: string;
    labId: string;
    site: LabConfig["site"];
    /** Where the local site keeps its state, keys and per-node daemons' files. */
    stateDir: string;
    nodes: PlannedNode[];
    hosts: PlannedNode[];
    nfs: PlannedNode;
    probe: PlannedNode;
    export: string;
    allowedNetworks: string[];
    pool: { name: string; type: "dir" | "netfs"; target: string };
    /** Key every node accepts, and that hosts use to reach each other (local site). */
    labKey: string;
    guests: PlannedGuest[];
    config: LabConfig;
}

function hash(text: string): number {
    let h = 2166136261;
    for (const c of text) { h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0; }
    return h;
}

/** A short id for the stack's lab; interface names derived from it stay under Linux's 15 characters. */
export function labIdFor(stack: string): string {
    return `m${hash(stack).toString(36).padStart(5, "0").slice(0, 5)}`;
}

export function planLab(cfg: LabConfig, stack: string): Plan {
    const labId = labIdFor(stack);
    const stateDir = `/var/lib/miglab/${labId}`;
    const basePort = 22000 + (hash(stack) % 900) * 10;
    const node = (n: NodeConfig, role: Role, index: number): PlannedNode => ({
        name: n.name, role, address: n.address, prefix: n.prefix,
        connect: cfg.site === "local"
            ? { host: "127.0.0.1", port: basePort + index, user: "root" }
            : { host: n.address, port: n.ssh!.port, user: n.ssh!.user },
    });
    const hosts = cfg.hosts.map((h, i) => node(h, "host", i));
    const nfs = node(cfg.nfs.host, "nfs", hosts.length);
    const nodes = [...hosts, nfs];
    const probeName = cfg.migration.probeHost ?? nfs.name;
    const probe = nodes.find((n) => n.name === probeName)!;
    // The local kernel cannot mount NFS: there the pool is a directory pool over the
    // export itself (every host namespace sees the same filesystem); real hosts mount it.
    const pool = cfg.site === "local"
        ? { name: cfg.pool.name, type: "dir" as const, target: cfg.nfs.export }
        : { name: cfg.pool.name, type: "netfs" as const, target: cfg.pool.path };
    const guests = cfg.guests.map((g): PlannedGuest => {
        const builtin = g.image.qcow2 === undefined;
        const disk = `${cfg.nfs.export}/${builtin ? `${g.name}.qcow2` : g.image.qcow2}`;
        const planned: PlannedGuest = { ...g, uuid: uuidFor(`${stack}/${g.name}`), mac: g.mac ?? macFor(`${stack}/${g.name}`), disk };
        if (builtin) {
            planned.kernel = `${pool.target}/miglab-tiny-vmlinuz`;
            planned.initrd = `${pool.target}/miglab-tiny-initrd.img`;
            const w = g.workload;
            planned.cmdline = `console=ttyS0 quiet miglab.ip=${g.address}/${cfg.hosts[0].prefix} miglab.port=${g.counterPort}` +
                (w.dirtyMiBs > 0 ? ` miglab.dirty_mib_s=${w.dirtyMiBs} miglab.dirty_wss_mib=${w.workingSetMiB ?? w.dirtyMiBs}` : "");
        }
        return planned;
    });
    return {
        stack, labId, site: cfg.site, stateDir, nodes, hosts, nfs, probe,
        export: cfg.nfs.export,
        allowedNetworks: cfg.nfs.allowedNetworks ?? [...new Set(nodes.map((n) => cidrOf(n.address, n.prefix)))],
        pool,
        labKey: cfg.site === "local" ? `${stateDir}/ssh/id_ed25519` : "/root/.ssh/id_miglab",
        guests, config: cfg,
    };
}
