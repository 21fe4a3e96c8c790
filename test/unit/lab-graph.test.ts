// The picture of a lab (npm run graph): well-formed SVG with every host, subnet, node, tunnel
// and guest in it, read back through its data-* attributes; the same lab as Mermaid text; the
// shipped stacks' committed pictures as the command draws them.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { DOMParser, Element } from "@xmldom/xmldom";
import { parseLabConfig } from "../../components/model/config";
import { cidrOf } from "../../components/model/net";
import { Plan, planLab } from "../../components/model/plan";
import { tunnelPort } from "../../components/render/scripts";
import { guestPlaces, labGraph } from "../../components/reports/labGraph";
import { labMermaid } from "../../components/reports/labMermaid";
import { labSvg } from "../../components/reports/labSvg";
import { LegOutcome } from "../../components/reports/metrics";
import { DOC_STACKS, drawStack, parseArgs } from "../../scripts/graph";
import { readStackConfig } from "../../scripts/stack-config";
import { fixtureLegs } from "../openmetrics-fixture";
import { ROOT } from "../support";

const parseSvg = (svg: string) => {
    const errors: string[] = [];
    const doc = new DOMParser({ onError: (level, msg) => { errors.push(`${level}: ${msg}`); } }).parseFromString(svg, "image/svg+xml");
    assert.deepStrictEqual(errors, [], "the SVG is not well-formed XML");
    return doc.documentElement as unknown as Element;
};
const groups = (root: Element, cls: string) =>
    (Array.from(root.getElementsByTagName("g")) as Element[]).filter((g) => g.getAttribute("class") === cls);
const attr = (es: Element[], name: string) => es.map((e) => e.getAttribute(name));

/** Every host, subnet, node and guest of the plan, and every tunnel of a bridged one, found in the SVG. */
function assertPictures(plan: Plan, svg: string, places = new Map(plan.guests.map((g) => [g.name, g.home]))) {
    const root = parseSvg(svg);
    assert.deepStrictEqual(attr(groups(root, "host"), "data-host"), plan.hosts.map((h) => h.name));
    const guests = groups(root, "guest");
    assert.deepStrictEqual(attr(guests, "data-guest").sort(), plan.guests.map((g) => g.name).sort());
    for (const g of guests) { assert.strictEqual(g.getAttribute("data-host"), places.get(g.getAttribute("data-guest")!), "where the guest is"); }
    const nodes = attr(groups(root, "node"), "data-node");
    assert.ok(nodes.includes(plan.nfs.name), "the NFS server");
    if (plan.outside) { assert.ok(nodes.includes("outside"), "the outside node"); }
    const subnets = new Set([...plan.nodes, ...(plan.outside ? [plan.outside] : [])].flatMap((n) =>
        n.links.length ? n.links.map((l) => l.cidr) : [`${n.address}/${n.prefix}`]).map((c) => cidrOf(c.split("/")[0], Number(c.split("/")[1]))));
    assert.deepStrictEqual(new Set(attr(groups(root, "segment"), "data-cidr")), subnets);
    const tunnels = groups(root, "tunnel");
    if (plan.guestNetwork.kind === "ovs") {
        const n = plan.hosts.length;
        assert.strictEqual(tunnels.length, (n * (n - 1)) / 2, "a full mesh");
        for (const t of tunnels) {
            assert.strictEqual(t.getAttribute("data-vni"), String(plan.guestNetwork.vni));
            assert.strictEqual(t.getAttribute("data-ports"), `${tunnelPort({ name: t.getAttribute("data-b")! })} ${tunnelPort({ name: t.getAttribute("data-a")! })}`);
        }
    } else {
        assert.strictEqual(tunnels.length, 0);
    }
    return root;
}

/** A bridged lab of four hosts with odd names (the schema's shortest, longest, dashes), on three subnets, three guests. */
function oddLab(): Plan {
    const names = ["a", "hypervisor-0002", "x-1-y", "q--"];
    const raw = {
        site: "local", topology: "bridged",
        hosts: names.map((name, i) => ({ name, address: ["10.10.10.1", "10.10.10.2", "10.10.10.9", "10.10.10.17"][i], prefix: 29 })),
        nfs: { host: { name: "n-f-s", address: "10.10.10.6", prefix: 29 }, export: "/var/lib/miglab/exports/odd" },
        pool: { name: "miglab", path: "/var/lib/miglab/pool" },
        overlay: { subnet: "10.10.30.0/24", gateway: "10.10.30.1", gatewayHost: "x-1-y", vni: 77, tunnel: "gre" },
        guests: [
            { name: "vm-a", home: "a", address: "10.10.30.10" },
            { name: "z", home: "q--", address: "10.10.30.11" },
            { name: "g-3", home: "a", address: "10.10.30.12" },
        ],
        migrations: [{ guest: "vm-a", path: ["a", "hypervisor-0002", "x-1-y", "q--"], roundTrip: false }, { guest: "z", from: "q--", to: "a" }],
    };
    // The kernel and memory probes answer yes: the picture does not depend on this machine.
    return planLab(parseLabConfig(raw), 'odd <lab> & "co"');
}

/** Legs as the outputs keep them: the fixture's measured leg, renamed along the odd lab's plan, and one failed. */
function oddLegs(plan: Plan): LegOutcome[] {
    const [ok, failed] = fixtureLegs();
    return plan.legs.map((l, i) => (i === 2
        ? { ...failed, leg: l.name, guest: l.guest, from: l.from, to: l.to }
        : { ...ok, leg: l.name, guest: l.guest, from: l.from, to: l.to, downtimeMs: 10 + i }));
}

describe("a picture of the lab (npm run graph)", () => {
    for (const stack of DOC_STACKS) {
        it(`draws the shipped ${stack} stack from its config: hosts, subnets, NFS server, guests, tunnels`, () => {
            const plan = planLab(readStackConfig(ROOT, stack), stack);
            const root = assertPictures(plan, drawStack(stack).svg);
            const legs = groups(root, "legs");
            assert.deepStrictEqual(legs.map((l) => `${l.getAttribute("data-from")}>${l.getAttribute("data-to")}:${l.getAttribute("data-legs")}`),
                ["pc1>pc2:out", "pc2>pc1:back"], "the planned legs");
            assert.match(legs[0].textContent ?? "", /out \(planned\)/);
            const nfs = groups(root, "node").find((n) => n.getAttribute("data-node") === "nfs")!;
            assert.strictEqual(/router/.test(nfs.textContent ?? ""), stack !== "same-subnet", "the NFS server routes the routed labs");
        });

        it(`has docs/lab-${stack}.svg and .mmd as npm run graph -- --docs draws them`, () => {
            const d = drawStack(stack);
            assert.strictEqual(fs.readFileSync(path.join(ROOT, "docs", `lab-${stack}.svg`), "utf8"), d.svg);
            assert.strictEqual(fs.readFileSync(path.join(ROOT, "docs", `lab-${stack}.mmd`), "utf8"), d.mermaid);
        });
    }

    it("draws a 4-host lab with odd names: six GRE tunnels, its gateway host, the legs with their downtime", () => {
        const plan = oddLab();
        const legs = oddLegs(plan);
        const places = guestPlaces(plan, legs);
        // vm-a's third leg failed: it stays where the second left it; z went home to a and back.
        assert.deepStrictEqual([...places], [["vm-a", "x-1-y"], ["z", "q--"], ["g-3", "a"]]);
        const root = assertPictures(plan, labSvg(labGraph(plan, legs)), places);
        assert.match(root.getElementsByTagName("text")[0].textContent ?? "", /^stack odd <lab> & "co": bridged topology, site local$/);
        assert.match(groups(root, "tunnel")[0].textContent ?? "", /GRE key 77/);
        const gateway = groups(root, "host").find((h) => h.getAttribute("data-host") === "x-1-y")!;
        assert.match(gateway.textContent ?? "", /overlay gateway 10\.10\.30\.1/);
        const arrows = groups(root, "legs").map((l) => `${l.getAttribute("data-legs")}: ${l.textContent}`);
        assert.deepStrictEqual(arrows, [
            "vm-a-1: vm-a-1 10 ms", "vm-a-2: vm-a-2 11 ms", "vm-a-3: vm-a-3 failed", "z-1: z-1 13 ms", "z-2: z-2 14 ms",
        ]);
        const away = groups(root, "guest").find((g) => g.getAttribute("data-guest") === "vm-a")!;
        assert.match(away.textContent ?? "", /\(home a\)$/);
    });

    it("groups many runs between two hosts into one arrow, and ignores legs of hosts the config no longer has", () => {
        const plan = planLab(readStackConfig(ROOT, "same-subnet"), "same-subnet");
        const [ok] = fixtureLegs();
        const runs = [1, 2, 3, 4, 5].map((r) => ({ ...ok, leg: `out-${r}`, downtimeMs: r }));
        const gone = { ...ok, leg: "old", from: "pc9", to: "pc1" };
        const g = labGraph(plan, [...runs, gone]);
        assert.deepStrictEqual(g.legs.map((l) => l.legs.map((x) => x.name)), [["out-1", "out-2", "out-3", "out-4", "out-5"]]);
        const root = parseSvg(labSvg(g));
        assert.strictEqual(groups(root, "legs")[0].textContent, "out-1 1 ms, out-2 2 ms, out-3 3 ms, +2 more");
        assert.deepStrictEqual(attr(groups(root, "guest"), "data-host"), ["pc2"], "the guest where the last leg left it");
    });

    it("writes the same lab as Mermaid: every host, guest, subnet and tunnel, names only in labels", () => {
        const plan = oddLab();
        const text = labMermaid(labGraph(plan, oddLegs(plan)));
        const lines = text.trimEnd().split("\n");
        assert.strictEqual(lines[1], "flowchart TB");
        for (const h of plan.hosts) { assert.ok(lines.some((l) => l.includes(`["${h.name}<br/>`)), h.name); }
        for (const g of plan.guests) { assert.ok(lines.some((l) => l.includes(`(["${g.name} ${g.address}`)), g.name); }
        assert.strictEqual(lines.filter((l) => / -\.-\|"GRE key 77"\| /.test(l)).length, 6);
        assert.strictEqual(lines.filter((l) => / ==>\|/.test(l)).length, 5);
        assert.strictEqual(lines[0], '%% stack odd <lab> & "co": bridged topology, site local');
        // Ids are generated: no name (a, q--, x-1-y) is ever an id Mermaid could misread.
        for (const l of lines.slice(2)) { assert.match(l, /^\s+(subgraph H\d+\[|end$|[hgsn]\d+[[({]|[hn]\d+ (---|-\.-|==>))/, l); }
    });

    it("reads its arguments", () => {
        assert.deepStrictEqual(parseArgs([]), { stack: "same-subnet", out: "graphs", docs: false });
        assert.deepStrictEqual(parseArgs(["nat", "--out", "x"]), { stack: "nat", out: "x", docs: false });
        assert.throws(() => parseArgs(["--out"]), /--out needs a directory/);
        assert.throws(() => parseArgs(["--svg", "f"]), /unknown option --svg/);
    });
});
