import * as pulumi from "@pulumi/pulumi";
import { childOpts, ensureOnHost, givenDependsOn } from "./connection";
import { Host } from "./host";
import { schemaDefault } from "../model/schema";
import { ArgChecks, cidrMsg, inCidr, ipMsg, isCidr, isIpv4, isMac, isName, macMsg, nameMsg, natBridge } from "./validate";
import { GuestAttachment, natScript } from "../render";

export interface NatNetworkArgs {
    /** The hypervisor host the network is defined on. */
    host: Host;
    /** The guests' private subnet behind NAT, e.g. 192.168.150.0/24 (DHCP hands out its upper half). */
    subnet: string;
    /** The gateway address on it, the same on every host. */
    gateway: string;
    /**
     * The gateway's MAC, the same on every host: with random MACs a migrated guest keeps a
     * stale ARP entry for its gateway for about a minute.
     */
    mac: string;
    /** The libvirt network's name, which guests name. Default: the schema's nat.network (miglab-nat). */
    network?: string;
    /** Its Linux bridge. Default: the schema's nat.bridge (virbr-mlnat; virbr0 is the stock network's). */
    bridge?: string;
}

/** A libvirt NAT network on one host, with a gateway address and MAC every host shares, and a DHCP range. */
export class NatNetwork extends pulumi.ComponentResource {
    readonly networkName: string;
    /** What a Domain's `network` takes to plug a guest in here. */
    readonly attachment: GuestAttachment;

    constructor(name: string, args: NatNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:network:NatNetwork", name, {}, opts);
        const network = args.network ?? schemaDefault<string>("nat.network");
        const bridge = args.bridge ?? schemaDefault<string>("nat.bridge");
        const v = new ArgChecks("NatNetwork", name);
        v.check(args.host instanceof Host, "host", "must be a Host (new Host(...)) to define the network on");
        v.check(isCidr(args.subnet), "subnet", `'${args.subnet}' ${cidrMsg}`);
        v.check(isIpv4(args.gateway), "gateway", `'${args.gateway}' ${ipMsg}`);
        v.check(!isCidr(args.subnet) || !isIpv4(args.gateway) || inCidr(args.gateway, args.subnet), "gateway",
            `${args.gateway} is not in subnet ${args.subnet}; pick an address inside it`);
        v.check(isMac(args.mac), "mac", `'${args.mac}' ${macMsg}`);
        v.check(isName(network), "network", `'${network}' ${nameMsg}`);
        v.check(natBridge.test(bridge), "bridge", `'${bridge}' ${natBridge.message}`);
        v.done(this);
        this.networkName = network;
        this.attachment = { kind: "network", network };
        ensureOnHost(`${name}-network`, args.host.connection,
            (a) => natScript({ network, bridge, subnet: args.subnet, gateway: args.gateway, mac: args.mac }, a),
            childOpts(this, { dependsOn: [args.host, ...givenDependsOn(opts)] }));
        this.registerOutputs({ networkName: this.networkName });
    }
}
