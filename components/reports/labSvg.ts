// The lab as an SVG picture (from labGraph): hosts in a row with their guests inside, the
// subnets as buses below them, the NFS server, router and outside below the buses, and above
// the hosts the overlay's tunnels and the legs as arrows. Like chart.ts: plain string building,
// widths estimated from character counts, and every element tagged with data-* attributes so
// a test reads the picture back without trusting pixels.
import { FONT, PALETTE, XML_DECL, escapeXml, fmt, svgOpen, textWidth } from "./chart";
import { LabGraph, legsLabel } from "./labGraph";

const M = 20;            // outer margin
const GAP = 36;          // between boxes in a row
const LINE = 15;         // text line height
const GUEST_H = 22;      // a guest's row inside its host
const LEVEL = 24;        // between two arcs above the hosts
const BUS_GAP = 30;      // between two subnets' buses
const TITLE_H = 44;

const COLORS = { tunnel: PALETTE[4], measured: PALETTE[0], failed: PALETTE[3], planned: "#888888", bus: "#333333" };

interface Box { x: number; y: number; w: number; h: number }

const cx = (b: Box) => b.x + b.w / 2;
const boxWidth = (lines: string[], min = 120) => Math.ceil(Math.max(min, ...lines.map((l) => textWidth(l) + 20)));

function text(x: number, y: number, s: string, attrs = ""): string {
    return `<text x="${fmt(x)}" y="${fmt(y)}"${attrs ? ` ${attrs}` : ""}>${escapeXml(s)}</text>`;
}

/** A label with a white ground, so it stays readable where it crosses a line. */
function label(x: number, y: number, s: string, color: string): string {
    const w = textWidth(s) + 6;
    return `<rect x="${fmt(x - w / 2)}" y="${fmt(y - FONT)}" width="${fmt(w)}" height="${FONT + 4}" fill="#ffffff" opacity="0.9"/>` +
        text(x, y, s, `text-anchor="middle" fill="${color}"`);
}

/** The lab's picture as a standalone SVG document. */
export function labSvg(g: LabGraph): string {
    // The subnets' labels get a column of their own on the left, where no line crosses them.
    const labelCol = Math.ceil(Math.max(0, ...g.segments.map((s) => textWidth(s.cidr))) + 14);
    const netLines = Math.max(0, ...g.hosts.map((h) => h.network.length));
    const maxGuests = Math.max(1, ...g.hosts.map((h) => h.guests.length));
    const guestLine = (h: LabGraph["hosts"][number], i: number) => {
        const gu = h.guests[i];
        return `${gu.name} ${gu.address}${gu.home !== h.name ? ` (home ${gu.home})` : ""}`;
    };
    const hostH = 10 + LINE * (2 + netLines) + 8 + maxGuests * (GUEST_H + 4);
    const levels = g.tunnels.length + g.legs.length;
    const hostTop = TITLE_H + levels * LEVEL + (levels ? 14 : 0);
    const hostBoxes = new Map<string, Box>();
    let x = M + labelCol;
    for (const h of g.hosts) {
        const w = boxWidth([h.name, h.cidr, ...h.network, ...h.guests.map((_, i) => `${guestLine(h, i)}    `)], 130);
        hostBoxes.set(h.name, { x, y: hostTop, w, h: hostH });
        x += w + GAP;
    }
    const rowRight = x - GAP;
    const busY = new Map(g.segments.map((s, i) => [s.id, hostTop + hostH + 34 + i * BUS_GAP]));
    const nodeTop = hostTop + hostH + 34 + (g.segments.length - 1) * BUS_GAP + 34;
    const nodeLines = (n: LabGraph["nodes"][number]) => [...n.lines, ...n.links.map((l) => l.cidr).filter(Boolean)];
    const nodeBoxes = new Map<string, Box>();
    x = M + labelCol;
    for (const n of g.nodes) {
        const lines = nodeLines(n);
        const w = boxWidth([n.name, ...lines], 110);
        nodeBoxes.set(n.name, { x, y: nodeTop, w, h: 10 + LINE * (1 + lines.length) + 6 });
        x += w + GAP;
    }
    const nodeRight = x - GAP;
    const legendY = nodeTop + Math.max(0, ...[...nodeBoxes.values()].map((b) => b.h)) + 28;
    const legend = `${g.measured ? "arrows: the measured legs, with libvirt's downtime" : "arrows: the planned legs (not measured yet)"}` +
        `${g.tunnels.length ? "; dashed: the overlay's tunnels" : ""}`;

    // Where each node meets each bus: hosts at their centre, multi-homed nodes spread along their top.
    const drops: { segment: string; x: number; y0: number }[] = [];
    for (const h of g.hosts) { const b = hostBoxes.get(h.name)!; drops.push({ segment: h.segment, x: cx(b), y0: b.y + b.h }); }
    for (const n of g.nodes) {
        const b = nodeBoxes.get(n.name)!;
        n.links.forEach((l, j) => drops.push({ segment: l.segment, x: b.x + (b.w * (j + 1)) / (n.links.length + 1), y0: b.y }));
    }
    const busSpan = new Map(g.segments.map((s) => {
        const xs = drops.filter((d) => d.segment === s.id).map((d) => d.x);
        return [s.id, { x0: Math.min(...xs) - 16, x1: Math.max(...xs) + 16 }];
    }));
    const width = Math.ceil(Math.max(rowRight, nodeRight, ...[...busSpan.values()].map((s) => s.x1), M + textWidth(g.title, FONT + 3), M + textWidth(legend)) + M);
    const height = Math.ceil(legendY + M);

    const out: string[] = [XML_DECL, svgOpen(width, height, ` class="lab-graph"`)];
    // One arrowhead per colour: SVG 1.1 markers cannot take their line's colour.
    const marker = (kind: "measured" | "failed" | "planned") =>
        `<marker id="arrow-${kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="4" markerHeight="4" orient="auto">` +
        `<path d="M0,0 L10,5 L0,10 z" fill="${COLORS[kind]}"/></marker>`;
    out.push(`<defs>${marker("measured")}${marker("failed")}${marker("planned")}</defs>`);
    out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
    out.push(text(M, 26, g.title, `class="title" font-size="${FONT + 3}" font-weight="bold"`));

    // Buses first, so boxes and labels are drawn over them.
    for (const s of g.segments) {
        const y = busY.get(s.id)!, span = busSpan.get(s.id)!;
        out.push(`<g class="segment" data-segment="${escapeXml(s.id)}" data-cidr="${escapeXml(s.cidr)}">` +
            `<line x1="${fmt(span.x0)}" x2="${fmt(span.x1)}" y1="${y}" y2="${y}" stroke="${COLORS.bus}" stroke-width="3"/>` +
            text(M, y + 4, s.cidr, `font-weight="bold"`) + `</g>`);
    }
    for (const d of drops) {
        out.push(`<line class="link" x1="${fmt(d.x)}" x2="${fmt(d.x)}" y1="${fmt(d.y0)}" y2="${busY.get(d.segment)!}" stroke="${COLORS.bus}"/>`);
    }

    for (const h of g.hosts) {
        const b = hostBoxes.get(h.name)!;
        const rows = [`<g class="host" data-host="${escapeXml(h.name)}">`,
            `<rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="6" fill="#eef3f9" stroke="#4e79a7"/>`,
            text(b.x + 10, b.y + 10 + LINE - 3, h.name, `font-weight="bold" font-size="${FONT + 1}"`),
            text(b.x + 10, b.y + 10 + 2 * LINE - 3, h.cidr, `fill="#444444"`)];
        h.network.forEach((l, i) => rows.push(text(b.x + 10, b.y + 10 + (3 + i) * LINE - 3, l, `class="network" fill="#555555"`)));
        const guestTop = b.y + 10 + LINE * (2 + netLines) + 8;
        h.guests.forEach((gu, i) => {
            const y = guestTop + i * (GUEST_H + 4);
            rows.push(`<g class="guest" data-guest="${escapeXml(gu.name)}" data-host="${escapeXml(h.name)}" data-home="${escapeXml(gu.home)}">` +
                `<rect x="${b.x + 8}" y="${y}" width="${b.w - 16}" height="${GUEST_H}" rx="10" fill="#fdf2d0" stroke="#c9a227"/>` +
                text(b.x + 18, y + 15, guestLine(h, i)) + `</g>`);
        });
        rows.push(`</g>`);
        out.push(rows.join(""));
    }
    for (const n of g.nodes) {
        const b = nodeBoxes.get(n.name)!;
        const rows = [`<g class="node" data-node="${escapeXml(n.name)}" data-role="${n.role}">`,
            `<rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="${n.role === "router" ? 16 : 4}" fill="#f3f3f3" stroke="#666666"/>`,
            text(b.x + 10, b.y + 10 + LINE - 3, n.name, `font-weight="bold"`)];
        nodeLines(n).forEach((l, i) => rows.push(text(b.x + 10, b.y + 10 + (2 + i) * LINE - 3, l, `fill="#444444"`)));
        rows.push(`</g>`);
        out.push(rows.join(""));
    }

    // Arcs above the hosts: tunnels nearest, then legs; each on a level of its own, and each
    // leaving its hosts a little to the side of the others, so no two share a line.
    const arc = (level: number, from: string, to: string) => {
        const a = hostBoxes.get(from)!, b = hostBoxes.get(to)!;
        const shift = (((level % 7) - 3) * Math.min(a.w, b.w)) / 9;
        const x1 = cx(a) + shift, x2 = cx(b) + shift, y = hostTop - 14 - level * LEVEL;
        return { d: `M${fmt(x1)},${hostTop} V${fmt(y)} H${fmt(x2)} V${hostTop}`, mx: (x1 + x2) / 2, y };
    };
    g.tunnels.forEach((t, k) => {
        const p = arc(k, t.a, t.b);
        out.push(`<g class="tunnel" data-a="${escapeXml(t.a)}" data-b="${escapeXml(t.b)}" data-vni="${t.vni}" data-ports="${escapeXml(t.ports.join(" "))}">` +
            `<title>${escapeXml(`${t.label}: ${t.a} ${t.ports[0]} <-> ${t.b} ${t.ports[1]}`)}</title>` +
            `<path d="${p.d}" fill="none" stroke="${COLORS.tunnel}" stroke-width="2" stroke-dasharray="6 4"/>` +
            label(p.mx, p.y + 4, t.label, "#2f6f6a") + `</g>`);
    });
    g.legs.forEach((l, k) => {
        const p = arc(g.tunnels.length + k, l.from, l.to);
        const failed = g.measured && l.legs.every((x) => x.failed !== undefined);
        const kind = !g.measured ? "planned" : failed ? "failed" : "measured";
        const color = COLORS[kind];
        out.push(`<g class="legs" data-from="${escapeXml(l.from)}" data-to="${escapeXml(l.to)}" data-legs="${escapeXml(l.legs.map((x) => x.name).join(" "))}">` +
            `<path d="${p.d}" fill="none" stroke="${color}" stroke-width="2"${g.measured ? "" : ` stroke-dasharray="3 3"`} marker-end="url(#arrow-${kind})"/>` +
            label(p.mx, p.y + 4, legsLabel(l, g.measured), color) + `</g>`);
    });
    out.push(text(M, legendY, legend, `class="legend" fill="#555555"`));
    out.push(`</svg>`, "");
    return out.join("\n");
}
