import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { childOpts } from "./connection";
import { Host } from "./host";
import { Plan } from "./plan";
import { bashCommand, poolScript } from "./render";

export interface StoragePoolArgs { plan: Plan; host: Host; dependsOn?: pulumi.Input<pulumi.Resource>[] }

/**
 * The libvirt storage pool, same name and target path on every host: a `netfs`
 * pool mounting the export on real hosts; on the local site, whose kernel cannot
 * mount NFS, a `dir` pool over the export directory itself (guest disks are still
 * read by QEMU over NFS, see Domain).
 */
export class StoragePool extends pulumi.ComponentResource {
    readonly poolName: string;
    readonly target: string;

    constructor(name: string, args: StoragePoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:storage:StoragePool", name, {}, opts);
        const up = bashCommand(poolScript(args.plan, "up"));
        new command.remote.Command(`${name}-pool`, {
            connection: args.host.connection,
            create: up,
            update: up,
            delete: bashCommand(poolScript(args.plan, "down")),
        }, childOpts(this, { dependsOn: [args.host, ...(args.dependsOn ?? [])] }));
        this.poolName = args.plan.pool.name;
        this.target = args.plan.pool.target;
        this.registerOutputs({ poolName: this.poolName, target: this.target });
    }
}
