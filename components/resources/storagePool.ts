import * as pulumi from "@pulumi/pulumi";
import { childOpts, ensureOnHost, givenDependsOn } from "./connection";
import { Host } from "./host";
import { NfsServer } from "./nfsServer";
import { ArgChecks, isAbsPath, isName, nameMsg, pathMsg } from "./validate";
import { poolScript } from "../render";

export interface StoragePoolArgs {
    /** The hypervisor host the pool is defined on. */
    host: Host;
    /** The pool's libvirt name; default "miglab". Give every host the same one. */
    name?: string;
    /** Where the pool's volumes are on the host (the mount point of a netfs pool). */
    target: string;
    /**
     * The NFS export to mount there (a `netfs` pool). Without it the pool is a `dir` pool
     * over `target`: for a host that sees the export's directory itself, as on the local site.
     */
    nfs?: NfsServer | { address: pulumi.Input<string>; export: string };
    /**
     * A `dir` pool over an export the host mounted itself (fstab): the NFS server whose
     * marker `target` must show, so a path that is not that mount is refused.
     */
    mountOf?: NfsServer;
}

/**
 * A libvirt storage pool, autostarted: a `netfs` pool mounting the NFS export, or a
 * `dir` pool over a directory the host already sees.
 */
export class StoragePool extends pulumi.ComponentResource {
    readonly poolName: string;
    readonly target: string;

    constructor(name: string, args: StoragePoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:storage:StoragePool", name, {}, opts);
        const poolName = args.name ?? "miglab";
        const v = new ArgChecks("StoragePool", name);
        v.check(args.host instanceof Host, "host", "must be a Host (new Host(...)) to define the pool on");
        v.check(isName(poolName), "name", `'${poolName}' ${nameMsg}`);
        v.check(isAbsPath(args.target), "target", `'${args.target}' ${pathMsg}`);
        v.check(!args.nfs || isAbsPath(args.nfs.export), "nfs.export", `'${args.nfs?.export}' ${pathMsg}`);
        v.done(this);
        this.poolName = poolName;
        this.target = args.target;
        const nfs = args.nfs ? pulumi.output(args.nfs.address).apply((address) => ({ address, export: args.nfs!.export })) : undefined;
        ensureOnHost(`${name}-pool`, args.host.connection,
            (a) => pulumi.output(nfs).apply((n) => poolScript({ name: poolName, target: args.target, nfs: n, node: args.host.hostname, expectMarker: args.mountOf?.marker }, a)),
            childOpts(this, { dependsOn: [args.host, ...(args.nfs instanceof NfsServer ? [args.nfs] : []), ...(args.mountOf ? [args.mountOf] : []), ...givenDependsOn(opts)] }));
        this.registerOutputs({ poolName: this.poolName, target: this.target });
    }
}
