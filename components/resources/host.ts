import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { NodeConnection, childOpts } from "./connection";
import { PlannedNode } from "../model/plan";
import { Accel, bashCommand, hostCheckScript } from "../render";

export interface HostArgs { node: PlannedNode; connection: NodeConnection }

/** One lab node, checked: tools present, libvirt reachable, and (hypervisors) KVM or TCG. */
export class Host extends pulumi.ComponentResource {
    readonly node: PlannedNode;
    readonly connection: NodeConnection;
    /** kvm when the host has hardware virtualization QEMU can use, else tcg. */
    readonly accel: pulumi.Output<Accel>;
    readonly check: command.remote.Command;

    constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:host:Host", name, {}, opts);
        this.node = args.node;
        this.connection = args.connection;
        this.check = new command.remote.Command(`${name}-check`, {
            connection: args.connection,
            create: bashCommand(hostCheckScript(args.node)),
        }, childOpts(this));
        this.accel = this.check.stdout.apply((out) => (/accel=kvm/.test(out) ? "kvm" : "tcg") as Accel);
        this.registerOutputs({ accel: this.accel });
    }
}
