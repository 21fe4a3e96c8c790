import * as pulumi from "@pulumi/pulumi";
import { childOpts, ensureOnHost, givenDependsOn } from "./connection";
import { Host } from "./host";
import { ArgChecks, isAbsPath, isName, nameMsg, pathMsg } from "./validate";
import { hostBridgeScript } from "../render";

export interface HostBridgeArgs {
    /** The real host whose lab interface the guests share. */
    host: Host;
    /** The bridge's name; default br-lab. */
    bridge?: string;
    /** Where the host keeps the uplink's name for destroy; default /var/lib/miglab/bridge. */
    stateDir?: string;
}

/**
 * A real host's lab interface moved into a Linux bridge that guests join (same-subnet
 * on real hosts): the bridge takes the interface's MAC, addresses and routes, so the
 * host stays reachable at its address; destroy puts them back. The local site makes
 * this bridge itself when it makes the host.
 */
export class HostBridge extends pulumi.ComponentResource {
    readonly bridge: string;

    constructor(name: string, args: HostBridgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:network:HostBridge", name, {}, opts);
        const bridge = args.bridge ?? "br-lab";
        const stateDir = args.stateDir ?? "/var/lib/miglab/bridge";
        const v = new ArgChecks("HostBridge", name);
        v.check(args.host instanceof Host, "host", "must be a Host (new Host(...)) whose lab interface to bridge");
        v.check(isName(bridge), "bridge", `'${bridge}' ${nameMsg}`);
        v.check(isAbsPath(stateDir), "stateDir", pathMsg);
        v.done(this);
        this.bridge = bridge;
        ensureOnHost(`${name}-bridge`, args.host.connection,
            (a) => args.host.address.apply((address) => hostBridgeScript({ node: args.host.hostname, address, bridge, stateDir }, a)),
            childOpts(this, { dependsOn: [args.host, ...givenDependsOn(opts)] }));
        this.registerOutputs({ bridge: this.bridge });
    }
}
