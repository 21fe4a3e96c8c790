import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { NodeConnection, childOpts } from "./connection";
import { ArgChecks, ipMsg, isAbsPath, isIpv4, isName, nameMsg, pathMsg } from "./validate";
import { Role } from "../model/plan";
import { Accel, bashCommand, hostCheckScript } from "../render";

export interface HostArgs {
    /** How the program reaches the host's sshd (host, port, user, privateKey); may be another resource's output. */
    connection: pulumi.Input<NodeConnection>;
    /** The host's address on the lab network: where its peers, migrations and tunnels reach it. */
    address: pulumi.Input<string>;
    /**
     * What the host is for, which decides what the check asks of it: `host` (default) a
     * hypervisor (libvirt, QEMU, ssh to its peers), `nfs` the NFS server, `outside` a plain node.
     */
    role?: Role;
    /** The name the host goes by in scripts, leg metrics and tunnel port names; default: the resource name. */
    hostname?: string;
    /**
     * The private key file ON this host with which it reaches its peers (virsh's qemu+ssh, the
     * plain transfer, the probe). Default /root/.ssh/id_miglab; every peer must accept it.
     */
    peerKeyPath?: string;
    /**
     * The file ON this host with its peers' recorded SSH host keys (known_hosts): its ssh to
     * them then checks they are who they were (SshSite installs it). Without it, not checked.
     */
    peerKnownHosts?: string;
    /**
     * Addresses the host must get ping replies from before anything is made, each with why the
     * lab needs it (said in the error when it does not): e.g. the outside node beyond a team's router.
     */
    reach?: { address: string; why: string }[];
}

/** One lab node, checked: tools present, libvirt reachable, and (hypervisors) KVM or TCG. */
export class Host extends pulumi.ComponentResource {
    readonly hostname: string;
    readonly role: Role;
    readonly address: pulumi.Output<string>;
    readonly connection: pulumi.Input<NodeConnection>;
    readonly peerKeyPath: string;
    readonly peerKnownHosts?: string;
    /** kvm when the host has hardware virtualization QEMU can use, else tcg. */
    readonly accel: pulumi.Output<Accel>;
    readonly check: command.remote.Command;

    constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:host:Host", name, {}, opts);
        this.hostname = args.hostname ?? name;
        this.role = args.role ?? "host";
        this.peerKeyPath = args.peerKeyPath ?? "/root/.ssh/id_miglab";
        this.peerKnownHosts = args.peerKnownHosts;
        const v = new ArgChecks("Host", name);
        v.check(args.connection !== undefined, "connection", "is required: how to reach the host's sshd ({ host, port, user, privateKey })");
        v.check(isName(this.hostname), args.hostname ? "hostname" : "hostname (default: the resource name)",
            `'${this.hostname}' ${nameMsg}; give hostname`);
        v.check(["host", "nfs", "outside"].includes(this.role), "role", `'${this.role}' must be one of 'host', 'nfs', 'outside'`);
        v.check(isAbsPath(this.peerKeyPath), "peerKeyPath", pathMsg);
        v.check(this.peerKnownHosts === undefined || isAbsPath(this.peerKnownHosts), "peerKnownHosts", pathMsg);
        v.check(args.address !== undefined, "address", "is required: the host's address on the lab network");
        const address = v.later(args.address, "address", (a) => (isIpv4(a) ? undefined : `'${a}' ${ipMsg}`), this);
        (args.reach ?? []).forEach((r, i) => v.check(isIpv4(r.address), `reach[${i}].address`, `'${r.address}' ${ipMsg}`));
        v.done(this);
        this.connection = args.connection;
        // Everything that reaches the host by its address waits for its check; so does the host's own.
        this.address = address;
        this.check = new command.remote.Command(`${name}-check`, {
            connection: args.connection,
            create: v.gate(bashCommand(hostCheckScript({ name: this.hostname, role: this.role, reach: args.reach }))),
        }, childOpts(this));
        this.accel = this.check.stdout.apply((out) => (/accel=kvm/.test(out) ? "kvm" : "tcg") as Accel);
        this.registerOutputs({ accel: this.accel, address: this.address });
    }
}
