// Plain-text tables for the terminal: right-aligned columns under a dashed rule.

/** One line per row (header, rule, then rows); `suffixes[i]`, when given, trails row i unpadded. */
export function textTable(head: string[], rows: string[][], suffixes: (string | undefined)[] = []): string {
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join("  ");
    return [
        line(head),
        line(widths.map((w) => "-".repeat(w))),
        ...rows.map((r, i) => (suffixes[i] ? `${line(r)}  ${suffixes[i]}` : line(r))),
    ].join("\n");
}
