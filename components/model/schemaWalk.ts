// The one reading of config.schema.json's structure that everything written from it shares:
// how a `$ref` resolves and merges with the field beside it, what an object's fields are (with
// their pointer, config path and required-ness), which keywords hold subschemas, and what a
// oneOf or anyOf chooses between. The types (scripts/config-types.js), the plugin's args
// (scripts/plugin-types.js), the configuration reference (configReference.ts) and the fields'
// rules and defaults (schema.ts) all walk the schema through it, so they cannot read it apart.
//
// Pure and import-free, in the TypeScript that Node.js runs by stripping its types: the two
// generators are plain JavaScript run before tsc (whose input they write) and require this
// file as it is. So: no enums, namespaces or parameter properties here.

export type SchemaNode = Record<string, any>;

export const isSchemaObject = (v: unknown): v is SchemaNode => v !== null && typeof v === "object" && !Array.isArray(v);

/** The node a local `$ref` ("#/definitions/name", "#/properties/migration") points at; `at` names the referring field in the error. */
export function resolveRef(root: SchemaNode, ref: string, at = ""): SchemaNode {
    const node = ref.replace(/^#\/?/, "").split("/").filter((k) => k !== "")
        .reduce<any>((n, k) => n?.[decodeURIComponent(k).replace(/~1/g, "/").replace(/~0/g, "~")], root);
    if (!isSchemaObject(node)) { throw new Error(`config.schema.json: ${at || "the root"} refers to ${ref}, which it does not have`); }
    return node;
}

/** A `$ref` into the schema's definitions (a named kind of value), not to another field. */
export const isDefinitionRef = (ref: string): boolean => ref.startsWith("#/definitions/");

/**
 * A field as it stands: what its `$ref` points at merged under its own keywords (its own
 * default and description win), through references of references, without the `$ref`. Only
 * the references `follow` takes are merged (every one unless it says otherwise); a node with
 * none comes back as it is.
 */
export function dereference(root: SchemaNode, node: SchemaNode, at = "", follow: (ref: string) => boolean = () => true): SchemaNode {
    if (typeof node.$ref !== "string" || !follow(node.$ref)) { return node; }
    const { $ref, ...own } = node;
    return { ...dereference(root, resolveRef(root, $ref, at), at, follow), ...own };
}

/** The config path of a field inside the one at `parent` ("" is the root): `nfs.host`. */
export const fieldPath = (parent: string, name: string): string => (parent ? `${parent}.${name}` : name);

/** The config path of a list's entries: `guests[]`. */
export const itemsPath = (path: string): string => `${path}[]`;

/** One field of an object, as the schema writes it. */
export interface SchemaField {
    name: string;
    /** The field's schema as written (a `$ref` left unresolved: see dereference). */
    node: SchemaNode;
    /** Whether the object holding it requires it (a field with a default is not, to the user). */
    required: boolean;
    /** Its JSON pointer in the schema: `#/properties/nfs/properties/host`. */
    pointer: string;
    /** Its config path: `nfs.host`. */
    path: string;
}

/** The fields of an object node, in the schema's order; `pointer` and `path` are the object's own. */
export function fieldsOf(node: SchemaNode, pointer = "#", path = ""): SchemaField[] {
    const required = new Set<string>(Array.isArray(node.required) ? node.required : []);
    return Object.entries<SchemaNode>(isSchemaObject(node.properties) ? node.properties : {}).map(([name, child]) => ({
        name, node: child, required: required.has(name),
        pointer: `${pointer}/properties/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`, path: fieldPath(path, name),
    }));
}

// The keywords whose value is a schema, a map of named schemas, or a list of schemas.
const ONE = new Set(["items", "additionalProperties", "propertyNames", "contains", "not", "if", "then", "else"]);
const MAP = new Set(["properties", "definitions", "patternProperties"]);
const LIST = new Set(["oneOf", "anyOf", "allOf"]);

/**
 * The schemas directly inside a node, each with its JSON pointer, in the node's key order: the
 * named ones of properties and definitions, items and the like, and the branches of a oneOf,
 * anyOf or allOf. Values that are data (a default, an enum) are not schemas and are left out.
 */
export function subschemas(node: SchemaNode, pointer: string): { node: SchemaNode; pointer: string }[] {
    const out: { node: SchemaNode; pointer: string }[] = [];
    for (const [key, value] of Object.entries(node)) {
        if (MAP.has(key) && isSchemaObject(value)) {
            for (const [name, sub] of Object.entries(value)) { if (isSchemaObject(sub)) { out.push({ node: sub, pointer: `${pointer}/${key}/${name}` }); } }
        } else if (ONE.has(key) && isSchemaObject(value)) {
            out.push({ node: value, pointer: `${pointer}/${key}` });
        } else if (LIST.has(key) && Array.isArray(value)) {
            value.forEach((sub, i) => { if (isSchemaObject(sub)) { out.push({ node: sub, pointer: `${pointer}/${key}/${i}` }); } });
        }
    }
    return out;
}

/**
 * What a node's oneOf (or anyOf) chooses between: `fields`, when every branch only requires
 * fields (which of the object's fields to give: image's builtin or qcow2), or `types`, when
 * the branches are schemas of their own (a list of names, or 'any'). Undefined without one.
 */
export function choiceOf(node: SchemaNode): { keyword: "oneOf" | "anyOf"; kind: "fields" | "types"; branches: SchemaNode[] } | undefined {
    const keyword = Array.isArray(node.oneOf) ? "oneOf" : Array.isArray(node.anyOf) ? "anyOf" : undefined;
    if (keyword === undefined) { return undefined; }
    const branches: SchemaNode[] = node[keyword];
    const onlyRequires = branches.every((b) => isSchemaObject(b) && Object.keys(b).every((k) => k === "required"));
    return { keyword, kind: onlyRequires ? "fields" : "types", branches };
}

/**
 * The schema of the field at a config path ("guests.counterPort"; a list is passed through to
 * its entries, with or without `[]`), merged with what it refers to (its own keywords win).
 */
export function fieldAt(root: SchemaNode, path: string): SchemaNode {
    let node = root;
    const fields = (n: SchemaNode) => dereference(root, n, path).properties;
    for (const key of path.replace(/\[\]/g, "").split(".")) {
        let next = fields(node)?.[key];
        if (!next && isSchemaObject(node.items)) { next = fields(node.items)?.[key]; }
        if (!isSchemaObject(next)) { throw new Error(`config.schema.json has no field ${path}`); }
        node = next;
    }
    return dereference(root, node, path);
}
