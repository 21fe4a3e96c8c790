import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { NodeConnection, childOpts } from "./connection";
import { Host, HostArgs } from "./host";
import { ArgChecks, cidrMsg, ipMsg, isCidr, isCount, isIpv4, isName, nameMsg } from "./validate";
import { cidrOf, fnv1a } from "../model/net";
import { Plan, Role } from "../model/plan";
import { GuestAttachment, LOCAL_MIGRATION_TLS_DIR, LocalSiteSpec, localSiteScript } from "../render";
import { localSiteProbe } from "../render/drift";
import { DriftWatch, watched } from "./drift";
import type { Reach, Site } from "./site";

export interface LocalSiteNodeArgs {
    name: string;
    /** host (default): a hypervisor with its own libvirt daemon; nfs; outside: a plain node. */
    role?: Role;
    /** The node's addresses as CIDRs, one link each; nodes whose addresses share a subnet share a segment. The first is its main address. */
    addresses: string[];
    /** Default gateway, if the site routes. */
    gateway?: string;
}

export interface LocalSiteArgs {
    /** A short id ([a-z0-9], at most 6 characters): every namespace, link and path of the site is named after it. */
    id: string;
    nodes: LocalSiteNodeArgs[];
    /**
     * How hypervisor hosts hold their uplink: `bridge` (default) a Linux bridge `br-lab` guests
     * join, `plain` an address on eth0 (guests behind NAT), `ovs` left to an OvsBridge.
     */
    hostUplink?: "bridge" | "plain" | "ovs";
    /** The links' MTU; give room for tunnel headers under an overlay (1600). Default 1500. */
    linkMtu?: number;
    /** Nodes that forward packets (routers). */
    forward?: string[];
    /** Static routes: on `node`, `dest` (CIDR) via `via`. */
    routes?: { node: string; dest: string; via: string }[];
    /** Egress shaping of every link: rate (tc tbf, e.g. "1gbit"), delay and loss where the kernel has netem. */
    link?: { rate?: string; delayMs?: number; lossPercent?: number };
    /** The first node's sshd port on 127.0.0.1 (the next nodes get the next ports). Default from the id. */
    basePort?: number;
    /** Default /var/lib/miglab/<id>. */
    stateDir?: string;
    /** Values the site waits for before it makes anything (a MachinePreflight's `passed`): it is not made if one fails. */
    after?: pulumi.Input<unknown>[];
    /**
     * Whose lab this is on the machine: default the program's directory. A lab of the same id
     * that is up for another (existing) owner is not taken over: the up fails, saying whose it is.
     */
    owner?: string;
}

/**
 * Turns this machine into a lab site: a network namespace (with its own mount
 * namespace, sshd and, for hosts, libvirt daemon) per node, veth links to a switch
 * namespace per subnet, optional tc shaping. Each node's sshd is reachable only on a
 * loopback port. Destroy removes every namespace, daemon, mount and link it made.
 * Needs root.
 */
export class LocalSite extends pulumi.ComponentResource implements Site {
    /** Connection per node name. */
    readonly connections: Record<string, NodeConnection>;
    readonly privateKey: pulumi.Output<string>;
    /** The key file every node holds and accepts: hosts reach each other with it. */
    readonly peerKeyPath: string;
    readonly stateDir: string;
    readonly spec: LocalSiteSpec;
    /** Where each host's libvirt takes QEMU's migration TLS files from (MigrationTls's expectDir). */
    readonly migrationTlsDir = LOCAL_MIGRATION_TLS_DIR;
    /** The hosts are namespaces on this machine: OVS takes eth0 as they were made, its daemons run here, in them. */
    readonly ovs = { uplink: "eth0", ownDaemons: true };
    /** Every namespace sees this machine's filesystem: a dir pool is the export's directory itself. */
    readonly poolMountsExport = false;
    /** The site script has made every node with its key and sshd: nothing else to wait for. */
    readonly ready: pulumi.Resource[] = [];

    constructor(name: string, args: LocalSiteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:site:LocalSite", name, {}, opts);
        const v = new ArgChecks("LocalSite", name);
        v.check(typeof args.id === "string" && /^[a-z0-9]{1,6}$/.test(args.id), "id",
            `'${args.id}' must be 1 to 6 lowercase letters or digits (interface names derived from it stay under 15 characters)`);
        v.check(Array.isArray(args.nodes) && args.nodes.length > 0, "nodes", "must list the site's nodes");
        const nodes = args.nodes ?? [];
        const names = nodes.map((n) => n.name);
        nodes.forEach((n, i) => {
            v.check(isName(n.name), `nodes[${i}].name`, `'${n.name}' ${nameMsg}`);
            v.check(names.indexOf(n.name) === i, `nodes[${i}].name`, `'${n.name}' is already the name of nodes[${names.indexOf(n.name)}]`);
            v.check(["host", "nfs", "outside", undefined].includes(n.role), `nodes[${i}].role`, `'${n.role}' must be one of 'host', 'nfs', 'outside'`);
            v.check(Array.isArray(n.addresses) && n.addresses.length > 0, `nodes[${i}].addresses`, "must give at least one address as a CIDR");
            (n.addresses ?? []).forEach((a, j) => v.check(isCidr(a), `nodes[${i}].addresses[${j}]`, `'${a}' ${cidrMsg}`));
            v.check(n.gateway === undefined || isIpv4(n.gateway), `nodes[${i}].gateway`, `'${n.gateway}' ${ipMsg}`);
        });
        const uplink = args.hostUplink ?? "bridge";
        v.check(["bridge", "plain", "ovs"].includes(uplink), "hostUplink", `'${uplink}' must be 'bridge', 'plain' or 'ovs'`);
        const basePort = args.basePort ?? 22000 + (fnv1a(args.id ?? "") % 900) * 10;
        v.check(isCount(basePort, 1024, 65535 - nodes.length), "basePort", `${basePort} must leave a port per node below 65536`);
        for (const f of args.forward ?? []) { v.check(names.includes(f), "forward", `'${f}' is not one of the nodes`); }
        for (const r of args.routes ?? []) { v.check(names.includes(r.node), "routes", `'${r.node}' is not one of the nodes`); }
        v.done(this);
        // Segments are the distinct subnets, named a, b, ... in the order first seen.
        const segments = new Map<string, string>();
        const segmentOf = (cidr: string) => {
            const [ip, bits] = cidr.split("/");
            const net = cidrOf(ip, Number(bits));
            if (!segments.has(net)) { segments.set(net, String.fromCharCode(97 + segments.size)); }
            return segments.get(net)!;
        };
        this.stateDir = args.stateDir ?? `/var/lib/miglab/${args.id}`;
        this.spec = {
            labId: args.id, stateDir: this.stateDir, owner: args.owner ?? process.cwd(), hostUplink: uplink, linkMtu: args.linkMtu ?? 1500,
            forward: args.forward ?? [], routes: args.routes ?? [], link: args.link,
            nodes: nodes.map((n, i) => ({
                name: n.name, role: n.role ?? "host", port: basePort + i, gateway: n.gateway,
                links: n.addresses.map((cidr) => ({ segment: segmentOf(cidr), cidr })),
            })),
        };
        // A node's namespace or daemon gone by hand: refresh sees it, the next up runs the site script again.
        const watch = new DriftWatch(`${name}-drift`, {
            what: "the lab's namespaces and daemons", probe: localSiteProbe(this.spec), targets: [{ name: "this machine" }], want: "all",
        }, { parent: this });
        const up = pulumi.all([watched(watch.token, localSiteScript(this.spec, "up")), ...(args.after ?? [])]).apply(([script]) => script as string);
        const site = new command.local.Command(`${name}-namespaces`, {
            create: up,
            update: up,
            delete: localSiteScript(this.spec, "down"),
            interpreter: ["/bin/bash", "-c"],
        }, childOpts(this));
        this.peerKeyPath = `${this.stateDir}/ssh/id_ed25519`;
        // The key is made on this machine by the site script; read it back as a secret.
        const key = new command.local.Command(`${name}-key`, {
            create: `cat ${this.peerKeyPath}`,
            triggers: [site.id],
            // It prints the private key: never into `pulumi up`'s log.
            logging: "none",
        }, childOpts(this, { dependsOn: [site], additionalSecretOutputs: ["stdout"] }));
        this.privateKey = pulumi.secret(key.stdout);
        this.connections = {};
        for (const n of this.spec.nodes) {
            this.connections[n.name] = { host: "127.0.0.1", port: n.port, user: "root", privateKey: this.privateKey };
        }
        this.registerOutputs({ privateKey: this.privateKey });
    }

    /** A directory of this node's own on this machine, for its daemons' state (e.g. NfsServer's stateDir for ganesha). */
    nodeDir(node: string): string {
        this.node(node);
        return `${this.stateDir}/nodes/${node}`;
    }

    /** The site makes every node, router and link itself: nothing of a team's to check. */
    hostReach(_plan: Plan): Reach[] | undefined { return undefined; }

    networkChecks(): pulumi.Resource[] { return []; }

    /** The site script made the bridge with the host (hostUplink "bridge"): the host is what guests wait for. */
    joinGuestBridge(_name: string, host: Host): pulumi.Resource { return host; }

    /** ganesha runs in the NFS node's namespace, its files in the node's own directory. */
    nfsStateDir(node: string): string { return `${this.nodeDir(node)}/ganesha`; }

    /** Where guests plug in on hosts whose uplink is a Linux bridge (hostUplink "bridge"): a Domain's network. */
    get guestBridge(): GuestAttachment {
        if (this.spec.hostUplink !== "bridge") {
            throw new pulumi.ResourceError(`LocalSite: hosts have no guest bridge with hostUplink '${this.spec.hostUplink}'; ` +
                "give the guests a NatNetwork or an OvsBridge", this);
        }
        return { kind: "bridge", bridge: "br-lab" };
    }

    private node(name: string) {
        const n = this.spec.nodes.find((x) => x.name === name);
        if (!n) { throw new pulumi.ResourceError(`LocalSite: '${name}' is not one of its nodes (${this.spec.nodes.map((x) => x.name).join(", ")})`, this); }
        return n;
    }

    /** The args of a Host for one node of this site: `new Host("pc1", site.hostArgs("pc1"))`. */
    hostArgs(node: string): HostArgs {
        const n = this.node(node);
        return {
            connection: this.connections[node], address: n.links[0].cidr.split("/")[0], role: n.role,
            hostname: n.name, peerKeyPath: this.peerKeyPath,
        };
    }
}
