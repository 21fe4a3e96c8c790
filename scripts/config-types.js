#!/usr/bin/env node
// Writes components/model/config.types.ts, the config's TypeScript types, from
// config.schema.json, so the schema is the config's one description. Plain
// JavaScript: it must run before tsc, whose input it writes (`npm run build`).
// The file is committed too, so a clean clone compiles with tsc alone; the unit
// test config-types.test.ts regenerates it and fails when the two differ.
//   node scripts/config-types.js          write the file
//   node scripts/config-types.js --check  exit 1 if the file is not what the schema gives
"use strict";
const fs = require("fs");
const path = require("path");

const MODEL = path.join(__dirname, "..", "components", "model");
const SCHEMA = path.join(MODEL, "config.schema.json");
const OUT = path.join(MODEL, "config.types.ts");

// The schema objects the code names; every other object is written inline where it is used.
const NAMES = {
    "#": "ParsedLabConfig",
    "#/definitions/node": "NodeConfig",
    "#/definitions/ssh": "SshArgs",
    "#/definitions/sla": "SlaConfig",
    "#/properties/guests/items": "GuestConfig",
    "#/properties/migration": "MigrationConfig",
};

const BANNER = `// Generated from config.schema.json by scripts/config-types.js (npm run build): do not edit.
// The config as parseLabConfig returns it: ajv's useDefaults has filled every field with a
// schema default, so those fields are required here; fields without a default stay optional.
`;

// Plain JavaScript requires the walker's TypeScript as it is: Node.js strips its types.
if (!process.features.typescript) { throw new Error(`${path.basename(__filename)} needs the Node.js of package.json's engines (24), not ${process.version}: eval "$(scripts/setup)" first`); }
const { choiceOf, dereference, isSchemaObject, resolveRef, subschemas } = require("../components/model/schemaWalk.ts");

/**
 * The schema as the generator should read it (a copy; the schema itself is not changed):
 * - a field with a default is required (the parsed config always has it);
 * - a oneOf whose branches only require fields says which to give, not what they are: the types
 *   keep every such field optional (the generator would otherwise add `{[k: string]: unknown}` unions);
 * - a reference to a plain (non-object) definition is inlined with the field's own description,
 *   and an object definition's reference loses its siblings (else the generator repeats the type as Node1);
 * - minItems and maxItems stay in the schema (tuples of 2 to 8 hosts help nobody).
 */
function parsedView(schema) {
    const root = JSON.parse(JSON.stringify(schema));
    const defs = root.definitions ?? {};
    const walk = (node, pointer) => {
        if (NAMES[pointer]) { node.title = NAMES[pointer]; }
        if (isSchemaObject(node.properties)) {
            const withDefault = Object.keys(node.properties).filter((k) => node.properties[k].default !== undefined);
            node.required = [...new Set([...(node.required ?? []), ...withDefault])];
        }
        const choice = choiceOf(node);
        if (choice?.kind === "fields") { delete node[choice.keyword]; }
        for (const sub of subschemas(node, pointer)) { walk(sub.node, sub.pointer); }
        if (typeof node.$ref === "string") {
            const { $ref, ...siblings } = node;
            const target = resolveRef(root, $ref, pointer);
            for (const k of Object.keys(node)) { delete node[k]; }
            if (target.type !== "object") {
                Object.assign(node, dereference(root, { $ref, ...siblings }, pointer));
                delete node.title;
            } else {
                node.$ref = $ref;
            }
        }
        delete node.default;
    };
    walk(root, "#");
    for (const [name, def] of Object.entries(defs)) { if (def.type !== "object") { delete root.definitions[name]; } }
    return root;
}

/** The text of config.types.ts for the schema. */
async function generate(schema = JSON.parse(fs.readFileSync(SCHEMA, "utf8"))) {
    const { compile } = require("json-schema-to-typescript");
    return compile(parsedView(schema), "ParsedLabConfig", {
        bannerComment: BANNER, additionalProperties: false, ignoreMinAndMaxItems: true,
        declareExternallyReferenced: true, unreachableDefinitions: false, style: { tabWidth: 4, printWidth: 140 },
    });
}

module.exports = { generate, parsedView, OUT };

if (require.main === module) {
    generate().then((text) => {
        if (process.argv.includes("--check")) {
            const same = fs.existsSync(OUT) && fs.readFileSync(OUT, "utf8") === text;
            if (!same) { console.error(`${path.relative(process.cwd(), OUT)} is not what config.schema.json gives: run npm run build`); }
            process.exit(same ? 0 : 1);
        }
        fs.writeFileSync(OUT, text);
    }).catch((e) => { console.error(e); process.exit(1); });
}
