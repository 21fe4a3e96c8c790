import * as pulumi from "@pulumi/pulumi";
import { LabConfig } from "../model/config";
import { NodeConnection } from "./connection";
import { Domain } from "./domain";
import { GuestImage } from "./guestImage";
import { Host } from "./host";
import { LocalSite } from "./localSite";
import { DirectionSummary, LegOutcome } from "../reports/metrics";
import { Migration } from "./migration";
import { NatNetwork } from "./natNetwork";
import { NfsServer } from "./nfsServer";
import { OvsBridge } from "./ovsBridge";
import { Plan, planLab } from "../model/plan";
import { StoragePool } from "./storagePool";

export interface LabArgs {
    /** The validated `miglab:lab` value (see parseLabConfig). */
    config: LabConfig;
    /** The stack name: it scopes every name, port and path the lab uses. */
    stack: string;
    /** The legs reported last time (the stack's `legs` output): failed ones are tried again. */
    previousLegs?: pulumi.Input<unknown>;
}

/** A whole lab for one topology: site, hosts, NFS, pools, guests and the measured migration. */
export class Lab extends pulumi.ComponentResource {
    readonly plan: Plan;
    readonly hosts: Record<string, Host> = {};
    readonly domains: Record<string, Domain> = {};
    readonly migration: Migration;
    readonly legs: pulumi.Output<LegOutcome[]>;
    readonly summary: pulumi.Output<DirectionSummary[]>;

    constructor(name: string, args: LabArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:lab:Lab", name, {}, opts);
        const plan = this.plan = planLab(args.config, args.stack);
        const connections: Record<string, NodeConnection> = plan.site === "local"
            ? new LocalSite(`${name}-site`, { plan }, { parent: this }).connections
            : Object.fromEntries(args.config.hosts.concat(args.config.nfs.host).map((n) => [n.name, {
                host: n.address, port: n.ssh!.port, user: n.ssh!.user, privateKey: pulumi.secret(n.ssh!.privateKey),
            }]));
        for (const n of plan.nodes) {
            this.hosts[n.name] = new Host(`${name}-${n.name}`, { node: n, connection: connections[n.name] }, { parent: this });
        }
        const hostList = plan.hosts.map((h) => this.hosts[h.name]);
        const nfsHost = this.hosts[plan.nfs.name];
        // The guests' network on every host: OVS first on bridged hosts, since it carries
        // their underlay address (and so their route to the NFS server).
        const networks: pulumi.Resource[] = hostList.map((h) => plan.guestNetwork.kind === "ovs"
            ? new OvsBridge(`${name}-${h.node.name}-ovs`, { plan, host: h }, { parent: this })
            : plan.guestNetwork.kind === "nat"
                ? new NatNetwork(`${name}-${h.node.name}-nat`, { plan, host: h }, { parent: this })
                : h);
        const nfs = new NfsServer(`${name}-nfs`, { plan, host: nfsHost }, { parent: this });
        const pools = hostList.map((h, i) => new StoragePool(`${name}-${h.node.name}-pool`,
            { plan, host: h, dependsOn: [nfs, networks[i]] }, { parent: this }));
        for (const g of plan.guests) {
            const image = new GuestImage(`${name}-${g.name}-image`, { plan, guest: g, nfsHost, nfs }, { parent: this });
            this.domains[g.name] = new Domain(`${name}-${g.name}`, {
                plan, guest: g, home: this.hosts[g.home], hosts: hostList, dependsOn: [image, ...pools],
            }, { parent: this });
        }
        // Every guest runs before the first leg: the others are bystanders that must keep working.
        this.migration = new Migration(`${name}-migration`, {
            plan, legs: plan.legs, hosts: this.hosts,
            guestDefinitions: plan.guests.map((g) => this.domains[g.name].xml),
            guestInstances: plan.guests.map((g) => this.domains[g.name].instance),
            dependsOn: [...Object.values(this.domains), ...Object.values(this.hosts)], previousLegs: args.previousLegs,
        }, { parent: this });
        this.legs = this.migration.legs;
        this.summary = this.migration.summary;
        this.registerOutputs({ legs: this.legs, summary: this.summary });
    }
}
