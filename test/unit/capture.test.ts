// The capture reader the migration.tls lab test relies on, on captures built here byte by byte.
import * as assert from "assert";
import { isTlsHello, tcpFlows } from "../capture";

interface Seg { src: string; dst: string; flags?: "S" | "SA" | "A"; data?: Buffer; vlan?: boolean }

function frame(s: Seg): Buffer {
    const [sa, sp] = s.src.split(":"), [da, dp] = s.dst.split(":");
    const data = s.data ?? Buffer.alloc(0);
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(Number(sp), 0); tcp.writeUInt16BE(Number(dp), 2);
    tcp[12] = 5 << 4;
    tcp[13] = s.flags === "S" ? 0x02 : s.flags === "SA" ? 0x12 : 0x10;
    const ip = Buffer.alloc(20);
    ip[0] = 0x45; ip.writeUInt16BE(20 + 20 + data.length, 2); ip[8] = 64; ip[9] = 6;
    Buffer.from(sa.split(".").map(Number)).copy(ip, 12); Buffer.from(da.split(".").map(Number)).copy(ip, 16);
    const eth = Buffer.alloc(s.vlan ? 18 : 14);
    if (s.vlan) { eth.writeUInt16BE(0x8100, 12); eth.writeUInt16BE(7, 14); eth.writeUInt16BE(0x0800, 16); } else { eth.writeUInt16BE(0x0800, 12); }
    // Ethernet pads short frames: the reader must stop at the IP length.
    return Buffer.concat([eth, ip, tcp, data, Buffer.alloc(4, 0xee)]);
}

function pcap(segs: Seg[], bigEndian = false): Buffer {
    const head = Buffer.alloc(24);
    const w32 = (b: Buffer, v: number, o: number) => (bigEndian ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
    w32(head, 0xa1b2c3d4, 0); w32(head, 262144, 16); w32(head, 1, 20);
    return Buffer.concat([head, ...segs.flatMap((s) => {
        const f = frame(s);
        const rec = Buffer.alloc(16);
        w32(rec, f.length, 8); w32(rec, f.length, 12);
        return [rec, f];
    })]);
}

const C = "10.0.0.1:40000", S = "10.0.0.2:49152";
const MARK = Buffer.from("miglab-mark");
const hello = (type: number) => Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, type, 0, 0, 0x3c]);

describe("tcpFlows: a capture's TCP connections", () => {
    it("names each end by who opened it, keeps the first bytes each sent, and counts a pattern split between segments", () => {
        const flows = tcpFlows(pcap([
            { src: C, dst: S, flags: "S" }, { src: S, dst: C, flags: "SA" }, { src: C, dst: S },
            { src: C, dst: S, data: Buffer.from("QEVM\x00\x00\x00\x03 then miglab-") },
            { src: C, dst: S, data: Buffer.from("mark and miglab-mark") },
            { src: S, dst: C, data: Buffer.from("ok") },
            // Not a migration port: left out.
            { src: "10.0.0.1:40001", dst: "10.0.0.2:22", flags: "S" }, { src: "10.0.0.1:40001", dst: "10.0.0.2:22", data: MARK },
        ]), [MARK, Buffer.from("QEVM")], [49152, 49215]);
        assert.strictEqual(flows.length, 1);
        const [f] = flows;
        assert.strictEqual(f.client, C);
        assert.strictEqual(f.server, S);
        assert.strictEqual(f.opened, true);
        assert.strictEqual(f.clientFirst!.toString("latin1", 0, 4), "QEVM");
        assert.strictEqual(f.serverFirst!.toString(), "ok");
        assert.strictEqual(f.clientBytes, "QEVM\x00\x00\x00\x03 then miglab-".length + "mark and miglab-mark".length);
        assert.deepStrictEqual(f.clientHits, [2, 1]);
        assert.deepStrictEqual(f.serverHits, [0, 0]);
        assert.ok(!isTlsHello(f.clientFirst, "client"));
    });

    it("tells the ends apart without the SYN (a capture started late), reads 802.1Q frames and big-endian captures", () => {
        const flows = tcpFlows(pcap([
            { src: S, dst: C, data: hello(2), vlan: true },
            { src: C, dst: S, data: hello(1), vlan: true },
        ], true), [MARK], [49152, 49215]);
        assert.strictEqual(flows.length, 1);
        assert.strictEqual(flows[0].client, C);
        assert.strictEqual(flows[0].opened, false);
        assert.ok(isTlsHello(flows[0].clientFirst, "client") && isTlsHello(flows[0].serverFirst, "server"));
        assert.ok(!isTlsHello(flows[0].clientFirst, "server"));
    });

    it("refuses what is not a pcap capture", () => {
        assert.throws(() => tcpFlows(Buffer.from("\x0a\x0d\x0d\x0a" + "x".repeat(40), "latin1"), [], [1, 2]), /not a pcap capture .*dumpcap -P/);
    });
});
