// The one walk over config.schema.json (components/model/schemaWalk.ts) that the types, the
// plugin's args, the configuration reference and the fields' rules all read the schema through.
import * as assert from "assert";
import { schema } from "../../components/model/schema";
import {
    SchemaNode, choiceOf, dereference, fieldAt, fieldsOf, isDefinitionRef, resolveRef, subschemas,
} from "../../components/model/schemaWalk";

const copy = (): SchemaNode => JSON.parse(JSON.stringify(schema));

/** Every schema node with its pointer, through subschemas from the root. */
function everyNode(root: SchemaNode): { node: SchemaNode; pointer: string }[] {
    const out = [{ node: root, pointer: "#" }];
    for (let i = 0; i < out.length; i++) { out.push(...subschemas(out[i].node, out[i].pointer)); }
    return out;
}

describe("the schema walker: one reading of config.schema.json", () => {
    it("resolves every $ref the schema holds, to the node at its pointer", () => {
        const refs = everyNode(schema).filter((x) => typeof x.node.$ref === "string");
        assert.ok(refs.length > 20, `${refs.length} references found`);
        for (const { node, pointer } of refs) {
            const target = resolveRef(schema, node.$ref, pointer);
            assert.ok(everyNode(schema).some((x) => x.node === target && x.pointer === node.$ref), `${pointer}: ${node.$ref}`);
        }
    });

    it("names the referring field and the missing target when a $ref points nowhere", () => {
        const broken = copy();
        broken.properties.pool.properties.name.$ref = "#/definitions/nmae";
        assert.throws(() => fieldAt(broken, "pool.name"), /config\.schema\.json: pool\.name refers to #\/definitions\/nmae, which it does not have/);
    });

    it("merges what a field refers to under its own keywords, its own winning, and follows only the references asked", () => {
        const address = schema.properties.outside.properties.address;
        const merged = dereference(schema, address);
        assert.strictEqual(merged.$ref, undefined);
        assert.strictEqual(merged.format, schema.definitions.ipv4.format);
        assert.strictEqual(merged.default, address.default);
        assert.strictEqual(merged.description, address.description);
        // migrations' entries are the migration field: a definition-only view leaves that reference be.
        const entry = schema.properties.migrations.items;
        assert.strictEqual(dereference(schema, entry, "migrations[]", isDefinitionRef), entry);
        assert.deepStrictEqual(Object.keys(dereference(schema, entry).properties), Object.keys(schema.properties.migration.properties));
    });

    it("lists an object's fields in order with their pointer, config path and required-ness", () => {
        const top = fieldsOf(schema);
        assert.deepStrictEqual(top.map((f) => f.name), Object.keys(schema.properties));
        assert.deepStrictEqual(top.filter((f) => f.required).map((f) => f.name).sort(), [...schema.required].sort());
        const host = fieldsOf(dereference(schema, schema.properties.nfs.properties.host), "#/properties/nfs/properties/host", "nfs.host");
        const ssh = host.find((f) => f.name === "ssh")!;
        assert.deepStrictEqual([ssh.path, ssh.pointer], ["nfs.host.ssh", "#/properties/nfs/properties/host/properties/ssh"]);
        // A name with '/' or '~' is escaped in the pointer, as JSON Pointer has it.
        assert.strictEqual(fieldsOf({ properties: { "a/b~c": {} } })[0].pointer, "#/properties/a~1b~0c");
    });

    it("walks into schemas only: a default or an enum is data, however object-like", () => {
        const image = schema.properties.guests.items.properties.image;
        assert.ok(typeof image.default === "object", "the image's default is an object");
        const inside = subschemas(image, "#/image").map((s) => s.pointer);
        assert.ok(inside.every((p) => !p.includes("default")), inside.join(", "));
        assert.ok(inside.includes("#/image/properties/qcow2") && inside.includes("#/image/oneOf/0"), inside.join(", "));
    });

    it("tells a choice of fields (give one of them) from a choice of types", () => {
        assert.strictEqual(choiceOf(schema.properties.guests.items.properties.image)?.kind, "fields");
        assert.strictEqual(choiceOf(fieldAt(schema, "migration.drain.to"))?.kind, "types");
        assert.strictEqual(choiceOf({ anyOf: [{ required: ["a"] }, { required: ["b"] }] })?.keyword, "anyOf");
        assert.strictEqual(choiceOf(schema.properties.pool), undefined);
    });

    it("finds a field by its config path, through lists with or without []", () => {
        assert.deepStrictEqual(fieldAt(schema, "guests[].counterPort"), fieldAt(schema, "guests.counterPort"));
        assert.strictEqual(fieldAt(schema, "hosts.ssh.user").default, "root");
        assert.throws(() => fieldAt(schema, "hosts.ssh.usr"), /config\.schema\.json has no field hosts\.ssh\.usr/);
    });
});
