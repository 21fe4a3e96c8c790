import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { childOpts, ensureOnHost, givenDependsOn } from "./connection";
import { DriftWatch, watched } from "./drift";
import { Host } from "./host";
import { ArgChecks, cidrMsg, ipMsg, isAbsPath, isCidr, isIpv4, pathMsg } from "./validate";
import { NfsImplementation, bashCommand, exportIdOf, nfsScript } from "../render";

export interface NfsServerArgs {
    /** The node that serves the export (its check runs first). */
    host: Host;
    /** The exported directory, made if missing; it holds the guests' disks. */
    export: string;
    /** The networks (CIDRs) allowed to mount it: the hypervisors' subnets. */
    allowedNetworks: pulumi.Input<string[]>;
    /**
     * `kernel` (default): nfs-kernel-server with an /etc/exports line; `ganesha`: the userspace
     * nfs-ganesha with rpcbind run by miglab itself, for machines whose kernel has no NFS server
     * (the local site); `ganesha-service`: the host's own nfs-ganesha service, given one EXPORT
     * file of the lab's (included from /etc/ganesha/ganesha.conf) and reloaded.
     */
    implementation?: NfsImplementation;
    /** Names the export's marker and its ganesha file; default: from the export's path. */
    id?: string;
    /** Where ganesha keeps its config, log and pid files. Default /var/lib/miglab/nfs. */
    stateDir?: string;
    /** The address clients mount from; default the host's address. */
    address?: pulumi.Input<string>;
}

/**
 * The NFS export holding the guest disks, open only to the given networks:
 * nfs-ganesha where the kernel has no NFS server, nfs-kernel-server elsewhere.
 */
export class NfsServer extends pulumi.ComponentResource {
    readonly host: Host;
    readonly address: pulumi.Output<string>;
    readonly export: string;
    /** What the export's marker holds (.miglab-export): a host that mounted the export shows it. */
    readonly marker: string;
    readonly server: command.remote.Command;

    constructor(name: string, args: NfsServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:storage:NfsServer", name, {}, opts);
        const impl = args.implementation ?? "kernel";
        const stateDir = args.stateDir ?? "/var/lib/miglab/nfs";
        const v = new ArgChecks("NfsServer", name);
        v.check(args.host instanceof Host, "host", "must be a Host (new Host(...)) that serves the export");
        v.check(isAbsPath(args.export), "export", `'${args.export}' ${pathMsg}`);
        v.check(["kernel", "ganesha", "ganesha-service"].includes(impl), "implementation", `'${impl}' must be 'kernel', 'ganesha' or 'ganesha-service'`);
        v.check(isAbsPath(stateDir), "stateDir", pathMsg);
        v.later(args.allowedNetworks, "allowedNetworks", (nets: string[]) => nets.length === 0
            ? "must list at least one network (the hypervisors' subnets), or nobody can mount the export"
            : nets.filter((n) => !isCidr(n)).map((n) => `'${n}' ${cidrMsg}`)[0], this);
        v.later(args.address, "address", (a) => (isIpv4(a) ? undefined : `'${a}' ${ipMsg}`), this);
        v.done(this);
        this.host = args.host;
        this.address = args.address !== undefined ? pulumi.output(args.address) : args.host.address;
        this.export = args.export;
        this.marker = exportIdOf({ export: args.export, id: args.id });
        const clients = pulumi.output(args.allowedNetworks);
        const render = (a: "up" | "down" | "check") =>
            clients.apply((c) => nfsScript({ export: args.export, clients: c, implementation: impl, stateDir, id: args.id }, a));
        // A server stopped by hand (its daemon killed, its export removed): refresh sees it, the next up serves it again.
        const watch = new DriftWatch(`${name}-drift`, {
            what: `the NFS export ${args.export} served by ${impl}`, probe: render("check").apply(bashCommand),
            targets: [{ name: args.host.hostname, connection: args.host.connection }], want: "all",
        }, { parent: this });
        this.server = ensureOnHost(`${name}-export`, args.host.connection,
            (a) => (a === "up" ? watched(watch.token, render(a)) : render(a)),
            childOpts(this, { dependsOn: [args.host, ...givenDependsOn(opts)] }));
        this.registerOutputs({ address: this.address, export: this.export });
    }
}
