// What a picture of the lab shows, decided from the plan (and the legs, once measured) in one
// pure function, so the SVG and the Mermaid text draw the same lab: hosts with their guests'
// network and the guests on them now, the subnets, the router and the NFS server, the tunnels
// of a bridged overlay, and the legs as arrows.
import { cidrOf } from "../model/net";
import type { Plan } from "../model/plan";
import { tunnelPort } from "../render/scripts";
import { LegOutcome, isFailed } from "./metrics";

export interface GraphGuest { name: string; address: string; home: string }

export interface GraphHost {
    name: string;
    /** The host's address on its subnet, with prefix. */
    cidr: string;
    segment: string;
    /** The guests' network on this host, one line each (bridge, NAT network, OVS bridge and overlay). */
    network: string[];
    /** The guests on this host now: at home before any leg, else where the last leg that moved them left them. */
    guests: GraphGuest[];
}

export interface GraphNode {
    name: string;
    role: "nfs" | "router" | "outside";
    /** What the node is, shown under its name. */
    lines: string[];
    links: { segment: string; cidr: string }[];
}

export interface GraphSegment { id: string; cidr: string }

export interface GraphTunnel {
    a: string;
    b: string;
    /** "VXLAN VNI 5001" or "GRE key 5001". */
    label: string;
    vni: number;
    /** The OVS port on a's side (towards b) and on b's side (towards a). */
    ports: [string, string];
}

/** The legs from one host to another: measured (with downtime or why they failed) or, before any, planned. */
export interface GraphLegs {
    from: string;
    to: string;
    legs: { name: string; guest?: string; downtimeMs?: number; failed?: string }[];
}

export interface LabGraph {
    title: string;
    /** true: the arrows are measured legs (the stack's outputs); false: the plan's legs, not yet run. */
    measured: boolean;
    hosts: GraphHost[];
    nodes: GraphNode[];
    segments: GraphSegment[];
    tunnels: GraphTunnel[];
    legs: GraphLegs[];
}

/** The guests' network on a host, as its lines in the host's box. */
function networkLines(plan: Plan, host: string): string[] {
    const n = plan.guestNetwork;
    if (n.kind === "bridge") { return [`bridge ${n.bridge}`]; }
    if (n.kind === "nat") { return [`NAT ${n.network} (${n.bridge})`, `guests ${n.subnet} via ${n.gateway}`]; }
    return [`OVS ${n.bridge}`, `overlay ${n.subnet}`, ...(n.gatewayHost === host ? [`overlay gateway ${n.gateway}`] : [])];
}

/** Where each guest is after the legs ran in order: a failed leg leaves its guest where it was. */
export function guestPlaces(plan: Plan, legs: LegOutcome[]): Map<string, string> {
    const where = new Map(plan.guests.map((g) => [g.name, g.home]));
    const guestOf = new Map(plan.legs.map((l) => [l.name, l.guest]));
    const hosts = new Set(plan.hosts.map((h) => h.name));
    for (const l of legs) {
        const guest = l.guest ?? guestOf.get(l.leg);
        // A leg of a host the config no longer has (outputs of an older config) places nobody.
        if (guest && where.has(guest) && !isFailed(l) && hosts.has(l.from) && hosts.has(l.to)) { where.set(guest, l.to); }
    }
    return where;
}

/** The nodes beside the hosts: the NFS server (the router too, on a routed local lab), a team's router, the outside. */
function otherNodes(plan: Plan, segmentOf: (cidr: string) => string): GraphNode[] {
    const routes = plan.forward.includes(plan.nfs.name);
    const nodes: GraphNode[] = [{
        // Without an export the node serves nothing: it is the probe (and the router).
        name: plan.nfs.name, role: "nfs", lines: plan.export === undefined ? [routes ? "probe, router" : "probe", "no NFS: local disks"]
            : [routes ? "NFS server, router" : "NFS server", plan.export],
        links: plan.nfs.links.map((l) => ({ segment: segmentOf(l.cidr), cidr: l.cidr })),
    }];
    const o = plan.outside;
    if (!o) { return nodes; }
    const outsideCidr = `${o.address}/${o.prefix}`;
    if (!routes) {
        // Real machines route through the team's own router: drawn as theirs, joining the hosts' subnets and the outside.
        const subnets = [...new Set([...plan.hosts, plan.nfs].map((h) => `${h.address}/${h.prefix}`))];
        const links = [...new Map([...subnets, outsideCidr].map((c) => [segmentOf(c), c])).keys()].map((segment) => ({ segment, cidr: "" }));
        nodes.push({ name: "router", role: "router", lines: ["your router"], links });
    }
    nodes.push({ name: o.name, role: "outside", lines: ["the guests ping it"], links: [{ segment: segmentOf(outsideCidr), cidr: outsideCidr }] });
    return nodes;
}

/** An arrow's label: each leg's downtime (or that it failed), the first few of many runs, or the planned legs' names. */
export function legsLabel(g: GraphLegs, measured: boolean): string {
    const parts = g.legs.map((l) => (!measured ? l.name : l.failed !== undefined ? `${l.name} failed` : `${l.name} ${l.downtimeMs} ms`));
    const shown = parts.length > 3 ? [...parts.slice(0, 3), `+${parts.length - 3} more`] : parts;
    return `${shown.join(", ")}${measured ? "" : " (planned)"}`;
}

/** Legs grouped by direction, in the order first run (or planned). */
function legGroups(plan: Plan, legs: LegOutcome[] | undefined): GraphLegs[] {
    const groups = new Map<string, GraphLegs>();
    const add = (from: string, to: string, leg: GraphLegs["legs"][number]) => {
        const k = `${from}\u0000${to}`;
        if (!groups.has(k)) { groups.set(k, { from, to, legs: [] }); }
        groups.get(k)!.legs.push(leg);
    };
    // Outputs of an older config may name a host the plan no longer has: no arrow can reach it.
    const known = new Set(plan.hosts.map((h) => h.name));
    if (legs && legs.length > 0) {
        for (const l of legs.filter((x) => known.has(x.from) && known.has(x.to))) {
            add(l.from, l.to, isFailed(l) ? { name: l.leg, guest: l.guest, failed: l.failed } : { name: l.leg, guest: l.guest, downtimeMs: l.downtimeMs });
        }
    } else {
        for (const l of plan.legs) { add(l.from, l.to, { name: l.name, guest: l.guest }); }
    }
    return [...groups.values()];
}

/** The picture's content for a plan and, when the stack has them, its measured legs. */
export function labGraph(plan: Plan, legs?: LegOutcome[]): LabGraph {
    const segments = new Map<string, GraphSegment>();
    const segmentOf = (cidr: string) => {
        const [ip, prefix] = cidr.split("/");
        const net = cidrOf(ip, Number(prefix));
        if (!segments.has(net)) { segments.set(net, { id: `s${segments.size + 1}`, cidr: net }); }
        return segments.get(net)!.id;
    };
    const places = guestPlaces(plan, legs ?? []);
    const hosts: GraphHost[] = plan.hosts.map((h) => ({
        name: h.name, cidr: `${h.address}/${h.prefix}`, segment: segmentOf(`${h.address}/${h.prefix}`),
        network: networkLines(plan, h.name),
        guests: plan.guests.filter((g) => places.get(g.name) === h.name).map((g) => ({ name: g.name, address: g.address, home: g.home })),
    }));
    const nodes = otherNodes(plan, segmentOf);
    const n = plan.guestNetwork;
    const tunnels: GraphTunnel[] = [];
    if (n.kind === "ovs") {
        // A full mesh, one tunnel per pair of hosts (OvsBridge's peers are every other host).
        plan.hosts.forEach((a, i) => plan.hosts.slice(i + 1).forEach((b) => tunnels.push({
            a: a.name, b: b.name, vni: n.vni, label: `${n.tunnel === "vxlan" ? "VXLAN VNI" : "GRE key"} ${n.vni}`,
            ports: [tunnelPort(b), tunnelPort(a)],
        })));
    }
    return {
        title: `stack ${plan.stack}: ${plan.topology} topology, site ${plan.site}`,
        measured: !!legs && legs.length > 0,
        hosts, nodes, segments: [...segments.values()], tunnels, legs: legGroups(plan, legs),
    };
}
