// A bridged leg's underlay as the router sees it on its link to the old host (pc1), frame by
// frame, written as a pcap: the fixture test/fixtures/capture/bridged-out.pcap, which the unit
// suite decodes with the leg's own capture.sh (tshark) and reads with components/reports/capture.ts.
// Built here byte by byte (no lab runs in the unit suite), in the shape the lab stack `bridged`
// gives a leg out (pc1 -> pc2): what each frame is supposed to be is kept beside it, so the test
// checks the decoding against the frames' meaning, not against a decoded copy.
// `node bin/test/captureFixture.js FILE` writes the pcap again.
import * as fs from "fs";

export const PC1 = "10.10.10.1", PC2 = "10.10.10.9", ROUTER = "10.10.10.6", OUTSIDE = "10.10.20.2";
export const GUEST = "10.10.30.10", OVERLAY_GW = "10.10.30.1", VNI = 5001;
const MAC = {
    guest: "52:54:00:6d:6c:0a", ovgw: "02:00:00:00:30:01", pc1: "02:00:00:0a:0a:01", router: "02:00:00:0a:0a:06", pc2: "02:00:00:0a:0a:09",
    broadcast: "ff:ff:ff:ff:ff:ff",
};
/** When the fixture's leg starts (epoch s), and when the tunnel counter was read before and after. */
export const T = 1764000000;
export const WINDOW: [number, number] = [T + 0.5, T + 2.5];

export type Tag = "tunnel" | "forwarded-reply" | "rarp" | "garp" | "plain";
export interface FixtureFrame { t: number; bytes: Buffer; tags: Tag[]; from?: string; to?: string; seq?: number }

const mac = (m: string) => Buffer.from(m.split(":").map((x) => parseInt(x, 16)));
const ip4 = (a: string) => Buffer.from(a.split(".").map(Number));

function checksum(b: Buffer): number {
    let s = 0;
    for (let i = 0; i < b.length; i += 2) { s += (b[i] << 8) + (b[i + 1] ?? 0); }
    while (s > 0xffff) { s = (s & 0xffff) + (s >>> 16); }
    return ~s & 0xffff;
}

function eth(src: string, dst: string, type: number, payload: Buffer): Buffer {
    const h = Buffer.alloc(14);
    mac(dst).copy(h, 0); mac(src).copy(h, 6); h.writeUInt16BE(type, 12);
    return Buffer.concat([h, payload]);
}

function ip(src: string, dst: string, proto: number, payload: Buffer, id: number): Buffer {
    const h = Buffer.alloc(20);
    h[0] = 0x45; h.writeUInt16BE(20 + payload.length, 2); h.writeUInt16BE(id & 0xffff, 4); h[6] = 0x40; h[8] = 64; h[9] = proto;
    ip4(src).copy(h, 12); ip4(dst).copy(h, 16);
    h.writeUInt16BE(checksum(h), 10);
    return Buffer.concat([h, payload]);
}

function icmp(type: 0 | 8, ident: number, seq: number): Buffer {
    const b = Buffer.alloc(8 + 16);
    b[0] = type; b.writeUInt16BE(ident, 4); b.writeUInt16BE(seq, 6);
    b.write("miglab-probe-pad", 8);
    b.writeUInt16BE(checksum(b), 2);
    return b;
}

/** An ARP (0x0806) or RARP (0x8035) frame: opcode, the sender's and target's MAC and address. */
function arp(op: 1 | 2 | 3, sha: string, spa: string, tha: string, tpa: string): Buffer {
    const b = Buffer.alloc(28);
    b.writeUInt16BE(1, 0); b.writeUInt16BE(0x0800, 2); b[4] = 6; b[5] = 4; b.writeUInt16BE(op, 6);
    mac(sha).copy(b, 8); ip4(spa).copy(b, 14); mac(tha).copy(b, 18); ip4(tpa).copy(b, 24);
    return eth(sha, MAC.broadcast, op === 3 ? 0x8035 : 0x0806, b);
}

/** A frame of the overlay carried in VXLAN from one host's underlay address to another's (UDP 4789). */
function vxlan(from: string, to: string, inner: Buffer, id: number): Buffer {
    const head = Buffer.alloc(8 + 8);
    head.writeUInt16BE(49152 + (id % 1000), 0); head.writeUInt16BE(4789, 2); head.writeUInt16BE(16 + inner.length, 4);
    head[8] = 0x08; head.writeUInt32BE(VNI << 8, 12);
    // The router forwards it: on the link to pc1 it carries pc1's or the router's MAC.
    const [s, d] = from === PC1 ? [MAC.pc1, MAC.router] : [MAC.router, MAC.pc1];
    return eth(s, d, 0x0800, ip(from, to, 17, Buffer.concat([head, inner]), id));
}

/** The leg's frames on the router's link to pc1, in time order. */
export function bridgedOutFrames(): FixtureFrame[] {
    const out: FixtureFrame[] = [];
    let id = 1;
    const add = (t: number, bytes: Buffer, tags: Tag[], extra: Partial<FixtureFrame> = {}) => out.push({ t: T + t, bytes, tags, ...extra });
    const guestPing = (seq: number) => eth(MAC.guest, MAC.ovgw, 0x0800, ip(GUEST, OUTSIDE, 1, icmp(8, 77, seq), id++));
    const replyToGuest = (seq: number) => ip(OUTSIDE, GUEST, 1, icmp(0, 77, seq), id++);
    const probe = (seq: number) => ip(ROUTER, GUEST, 1, icmp(8, 99, seq), id++);
    const probeReply = (seq: number) => ip(GUEST, ROUTER, 1, icmp(0, 99, seq), id++);
    // Before the move the guest runs on pc1: everything to and from it crosses this link in plain.
    for (let k = 0; k < 10; k++) {
        const t = 0.1 * k;
        add(t, eth(MAC.router, MAC.pc1, 0x0800, probe(k)), ["plain"]);
        add(t + 0.002, eth(MAC.pc1, MAC.router, 0x0800, probeReply(k)), ["plain"]);
        if (k % 2 === 0) {
            add(t + 0.004, eth(MAC.pc1, MAC.router, 0x0800, ip(GUEST, OUTSIDE, 1, icmp(8, 77, k / 2), id++)), ["plain"]);
            add(t + 0.006, eth(MAC.router, MAC.pc1, 0x0800, replyToGuest(k / 2)), ["plain"]);
        }
    }
    // The guest asks for its gateway's MAC: pc1 floods the request into the tunnel too.
    add(0.3, vxlan(PC1, PC2, arp(1, MAC.guest, GUEST, "00:00:00:00:00:00", OVERLAY_GW), id++), ["tunnel"], { from: PC1, to: PC2 });
    // Paused at 1.0, running on pc2 at 1.15: QEMU's RARPs and the guest's own gratuitous ARP come
    // flooded from pc2; pc1 learns the guest's MAC behind its tunnel port.
    for (const t of [1.15, 1.2, 1.35]) {
        add(t, vxlan(PC2, PC1, arp(3, MAC.guest, "0.0.0.0", MAC.guest, "0.0.0.0"), id++), ["tunnel", "rarp"], { from: PC2, to: PC1 });
    }
    add(1.16, vxlan(PC2, PC1, arp(1, MAC.guest, GUEST, "00:00:00:00:00:00", GUEST), id++), ["tunnel", "garp"], { from: PC2, to: PC1 });
    // After the move: what reaches pc1 for the guest (the probe's pings, the replies to the guest's
    // own) arrives in plain and leaves again into the tunnel to pc2; the guest's answers come back
    // through the tunnel to pc1, its gateway, and leave in plain.
    for (let k = 15; k < 28; k++) {
        const t = 0.1 * k;
        add(t, eth(MAC.router, MAC.pc1, 0x0800, probe(k)), ["plain"]);
        add(t + 0.0003, vxlan(PC1, PC2, eth(MAC.ovgw, MAC.guest, 0x0800, probe(k)), id++), ["tunnel"], { from: PC1, to: PC2 });
        add(t + 0.003, vxlan(PC2, PC1, eth(MAC.guest, MAC.ovgw, 0x0800, probeReply(k)), id++), ["tunnel"], { from: PC2, to: PC1 });
        add(t + 0.0033, eth(MAC.pc1, MAC.router, 0x0800, probeReply(k)), ["plain"]);
        if (k % 2 === 1) {
            const seq = (k - 1) / 2;
            add(t + 0.005, vxlan(PC2, PC1, guestPing(seq), id++), ["tunnel"], { from: PC2, to: PC1 });
            add(t + 0.0053, eth(MAC.pc1, MAC.router, 0x0800, ip(GUEST, OUTSIDE, 1, icmp(8, 77, seq), id++)), ["plain"]);
            add(t + 0.007, eth(MAC.router, MAC.pc1, 0x0800, replyToGuest(seq)), ["plain"]);
            add(t + 0.0073, vxlan(PC1, PC2, eth(MAC.ovgw, MAC.guest, 0x0800, replyToGuest(seq)), id++), ["tunnel", "forwarded-reply"], { from: PC1, to: PC2, seq });
        }
    }
    return out.sort((a, b) => a.t - b.t);
}

/** Frames as a pcap file (microsecond stamps, Ethernet, little-endian: what dumpcap -P writes here). */
export function pcapOf(frames: FixtureFrame[]): Buffer {
    const head = Buffer.alloc(24);
    head.writeUInt32LE(0xa1b2c3d4, 0); head.writeUInt16LE(2, 4); head.writeUInt16LE(4, 6); head.writeUInt32LE(262144, 16); head.writeUInt32LE(1, 20);
    return Buffer.concat([head, ...frames.flatMap((f) => {
        const rec = Buffer.alloc(16);
        const us = Math.round(f.t * 1e6);
        rec.writeUInt32LE(Math.floor(us / 1e6), 0); rec.writeUInt32LE(us % 1e6, 4);
        rec.writeUInt32LE(f.bytes.length, 8); rec.writeUInt32LE(f.bytes.length, 12);
        return [rec, f.bytes];
    })]);
}

if (require.main === module) {
    const file = process.argv[2];
    if (!file) { console.error("usage: node bin/test/captureFixture.js FILE.pcap"); process.exit(2); }
    fs.writeFileSync(file, pcapOf(bridgedOutFrames()));
}
