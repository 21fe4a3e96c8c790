// A leg's packet capture (migration.capture), as the leg's "capture" section holds it: where the
// pcap is, and what components/render/scripts/capture.sh decoded of it with tshark. Read into the
// summary the outputs keep (LegMetrics.capture) and `npm run capture` shows.

/**
 * tshark's fields (-T fields, tab-separated, every occurrence comma-separated: the outer
 * header's first) of each frame capture.sh lists one by one, in this order; a unit test checks
 * capture.sh asks for exactly these.
 */
export const CAPTURE_COLUMNS = [
    "frame.time_epoch", "vxlan.vni", "gre.key", "ip.src", "ip.dst", "eth.src",
    "arp.opcode", "arp.src.proto_ipv4", "arp.dst.proto_ipv4", "icmp.type", "icmp.seq",
] as const;

export interface Announcement {
    /** When the router (or the source) saw it (epoch s). */
    t: number;
    /** Where it came from: the host that sent it into the tunnel (its name where the leg knows it, else its address), or the frame's source MAC on the underlay itself. */
    from: string;
    /** QEMU's RARP (sent for the guest once it runs on the destination) or a gratuitous ARP (the guest's own). */
    kind: "rarp" | "garp";
    /** The MAC it announces. */
    mac: string;
}

export interface ForwardedReply {
    /** When it left the old host again, into the tunnel towards the new one (epoch s). */
    t: number;
    /** Who answered: the address the echo reply came from (the guest had pinged it). */
    from: string;
    /** Its ICMP sequence number. */
    seq: number | null;
}

export interface CaptureSummary {
    /** The pcap: its path on `node`. */
    file: string;
    /** The node that holds it, and the interface it captured. */
    node: string;
    iface: string;
    /** What dumpcap said it received and dropped (null: it said nothing). */
    dumpcap: { received: number; dropped: number } | null;
    /** Tunnelled frames per tunnel id (VXLAN's VNI, GRE's key), both ways, over the whole capture. */
    framesPerVni: Record<string, number>;
    /**
     * Tunnelled frames the old host sent towards the new one between the two reads of its tunnel
     * port's counter (the figure to set beside tunnelForwardedPackets); null without those reads.
     */
    tunnelFrames: number | null;
    /** The RARP and gratuitous ARP frames, in time order. */
    announcements: Announcement[];
    /** ICMP echo replies to the guest that reached the old host and left it again into the tunnel towards the new one, in time order. */
    forwardedReplies: ForwardedReply[];
}

const last = (v: string) => v.split(",").pop() ?? "";
const first = (v: string) => v.split(",")[0] ?? "";

/** The leg's "capture" section, or null when the leg did not capture. */
export function parseCapture(text: string | undefined): CaptureSummary | null {
    if (text === undefined) { return null; }
    const out: CaptureSummary = {
        file: "", node: "", iface: "", dumpcap: null, framesPerVni: {}, tunnelFrames: null, announcements: [], forwardedReplies: [],
    };
    const names = new Map<string, string>();
    let src = "", dst = "", windowed = false;
    const frames: string[][] = [];
    for (const line of text.split("\n")) {
        if (line.startsWith("frame\t")) { frames.push(line.split("\t").slice(1)); continue; }
        const [key, ...w] = line.trim().split(/\s+/);
        if (key === "file") { out.file = line.trim().slice(5); }
        else if (key === "node") { [out.node, out.iface = ""] = w; }
        else if (key === "hosts" && w.length >= 4) {
            [src, , dst] = w;
            names.set(w[0], w[1]).set(w[2], w[3]);
        } else if (key === "window") { windowed = w.length === 2 && w.every((x) => Number.isFinite(Number(x))); }
        else if (key === "dumpcap" && w.length === 2) { out.dumpcap = { received: Number(w[0]), dropped: Number(w[1]) }; }
        else if (key === "tunnel" && w.length === 5) {
            const [id, from, to, all, inWindow] = w;
            const vni = String(Number(id));
            out.framesPerVni[vni] = (out.framesPerVni[vni] ?? 0) + Number(all);
            if (windowed && from === src && to === dst) { out.tunnelFrames = (out.tunnelFrames ?? 0) + Number(inWindow); }
        }
    }
    if (!out.file) { throw new Error(`capture: the section names no file: '${text.trim().slice(0, 200)}'`); }
    if (windowed && out.tunnelFrames === null) { out.tunnelFrames = 0; }
    const col = (f: string[], name: (typeof CAPTURE_COLUMNS)[number]) => f[CAPTURE_COLUMNS.indexOf(name)] ?? "";
    for (const f of frames) {
        const t = Number(col(f, "frame.time_epoch"));
        const tunnelId = col(f, "vxlan.vni") || col(f, "gre.key");
        const op = Number(col(f, "arp.opcode"));
        if (col(f, "arp.opcode") !== "") {
            const rarp = op === 3 || op === 4;
            // (An ARP probe, sent from 0.0.0.0 before an address is taken, announces nothing.)
            const spa = col(f, "arp.src.proto_ipv4");
            const garp = (op === 1 || op === 2) && spa !== "" && spa !== "0.0.0.0" && spa === col(f, "arp.dst.proto_ipv4");
            if (!rarp && !garp) { continue; }
            const vtep = first(col(f, "ip.src"));
            out.announcements.push({
                t, kind: rarp ? "rarp" : "garp", mac: last(col(f, "eth.src")),
                from: tunnelId && vtep ? names.get(vtep) ?? vtep : first(col(f, "eth.src")),
            });
        } else if (tunnelId && last(col(f, "icmp.type")) === "0" && first(col(f, "ip.src")) === src && first(col(f, "ip.dst")) === dst) {
            const seq = col(f, "icmp.seq");
            out.forwardedReplies.push({ t, from: last(col(f, "ip.src")), seq: seq === "" ? null : Number(last(seq)) });
        }
    }
    out.announcements.sort((a, b) => a.t - b.t);
    out.forwardedReplies.sort((a, b) => a.t - b.t);
    return out;
}

/** Where the file is, for a person: a path on this machine, or host:path on another. */
export function captureLocation(c: CaptureSummary, local: boolean): string {
    return local ? c.file : `${c.node}:${c.file}`;
}

/**
 * The summary as `npm run capture` prints it: times in ms since the migration started
 * (`startedAt`, epoch s), or epoch seconds without it.
 */
export function captureText(c: CaptureSummary, leg: { leg: string; from: string; to: string; startedAt?: number; tunnelForwardedPackets?: number | null }): string {
    const at = (t: number) => (leg.startedAt !== undefined && Number.isFinite(leg.startedAt) ? `${Math.round((t - leg.startedAt) * 1000)} ms` : t.toFixed(6));
    const lines = [
        `leg ${leg.leg} (${leg.from} -> ${leg.to}), captured on ${c.node}${c.iface ? ` (${c.iface})` : ""}` +
            (c.dumpcap ? `: ${c.dumpcap.received} frames, ${c.dumpcap.dropped} dropped` : ""),
        "",
        "tunnelled frames per VNI:",
        ...(Object.keys(c.framesPerVni).length ? Object.entries(c.framesPerVni).map(([v, n]) => `  ${v}  ${n}`) : ["  none"]),
    ];
    if (c.tunnelFrames !== null) {
        lines.push(`  ${leg.from} -> ${leg.to} between the tunnel counter's reads: ${c.tunnelFrames}` +
            (leg.tunnelForwardedPackets !== undefined && leg.tunnelForwardedPackets !== null ? ` (the counter: ${leg.tunnelForwardedPackets})` : ""));
    }
    lines.push("", "announcements (since the migration started):",
        ...(c.announcements.length ? c.announcements.map((a) => `  ${at(a.t).padStart(9)}  ${a.kind}  ${a.mac}  from ${a.from}`) : ["  none"]),
        "", `ICMP replies to the guest forwarded by ${leg.from} through the tunnel to ${leg.to}: ${c.forwardedReplies.length}`,
        ...c.forwardedReplies.map((r) => `  ${at(r.t).padStart(9)}  from ${r.from}${r.seq !== null ? `  seq ${r.seq}` : ""}`));
    return lines.join("\n");
}
