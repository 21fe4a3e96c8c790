// What of the plan depends on the kind of site: how the program reaches a node, whether the
// site makes the routed topologies' router, the shared pool, the NFS server, the lab's key and
// how hosts trust each other's host keys. One entry per kind in SITE_PLANS, read by planLab,
// which has no branch on the kind; a new kind is one entry here (and one in resources/site.ts's
// SITE_KINDS for what it builds).
import type { LabConfig, NodeConfig } from "./types";

/** The lab's shared pool as configured (required with an export). */
type PoolConfig = NonNullable<LabConfig["pool"]>;

/** How the program reaches a node's sshd. */
export interface Connection { host: string; port: number; user: string }

/** The storage pool every host shares, over the NFS export. */
export interface SharedPool { name: string; type: "dir" | "netfs"; target: string }

/** The NFS server: nfs-ganesha run by the local site itself, the packaged nfs-ganesha service of a real host, or nfs-kernel-server. */
export type NfsServerKind = "ganesha" | "ganesha-service" | "kernel";

/** How hosts check each other's SSH host keys (ssh's options, and virsh's qemu+ssh URI parameters). */
export interface HostSsh { options: string; uriParams: string; knownHosts?: string; configFile?: string }

/** What a site's entry is given: the parsed config and the names planLab derived from the stack. */
export interface SiteContext {
    cfg: LabConfig;
    labId: string;
    /** Where the lab keeps its state, keys and per-node daemons' files (on real hosts: the lab's files there). */
    stateDir: string;
    /** The first of the stack's ports for the local site's sshds, one per node from here. */
    basePort: number;
}

/** The site-dependent part of a plan. */
export interface SitePlan {
    /** How the program reaches `node`, the index-th of the lab's nodes (hosts, the NFS server, then the outside). */
    connect(node: NodeConfig, index: number): Connection;
    /** In nat and bridged: the site makes the router itself (the NFS server's node), else the network's own routes serve. */
    makesRouter: boolean;
    /**
     * The storage every host shares over the lab's NFS export: the pool over it and the server that
     * serves it. Asked only of a lab with an export (nfs.export given; without one, no NFS at all).
     */
    shared(exportDir: string, pool: PoolConfig): { pool: SharedPool; nfsServer: NfsServerKind };
    /** The key hosts use to reach each other (virsh's qemu+ssh, iperf3, the probe): the lab's own. */
    labKey: string;
    hostSsh: HostSsh;
}

export const SITE_PLANS: Record<LabConfig["site"], (site: SiteContext) => SitePlan> = {
    // Namespaces on this machine: sshds on loopback ports, the NFS server routing between subnets
    // (as in the reference lab). The local kernel cannot mount NFS: the pool is a directory pool
    // over the export itself, which every host namespace sees. Nodes are made anew with new host
    // keys, so they trust each other by the lab key alone.
    local: ({ cfg, stateDir, basePort }) => ({
        connect: (_node, index) => ({ host: "127.0.0.1", port: basePort + index, user: "root" }),
        makesRouter: true,
        shared: (exportDir, pool) => ({ pool: { name: pool.name, type: "dir", target: exportDir }, nfsServer: "ganesha" }),
        labKey: `${stateDir}/ssh/id_ed25519`,
        hostSsh: { options: "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null", uriParams: "&no_verify=1" },
    }),
    // Real machines: their own sshd, the team's router, libvirt mounting the export, and each
    // other's recorded host keys (HostTrust installs them).
    ssh: ({ cfg, labId }) => {
        const knownHosts = `/root/.ssh/miglab-${labId}.known_hosts`;
        return {
            connect: (node) => ({ host: node.ssh!.host ?? node.address, port: node.ssh!.port, user: node.ssh!.user }),
            makesRouter: false,
            shared: (_exportDir, pool) => ({
                pool: { name: pool.name, type: pool.type ?? "netfs", target: pool.path },
                nfsServer: cfg.nfs.server === "ganesha" ? "ganesha-service" : "kernel",
            }),
            labKey: `/root/.ssh/miglab-${labId}`,
            hostSsh: {
                options: `-o StrictHostKeyChecking=yes -o UserKnownHostsFile=${knownHosts} -o IdentitiesOnly=yes`,
                uriParams: "", knownHosts, configFile: `/etc/ssh/ssh_config.d/miglab-${labId}.conf`,
            },
        };
    },
};

/** The site-dependent part of the plan for the config's site kind. */
export function planSite(site: SiteContext): SitePlan {
    const make = SITE_PLANS[site.cfg.site];
    if (!make) { throw new Error(`site: '${site.cfg.site}' is not a kind of site miglab knows (${Object.keys(SITE_PLANS).join(", ")})`); }
    return make(site);
}
