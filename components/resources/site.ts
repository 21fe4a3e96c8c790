// A site is where a lab's nodes are: this machine's namespaces (LocalSite), a team's machines
// over SSH (SshSite). Lab asks a site everything that differs between them through this
// interface and makes its site with `makeSite`: a new kind of site is a new component that
// implements Site, and one entry in SITE_KINDS.
import * as pulumi from "@pulumi/pulumi";
import type { LabConfig } from "../model/config";
import type { Plan } from "../model/plan";
import type { NodeConnection } from "./connection";
import type { Host, HostArgs } from "./host";
import type { OvsBridgeArgs } from "./ovsBridge";
import { LocalSite } from "./localSite";
import { MachinePreflight } from "./preflight";
import { SshSite } from "./sshSite";

/** What a host must reach before it gets a network or a guest, and why the lab needs it (said when it does not). */
export interface Reach { address: string; why: string }

export interface Site extends pulumi.ComponentResource {
    /** How the program reaches each node's sshd, by node name. */
    readonly connections: Record<string, NodeConnection>;
    /** The args of the Host of one node: its connection, address, role and the files it reaches its peers with. */
    hostArgs(node: string): HostArgs;
    /**
     * Addresses every hypervisor host of the plan must reach before it gets a network or a guest:
     * parts of the network the site does not make itself (a team's outside node); none where it makes them.
     */
    hostReach(plan: Plan): Reach[] | undefined;
    /** How Open vSwitch sits on the site's hosts: the NIC that carries the underlay, where it keeps state, who runs its daemons. */
    readonly ovs: Pick<OvsBridgeArgs, "uplink" | "stateDir" | "ownDaemons">;
    /**
     * What puts a host's lab interface into the guests' Linux bridge: a resource made here, or the
     * host itself where the site made the bridge with the host.
     */
    joinGuestBridge(name: string, host: Host, bridge: string, opts: pulumi.ComponentResourceOptions): pulumi.Resource;
    /**
     * Checks, once the guests' networks are up, of what carries them that the site does not make
     * (a team's router routing the overlay): resources the guests wait for; none where the site makes it all.
     */
    networkChecks(name: string, plan: Plan, networks: pulumi.Resource[], opts: pulumi.CustomResourceOptions): pulumi.Resource[];
    /** Where the NFS server on `node` keeps its own state when the site runs it (ganesha in a namespace); undefined: the service's own place. */
    nfsStateDir(node: string): string | undefined;
    /** A `dir` pool is a directory over the export the hosts see as it is (false), or a mount of it the pool keeps (true). */
    readonly poolMountsExport: boolean;
    /** Where each host's libvirt takes QEMU's migration TLS files from, when the site decides it (MigrationTls's expectDir). */
    readonly migrationTlsDir?: string;
    /** What must be in place on every node before guests and their certificates are made (the site's trust), beyond the hosts. */
    readonly ready: pulumi.Resource[];
}

/** Makes the site of one kind for a plan, as a child of a Lab. */
export type SiteMaker = (name: string, plan: Plan, config: LabConfig, opts: pulumi.ComponentResourceOptions) => Site;

/** Every kind of site `site` in the config may name: one entry per kind. */
export const SITE_KINDS: Record<LabConfig["site"], SiteMaker> = {
    // This machine is asked first what it can do (its kernel's tc features, its memory): the site waits for it.
    local: (name, plan, config, opts) => new LocalSite(name, {
        after: [new MachinePreflight(`${name}-preflight`, { config }, opts).passed],
        id: plan.labId, stateDir: plan.stateDir, basePort: plan.nodes[0].connect.port,
        nodes: plan.nodes.map((n) => ({ name: n.name, role: n.role, addresses: n.links.map((l) => l.cidr), gateway: n.gateway })),
        hostUplink: plan.hostUplink, linkMtu: plan.linkMtu, forward: plan.forward, routes: plan.routes, link: plan.config.link,
    }, opts),
    ssh: (name, plan, config, opts) => new SshSite(name, {
        id: plan.labId,
        nodes: config.hosts.concat(config.nfs.host).map((n) => ({
            name: n.name, address: n.address, role: plan.nodes.find((p) => p.name === n.name)!.role,
            host: n.ssh!.host, port: n.ssh!.port, user: n.ssh!.user, privateKey: n.ssh!.privateKey, hostKey: n.ssh!.hostKey,
        })),
        stateDir: plan.stateDir,
    }, opts),
};

/** The site a plan names, made by its kind's entry in SITE_KINDS. */
export function makeSite(name: string, plan: Plan, config: LabConfig, opts: pulumi.ComponentResourceOptions): Site {
    const make = SITE_KINDS[plan.site];
    if (!make) {
        throw new pulumi.RunError(`site: '${plan.site}' is not a kind of site miglab knows (${Object.keys(SITE_KINDS).join(", ")})`);
    }
    return make(name, plan, config, opts);
}
