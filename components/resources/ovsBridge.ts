import * as pulumi from "@pulumi/pulumi";
import { childOpts, ensureOnHost, givenDependsOn } from "./connection";
import { Host } from "./host";
import { schemaDefault } from "../model/schema";
import { ArgChecks, vni as vniRule, cidrMsg, ifnameMsg, ipMsg, isAbsPath, isCidr, isIfname, isIpv4, isName, nameMsg, pathMsg } from "./validate";
import { GuestAttachment, ovsScript } from "../render";

/** A tunnel's far end: a Host, or a name (for the port) and an underlay address. */
export type OvsPeer = Host | { name: string; address: pulumi.Input<string> };

export interface OvsBridgeArgs {
    /** The hypervisor host the bridges are made on. */
    host: Host;
    /**
     * The host's NIC on the underlay, moved into `br-phy`, which takes `address` and the default
     * route via `gateway`. Default eth0. `auto` (real hosts): the NIC that holds `address`; its
     * addresses and routes move to `br-phy`, so the host keeps its own routes, and go back on destroy.
     */
    uplink?: string;
    /** The host's underlay address, as a CIDR, put on `br-phy` (the uplink's address moves there). */
    address: pulumi.Input<string>;
    /** The underlay's default gateway, if it routes (hosts on different subnets). */
    gateway?: pulumi.Input<string>;
    /** Every other host of the overlay: one tunnel port to each (`tun-<name>`). */
    peers: OvsPeer[];
    /** VXLAN network identifier (GRE key), 1..16777215. */
    vni: number;
    /** Default: the schema's overlay.tunnel (vxlan). */
    tunnel?: "vxlan" | "gre";
    /** The overlay bridge guests plug into. Default: the schema's overlay.bridge (br-int). */
    bridge?: string;
    /** The libvirt network over that bridge, which guests name. Default: the schema's overlay.network (miglab-ovs). */
    network?: string;
    /** This host routes the overlay to the rest of the lab: its address on the overlay, as a CIDR. */
    overlayGateway?: string;
    /** Start ovsdb-server and ovs-vswitchd here (hosts without the service, like the local site's). Default false. */
    ownDaemons?: boolean;
    /** With uplink `auto`: where the host keeps what the NIC had until destroy. Default /var/lib/miglab/ovs. */
    stateDir?: string;
}

/**
 * Open vSwitch on one host: `br-phy` with the uplink, the underlay address and
 * default route; the overlay bridge with a VXLAN (or GRE) port to every peer,
 * keyed by the VNI; and the libvirt network `<forward mode='bridge'/><virtualport
 * type='openvswitch'/>` guests attach to. Kernel datapath where the host has the
 * module, userspace (netdev) elsewhere.
 */
export class OvsBridge extends pulumi.ComponentResource {
    readonly bridge: string;
    readonly network: string;
    /** What a Domain's `network` takes to plug a guest in here. */
    readonly attachment: GuestAttachment;

    constructor(name: string, args: OvsBridgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:network:OvsBridge", name, {}, opts);
        const bridge = args.bridge ?? schemaDefault<string>("overlay.bridge");
        const network = args.network ?? schemaDefault<string>("overlay.network");
        const tunnel = args.tunnel ?? schemaDefault<"vxlan" | "gre">("overlay.tunnel");
        const peers = (args.peers ?? []).map((p) => (p instanceof Host ? { name: p.hostname, address: p.address } : p));
        const v = new ArgChecks("OvsBridge", name);
        v.check(args.host instanceof Host, "host", "must be a Host (new Host(...)) to make the bridges on");
        v.check(vniRule.test(args.vni), "vni", `${args.vni} ${vniRule.message}`);
        v.check(["vxlan", "gre"].includes(tunnel), "tunnel", `'${tunnel}' must be 'vxlan' or 'gre'`);
        v.check(isIfname(bridge), "bridge", `'${bridge}' ${ifnameMsg}`);
        v.check(isName(network), "network", `'${network}' ${nameMsg}`);
        v.check(isIfname(args.uplink ?? "eth0"), "uplink", `'${args.uplink}' ${ifnameMsg}, or 'auto'`);
        v.check(args.stateDir === undefined || isAbsPath(args.stateDir), "stateDir", pathMsg);
        v.check(Array.isArray(args.peers) && args.peers.length > 0, "peers", "must list at least one other host of the overlay");
        peers.forEach((p, i) => {
            v.check(isName(p.name), `peers[${i}].name`, `'${p.name}' ${nameMsg}`);
            v.check(p.name !== args.host?.hostname, `peers[${i}]`, `is this bridge's own host '${p.name}'; list the other hosts only`);
            v.later(p.address, `peers[${i}].address`, (a) => (isIpv4(a) ? undefined : `'${a}' ${ipMsg}`), this);
        });
        const names = peers.map((p) => p.name);
        v.check(new Set(names).size === names.length, "peers", `name a host twice (${names.join(", ")}); one tunnel per peer`);
        v.check(args.overlayGateway === undefined || isCidr(args.overlayGateway), "overlayGateway", `'${args.overlayGateway}' ${cidrMsg}`);
        v.later(args.address, "address", (a) => (isCidr(a) ? undefined : `'${a}' ${cidrMsg}`), this);
        v.later(args.gateway, "gateway", (a) => (isIpv4(a) ? undefined : `'${a}' ${ipMsg}`), this);
        v.done(this);
        this.bridge = bridge;
        this.network = network;
        this.attachment = { kind: "network", network, openvswitch: true };
        const spec = pulumi.all([args.address, args.gateway, pulumi.all(peers.map((p) => pulumi.all([p.name, p.address])))])
            .apply(([address, gateway, ps]) => ({
                node: args.host.hostname, ownDaemons: args.ownDaemons ?? false,
                uplink: args.uplink === "auto" ? "" : args.uplink ?? "eth0", stateDir: args.stateDir ?? "/var/lib/miglab/ovs",
                address, gateway, peers: ps.map(([n, a]) => ({ name: n, address: a })), vni: args.vni, tunnel,
                bridge, network, overlayGateway: args.overlayGateway,
            }));
        ensureOnHost(`${name}-bridges`, args.host.connection, (a) => spec.apply((s) => ovsScript(s, a)),
            childOpts(this, { dependsOn: [args.host, ...givenDependsOn(opts)] }));
        this.registerOutputs({ bridge: this.bridge, network: this.network });
    }
}
