// migration.capture: a leg's pcap decoded by the leg's own capture.sh (tshark), read into the
// summary the outputs keep, on the committed fixture test/fixtures/capture/bridged-out.pcap (a
// bridged leg out, pc1 -> pc2, as the router sees it on its link to pc1: test/captureFixture.ts).
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseLabConfig } from "../../components/model/config";
import { planLab } from "../../components/model/plan";
import { CAPTURE_COLUMNS, CaptureSummary, captureText, parseCapture } from "../../components/reports/capture";
import { parseLeg } from "../../components/reports/metrics";
import { captureScript, migrateLegScript, scriptText } from "../../components/render";
import { legSpecOf } from "../../components/render/specs";
import { GUEST, OUTSIDE, PC1, PC2, T, VNI, WINDOW, bridgedOutFrames, pcapOf } from "../captureFixture";
import { parseArgs as parseCaptureArgs, show } from "../../scripts/capture";
import { ROOT } from "../support";
import { sampleLab } from "./config.test";

const FIXTURE = path.join(ROOT, "test", "fixtures", "capture", "bridged-out.pcap");
const DUMPCAP_SAID = "Capturing on 'eth0'\nPackets received/dropped on interface 'eth0': 164/2 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0) (98.8%)\n";

/** What the leg prints as its capture section for the fixture: its own lines, then capture.sh's `stop` on a dumpcap stand-in. */
async function section(window: [number, number] | undefined): Promise<{ text: string; signal: NodeJS.Signals | null }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-capture-"));
    try {
        const file = path.join(dir, "out.pcap");
        fs.copyFileSync(FIXTURE, file);
        fs.writeFileSync(`${file}.log`, DUMPCAP_SAID);
        // The process capture.sh stops: one of ours, ended by its SIGINT as dumpcap would be.
        const child = spawn("sleep", ["30"], { stdio: "ignore" });
        const ended = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_c, sig) => resolve(sig)));
        const [t0, t1] = window ? window.map((x) => x.toFixed(6)) : ["-", "-"];
        const set = `set -- stop ${file} ${child.pid} ${t0} ${t1}\n`;
        const r = spawnSync("bash", ["-c", set + captureScript(GUEST)], { encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.ok(!fs.existsSync(`${file}.log`), "capture.sh left dumpcap's log");
        const head = [`file ${file}`, "node nfs eth0", `hosts ${PC1} pc1 ${PC2} pc2`, `window ${t0} ${t1}`];
        return { text: [...head, r.stdout.trimEnd()].join("\n"), signal: await ended };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const near = (a: number, b: number) => Math.abs(a - b) < 1e-5;

describe("migration.capture: the leg's pcap, decoded", function () {
    this.timeout(60000);
    const frames = bridgedOutFrames();
    let summary: CaptureSummary;

    it("the committed fixture is the one test/captureFixture.ts writes", () => {
        assert.ok(fs.readFileSync(FIXTURE).equals(pcapOf(frames)), "run: npx tsc -p tsconfig.json && node bin/test/captureFixture.js test/fixtures/capture/bridged-out.pcap");
    });

    it("capture.sh stops dumpcap and decodes with tshark what the summary reads: frames per VNI, the tunnel's count in the counter's window, the announcements, the forwarded replies", async () => {
        const { text, signal } = await section(WINDOW);
        assert.strictEqual(signal, "SIGINT");
        summary = parseCapture(text)!;
        const tunnelled = frames.filter((f) => f.tags.includes("tunnel"));
        assert.deepStrictEqual(summary.framesPerVni, { [VNI]: tunnelled.length });
        assert.strictEqual(summary.tunnelFrames,
            tunnelled.filter((f) => f.from === PC1 && f.to === PC2 && f.t >= WINDOW[0] && f.t <= WINDOW[1]).length);
        assert.deepStrictEqual(summary.dumpcap, { received: 164, dropped: 2 });
        assert.strictEqual(summary.node, "nfs");
        assert.strictEqual(summary.iface, "eth0");

        const announced = frames.filter((f) => f.tags.includes("rarp") || f.tags.includes("garp"));
        assert.strictEqual(summary.announcements.length, announced.length);
        summary.announcements.forEach((a, i) => {
            assert.ok(near(a.t, announced[i].t), `${a.t} vs ${announced[i].t}`);
            assert.strictEqual(a.kind, announced[i].tags.includes("rarp") ? "rarp" : "garp");
            assert.strictEqual(a.from, "pc2", "sent into the tunnel by the new host, named");
            assert.strictEqual(a.mac, "52:54:00:6d:6c:0a");
        });

        const forwarded = frames.filter((f) => f.tags.includes("forwarded-reply"));
        assert.ok(forwarded.length > 5);
        assert.deepStrictEqual(summary.forwardedReplies.map((x) => x.seq), forwarded.map((f) => f.seq));
        summary.forwardedReplies.forEach((x, i) => {
            assert.ok(near(x.t, forwarded[i].t));
            assert.strictEqual(x.from, OUTSIDE);
        });
    });

    it("without the tunnel counter's reads (no tunnel, or a leg before them) counts no window", async () => {
        const s = parseCapture((await section(undefined)).text)!;
        assert.strictEqual(s.tunnelFrames, null);
        assert.deepStrictEqual(s.framesPerVni, summary.framesPerVni);
    });

    it("capture.sh asks tshark for the columns the parser reads, in its order", () => {
        const sh = scriptText("capture.sh");
        const listed = /-Y "arp[^\n]*\n(?:.*\\\n)*?.*sed 's\/\^\/frame/.exec(sh)?.[0] ?? "";
        assert.deepStrictEqual([...listed.matchAll(/-e (\S+)/g)].map((m) => m[1]), [...CAPTURE_COLUMNS]);
    });

    it("reads GRE's keys (tshark prints them in hex) as tunnel ids, and names a plain frame's announcer by its MAC", () => {
        const row = (cols: Partial<Record<(typeof CAPTURE_COLUMNS)[number], string>>) =>
            `frame\t${CAPTURE_COLUMNS.map((c) => cols[c] ?? "").join("\t")}`;
        const s = parseCapture([
            "file /var/lib/miglab/m1/captures/out.pcap", "node pc1 eth0", `hosts ${PC1} pc1 ${PC2} pc2`, "window - -",
            `tunnel 0x00001389 ${PC1} ${PC2} 7 0`, `tunnel 0x00001389 ${PC2} ${PC1} 5 0`,
            row({ "frame.time_epoch": `${T + 1}`, "eth.src": "52:54:00:00:00:01", "arp.opcode": "3", "arp.src.proto_ipv4": "0.0.0.0", "arp.dst.proto_ipv4": "0.0.0.0" }),
            // An ARP probe and a plain request: no announcement.
            row({ "frame.time_epoch": `${T + 2}`, "eth.src": "52:54:00:00:00:01", "arp.opcode": "1", "arp.src.proto_ipv4": "0.0.0.0", "arp.dst.proto_ipv4": "10.0.0.5" }),
            row({ "frame.time_epoch": `${T + 3}`, "eth.src": "52:54:00:00:00:01", "arp.opcode": "1", "arp.src.proto_ipv4": "10.0.0.5", "arp.dst.proto_ipv4": "10.0.0.1" }),
            // A reply the new host sends back to the old one is not forwarded by the old host.
            row({ "frame.time_epoch": `${T + 4}`, "gre.key": "0x00001389", "ip.src": `${PC2},10.10.20.2`, "ip.dst": `${PC1},10.10.30.10`, "icmp.type": "0", "icmp.seq": "4" }),
            row({ "frame.time_epoch": `${T + 5}`, "gre.key": "0x00001389", "ip.src": `${PC1},10.10.20.2`, "ip.dst": `${PC2},10.10.30.10`, "icmp.type": "0", "icmp.seq": "5" }),
        ].join("\n"))!;
        assert.deepStrictEqual(s.framesPerVni, { 5001: 12 });
        assert.strictEqual(s.tunnelFrames, null);
        assert.deepStrictEqual(s.announcements, [{ t: T + 1, kind: "rarp", mac: "52:54:00:00:00:01", from: "52:54:00:00:00:01" }]);
        assert.deepStrictEqual(s.forwardedReplies, [{ t: T + 5, from: "10.10.20.2", seq: 5 }]);
        assert.strictEqual(parseCapture(undefined), null);
        assert.throws(() => parseCapture("node pc1 eth0"), /capture: the section names no file/);
    });

    it("is a leg's `capture` (null without the section), and npm run capture prints it against the leg's start", async () => {
        const leg = fs.readFileSync(path.join(ROOT, "test", "fixtures", "leg-out.txt"), "utf8");
        assert.strictEqual(parseLeg("out", "pc1", "pc2", leg).capture, null);
        const { text } = await section(WINDOW);
        const withCapture = `${leg.trimEnd()}\n=== capture\n${text}\n`;
        const l = parseLeg("out", "pc1", "pc2", withCapture);
        assert.deepStrictEqual({ ...l.capture, file: "" }, { ...summary, file: "" }, "(each run decodes its own copy of the fixture)");
        const shown = captureText(summary, { leg: "out", from: "pc1", to: "pc2", startedAt: T + 1, tunnelForwardedPackets: 31 });
        assert.match(shown, new RegExp(`^  ${VNI}  ${summary.framesPerVni[VNI]}$`, "m"));
        assert.match(shown, new RegExp(`pc1 -> pc2 between the tunnel counter's reads: ${summary.tunnelFrames} \\(the counter: 31\\)`));
        assert.match(shown, /^ {5}150 ms {2}rarp {2}52:54:00:6d:6c:0a {2}from pc2$/m);
        assert.match(shown, new RegExp(`forwarded by pc1 through the tunnel to pc2: ${summary.forwardedReplies.length}\\n {5}507 ms {2}from ${OUTSIDE} {2}seq 7`));
    });
});

describe("npm run capture", () => {
    const leg = parseLeg("out", "pc1", "pc2", fs.readFileSync(path.join(ROOT, "test", "fixtures", "leg-out.txt"), "utf8"));
    const c = parseCapture(["file /var/lib/miglab/m1/captures/out-1.pcap", "node nfs eth0", `hosts ${PC1} pc1 ${PC2} pc2`, "window - -"].join("\n"))!;
    const legs = [{ ...leg, capture: c }, { ...leg, leg: "back", from: "pc2", to: "pc1" }];

    it("prints the file (host:path when it is not on this machine) and the summary; lists the legs that captured", () => {
        const here = show("bridged", legs, "out", () => true);
        assert.match(here, /^\/var\/lib\/miglab\/m1\/captures\/out-1\.pcap\n/);
        assert.match(here, /ICMP replies to the guest forwarded by pc1 through the tunnel to pc2: 0/);
        assert.match(show("bridged", legs, "out", () => false), /^nfs:\/var\/lib\/miglab\/m1\/captures\/out-1\.pcap {2}\(on nfs: scp it from there\)/);
        assert.strictEqual(show("bridged", legs, undefined, () => true), "out  (pc1 -> pc2)  /var/lib/miglab/m1/captures/out-1.pcap");
    });

    it("says why there is nothing to show", () => {
        assert.throws(() => show("bridged", legs, "back", () => true), /leg back did not capture; set capture: true on its migration and run npm run lab -- bridged/);
        assert.throws(() => show("bridged", legs, "sideways", () => true), /stack bridged has no leg 'sideways' \(its legs: out, back\)/);
        assert.throws(() => show("bridged", [legs[1]], undefined, () => true), /no leg of stack bridged captured/);
        assert.throws(() => parseCaptureArgs([]), /usage: npm run capture -- STACK \[LEG\]/);
        assert.deepStrictEqual(parseCaptureArgs(["bridged", "out"]), { stack: "bridged", leg: "out" });
    });
});

describe("migration.capture: where a leg captures", () => {
    const lab = (topology: "bridged" | "same-subnet", capture: boolean) => {
        const c = sampleLab();
        c.topology = topology;
        if (topology === "bridged") {
            for (const [i, h] of c.hosts.entries()) { h.address = `10.10.10.${i * 8 + 1}`; h.prefix = 29; }
            c.nfs.host.address = "10.10.10.6"; c.nfs.host.prefix = 29;
            c.guests[0].address = "10.10.30.10";
        }
        c.migration = { ...c.migration, capture };
        return planLab(parseLabConfig(c), "unit-capture");
    };
    const header = (text: string, v: string) => {
        const r = spawnSync("bash", ["-c", `${text.slice(0, text.indexOf("\n# --- miglab prelude"))}\nprintf %s "$${v}"`], { encoding: "utf8" });
        return r.stdout;
    };

    it("at the router the local site makes, on its link towards the source, into the lab's state directory", () => {
        const plan = lab("bridged", true);
        assert.deepStrictEqual(plan.capture, { node: "nfs", dir: `${plan.stateDir}/captures` });
        const text = migrateLegScript(legSpecOf(plan, plan.guests[0], { leg: "out", from: plan.hosts[0], to: plan.hosts[1] }));
        assert.strictEqual(header(text, "CAPTURE_AT"), plan.nfs.address);
        assert.strictEqual(header(text, "CAPTURE_NODE"), "nfs");
        assert.strictEqual(header(text, "CAPTURE_DIR"), `${plan.stateDir}/captures`);
        assert.match(header(text, "CAPTURE_SH"), /^GUEST_ADDR='?10\.10\.30\.10'?$/m);
    });

    it("on the source itself where no router of the lab's is between the hosts; nothing at all without capture: true", () => {
        const plan = lab("same-subnet", true);
        assert.strictEqual(plan.capture.node, undefined);
        const text = migrateLegScript(legSpecOf(plan, plan.guests[0], { leg: "out", from: plan.hosts[0], to: plan.hosts[1] }));
        assert.strictEqual(header(text, "CAPTURE_AT"), "");
        assert.strictEqual(header(text, "CAPTURE_NODE"), plan.hosts[0].name);
        const off = lab("bridged", false);
        const plain = migrateLegScript(legSpecOf(off, off.guests[0], { leg: "out", from: off.hosts[0], to: off.hosts[1] }));
        assert.strictEqual(header(plain, "CAPTURE_SH"), "");
    });
});
