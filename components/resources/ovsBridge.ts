import * as pulumi from "@pulumi/pulumi";
import { childOpts, ensureOnHost } from "./connection";
import { Host } from "./host";
import { Plan } from "../model/plan";
import { ovsScript } from "../render";

export interface OvsBridgeArgs { plan: Plan; host: Host }

/**
 * Open vSwitch on one host: `br-phy` with the uplink, the underlay address and
 * default route; the overlay bridge with a VXLAN (or GRE) port to every peer
 * host, keyed by the configured VNI; and the libvirt network
 * `<forward mode='bridge'/><virtualport type='openvswitch'/>` guests attach to.
 * Kernel datapath where the host has the module, userspace (netdev) elsewhere.
 */
export class OvsBridge extends pulumi.ComponentResource {
    readonly bridge: string;

    constructor(name: string, args: OvsBridgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:network:OvsBridge", name, {}, opts);
        ensureOnHost(`${name}-bridges`, args.host.connection, (a) => ovsScript(args.plan, args.host.node, a),
            childOpts(this, { dependsOn: [args.host] }));
        this.bridge = args.plan.guestNetwork.kind === "ovs" ? args.plan.guestNetwork.bridge : "";
        this.registerOutputs({ bridge: this.bridge });
    }
}
