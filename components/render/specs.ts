// The plan as the renderers' specs, for what renders a script without declaring
// resources: the lab suites' own legs and a site's cleanup after a failed destroy.
// The Lab itself goes through the components, which build the same specs.
import type { MigrationConfig } from "../model/config";
import type { GuestImageSpec, LegSpec, LocalSiteSpec, OvsSpec } from "./scripts";
import { BOOT_MARKS, tunnelPort } from "./scripts";
import { Plan, PlannedGuest, PlannedLeg, PlannedNode } from "../model/plan";

/** owner: whose lab it is, as LocalSite's default (the program's directory). */
export function siteSpecOf(plan: Plan, owner = process.cwd()): LocalSiteSpec {
    return {
        labId: plan.labId, stateDir: plan.stateDir, owner, hostUplink: plan.hostUplink, linkMtu: plan.linkMtu,
        forward: plan.forward, routes: plan.routes, link: plan.config.link,
        nodes: plan.nodes.map((n) => ({ name: n.name, role: n.role, port: n.connect.port, gateway: n.gateway, links: n.links })),
    };
}

/** A leg of one of the plan's guests between two of its nodes (by default with the first migration's options). */
export function legSpecOf(plan: Plan, g: PlannedGuest, leg: {
    leg: string; from: PlannedNode; to: PlannedNode; migration?: MigrationConfig; probe?: PlannedNode;
    bystanders?: { guest: PlannedGuest; host: PlannedNode }[];
}): LegSpec {
    const nat = plan.guestNetwork.kind === "nat";
    const probe = leg.probe ?? plan.probe;
    return {
        leg: leg.leg,
        guest: {
            name: g.name, address: g.address, counterPort: g.counterPort, memoryMiB: g.memoryMiB,
            ...(g.local ? { disk: g.local, ...(g.image.qcow2 === undefined ? { diskWrites: "counter-sector" as const } : {}) } : {}),
        },
        from: { name: leg.from.name, address: leg.from.address }, to: { name: leg.to.name, address: leg.to.address },
        // Behind NAT the guest's address is private to the host it runs on: no third node reaches it,
        // so the hosts ask its counter and the guest's own pings to the outside tell the loss.
        probe: nat ? undefined : probe.address,
        tunnelPort: plan.guestNetwork.kind === "ovs" ? tunnelPort(leg.to) : undefined,
        capture: captureSpecOf(plan, leg.from),
        keyPath: plan.labKey, tuning: leg.migration ?? plan.config.migrations[0],
        bystanders: (leg.bystanders ?? []).map((b) => ({
            name: b.guest.name, address: b.guest.address, counterPort: b.guest.counterPort,
            asker: nat ? b.host.address : probe.address, host: b.host.name,
        })),
    };
}

/** Where a leg from `from` captures (plan.capture): the router, or the source itself. */
export function captureSpecOf(plan: Plan, from: PlannedNode): NonNullable<LegSpec["capture"]> {
    const router = plan.nodes.find((n) => n.name === plan.capture.node);
    return router ? { at: router.address, node: router.name, dir: plan.capture.dir } : { node: from.name, dir: plan.capture.dir };
}

/** One of the plan's legs, its nodes and guests looked up in the plan. */
export function plannedLegSpec(plan: Plan, l: PlannedLeg): LegSpec {
    const node = (name: string) => plan.nodes.find((n) => n.name === name)!;
    const guest = (name: string) => plan.guests.find((g) => g.name === name)!;
    return legSpecOf(plan, guest(l.guest), {
        leg: l.name, from: node(l.from), to: node(l.to), migration: l.migration, probe: node(l.probe),
        bystanders: l.bystanders.map((b) => ({ guest: guest(b.guest), host: node(b.host) })),
    });
}

/** One host's Open vSwitch bridges in the plan's overlay (bridged topology). */
export function ovsSpecOf(plan: Plan, host: PlannedNode): OvsSpec {
    const n = plan.guestNetwork;
    if (n.kind !== "ovs") { throw new Error("ovsSpecOf: the plan's guest network is not ovs"); }
    return {
        node: host.name, ownDaemons: plan.site === "local", uplink: plan.site === "local" ? "eth0" : "",
        stateDir: plan.site === "local" ? "/var/lib/miglab/ovs" : plan.stateDir, address: `${host.address}/${host.prefix}`,
        gateway: host.gateway, peers: plan.hosts.filter((h) => h.name !== host.name).map((h) => ({ name: h.name, address: h.address })),
        vni: n.vni, tunnel: n.tunnel, bridge: n.bridge, network: n.network,
        overlayGateway: n.gatewayHost === host.name ? `${n.gateway}/${n.subnet.split("/")[1]}` : undefined,
    };
}

/**
 * The files of one of the plan's guests as GuestImage renders them: on the NFS host, in the export;
 * in a lab without an export, on every host, in its local pool (the boot files only).
 */
export function guestImageSpecOf(plan: Plan, g: PlannedGuest): GuestImageSpec {
    const builtin = g.image.qcow2 === undefined;
    const out = plan.export ?? plan.boot.dir;
    return {
        name: g.name, export: out, ...(plan.boot.perHost ? { marks: BOOT_MARKS } : {}), disk: g.exportDisk ?? "", diskMiB: g.image.diskMiB, builtin: builtin ? "tiny" : undefined,
        kernel: builtin ? `${out}/miglab-tiny-vmlinuz` : undefined, initrd: builtin ? `${out}/miglab-tiny-initrd.img` : undefined,
    };
}
