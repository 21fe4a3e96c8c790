// The lab (from labGraph) as a Mermaid flowchart, for a README that renders Mermaid where
// an SVG file is not at hand. Ids are generated (h1, g1, s1, n1): a name is only ever a label,
// so no name can collide with Mermaid's keywords or syntax.
import { LabGraph, legsLabel } from "./labGraph";

/** Text inside a quoted Mermaid label: quotes and angle brackets as Mermaid's entity codes. */
export function mermaidText(s: string): string {
    return s.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");
}

const q = (lines: string[]) => `"${lines.map(mermaidText).join("<br/>")}"`;

/** The lab's picture as Mermaid flowchart text. */
export function labMermaid(g: LabGraph): string {
    const hostId = new Map(g.hosts.map((h, i) => [h.name, `h${i + 1}`]));
    const out = [`%% ${g.title.replace(/\n/g, " ")}`, "flowchart TB"];
    let guests = 0;
    g.hosts.forEach((h, i) => {
        // Each host a box of its own, its guests beside it in the host's frame.
        out.push(`    subgraph H${i + 1}[${q([h.name])}]`);
        out.push(`        ${hostId.get(h.name)}[${q([h.name, h.cidr, ...h.network])}]`);
        for (const gu of h.guests) {
            out.push(`        g${++guests}([${q([`${gu.name} ${gu.address}`, ...(gu.home !== h.name ? [`home ${gu.home}`] : [])])}])`);
        }
        out.push("    end");
    });
    for (const s of g.segments) { out.push(`    ${s.id}{{${q([s.cidr])}}}`); }
    g.nodes.forEach((n, i) => {
        const shape = n.role === "nfs" ? ["[(", ")]"] : n.role === "router" ? ["((", "))"] : ["[", "]"];
        out.push(`    n${i + 1}${shape[0]}${q([n.name, ...n.lines])}${shape[1]}`);
    });
    for (const h of g.hosts) { out.push(`    ${hostId.get(h.name)} --- ${h.segment}`); }
    g.nodes.forEach((n, i) => n.links.forEach((l) => out.push(`    n${i + 1} ---${l.cidr ? `|${q([l.cidr])}|` : ""} ${l.segment}`)));
    for (const t of g.tunnels) { out.push(`    ${hostId.get(t.a)} -.-|${q([t.label])}| ${hostId.get(t.b)}`); }
    for (const l of g.legs) { out.push(`    ${hostId.get(l.from)} ==>|${q([legsLabel(l, g.measured)])}| ${hostId.get(l.to)}`); }
    return `${out.join("\n")}\n`;
}
