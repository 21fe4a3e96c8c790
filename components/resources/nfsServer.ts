import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { childOpts, ensureOnHost } from "./connection";
import { Host } from "./host";
import { Plan } from "../model/plan";
import { nfsScript } from "../render";

export interface NfsServerArgs { plan: Plan; host: Host }

/**
 * The NFS export holding the guest disks, open only to the lab's networks:
 * nfs-ganesha on the local site (this kernel has no NFS server), nfs-kernel-server
 * with an /etc/exports line on real hosts.
 */
export class NfsServer extends pulumi.ComponentResource {
    readonly address: string;
    readonly export: string;
    readonly server: command.remote.Command;

    constructor(name: string, args: NfsServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:storage:NfsServer", name, {}, opts);
        this.server = ensureOnHost(`${name}-export`, args.host.connection, (a) => nfsScript(args.plan, a),
            childOpts(this, { dependsOn: [args.host] }));
        this.address = args.plan.nfs.address;
        this.export = args.plan.export;
        this.registerOutputs({ address: this.address, export: this.export });
    }
}
