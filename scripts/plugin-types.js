#!/usr/bin/env node
// Writes plugin/config.ts, the Lab component's args as the Node SDK's component provider reads
// them, from config.schema.json. The provider infers the package schema (what a Pulumi YAML
// program may write under a miglab:index:Lab's properties) from TypeScript declarations, and its
// analyzer takes only named interfaces, `enum`s, arrays, string-keyed maps and primitives: the
// anonymous objects and literal unions of config.types.ts are refused ("Unsupported type",
// "Union types are not supported"). So the same schema is written a second way. Fields are
// optional as the user may leave them out (a default is filled by parseLabConfig, not here).
// Plain JavaScript: it writes tsc's input (`npm run build`); the file is committed and the unit
// test plugin.test.ts fails when it is not what the schema gives.
//   node scripts/plugin-types.js          write the file
//   node scripts/plugin-types.js --check  exit 1 if the file is not what the schema gives
"use strict";
const fs = require("fs");
const path = require("path");

const ROOT = path.join(__dirname, "..");
const SCHEMA = path.join(ROOT, "components", "model", "config.schema.json");
const OUT = path.join(ROOT, "plugin", "config.ts");

// Type names for schema objects whose path-derived name reads badly. Every name becomes a type
// token miglab:index:<name> of the package schema, so none may be a component's name.
const NAMES = {
    "#": "LabArgs",
    "#/properties/nfs/properties/server": "NfsServerKind",
};

const BANNER = `// Generated from components/model/config.schema.json by scripts/plugin-types.js (npm run build):
// do not edit. The Lab component's args for the component provider's schema inference
// (plugin/index.ts); parseLabConfig checks and completes the value at construction.
`;

// Plain JavaScript requires the walker's TypeScript as it is: Node.js strips its types.
if (!process.features.typescript) { throw new Error(`${path.basename(__filename)} needs the Node.js of package.json's engines (24), not ${process.version}: eval "$(scripts/setup)" first`); }
const { choiceOf, dereference, fieldsOf, isSchemaObject: isObject, resolveRef } = require("../components/model/schemaWalk.ts");
const pascal = (s) => s.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join("");

function doc(text, indent) {
    if (!text) { return ""; }
    return `${indent}/** ${text.replace(/\*\//g, "*\\/").replace(/\s*\n\s*/g, " ")} */\n`;
}

function describe(node, target) {
    let d = node.description ?? target?.description;
    const def = node.default !== undefined ? node.default : target?.default;
    // An object's choice of fields is not in the types (all are optional there): the text says it.
    const hint = node.type === "object" || target?.type === "object" ? node["x-oneOf"] ?? target?.["x-oneOf"] : undefined;
    if (hint) { d = d ? `${d.replace(/\.$/, "")}; ${hint}` : hint; }
    if (def !== undefined && !isObject(def) && !/default/i.test(d ?? "")) { d = `${d ? `${d}; ` : ""}default: ${JSON.stringify(def)}`; }
    return d;
}

/** The text of plugin/config.ts for the schema. */
function generate(schema = JSON.parse(fs.readFileSync(SCHEMA, "utf8"))) {
    const decls = new Map(); // name -> text, in the order first met
    const owner = new Map(); // name -> pointer, so two schema nodes never share a name
    const claim = (name, pointer) => {
        if (owner.has(name) && owner.get(name) !== pointer) {
            throw new Error(`${pointer} and ${owner.get(name)} would both be named ${name}: add one to NAMES in scripts/plugin-types.js`);
        }
        owner.set(name, pointer);
    };
    // A pointer's name: its NAMES entry, else the property names along it (definitions keep theirs).
    const nameFor = (pointer, suffix) => {
        if (NAMES[pointer]) { return NAMES[pointer]; }
        const parts = pointer.split("/").slice(1);
        // A list's items are named for one of them: guests/items -> Guest.
        const words = parts[0] === "definitions" ? [parts[1]]
            : parts.map((p, i) => (parts[i + 1] === "items" ? p.replace(/s$/, "") : p)).filter((p, i) => parts[i - 1] === "properties");
        return pascal(words.join(" ")) + suffix;
    };

    const typeOf = (node, pointer) => {
        if (typeof node.$ref === "string") {
            const target = resolveRef(schema, node.$ref, pointer);
            // An object definition is one type wherever it is used; a plain one is inlined.
            return target.type === "object" ? typeOf(target, node.$ref) : typeOf(dereference(schema, node, pointer), pointer);
        }
        if (choiceOf(node)?.kind === "types") {
            // A choice of types (a list of names or 'any'): the package schema can say only "any value".
            return "any";
        }
        // One value is no union to the analyzer ("Unsupported type"): its field is a plain string.
        if (Array.isArray(node.enum) && node.enum.length > 1) {
            const name = nameFor(pointer, "");
            claim(name, pointer);
            if (!decls.has(name)) {
                const members = node.enum.map((v) => `    ${pascal(String(v)) || "Value"} = ${JSON.stringify(v)},`);
                decls.set(name, `${doc(node.description, "")}export enum ${name} {\n${members.join("\n")}\n}\n`);
            }
            return name;
        }
        switch (node.type) {
            case "string": return "string";
            case "integer": case "number": return "number";
            case "boolean": return "boolean";
            case "array": return `${typeOf(node.items, `${pointer}/items`)}[]`;
            case "object":
                if (!isObject(node.properties)) {
                    const values = isObject(node.additionalProperties) ? typeOf(node.additionalProperties, `${pointer}/additionalProperties`) : "any";
                    return `{ [key: string]: ${values} }`;
                }
                return objectType(node, pointer);
            default:
                throw new Error(`${pointer}: no TypeScript type for ${JSON.stringify(node).slice(0, 120)}`);
        }
    };

    const objectType = (node, pointer) => {
        const name = nameFor(pointer, pointer === "#" ? "" : "Config");
        claim(name, pointer);
        if (decls.has(name)) { return name; }
        decls.set(name, ""); // placeholder: keeps the order, and stops a cycle
        const fields = fieldsOf(node, pointer).map((f) => {
            const target = typeof f.node.$ref === "string" ? resolveRef(schema, f.node.$ref, f.pointer) : undefined;
            return `${doc(describe(f.node, target), "    ")}    ${f.name}${f.required ? "" : "?"}: ${typeOf(f.node, f.pointer)};`;
        });
        decls.set(name, `${doc(node.description, "")}export interface ${name} {\n${fields.join("\n")}\n}\n`);
        return name;
    };

    objectType(schema, "#");
    return `${BANNER}\n${[...decls.values()].join("\n")}`;
}

module.exports = { generate, OUT };

if (require.main === module) {
    const text = generate();
    if (process.argv.includes("--check")) {
        const same = fs.existsSync(OUT) && fs.readFileSync(OUT, "utf8") === text;
        if (!same) { console.error(`${path.relative(process.cwd(), OUT)} is not what config.schema.json gives: run npm run build`); }
        process.exit(same ? 0 : 1);
    }
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT, text);
}
