// docs/config-reference.md, generated from the config's schema (components/model/configReference.ts):
// committed as `npm run docs` writes it, listing every field the schema has, each row a
// well-formed table row, and refusing a schema keyword it cannot say in words.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { CONFIG_REFERENCE_FILE, ReferenceRow, cellText, configReference, referenceRows } from "../../components/model/configReference";
import { schema } from "../../components/model/schema";
import { ROOT } from "../support";

const copy = () => JSON.parse(JSON.stringify(schema));
const rowAt = (rows: ReferenceRow[], p: string) => {
    const row = rows.find((r) => r.path === p);
    assert.ok(row, `no row for ${p}`);
    return row!;
};

/** A markdown table row's cells, split at the pipes that are not escaped. */
const cells = (line: string) => line.slice(2, -2).split(/(?<!\\) \| /);

describe("the configuration reference (npm run docs)", () => {
    it("docs/config-reference.md is what the schema gives (else: npm run docs, and commit it)", () => {
        const committed = fs.readFileSync(path.join(ROOT, CONFIG_REFERENCE_FILE), "utf8");
        assert.ok(committed === configReference(), `${CONFIG_REFERENCE_FILE} differs from what config.schema.json gives: run \`npm run docs\` and commit it`);
    });

    it("lists every field the schema has, by a path that ends in the field's name", () => {
        // Every property name anywhere in the schema, definitions included.
        const names = new Set<string>();
        const collect = (n: unknown): void => {
            if (Array.isArray(n)) { n.forEach(collect); return; }
            if (n === null || typeof n !== "object") { return; }
            for (const [k, v] of Object.entries(n)) {
                if (k === "properties") { Object.keys(v as object).forEach((p) => names.add(p)); }
                collect(v);
            }
        };
        collect(schema);
        const paths = referenceRows().map((r) => r.path);
        const missing = [...names].filter((n) => !paths.some((p) => p === n || p.endsWith(`.${n}`)));
        assert.deepStrictEqual(missing, []);
        assert.strictEqual(new Set(paths).size, paths.length, "a path listed twice");
    });

    it("resolves references: a definition's rule and default beside the field's own description, nested fields by their full path", () => {
        const rows = referenceRows();
        const user = rowAt(rows, "nfs.host.ssh.user");
        assert.strictEqual(user.default, "`root`");
        assert.match(user.values, /^a user name: lower-case letters/);
        assert.strictEqual(rowAt(rows, "hosts[].ssh.privateKey").default, "*required*");
        const address = rowAt(rows, "hosts[].address");
        assert.strictEqual(address.type, "string");
        assert.match(address.values, /^an IPv4 address such as 10\.10\.10\.1/);
        assert.strictEqual(address.description, "the host's address on the lab network");
        // A field's own default wins over the definition's (none) it refers to.
        assert.strictEqual(rowAt(rows, "outside.address").default, "`10.10.20.2`");
        const iterations = rowAt(rows, "migration.stopAfter.iterations");
        assert.deepStrictEqual([iterations.type, iterations.default, iterations.values], ["integer", "", "an integer from 1 to 10000"]);
        assert.strictEqual(rowAt(rows, "migration.mode").values, "one of `precopy`, `postcopy`, `cold`");
        assert.strictEqual(rowAt(rows, "migration.mode").default, "`precopy`");
        assert.strictEqual(rowAt(rows, "guests[].image").default, '`{"builtin":"tiny"}`');
        assert.match(rowAt(rows, "guests[].image").values, /give exactly one of builtin or qcow2/);
        assert.strictEqual(rowAt(rows, "migration.drain.to").type, "list of strings or string");
        assert.match(rowAt(rows, "migration.path").values, /^2 to 32 entries; each: lower-case letters/);
        // The sla definition is resolved at both of its places.
        assert.strictEqual(rowAt(rows, "sla.minRatio").values, rowAt(rows, "migration.sla.minRatio").values);
    });

    it("lists a field that is another field once: each entry of migrations points to migration's fields", () => {
        const rows = referenceRows();
        assert.ok(!rows.some((r) => r.path.startsWith("migrations[]")));
        assert.match(rowAt(rows, "migrations").description, /each entry has the fields of \[`migration`\]\(#migration\)$/);
        assert.match(configReference(), /\n## `migration`\n\nEach entry of `migrations\[\]` has these fields too: `migration\.guest` here is `migrations\[\]\.guest` there\.\n/);
    });

    it("a field added to the schema comes out with its path, type, default, range and description", () => {
        const changed = copy();
        changed.properties.migration.properties.warmupSeconds = { type: "integer", minimum: 0, maximum: 60, default: 5, description: "wait | then go" };
        changed.definitions.node.properties.rack = { type: "string", enum: ["a", "b"] };
        const rows = referenceRows(changed);
        assert.deepStrictEqual(rowAt(rows, "migration.warmupSeconds"),
            { path: "migration.warmupSeconds", type: "integer", default: "`5`", values: "an integer from 0 to 60", description: "wait \\| then go" });
        assert.strictEqual(rowAt(rows, "hosts[].rack").values, "one of `a`, `b`");
        assert.strictEqual(rowAt(rows, "nfs.host.rack").values, "one of `a`, `b`");
    });

    it("refuses a keyword it cannot say in words, naming the field, rather than leave the rule out", () => {
        const changed = copy();
        changed.properties.guests.items.properties.vcpus.exclusiveMaximum = 65;
        assert.throws(() => configReference(changed), /guests\[\]\.vcpus uses 'exclusiveMaximum'/);
        const noWords = copy();
        delete noWords.properties.guests.items.properties.image["x-oneOf"];
        assert.throws(() => configReference(noWords), /guests\[\]\.image has a oneOf without the x-oneOf/);
    });

    it("every table row has its five cells: the pipes, stars and brackets of rules and descriptions are escaped", () => {
        const rows = configReference().split("\n").filter((l) => l.startsWith("| "));
        assert.ok(rows.length > 100, `${rows.length} rows`);
        for (const line of rows) { assert.strictEqual(cells(line).length, 5, line); }
        assert.strictEqual(cellText("a '_' b | `x|y` * memory_iteration [1]"), "a '\\_' b \\| `x\\|y` \\* memory_iteration \\[1\\]");
        // A lone backtick (the path rule's list of refused characters) is text, not the start of code.
        assert.strictEqual(cellText("such as $ ` ;"), "such as $ \\` ;");
    });

    it("links every top-level field that holds fields to its section", () => {
        const page = configReference();
        for (const id of ["hosts", "nfs", "pool", "link", "guests", "migration", "outside", "nat", "overlay", "sla"]) {
            assert.ok(page.includes(`| [\`${id}\`](#${id}) |`), id);
        }
        assert.match(page, /\n## `hosts\[\]`\n/);
        assert.match(page, /\n## `nfs`\n/);
    });
});
