// guests[].cpu: the config's rules, the <cpu> libvirt is given, the hosts each guest may visit,
// and the CPU preflight: what cpu-check.sh printed on real hosts (test/fixtures/cpu/, captured
// from libvirt 11.3 and QEMU 10 under TCG) read back, and the line a CPU that does not run gives.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseLabConfig } from "../../components/model/config";
import { formatGuestCpu, guestVisits, parseGuestCpu } from "../../components/model/cpu";
import { planLab } from "../../components/model/plan";
import { CpuCheckSpec, cpuXml, domainXml } from "../../components/render";
import { baselineCpu, parseCpuCheck } from "../../components/reports/cpuCheck";
import { cpuPreflight } from "../../components/resources/cpuCheck";
import { ROOT } from "../support";
import { problems, sampleLab } from "./config.test";
import { declared, outputOf, varOf } from "./mocks";

const fixture = (name: string) => fs.readFileSync(path.join(ROOT, "test", "fixtures", "cpu", name), "utf8");
/** One host's answer under TCG: cpu-check.sh asked about Skylake-Server, Nehalem, Bogus, 'EPYC,-vme,...', host-model, host-passthrough (c0..c5). */
const tcg = fixture("tcg-compare.txt");
/** A host asked about its own host-model CPU (h0) and one with avx512f and avx512bw added (h1). */
const hostModelCompare = fixture("tcg-host-model-compare.txt");
/** libvirt's baseline of this host's host-model CPU and an older one lacking la57. */
const baseline = fixture("tcg-baseline.txt");

/** The sections of a fixture, by header line ("=== compare c0 1" -> its text). */
function sections(text: string): Map<string, string> {
    return new Map(text.split(/^(?==== )/m).filter((s) => s.startsWith("=== ")).map((s) => [s.slice(0, s.indexOf("\n")), s]));
}
const tcgSections = sections(tcg);
const section = (header: string) => {
    const s = tcgSections.get(header);
    assert.ok(s, `the fixture has no '${header}'`);
    return s;
};
/** A compare section of the fixture under another id. */
const compareAs = (fixtureId: string, rc: number, id: string) => section(`=== compare ${fixtureId} ${rc}`).replace(/^=== compare \S+/, `=== compare ${id}`);

describe("guests[].cpu in the config", () => {
    it("reads and writes the config's text: host modes, a model, features added and removed", () => {
        assert.deepStrictEqual(parseGuestCpu("host-model"), { mode: "host-model" });
        assert.deepStrictEqual(parseGuestCpu("EPYC,-vme,+pcid"), { mode: "custom", model: "EPYC", features: [{ name: "vme", policy: "disable" }, { name: "pcid", policy: "require" }] });
        for (const t of ["host-passthrough", "Nehalem", "Skylake-Server-v4,-avx512f,+sse4.2"]) { assert.strictEqual(formatGuestCpu(parseGuestCpu(t)), t); }
    });

    it("is optional, and accepted as a model, a host mode, or a model with features", () => {
        assert.strictEqual(parseLabConfig(sampleLab()).guests[0].cpu, undefined);
        for (const cpu of ["Nehalem", "host-model", "EPYC,-vme,+pcid"]) {
            const c = sampleLab(); c.guests[0].cpu = cpu;
            assert.strictEqual(parseLabConfig(c).guests[0].cpu, cpu);
        }
    });

    it("refuses what is no CPU, naming the field and the form", () => {
        const p = problems((c) => { c.guests[0].cpu = "Nehalem,avx"; });
        assert.ok(p.some((x) => /^guests\[0\]\.cpu: .*host-model, host-passthrough, or a CPU model name .*,\+feature' or ',-feature'/.test(x)), p.join("\n"));
        const twice = problems((c) => { c.guests[0].cpu = "EPYC,-vme,+vme"; });
        assert.deepStrictEqual(twice, ["guests[0].cpu: 'EPYC,-vme,+vme' names vme more than once; give each feature once, with + or -"]);
    });

    it("refuses host-passthrough on the local site, whose guests run under TCG, and says what to use", () => {
        const p = problems((c) => { c.guests[0].cpu = "host-passthrough"; });
        assert.strictEqual(p.length, 1);
        assert.match(p[0], /^guests\[0\]\.cpu: host-passthrough .* the local site runs its guests under TCG .*; use host-model .* or a named model such as Nehalem$/);
    });
});

describe("the hosts a guest may visit", () => {
    // Four hosts, vm1 at pc1, vm2 at pc3, vm3 at pc4: the plan's legs say where each goes.
    const visits = (edit: (c: any) => void) => {
        const c: any = sampleLab();
        c.hosts.push({ name: "pc3", address: "10.10.10.4" }, { name: "pc4", address: "10.10.10.5" });
        c.guests.push({ name: "vm2", home: "pc3", address: "10.10.10.11" }, { name: "vm3", home: "pc4", address: "10.10.10.12" });
        delete c.migration;
        edit(c);
        const cfg = parseLabConfig(c);
        return guestVisits(cfg.guests, planLab(cfg, "cpu-test").legs);
    };

    it("are its home and every host its migrations pass through, in the order it gets there", () => {
        const v = visits((c) => {
            c.migrations = [
                { guest: "vm1", path: ["pc1", "pc3", "pc2"], roundTrip: false },
                { guest: "vm2", from: "pc3", to: "pc1", roundTrip: true },
                { guest: "vm1", path: ["pc2", "pc4"], roundTrip: false },
            ];
        });
        assert.deepStrictEqual(v, { vm1: ["pc1", "pc3", "pc2", "pc4"], vm2: ["pc3", "pc1"], vm3: ["pc4"] });
    });

    it("gain nothing from a round trip, which only returns to where the guest was", () => {
        const oneWay = visits((c) => { c.migrations = [{ guest: "vm1", path: ["pc1", "pc2", "pc3"], roundTrip: false }]; });
        const roundTrip = visits((c) => { c.migrations = [{ guest: "vm1", path: ["pc1", "pc2", "pc3"], roundTrip: true }]; });
        assert.deepStrictEqual(roundTrip, oneWay);
        assert.deepStrictEqual(roundTrip.vm1, ["pc1", "pc2", "pc3"]);
    });

    it("include where a drain places each guest of the drained host", () => {
        const v = visits((c) => {
            c.guests.push({ name: "vm4", home: "pc1", address: "10.10.10.13" });
            c.migrations = [{ drain: { host: "pc1", to: ["pc2", "pc3"], place: { vm1: "pc3", vm4: "pc2" } } }];
        });
        assert.deepStrictEqual(v, { vm1: ["pc1", "pc3"], vm2: ["pc3"], vm3: ["pc4"], vm4: ["pc1", "pc2"] });
    });
});

describe("the <cpu> a domain gets", () => {
    it("is today's without guests[].cpu: qemu64 under TCG, the host's under KVM", () => {
        assert.strictEqual(cpuXml(undefined, "tcg"), "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>qemu64</model>\n</cpu>\n");
        assert.strictEqual(cpuXml(undefined, "kvm"), "<cpu mode='host-passthrough'/>\n");
    });

    it("is the named model, never falling back to another, with its features added and removed", () => {
        assert.strictEqual(cpuXml(parseGuestCpu("EPYC,-vme,+pcid"), "tcg"),
            "<cpu mode='custom' match='exact'>\n  <model fallback='forbid'>EPYC</model>\n  <feature policy='disable' name='vme'/>\n  <feature policy='require' name='pcid'/>\n</cpu>\n");
        assert.strictEqual(cpuXml(parseGuestCpu("host-model"), "tcg"), "<cpu mode='host-model'/>\n");
    });

    it("makes domain documents that pass virt-xml-validate", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-cpu-"));
        try {
            for (const cpu of ["Nehalem", "EPYC,-vme,+pcid", "host-model", "host-passthrough"]) {
                const xml = domainXml({ name: "vm1", uuid: "0b6ad7c5-2a45-4a0e-9d33-3f0e3a1d5a01", memoryMiB: 192, vcpus: 1, mac: "52:54:00:12:34:56",
                    disk: { server: "10.10.10.3", path: "/e/vm1.qcow2" }, network: { kind: "bridge", bridge: "br-lab" }, cpu: parseGuestCpu(cpu) }, "tcg");
                assert.ok(xml.includes(cpuXml(parseGuestCpu(cpu), "tcg").replace(/^/gm, "  ").trimEnd()), xml);
                const file = path.join(dir, "d.xml");
                fs.writeFileSync(file, xml);
                const res = spawnSync("virt-xml-validate", [file, "domain"], { encoding: "utf8" });
                assert.strictEqual(res.status, 0, `${cpu}: ${res.stdout}${res.stderr}`);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("what a host said to the CPU preflight", () => {
    it("reads the modes libvirt offers under TCG: no host-passthrough", () => {
        const a = parseCpuCheck(tcg);
        assert.deepStrictEqual(a.modes, { "host-passthrough": false, "maximum": true, "host-model": true, "custom": true });
    });

    it("reads the host-model CPU as a document libvirt's baseline takes", () => {
        const a = parseCpuCheck(tcg);
        assert.match(a.hostModel!, /^<cpu mode='custom' match='exact'>\n {2}<model fallback='forbid'>EPYC<\/model>\n {2}<vendor>AMD<\/vendor>\n {2}<feature policy='require' name='monitor'\/>\n/);
        assert.match(a.hostModel!, /\n {2}<feature policy='disable' name='vme'\/>\n[\s\S]*<\/cpu>\n$/);
    });

    it("reads which CPUs run there, the features a refused one lacks, and why one could not be compared", () => {
        const c = parseCpuCheck(tcg).compares;
        assert.deepStrictEqual(c.c0, { runs: false, missing: ["pcid", "tsc-deadline", "vme", "hle", "invpcid", "rtm", "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "xsavec"] });
        assert.deepStrictEqual(c.c1, { runs: true });
        assert.deepStrictEqual(c.c2, { runs: false, missing: [], error: "Unknown CPU model Bogus" });
        // The baseline below, as a guest's cpu, runs here; so does each host mode (libvirt's compare does not judge modes).
        for (const id of ["c3", "c4", "c5"]) { assert.deepStrictEqual(c[id], { runs: true }, id); }
        const h = parseCpuCheck(hostModelCompare).compares;
        assert.deepStrictEqual(h, { h0: { runs: true }, h1: { runs: false, missing: ["avx512f", "avx512bw"] } });
    });

    it("reads libvirt's baseline as the smallest guests[].cpu that runs wherever it does", () => {
        const b = parseCpuCheck(baseline).baseline;
        assert.ok(b && "xml" in b, JSON.stringify(b));
        assert.strictEqual(formatGuestCpu(baselineCpu(b.xml)!), "Opteron_G3,-misalignsse");
        assert.strictEqual(formatGuestCpu(baselineCpu(parseCpuCheck(tcg).hostModel!)!), "EPYC,-vme,-xsavec,-misalignsse,-osvw,-topoext,-fxsr_opt,-nrip-save");
    });
});

describe("the CPU preflight", () => {
    /** Hosts answering from the fixtures; `refuses`: hosts whose answer for every named model is the fixture's Skylake-Server refusal. */
    function hostsAnswering(refuses: string[], opts: { passthrough?: boolean; lacksCarried?: string[] } = {}) {
        const asked: { host: string; spec: CpuCheckSpec }[] = [];
        const ask = async (host: string, spec: CpuCheckSpec) => {
            asked.push({ host, spec });
            const out: string[] = [];
            if (spec.hostInfo) {
                out.push(section("=== modes").replace("host-passthrough no", `host-passthrough ${opts.passthrough ? "yes" : "no"}`), section("=== host-model"));
            }
            for (const { id, xml } of spec.compare) {
                // A host-model CPU carried from the home names its vendor; a named model does not.
                if (/<vendor>/.test(xml)) {
                    out.push((opts.lacksCarried ?? []).includes(host) ? hostModelCompare.slice(hostModelCompare.indexOf("=== compare h1")).replace("h1", id)
                        : hostModelCompare.slice(0, hostModelCompare.indexOf("=== compare h1")).replace("h0", id));
                } else if (/>Bogus</.test(xml)) {
                    out.push(compareAs("c2", 1, id));
                } else {
                    out.push(refuses.includes(host) ? compareAs("c0", 1, id) : compareAs("c1", 0, id));
                }
            }
            if (spec.baseline.length > 0) { out.push(baseline); }
            return out.join("");
        };
        return { ask, asked };
    }
    const skylake = { guest: "vm1", cpu: "Skylake-Server", field: "guests[0].cpu", visits: ["pc1", "pc2", "pc3"] };

    it("passes a CPU every visited host runs, asking each of them once and no other host", async () => {
        const { ask, asked } = hostsAnswering([]);
        const p = await cpuPreflight([skylake, { guest: "vm2", cpu: "Nehalem", field: "guests[1].cpu", visits: ["pc4"] }], "tcg", ask);
        assert.deepStrictEqual(p, []);
        assert.deepStrictEqual(asked.map((a) => a.host), ["pc1", "pc2", "pc3", "pc4"]);
        assert.ok(asked.every((a) => a.spec.virtType === "qemu" && a.spec.hostInfo && a.spec.baseline.length === 0));
        assert.deepStrictEqual(asked[3].spec.compare.map((c) => c.id), ["g1"]);
        assert.strictEqual(asked[3].spec.compare[0].xml, cpuXml(parseGuestCpu("Nehalem"), "tcg"));
    });

    it("names the host that cannot run it, the features it lacks, and a CPU all the visited hosts run", async () => {
        const { ask, asked } = hostsAnswering(["pc2"]);
        const p = await cpuPreflight([skylake], "tcg", ask);
        assert.deepStrictEqual(p, ["guest vm1: cpu 'Skylake-Server' does not run on pc2 (missing: pcid, tsc-deadline, vme, hle, invpcid, rtm, avx512f, " +
            "avx512dq, avx512cd, avx512bw, avx512vl, xsavec); a CPU all of pc1, pc2, pc3 run: 'Opteron_G3,-misalignsse' (set guests[0].cpu to it)"]);
        // The baseline is libvirt's, asked of the guest's home, over the host-model CPU of every host it visits.
        const b = asked.filter((a) => a.spec.baseline.length > 0);
        assert.deepStrictEqual(b.map((a) => a.host), ["pc1"]);
        assert.deepStrictEqual(b[0].spec.baseline, [1, 2, 3].map(() => parseCpuCheck(tcg).hostModel));
    });

    it("lists every host that refuses it", async () => {
        const { ask } = hostsAnswering(["pc1", "pc3"]);
        const [p] = await cpuPreflight([skylake], "tcg", ask);
        assert.match(p, /^guest vm1: cpu 'Skylake-Server' does not run on pc1 \(missing: [^)]*\), pc3 \(missing: [^)]*avx512f[^)]*\); a CPU all of pc1, pc2, pc3 run: /);
    });

    it("takes a host-model guest's CPU from its home to the other hosts it visits", async () => {
        const { ask, asked } = hostsAnswering([], { lacksCarried: ["pc3"] });
        const p = await cpuPreflight([{ ...skylake, cpu: "host-model" }], "tcg", ask);
        assert.deepStrictEqual(p, ["guest vm1: cpu 'host-model' (pc1's CPU, where it starts) does not run on pc3 (missing: avx512f, avx512bw); " +
            "a CPU all of pc1, pc2, pc3 run: 'Opteron_G3,-misalignsse' (set guests[0].cpu to it)"]);
        const carried = asked.filter((a) => !a.spec.hostInfo && a.spec.compare.length > 0);
        assert.deepStrictEqual(carried.map((a) => a.host), ["pc2", "pc3"]);
        assert.strictEqual(carried[0].spec.compare[0].xml, parseCpuCheck(tcg).hostModel);
    });

    it("refuses host-passthrough where libvirt does not offer it (TCG), saying what to use", async () => {
        const { ask } = hostsAnswering([]);
        const p = await cpuPreflight([{ ...skylake, cpu: "host-passthrough" }], "tcg", ask);
        assert.deepStrictEqual(p, ["guest vm1: cpu 'host-passthrough' is not offered by libvirt on pc1, pc2 and pc3 (they run guests under TCG, QEMU's emulator, " +
            "which has no host CPU to pass through); use host-model or a named model such as Nehalem (guests[0].cpu)"]);
        const kvm = hostsAnswering([], { passthrough: true });
        assert.deepStrictEqual(await cpuPreflight([{ ...skylake, cpu: "host-passthrough" }], "kvm", kvm.ask), []);
        assert.ok(kvm.asked.every((a) => a.spec.virtType === "kvm"));
    });

    it("says a model libvirt does not know is unknown, and where the known ones are listed", async () => {
        const { ask } = hostsAnswering([]);
        const p = await cpuPreflight([{ ...skylake, cpu: "Bogus" }], "tcg", ask);
        assert.deepStrictEqual(p, ["guest vm1: cpu 'Bogus' names a model libvirt does not know on pc1, pc2 and pc3; `virsh cpu-models x86_64` lists the ones it does (guests[0].cpu)"]);
    });
});

describe("a Lab with a guest's cpu (mocks)", function () {
    this.timeout(20000);

    it("checks the CPU before the guest, which then gets that model; a lab without one has no check and today's CPU", async () => {
        const { Lab } = await import("../../components/resources/lab");
        const cfg = sampleLab();
        cfg.guests[0].cpu = "Nehalem";
        const before = declared.length;
        const lab = new Lab("cpulab", { config: parseLabConfig(cfg), stack: "unit-cpu" });
        await outputOf(lab.legs);
        const mine = declared.slice(before);
        assert.deepStrictEqual(mine.filter((d) => d.type === "miglab:guest:CpuCheck").map((d) => d.name), ["cpulab-cpu"]);
        const domain = mine.find((d) => d.name === "cpulab-vm1-domain")!;
        assert.match(varOf(domain.inputs.create, "XML"), /<cpu mode='custom' match='exact'>\n {4}<model fallback='forbid'>Nehalem<\/model>\n {2}<\/cpu>/);
        const plainBefore = declared.length;
        await outputOf(new Lab("nocpu", { config: parseLabConfig(sampleLab()), stack: "unit-nocpu" }).legs);
        const plain = declared.slice(plainBefore);
        assert.ok(!plain.some((d) => d.type === "miglab:guest:CpuCheck"), "a lab without guests[].cpu has a CpuCheck");
        assert.match(varOf(plain.find((d) => d.name === "nocpu-vm1-domain")!.inputs.create, "XML"),
            /<cpu mode='custom' match='exact'>\n {4}<model fallback='allow'>qemu64<\/model>\n {2}<\/cpu>/);
    });
});
