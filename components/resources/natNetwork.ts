import * as pulumi from "@pulumi/pulumi";
import { childOpts, ensureOnHost } from "./connection";
import { Host } from "./host";
import { Plan } from "../model/plan";
import { natScript } from "../render";

export interface NatNetworkArgs { plan: Plan; host: Host }

/**
 * A libvirt NAT network on one host, with the same gateway address and MAC on
 * every host (random MACs leave a migrated guest with a stale ARP entry for its
 * gateway for about a minute), a DHCP range, and the host's route to the router.
 */
export class NatNetwork extends pulumi.ComponentResource {
    readonly networkName: string;

    constructor(name: string, args: NatNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:network:NatNetwork", name, {}, opts);
        ensureOnHost(`${name}-network`, args.host.connection, (a) => natScript(args.plan, a),
            childOpts(this, { dependsOn: [args.host] }));
        this.networkName = args.plan.guestNetwork.kind === "nat" ? args.plan.guestNetwork.network : "";
        this.registerOutputs({ networkName: this.networkName });
    }
}
