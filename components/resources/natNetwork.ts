import * as pulumi from "@pulumi/pulumi";
import { childOpts, ensureOnHost, givenDependsOn } from "./connection";
import { Host } from "./host";
import { ArgChecks, cidrMsg, inCidr, ipMsg, isCidr, isIpv4, isMac, isName, nameMsg } from "./validate";
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
    /** The libvirt network's name, which guests name. Default miglab-nat. */
    network?: string;
    /** Its Linux bridge. Default virbr-mlnat (virbr0 is the stock network's). */
    bridge?: string;
}

/** A libvirt NAT network on one host, with a gateway address and MAC every host shares, and a DHCP range. */
export class NatNetwork extends pulumi.ComponentResource {
    readonly networkName: string;
    /** What a Domain's `network` takes to plug a guest in here. */
    readonly attachment: GuestAttachment;

    constructor(name: string, args: NatNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:network:NatNetwork", name, {}, opts);
        const network = args.network ?? "miglab-nat";
        const bridge = args.bridge ?? "virbr-mlnat";
        const v = new ArgChecks("NatNetwork", name);
        v.check(args.host instanceof Host, "host", "must be a Host (new Host(...)) to define the network on");
        v.check(isCidr(args.subnet), "subnet", `'${args.subnet}' ${cidrMsg}`);
        v.check(isIpv4(args.gateway), "gateway", `'${args.gateway}' ${ipMsg}`);
        v.check(!isCidr(args.subnet) || !isIpv4(args.gateway) || inCidr(args.gateway, args.subnet), "gateway",
            `${args.gateway} is not in subnet ${args.subnet}; pick an address inside it`);
        v.check(isMac(args.mac), "mac", `'${args.mac}' must be a MAC like 52:54:00:4d:4c:01`);
        v.check(isName(network), "network", `'${network}' ${nameMsg}`);
        v.check(/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge) && bridge !== "virbr0", "bridge",
            `'${bridge}' must be an interface name of at most 15 characters other than virbr0 (the stock network's)`);
        v.done(this);
        this.networkName = network;
        this.attachment = { kind: "network", network };
        ensureOnHost(`${name}-network`, args.host.connection,
            (a) => natScript({ network, bridge, subnet: args.subnet, gateway: args.gateway, mac: args.mac }, a),
            childOpts(this, { dependsOn: [args.host, ...givenDependsOn(opts)] }));
        this.registerOutputs({ networkName: this.networkName });
    }
}
