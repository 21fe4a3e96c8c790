// The JSON Schema of a stack file (stacks/Pulumi.<stack>.yaml) as an editor reads it: the
// lab's own schema under config."miglab:lab", so yaml-language-server completes and checks a
// lab where it is written. Derived from config.schema.json, never written by hand: `npm run
// schema` writes it beside the stacks, and a unit test fails when the two drift apart.
import labSchema from "./config.schema.json";

/** The file `npm run schema` writes in stacks/, which each stack file's modeline names. */
export const STACK_SCHEMA_FILE = "stack.schema.json";

/** The first line of every shipped stack file: yaml-language-server's pointer to the schema. */
export const STACK_MODELINE = `# yaml-language-server: $schema=./${STACK_SCHEMA_FILE}`;

/** Where the lab's schema sits in the stack's, as a JSON pointer. */
const LAB_AT = "#/properties/config/properties/miglab:lab";

/**
 * The lab's own references, made to point where its parts now sit: its definitions move to the
 * root (where "#/definitions/..." still resolves), anything else of it ("#/properties/migration")
 * is now under LAB_AT.
 */
function relocate(node: unknown): unknown {
    if (Array.isArray(node)) { return node.map(relocate); }
    if (node === null || typeof node !== "object") { return node; }
    return Object.fromEntries(Object.entries(node).map(([k, v]) =>
        [k, k === "$ref" && typeof v === "string" && v.startsWith("#/") && !v.startsWith("#/definitions/") ? LAB_AT + v.slice(1) : relocate(v)]));
}

export function stackSchema(): Record<string, unknown> {
    const { $schema, $id: _id, definitions, title, description, ...lab } = relocate(labSchema) as Record<string, any>;
    return {
        $schema,
        $id: "https://miglab.dev/schema/stack.json",
        title: "miglab stack file (stacks/Pulumi.<stack>.yaml)",
        description: "A Pulumi stack's settings; miglab reads its whole lab from config.\"miglab:lab\".",
        type: "object",
        definitions,
        properties: {
            config: {
                type: "object",
                required: ["miglab:lab"],
                properties: { "miglab:lab": { title, description, ...lab } },
            },
            encryptionsalt: { type: "string" },
            secretsprovider: { type: "string" },
            encryptedkey: { type: "string" },
        },
        required: ["config"],
    };
}
