import * as pulumi from "@pulumi/pulumi";
import { childOpts, ensureOnHost } from "./connection";
import { NfsServer } from "./nfsServer";
import { Host } from "./host";
import { Plan, PlannedGuest } from "../model/plan";
import { guestImageScript } from "../render";

export interface GuestImageArgs { plan: Plan; guest: PlannedGuest; nfsHost: Host; nfs: NfsServer }

/**
 * The guest's disk on the NFS export and, for the built-in image, a Debian kernel
 * with a busybox initramfs whose workload is a TCP counter service (the counter is
 * also written to the disk, so integrity can be checked after migrations).
 */
export class GuestImage extends pulumi.ComponentResource {
    readonly disk: string;

    constructor(name: string, args: GuestImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:guest:GuestImage", name, {}, opts);
        ensureOnHost(`${name}-files`, args.nfsHost.connection, (a) => guestImageScript(args.plan, args.guest, a),
            childOpts(this, { dependsOn: [args.nfs] }));
        this.disk = args.guest.disk;
        this.registerOutputs({ disk: this.disk });
    }
}
