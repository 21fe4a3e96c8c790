// What a packet capture (pcap, as dumpcap -P writes it) holds of TCP connections: per
// connection its two ends, the first bytes each end sent, how much each sent, and how often
// given byte patterns occur in what each sent. Pure: the lab suite's migration.tls test reads
// the capture it made of a leg's migration stream with it.

export interface Flow {
    /** "address:port" of the end that opened the connection (its SYN seen), or else of the end outside `serverPorts`. */
    client: string;
    server: string;
    /** Whether its opening (a SYN) is in the capture: else it was open before, and which end opened it is a guess. */
    opened: boolean;
    /** The first bytes of the first segment with data each end sent (up to 16). */
    clientFirst?: Buffer;
    serverFirst?: Buffer;
    clientBytes: number;
    serverBytes: number;
    /** Per pattern (in the order given), its occurrences in the bytes each end sent, segment by segment in capture order. */
    clientHits: number[];
    serverHits: number[];
}

/** A TLS handshake record (0x16, version 3.x) holding a ClientHello (1) or ServerHello (2) first. */
export function isTlsHello(b: Buffer | undefined, type: "client" | "server"): boolean {
    return !!b && b.length >= 6 && b[0] === 0x16 && b[1] === 0x03 && b[2] <= 0x04 && b[5] === (type === "client" ? 0x01 : 0x02);
}

function count(hay: Buffer, needle: Buffer): number {
    let n = 0;
    for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) { n++; }
    return n;
}

/**
 * The TCP connections of a pcap capture (Ethernet, 802.1Q or Linux cooked frames; IPv4) whose
 * server port is in `serverPorts` [min, max]. A pattern split between two segments of one
 * direction is still found (the tail of the previous segment is kept), and one that a
 * retransmission repeats is counted twice.
 */
export function tcpFlows(pcap: Buffer, patterns: Buffer[], serverPorts: [number, number]): Flow[] {
    if (pcap.length < 24) { throw new Error(`not a pcap capture: ${pcap.length} bytes`); }
    const magic = pcap.readUInt32LE(0);
    const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
    if (!le && pcap.readUInt32BE(0) !== 0xa1b2c3d4 && pcap.readUInt32BE(0) !== 0xa1b23c4d) {
        throw new Error(`not a pcap capture (magic ${magic.toString(16)}; pcapng? capture with dumpcap -P)`);
    }
    const u32 = (o: number) => (le ? pcap.readUInt32LE(o) : pcap.readUInt32BE(o));
    const linkType = u32(20);
    if (linkType !== 1 && linkType !== 113) { throw new Error(`link type ${linkType}: only Ethernet (1) and Linux cooked (113) captures are read`); }
    const inRange = (p: number) => p >= serverPorts[0] && p <= serverPorts[1];
    const flows = new Map<string, Flow & { tails: Record<"client" | "server", Buffer> }>();
    const longest = Math.max(1, ...patterns.map((p) => p.length));
    for (let off = 24; off + 16 <= pcap.length;) {
        const caught = u32(off + 8);
        const frame = pcap.subarray(off + 16, Math.min(pcap.length, off + 16 + caught));
        off += 16 + caught;
        let at = linkType === 1 ? 12 : 14;
        if (frame.length < at + 2) { continue; }
        let type = frame.readUInt16BE(at);
        at += 2;
        while (type === 0x8100 && frame.length >= at + 4) { type = frame.readUInt16BE(at + 2); at += 4; }
        if (type !== 0x0800 || frame.length < at + 20) { continue; }
        const ip = frame.subarray(at);
        if (ip[9] !== 6) { continue; }
        const ihl = (ip[0] & 0x0f) * 4;
        const total = Math.min(ip.readUInt16BE(2), ip.length);
        const tcp = ip.subarray(ihl, total);
        if (tcp.length < 20) { continue; }
        const addr = (o: number) => `${ip[o]}.${ip[o + 1]}.${ip[o + 2]}.${ip[o + 3]}`;
        const src = `${addr(12)}:${tcp.readUInt16BE(0)}`, dst = `${addr(16)}:${tcp.readUInt16BE(2)}`;
        const syn = (tcp[13] & 0x02) !== 0, ack = (tcp[13] & 0x10) !== 0;
        const payload = tcp.subarray((tcp[12] >> 4) * 4);
        const key = [src, dst].sort().join(" ");
        let f = flows.get(key);
        if (!f) {
            // Who opened it: the sender of a lone SYN, else the end whose port is not the server's.
            const opener = syn && !ack ? src : syn ? dst : inRange(tcp.readUInt16BE(2)) ? src : dst;
            const client = opener, server = opener === src ? dst : src;
            if (!inRange(Number(server.split(":")[1]))) { continue; }
            f = { client, server, opened: syn, clientBytes: 0, serverBytes: 0, clientHits: patterns.map(() => 0), serverHits: patterns.map(() => 0),
                tails: { client: Buffer.alloc(0), server: Buffer.alloc(0) } };
            flows.set(key, f);
        }
        if (payload.length === 0) { continue; }
        const side = src === f.client ? "client" : "server";
        if (side === "client") { f.clientBytes += payload.length; f.clientFirst ??= Buffer.from(payload.subarray(0, 16)); }
        else { f.serverBytes += payload.length; f.serverFirst ??= Buffer.from(payload.subarray(0, 16)); }
        const seen = Buffer.concat([f.tails[side], payload]);
        const hits = side === "client" ? f.clientHits : f.serverHits;
        // Occurrences starting in the kept tail were counted already unless they run into this segment.
        patterns.forEach((p, i) => { hits[i] += count(seen, p) - count(f!.tails[side], p); });
        f.tails[side] = Buffer.from(seen.subarray(Math.max(0, seen.length - (longest - 1))));
    }
    return [...flows.values()].map(({ tails: _t, ...f }) => f);
}
