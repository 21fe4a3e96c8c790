import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { hostKeyProblem, keyscanCommand, labKeyCommand, preferredHostKey, splitLabKey } from "../model/trust";
import { bashCommand, hostTrustCommand, reachScript } from "../render";
import { NodeConnection, childOpts } from "./connection";
import { Host, HostArgs } from "./host";
import { HostBridge } from "./hostBridge";
import { Plan, Role } from "../model/plan";
import type { Reach, Site } from "./site";
import { schemaDefault } from "../model/schema";
import { lockedKeyProblem } from "../model/sshKey";
import { ArgChecks, ipMsg, isAbsPath, isIpv4, isName, nameMsg, pathMsg } from "./validate";

export interface SshSiteNode {
    /** The machine's name in the lab. */
    name: string;
    /** Its address on the lab network: where the other machines reach it. */
    address: string;
    /** What the machine is for (its Host's role): host (default), nfs or outside. */
    role?: Role;
    /** Where its sshd is reached from this machine (default: address), port, user (root or one with passwordless sudo). */
    host?: string;
    port?: number;
    user?: string;
    privateKey: pulumi.Input<string>;
    /** Its SSH host key ("ssh-ed25519 AAAA..."); default: recorded at the first `pulumi up`. */
    hostKey?: string;
}

export interface SshSiteArgs {
    /** Names the lab's key and files on the machines, so two labs can share them. */
    id: string;
    nodes: SshSiteNode[];
    /** Where the lab keeps its files on the machines (what OVS and a guest bridge undo on destroy). Default /var/lib/miglab/<id>. */
    stateDir?: string;
}

/** A connection that also names the host key the provider must find (`connection.hostKey`). */
export type VerifiedConnection = NodeConnection & { hostKey: pulumi.Input<string> };

/**
 * Real machines reached over SSH, trusted properly: each machine's SSH host key is
 * taken from its `hostKey` or recorded at the first `pulumi up`, kept in the stack,
 * and checked at every later preview and up (a HostKeyCheck per machine) before anything
 * reaches a machine; the connections carry it for the provider to verify. The lab makes a key of its own for traffic
 * between the machines and installs it, with every machine's host key, on each of
 * them; destroy removes both. Give the hosts `peerKeyPath` and `peerKnownHosts`.
 */
export class SshSite extends pulumi.ComponentResource implements Site {
    readonly connections: Record<string, VerifiedConnection> = {};
    /** Where the lab keeps its files on the machines. */
    readonly stateDir: string;
    /** Real hosts: OVS takes over the NIC that holds the lab address (its routes move with it), run by the host's own service. */
    readonly ovs: { uplink: string; stateDir: string; ownDaemons: boolean };
    /** Real hosts mount the export where a dir pool looks (the pool checks the mount). */
    readonly poolMountsExport = true;
    /** Guests and certificates wait for this site: its trust (the lab key, the known host keys) is on every machine. */
    readonly ready: pulumi.Resource[] = [this];
    private readonly nodes: SshSiteNode[];
    /** Each machine's verified host key ("type base64"). */
    readonly hostKeys: pulumi.Output<Record<string, string>>;
    /** The lab key's public half. */
    readonly labPublicKey: pulumi.Output<string>;
    /** Where the lab key and the machines' known host keys are on each machine. */
    readonly peerKeyPath: string;
    readonly peerKnownHosts: string;

    constructor(name: string, args: SshSiteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:site:SshSite", name, {}, opts);
        const v = new ArgChecks("SshSite", name);
        const keys: Record<string, pulumi.Output<string>> = {};
        v.check(/^[a-z0-9-]{1,20}$/.test(args.id), "id", "must be 1 to 20 lower-case letters, digits or '-'");
        v.check(args.nodes.length > 0, "nodes", "must list at least one machine");
        args.nodes.forEach((n, i) => {
            v.check(isName(n.name), `nodes[${i}].name`, `'${n.name}' ${nameMsg}`);
            v.check(isIpv4(n.address), `nodes[${i}].address`, `'${n.address}' ${ipMsg}`);
            // Every command reaching the machine takes its key from here: none is sent with a key ssh cannot use.
            keys[n.name] = v.later(n.privateKey, `nodes[${i}].privateKey`, (k) => lockedKeyProblem(k, n.name), this);
            v.check(n.hostKey === undefined || preferredHostKey(`x ${n.hostKey}`) !== undefined, `nodes[${i}].hostKey`,
                "must be a public key line like 'ssh-ed25519 AAAA...' (the machine's /etc/ssh/ssh_host_ed25519_key.pub)");
        });
        this.peerKeyPath = `/root/.ssh/miglab-${args.id}`;
        this.peerKnownHosts = `/root/.ssh/miglab-${args.id}.known_hosts`;
        const configFile = `/etc/ssh/ssh_config.d/miglab-${args.id}.conf`;
        v.check(isAbsPath(this.peerKeyPath), "id", pathMsg);
        this.stateDir = args.stateDir ?? `/var/lib/miglab/${args.id}`;
        v.check(isAbsPath(this.stateDir), "stateDir", pathMsg);
        v.done(this);
        this.nodes = args.nodes;
        this.ovs = { uplink: "auto", stateDir: this.stateDir, ownDaemons: false };
        const where = (n: SshSiteNode) => ({ host: n.host ?? n.address, port: n.port ?? schemaDefault<number>("hosts.ssh.port") });
        const checked: Record<string, pulumi.Output<string>> = {};
        for (const n of args.nodes) {
            const w = where(n);
            const recorded = n.hostKey !== undefined ? pulumi.output(preferredHostKey(`x ${n.hostKey}`)!)
                : new command.local.Command(`${name}-${n.name}-hostkey`, { create: keyscanCommand(n.name, w.host, w.port) }, childOpts(this))
                    .stdout.apply((out) => {
                        const k = preferredHostKey(out);
                        if (!k) { throw new pulumi.RunError(`host ${n.name} (${w.host}:${w.port}): ssh-keyscan returned no host key`); }
                        return k;
                    });
            // Checked at every preview and up, before any command reaches the machine: every connection takes the key from it.
            checked[n.name] = new HostKeyCheck(`${name}-${n.name}-hostkey-check`, { node: n.name, host: w.host, port: w.port, hostKey: recorded },
                childOpts(this)).hostKey;
        }
        this.hostKeys = pulumi.all(checked);
        for (const n of args.nodes) {
            const w = where(n);
            this.connections[n.name] = {
                host: w.host, port: w.port, user: n.user ?? schemaDefault<string>("hosts.ssh.user"),
                // Every machine's check, not only its own: a changed key anywhere stops the run before any command.
                privateKey: pulumi.secret(keys[n.name]), hostKey: this.hostKeys.apply((k) => k[n.name]),
            };
        }
        // Its output is the key: kept secret, and never shown while it runs.
        const made = new command.local.Command(`${name}-lab-key`, { create: labKeyCommand(args.id), logging: "none" },
            childOpts(this, { additionalSecretOutputs: ["stdout"] }));
        const key = made.stdout.apply(splitLabKey);
        this.labPublicKey = key.apply((k) => k.publicKey);
        for (const n of args.nodes) {
            const render = (action: "up" | "down") => pulumi.all([this.labPublicKey, this.hostKeys]).apply(([publicKey, keys]) => hostTrustCommand({
                node: n.name, labId: args.id, keyPath: this.peerKeyPath, knownHosts: this.peerKnownHosts, configFile, publicKey,
                nodes: args.nodes.map((m) => ({ address: m.address, hostKey: keys[m.name] })),
            }, action));
            new command.remote.Command(`${name}-${n.name}-trust`, {
                connection: this.connections[n.name], create: render("up"), update: render("up"), delete: render("down"),
                stdin: pulumi.secret(key.apply((k) => k.privateKey)), logging: "stderr",
            }, childOpts(this));
        }
        this.registerOutputs({ hostKeys: this.hostKeys, labPublicKey: this.labPublicKey });
    }

    /** The args of a Host for one machine: `new Host("pc1", site.hostArgs("pc1"))`; its ssh to the others checks their recorded keys. */
    hostArgs(node: string): HostArgs {
        const n = this.nodes.find((x) => x.name === node);
        if (!n) { throw new pulumi.ResourceError(`SshSite: '${node}' is not one of its machines (${this.nodes.map((x) => x.name).join(", ")})`, this); }
        return {
            connection: this.connections[node], address: n.address, role: n.role ?? "host", hostname: n.name,
            peerKeyPath: this.peerKeyPath, peerKnownHosts: this.peerKnownHosts,
        };
    }

    /** The outside node is the team's, beyond their router: every host must reach it before it gets a network or a guest. */
    hostReach(plan: Plan): Reach[] | undefined {
        if (!plan.outside || plan.config.topology === "same-subnet") { return undefined; }
        return [{
            address: plan.outside.address,
            why: `outside.address: the guests ping it through their host while they migrate; give an address beyond your router that answers pings from every host`,
        }];
    }

    /** A real host's lab interface goes into the guests' bridge (HostBridge). */
    joinGuestBridge(name: string, host: Host, bridge: string, opts: pulumi.ComponentResourceOptions): pulumi.Resource {
        return new HostBridge(name, { host, bridge, stateDir: this.stateDir }, opts);
    }

    /**
     * A team's router must send the overlay to its gateway host: once the overlay is up, the
     * probe's node (which pings the guests) must reach the overlay gateway through it.
     */
    networkChecks(name: string, plan: Plan, networks: pulumi.Resource[], opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
        const net = plan.guestNetwork;
        if (net.kind !== "ovs") { return []; }
        const gw = plan.hosts.find((h) => h.name === net.gatewayHost)!;
        return [new command.remote.Command(`${name}-overlay-route`, {
            connection: this.connections[plan.probe.name],
            create: bashCommand(reachScript({ name: plan.probe.name, reach: [{
                address: net.gateway,
                why: `overlay.subnet: your router must route ${net.subnet} via ${gw.name} (${gw.address}), the overlay's gateway host ` +
                    `(overlay.gatewayHost); the probe and the outside reach the guests that way`,
            }] })),
        }, { ...opts, dependsOn: networks, customTimeouts: { create: "5m" } })];
    }

    /** The NFS server is the machine's own service, with its own state. */
    nfsStateDir(): string | undefined { return undefined; }
}

interface KeyCheckInputs { node: string; host: string; port: number; hostKey: string }

/** Why the machine does not offer the recorded key now (ssh-keyscan), or undefined; a key not known yet (the first preview) is checked at the up. */
function keyCheckProblem(i: KeyCheckInputs): string | undefined {
    if (typeof i.hostKey !== "string" || preferredHostKey(`x ${i.hostKey}`) === undefined) { return undefined; }
    /* eslint-disable @typescript-eslint/no-var-requires */
    const scan = require("child_process").spawnSync("ssh-keyscan", ["-T", "10", "-p", String(i.port), i.host], { encoding: "utf8", timeout: 30000 });
    return hostKeyProblem(i.node, `${i.host}:${i.port}`, i.hostKey, scan.stdout ?? "");
}

// The scan runs in the provider's check, which the engine calls for the resource at every
// preview and every up (a Command runs only when it is made or changed): a changed key stops
// the run there, named, and the resource shows as unchanged when the key is still the same.
const hostKeyCheckProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: KeyCheckInputs, news: KeyCheckInputs) {
        const problem = keyCheckProblem(news);
        return { inputs: news, failures: problem ? [{ property: "hostKey", reason: problem }] : [] };
    },
    async diff(_id: string, olds: KeyCheckInputs, news: KeyCheckInputs) {
        return { changes: (["node", "host", "port", "hostKey"] as const).some((k) => olds[k] !== news[k]) };
    },
    async create(inputs: KeyCheckInputs) { return { id: inputs.node, outs: inputs }; },
    async update(_id: string, _olds: KeyCheckInputs, news: KeyCheckInputs) { return { outs: news }; },
};

/** One machine's recorded SSH host key, checked against what the machine offers at every preview and up. */
export class HostKeyCheck extends pulumi.dynamic.Resource {
    /** The recorded key ("type base64"), once the machine was found to offer it. */
    declare readonly hostKey: pulumi.Output<string>;

    constructor(name: string, args: { node: string; host: string; port: number; hostKey: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
        super(hostKeyCheckProvider, name, { ...args }, opts, "miglab", "HostKeyCheck");
    }
}
