// docs/config-reference.md, written from config.schema.json: every field of the config by its
// path, with its type, default, the values it takes and what it is for. Pure (the schema in,
// markdown out), so the committed page is checked against the schema by a unit test, as the
// config's types are; `npm run docs` writes it. The rules are said in the words the config's
// own errors use (valueRule), so the page and the errors cannot disagree.
import { schema as labSchema, valueRule } from "./schema";
import { SchemaNode as Node, choiceOf, dereference, fieldsOf, isDefinitionRef, isSchemaObject as isObject, itemsPath, resolveRef } from "./schemaWalk";

/** Where the page lives, relative to the package's root. */
export const CONFIG_REFERENCE_FILE = "docs/config-reference.md";

/** One field of the config as the page lists it. */
export interface ReferenceRow {
    /** The field's path as a stack file writes it: `hosts[].ssh.user`. */
    path: string;
    type: string;
    /** The schema's default as code, "*required*" when the field must be given, else "". */
    default: string;
    /** The values it takes, in words (markdown, ready for a table cell, as description is). */
    values: string;
    description: string;
}

// The keywords the page can say in words. A schema edit that uses another one stops the page
// from being written, naming the field, rather than leaving a rule out of the reference.
const SAID = new Set([
    "type", "description", "default", "properties", "items", "$ref", "enum", "minimum", "maximum", "pattern", "format",
    "x-rule", "x-oneOf", "additionalProperties", "required", "minItems", "maxItems", "uniqueItems", "minLength",
    "minProperties", "propertyNames", "oneOf",
]);
const ROOT_ONLY = new Set(["$schema", "$id", "title", "definitions"]);

/** Text for a table cell: markdown's own characters escaped outside code spans, '|' inside them too. */
export function cellText(text: string): string {
    return text.split(/(`[^`\n]*`)/).map((part, i) => (i % 2 === 1
        ? part.replace(/\|/g, "\\|")
        // '_' between two word characters emphasises nothing (memory_iteration); elsewhere it could.
        : part.replace(/[\\`*<>[\]|]|(?<!\w)_|_(?!\w)/g, "\\$&"))).join("");
}

/** A value as code in a table cell. */
const code = (v: unknown) => `\`${(typeof v === "string" ? v : JSON.stringify(v)).replace(/\|/g, "\\|")}\``;

const PLURAL: Record<string, string> = { string: "strings", integer: "integers", number: "numbers", boolean: "booleans", object: "objects" };

const entries = (n: number) => `${n} ${n === 1 ? "entry" : "entries"}`;

class Walker {
    readonly rows: ReferenceRow[] = [];
    /** The path each field-to-field reference's target was listed at (migrations[] refers to migration). */
    private readonly listedAt = new Map<Node, string>();
    /** For a path listed once, the other paths that hold the same fields (migration: migrations[]). */
    readonly alsoAt = new Map<string, string[]>();

    constructor(private readonly root: Node) {}

    /**
     * A field as it stands: a definition it refers to merged under its own keywords (its own
     * default and description win); a reference to another field stays one (listed there). A
     * definition's description is kept only where the field has none and the merged field has no
     * x-rule, which would say the same again.
     */
    private view(node: Node, at: string): Node {
        const merged = dereference(this.root, node, at, isDefinitionRef);
        if (merged !== node && node.description === undefined && merged["x-rule"]) { delete merged.description; }
        return merged;
    }

    private check(node: Node, at: string): void {
        for (const k of Object.keys(node)) {
            if (!SAID.has(k) && !(at === "" && ROOT_ONLY.has(k))) {
                throw new Error(`config.schema.json: ${at || "the root"} uses '${k}', which the configuration reference cannot say yet ` +
                    "(teach components/model/configReference.ts its words)");
            }
        }
    }

    private typeOf(node: Node, at: string): string {
        const choice = choiceOf(node);
        if (choice?.kind === "types") {
            return choice.branches.map((b: Node) => this.typeOf(this.view(b, at), at)).join(" or ");
        }
        if (node.type === "array") {
            const item = this.typeOf(this.view(node.items ?? {}, itemsPath(at)), itemsPath(at));
            return `list of ${PLURAL[item] ?? item}`;
        }
        if (node.type === "object" && isObject(node.additionalProperties)) { return "map"; }
        if (node.type === undefined && typeof node.$ref === "string") { return "object"; }
        return node.type ?? "any";
    }

    /** The values a field takes, in words. */
    private valuesOf(node: Node, at: string): string {
        const parts: string[] = [];
        if (Array.isArray(node.enum)) { parts.push(`one of ${node.enum.map(code).join(", ")}`); }
        const rule = valueRule(node);
        if (rule) { parts.push(cellText(rule)); }
        if (node.pattern !== undefined && !node["x-rule"]) { parts.push(`like ${code(node.pattern)}`); }
        if (node.format !== undefined && !node["x-rule"]) { parts.push(`a valid ${node.format}`); }
        if (node.minLength !== undefined && !node["x-rule"]) { parts.push(node.minLength === 1 ? "not empty" : `at least ${node.minLength} characters`); }
        if (node.type === "array") {
            const { minItems: lo, maxItems: hi } = node;
            if (lo !== undefined && hi !== undefined) { parts.push(`${lo} to ${hi} entries`); }
            else if (lo !== undefined) { parts.push(`at least ${entries(lo)}`); }
            else if (hi !== undefined) { parts.push(`at most ${entries(hi)}`); }
            if (node.uniqueItems) { parts.push("no entry twice"); }
            const items = this.view(node.items ?? {}, itemsPath(at));
            const each = items.type === "object" ? "" : this.valuesOf(items, itemsPath(at));
            if (each) { parts.push(`each: ${each}`); }
        }
        if (isObject(node.properties) && node.additionalProperties !== false) { parts.push("other fields allowed too"); }
        if (isObject(node.propertyNames) || isObject(node.additionalProperties)) {
            const keys = isObject(node.propertyNames) ? this.valuesOf(this.view(node.propertyNames, at), at) : "";
            const values = isObject(node.additionalProperties) ? this.valuesOf(this.view(node.additionalProperties, at), at) : "";
            if (keys) { parts.push(`keys: ${keys}`); }
            if (values) { parts.push(`values: ${values}`); }
        }
        // A oneOf says itself in its x-oneOf (the config's error for it says the same).
        if (node.oneOf !== undefined) {
            if (!node["x-oneOf"]) { throw new Error(`config.schema.json: ${at} has a oneOf without the x-oneOf that says it in words`); }
            parts.push(cellText(node["x-oneOf"]));
        }
        return parts.join("; ");
    }

    /** The path a field that is another field (each entry of migrations is a migration) was listed at first. */
    private firstListed(node: Node | undefined, at: string): string | undefined {
        const first = typeof node?.$ref === "string" ? this.listedAt.get(resolveRef(this.root, node.$ref, at)) : undefined;
        if (first !== undefined) { this.alsoAt.set(first, [...(this.alsoAt.get(first) ?? []), at]); }
        return first;
    }

    /** Lists the field at `at` (unless it is the root), then the fields inside it. */
    walk(raw: Node, at: string, required: boolean): void {
        this.check(raw, at);
        const node = this.view(raw, at);
        this.check(node, at);
        if (at !== "") {
            const same = this.firstListed(node, at);
            const sameEach = node.type === "array" ? this.firstListed(node.items, itemsPath(at)) : undefined;
            const notes = [node.description && cellText(node.description), same && `the fields of ${sectionLink(same)}`,
                sameEach && `each entry has the fields of ${sectionLink(sameEach)}`];
            this.rows.push({
                path: at, type: this.typeOf(node, at),
                default: node.default !== undefined ? code(node.default) : required ? "*required*" : "",
                values: this.valuesOf(node, at), description: notes.filter(Boolean).join("; "),
            });
        }
        this.walkInside(node, at);
    }

    private walkInside(node: Node, at: string): void {
        if (typeof node.$ref === "string") {
            const target = resolveRef(this.root, node.$ref, at);
            if (this.listedAt.has(target)) { return; }
            this.check(target, at);
            node = target;
        }
        this.listedAt.set(node, at);
        for (const f of fieldsOf(node, "#", at)) { this.walk(f.node, f.path, f.required); }
        if (node.type === "array" && isObject(node.items)) {
            // The entries' own keywords are said on the list's row; their fields follow it.
            this.check(node.items, itemsPath(at));
            this.walkInside(this.view(node.items, itemsPath(at)), itemsPath(at));
        }
    }
}

/** Every field of the config, in the schema's order, nested fields after the field that holds them. */
export function referenceRows(root: Node = labSchema): ReferenceRow[] {
    return walked(root).rows;
}

function walked(root: Node): Walker {
    const w = new Walker(root);
    w.walk(root, "", false);
    return w;
}

/** A field's path linked to the page's section of the top-level field it is in. */
function sectionLink(path: string): string {
    return `[${code(path)}](#${/^\w+/.exec(path)![0].toLowerCase()})`;
}

const BANNER = "<!-- Generated from components/model/config.schema.json by `npm run docs` (components/model/configReference.ts): " +
    "do not edit; a unit test fails when this page is not what the schema gives. -->";

function table(rows: ReferenceRow[], link: (r: ReferenceRow) => string = (r) => code(r.path)): string[] {
    return ["| field | type | default | values | description |", "|---|---|---|---|---|",
        ...rows.map((r) => `| ${link(r)} | ${r.type} | ${r.default} | ${r.values} | ${r.description} |`)];
}

/** The page: the top-level fields, then one section for each that holds fields of its own. */
export function configReference(root: Node = labSchema): string {
    const { rows, alsoAt } = walked(root);
    const top = rows.filter((r) => /^\w+$/.test(r.path));
    const inside = (r: ReferenceRow) => rows.filter((x) => x.path.startsWith(`${r.path}.`) || x.path.startsWith(`${r.path}[]`));
    const required: string[] = root.required ?? [];
    const lines = [
        BANNER,
        "# Configuration reference",
        "",
        `Every field of the lab's config, from its schema, [config.schema.json](../components/model/config.schema.json). ${cellText(root.description ?? "")}`,
        "How the fields work together, the rules across fields, and examples: [config.md](config.md).",
        "",
        "A field's path is where a stack file writes it: `hosts[].ssh.user` is `user` in the `ssh` of each entry of `hosts`.",
        "*required*: to be given wherever the object holding it is; a default: what the config gets when the field is left out;",
        "neither: optional (its description says what leaving it out means). The values are in the words the config's errors use.",
        "A field not listed here is an error (a misspelt one, say), unless a row says other fields are allowed.",
        `The lab must have ${required.map(code).join(", ")}${root["x-oneOf"] ? `, and ${cellText(root["x-oneOf"])}` : ""}.`,
        "",
        "## Top level",
        "",
        ...table(top, (r) => (inside(r).length ? sectionLink(r.path) : code(r.path))),
    ];
    for (const r of top) {
        const nested = inside(r);
        if (nested.length === 0) { continue; }
        const heading = `${r.path}${r.type.startsWith("list of") ? "[]" : ""}`;
        const example = nested[0].path.slice(heading.length);
        const also = (alsoAt.get(heading) ?? []).map((p) => `${p.endsWith("[]") ? "Each entry of " : ""}${code(p)} has these fields too: ` +
            `${code(heading + example)} here is ${code(p + example)} there.`);
        lines.push("", `## \`${heading}\``, "", ...(also.length ? [...also, ""] : []), ...table(nested));
    }
    return `${lines.join("\n")}\n`;
}
