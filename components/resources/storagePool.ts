import * as pulumi from "@pulumi/pulumi";
import { childOpts, ensureOnHost } from "./connection";
import { Host } from "./host";
import { Plan } from "../model/plan";
import { poolScript } from "../render";

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
        ensureOnHost(`${name}-pool`, args.host.connection, (a) => poolScript(args.plan, a),
            childOpts(this, { dependsOn: [args.host, ...(args.dependsOn ?? [])] }));
        this.poolName = args.plan.pool.name;
        this.target = args.plan.pool.target;
        this.registerOutputs({ poolName: this.poolName, target: this.target });
    }
}
