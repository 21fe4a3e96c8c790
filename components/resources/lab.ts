import * as pulumi from "@pulumi/pulumi";
import { LabConfig, migrationEntries, migrationPath, migrationSla } from "../model/config";
import { guestVisits } from "../model/cpu";
import { Plan, planLab } from "../model/plan";
import { DirectionSummary, LegOutcome, asOutputValue, summarize } from "../reports/metrics";
import { DrainReport } from "../reports/drain";
import { GuestAttachment } from "../render";
import { CpuCheck } from "./cpuCheck";
import { Domain } from "./domain";
import { Drain } from "./drain";
import { GuestImage } from "./guestImage";
import { Host } from "./host";
import { Migration } from "./migration";
import { MigrationTls } from "./migrationTls";
import { NatNetwork } from "./natNetwork";
import { NfsServer } from "./nfsServer";
import { OvsBridge } from "./ovsBridge";
import { Site, makeSite } from "./site";
import { StoragePool } from "./storagePool";

export interface LabArgs {
    /** The validated `miglab:lab` value (see parseLabConfig). */
    config: LabConfig;
    /** The stack name: it scopes every name, port and path the lab uses. */
    stack: string;
    /** The legs reported last time (the stack's `legs` output): failed ones are tried again. */
    previousLegs?: pulumi.Input<unknown>;
    /** The drains reported last time (the stack's `drains` output): one that broke its SLA runs again. */
    previousDrains?: pulumi.Input<unknown>;
}

/**
 * A whole lab for one topology from the stack's config: the plan (pure) decides every
 * name, address and path, and this only hands them to the components a program could
 * declare itself: site, hosts, NFS, networks, pools, guests and the measured migration.
 */
export class Lab extends pulumi.ComponentResource {
    readonly plan: Plan;
    /** Where the nodes are (the config's `site`): LocalSite or SshSite. */
    readonly site: Site;
    readonly hosts: Record<string, Host> = {};
    readonly domains: Record<string, Domain> = {};
    /** The CA and certificates of migrations with `tls: true`, if any has it. */
    readonly tls?: MigrationTls;
    /** One per migration of the config, run in order. */
    readonly migrations: Migration[] = [];
    /** One per drain of the config, in the same chain as the migrations. */
    readonly drains: Drain[] = [];
    /** Each drain's own figures (components/reports/drain.ts). */
    readonly drainReports: pulumi.Output<DrainReport[]>;
    readonly legs: pulumi.Output<LegOutcome[]>;
    readonly summary: pulumi.Output<DirectionSummary[]>;

    constructor(name: string, args: LabArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:lab:Lab", name, {}, opts);
        const plan = this.plan = planLab(args.config, args.stack);
        const parent = { parent: this };
        const site = this.site = makeSite(`${name}-site`, plan, args.config, parent);
        const reach = site.hostReach(plan);
        for (const n of plan.nodes) {
            this.hosts[n.name] = new Host(`${name}-${n.name}`, { ...site.hostArgs(n.name), reach: n.role === "host" ? reach : undefined }, parent);
        }
        const hostList = plan.hosts.map((h) => this.hosts[h.name]);
        const net = plan.guestNetwork;
        // The guests' network on every host: OVS first on bridged hosts, since it carries
        // their underlay address (and so their route to the NFS server).
        const networks: pulumi.Resource[] = plan.hosts.map((h) => {
            const host = this.hosts[h.name];
            if (net.kind === "ovs") {
                return new OvsBridge(`${name}-${h.name}-ovs`, {
                    host, ...site.ovs,
                    address: `${h.address}/${h.prefix}`, gateway: h.gateway,
                    peers: hostList.filter((p) => p !== host), vni: net.vni, tunnel: net.tunnel, bridge: net.bridge, network: net.network,
                    overlayGateway: net.gatewayHost === h.name ? `${net.gateway}/${net.subnet.split("/")[1]}` : undefined,
                }, parent);
            }
            if (net.kind === "nat") {
                return new NatNetwork(`${name}-${h.name}-nat`, {
                    host, subnet: net.subnet, gateway: net.gateway, mac: net.mac, network: net.network, bridge: net.bridge,
                }, parent);
            }
            return site.joinGuestBridge(`${name}-${h.name}-bridge`, host, net.bridge, parent);
        });
        const networkChecks = site.networkChecks(name, plan, networks, parent);
        const attachment: GuestAttachment = net.kind === "bridge" ? { kind: "bridge", bridge: net.bridge }
            : { kind: "network", network: net.network, openvswitch: net.kind === "ovs" };
        // No export (nfs.export omitted): no NFS server and no shared pool; the node stays the probe (and router).
        const nfs = plan.export === undefined ? undefined : new NfsServer(`${name}-nfs`, {
            host: this.hosts[plan.nfs.name], export: plan.export, allowedNetworks: plan.allowedNetworks,
            implementation: plan.nfsServer, id: plan.labId, stateDir: site.nfsStateDir(plan.nfs.name),
        }, parent);
        const shared = plan.pool;
        const pools = !nfs || !shared ? [] : plan.hosts.map((h, i) => new StoragePool(`${name}-${h.name}-pool`, {
            host: this.hosts[h.name], name: shared.name, target: shared.target, nfs: shared.type === "netfs" ? nfs : undefined,
            mountOf: site.poolMountsExport && shared.type === "dir" ? nfs : undefined,
        }, { parent: this, dependsOn: [nfs, networks[i]] }));
        // Every host's own pool for the disks that move with their guests (storage copy*), at one path on all.
        const localPools = plan.localPool ? plan.hosts.map((h, i) => new StoragePool(`${name}-${h.name}-local-pool`, {
            host: this.hosts[h.name], name: plan.localPool!.name, target: plan.localPool!.target,
        }, { parent: this, dependsOn: [networks[i]] })) : [];
        // Guests with a configured CPU: checked on every host each may visit before any guest is made.
        const visits = guestVisits(plan.config.guests, plan.legs);
        const withCpu = plan.guests.map((g, i) => ({ g, field: `guests[${i}].cpu` })).filter(({ g }) => g.cpu !== undefined);
        const cpuCheck = withCpu.length === 0 ? undefined : new CpuCheck(`${name}-cpu`, {
            hosts: hostList, guests: withCpu.map(({ g, field }) => ({ name: g.name, cpu: g.cpu!, visits: visits[g.name], field })),
        }, parent);
        for (const g of plan.guests) {
            // Without an export each host builds the boot files into its local pool, before the pool may go on destroy.
            const image = new GuestImage(`${name}-${g.name}-image`, {
                ...(nfs ? { nfs } : { hosts: hostList }), name: g.name, image: g.image.qcow2 ? { qcow2: g.image.qcow2 } : { builtin: "tiny" },
                diskMiB: g.image.diskMiB, poolTarget: plan.boot.dir, exportDisk: g.exportDisk !== undefined,
            }, nfs ? parent : { parent: this, dependsOn: localPools });
            this.domains[g.name] = new Domain(`${name}-${g.name}`, {
                host: this.hosts[g.home], hosts: hostList, guestName: g.name, memoryMiB: g.memoryMiB, vcpus: g.vcpus,
                image, network: attachment, address: g.address, prefix: g.prefix, counterPort: g.counterPort,
                gateway: g.gateway, ping: g.ping, workload: g.workload, uuid: g.uuid, mac: g.mac,
                cpu: g.cpu !== undefined ? cpuCheck!.cpuOf(g.name) : undefined, localDisk: g.local,
                description: `miglab guest of stack ${plan.stack}`,
            }, { parent: this, dependsOn: [...pools, ...localPools, ...site.ready, ...networkChecks] });
        }
        if (plan.tls) {
            this.tls = new MigrationTls(`${name}-tls`, {
                hosts: plan.tls.hosts.map((h) => this.hosts[h]), caHost: this.hosts[plan.tls.caHost], labId: plan.labId,
                caDir: plan.tls.caDir, expectDir: site.migrationTlsDir,
                // The hosts reach the CA's host with the lab's key, which the site has installed once it is ready.
            }, { parent: this, dependsOn: site.ready });
        }
        // The migrations one after another, each starting where the previous ones left its guest;
        // every other guest is a bystander that must keep working meanwhile.
        let previous: pulumi.Resource[] = [...Object.values(this.domains), ...(this.tls ? [this.tls] : [])];
        // Legs with capture: true capture at the router where the lab makes one, else on their source.
        const capture = { captureAt: plan.capture.node ? this.hosts[plan.capture.node] : undefined, captureDir: plan.capture.dir };
        for (const { m, at } of migrationEntries(plan.config)) {
            const legs = plan.legs.filter((l) => l.at === at);
            const { guest, from, to, path, drain, probeHost, guestPingIntervalMs, sla, runs, ...options } = m;
            // Behind NAT no third node reaches the guest: the hosts ask its counter instead.
            const probe = net.kind === "nat" ? undefined : this.hosts[legs[0].probe];
            const bystanders = legs[0].bystanders.map((b) => ({ domain: this.domains[b.guest], host: this.hosts[b.host] }));
            if (drain) {
                const d = plan.drains.find((x) => x.at === at)!;
                const component = new Drain(`${name}-drain${this.drains.length ? `-${this.drains.length + 1}` : ""}`, {
                    host: this.hosts[d.host], moves: d.moves.map((x) => ({ domain: this.domains[x.guest], to: this.hosts[x.to] })),
                    parallel: d.parallel, probe, bystanders, watchTunnel: net.kind === "ovs", ...capture, legNames: d.legs, legPrefix: `${name}-migration`,
                    triggers: [JSON.stringify(net)], previousLegs: args.previousLegs, previousDrains: args.previousDrains, at, ...options,
                    sla: migrationSla(plan.config.sla, sla),
                }, { parent: this, dependsOn: previous });
                this.drains.push(component);
                previous = [component];
                continue;
            }
            const route = migrationPath(m).map((h) => this.hosts[h]);
            const migration = new Migration(`${name}-migration${this.migrations.length ? `-${this.migrations.length + 1}` : ""}`, {
                domain: this.domains[guest!], ...(path ? { path: route } : { from: route[0], to: route[1] }),
                probe, bystanders, runs,
                watchTunnel: net.kind === "ovs", ...capture, legNames: legs.map((l) => l.name), legPrefix: `${name}-migration`,
                // A changed guest network is measured again too (e.g. a stack switching vxlan to gre).
                triggers: [JSON.stringify(net)], previousLegs: args.previousLegs, ...options,
                // The lab's bounds apply to every migration, its own replacing them bound by bound.
                sla: migrationSla(plan.config.sla, sla),
            }, { parent: this, dependsOn: previous });
            this.migrations.push(migration);
            previous = [migration];
        }
        // In the order the config gives the migrations and drains.
        const order = migrationEntries(plan.config).map(({ m }) => m.drain !== undefined);
        let mi = 0, di = 0;
        this.legs = pulumi.all(order.map((isDrain) => (isDrain ? this.drains[di++] : this.migrations[mi++]).legs)).apply((l) => l.flat());
        this.summary = this.legs.apply((l) => asOutputValue(summarize(l)));
        this.drainReports = pulumi.all(this.drains.map((d) => d.report));
        this.registerOutputs({ legs: this.legs, summary: this.summary, drains: this.drainReports });
    }
}
