// The one shell quoter and the one XML escaper of the package (the engine and the
// charts import them too), so every value that reaches a shell or a document is
// treated by the same rule.

/** Single-quotes a value for a POSIX shell: nothing inside is expanded. */
export function shellQuote(v: string): string {
    return `'${v.replace(/'/g, `'\\''`)}'`;
}

// Characters XML 1.0 forbids even when escaped; a stack or guest name could carry one.
// eslint-disable-next-line no-control-regex
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Escapes text for XML content and attributes (either quote), dropping characters XML cannot hold. */
export function xmlEscape(s: string): string {
    return s.replace(XML_INVALID, "").replace(/[&<>"']/g, (c) =>
        ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] as string);
}
