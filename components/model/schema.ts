// The config's JSON Schema as the code reads it: the one ajv that checks it, the
// defaults components fall back on, and the schema's own definitions as named
// checks, so a rule the schema states is never written again beside it.
import Ajv from "ajv";
import addFormats from "ajv-formats";
import schemaJson from "./config.schema.json";
import { SchemaNode as Node, fieldAt, resolveRef } from "./schemaWalk";

export const schema: Node = schemaJson;

// verbose: errors carry their schema object, where x-oneOf holds the message for a failed oneOf.
export const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
addFormats(ajv);
ajv.addSchema(schema);

/**
 * The schema of one config field, by its path in the config ("guests.counterPort",
 * "migration.mode"; arrays are passed through to their items). The field's own keywords
 * win over those of a definition it refers to (a default beside a `$ref`).
 */
export function schemaAt(path: string): Node {
    return fieldAt(schema, path);
}

/** The schema's default for a field: what the config gets when it leaves the field out, and a component when its arg is left out. */
export function schemaDefault<T>(path: string): T {
    const d = schemaAt(path).default;
    if (d === undefined) { throw new Error(`config.schema.json gives ${path} no default`); }
    return d as T;
}

/** A definition of the schema as a check, and the rule it stands for as "must be ..." text. */
export interface Rule { test: (v: unknown) => boolean; message: string }

/**
 * The rule a schema node states, in words: its x-rule, or for a number its range; undefined
 * when it states neither. The config's errors and the configuration reference both say it.
 */
export function valueRule(node: Node): string | undefined {
    if (node["x-rule"]) { return node["x-rule"]; }
    if ((node.type === "integer" || node.type === "number") && node.minimum !== undefined && node.maximum !== undefined) {
        return `${node.type === "integer" ? "an integer" : "a number"} from ${node.minimum} to ${node.maximum}`;
    }
    return undefined;
}

/** What a schema node asks, in words: its rule (valueRule), else what it is for. */
export function ruleText(node: Node, name: string): string {
    return valueRule(node) ?? node.description ?? name;
}

/** The rule of `#/definitions/<name>`: the same ajv code the config is checked with. */
export function definitionRule(name: string): Rule {
    const validate = ajv.compile({ $ref: `${schema.$id}#/definitions/${name}` });
    return { test: (v) => validate(v) as boolean, message: `must be ${ruleText(resolveRef(schema, `#/definitions/${name}`), name)}` };
}

/** The rule of one field (its own pattern and text, e.g. nat.bridge), by its config path. */
export function fieldRule(path: string): Rule {
    // Merged with what it refers to already (schemaAt), so the copy has no $ref of its own.
    const { default: _default, description, ...node } = schemaAt(path);
    const validate = ajv.compile(node);
    return { test: (v) => validate(v) as boolean, message: `must be ${ruleText({ ...node, description }, path)}` };
}
