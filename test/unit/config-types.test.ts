import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ConfigError, parseLabConfig } from "../../components/model/config";
import * as checks from "../../components/model/checks";
import { schema, schemaAt, schemaDefault } from "../../components/model/schema";
import { ROOT } from "../support";
import { sampleLab } from "./config.test";

// The generator is plain JavaScript run before tsc: it is not compiled into bin/.
const generator = require(path.join(ROOT, "scripts", "config-types.js")) as {
    generate(schema?: unknown): Promise<string>; OUT: string;
};

describe("the config's one description: the schema, and the types generated from it", function () {
    this.timeout(30000);

    it("config.types.ts is exactly what the schema gives (else: npm run build, and commit it)", async () => {
        const want = await generator.generate();
        assert.ok(want === fs.readFileSync(generator.OUT, "utf8"),
            "components/model/config.types.ts differs from what config.schema.json gives: run `npm run build` and commit the file");
    });

    it("a field added to the schema with a default comes out required in the parsed types, one without optional", async () => {
        const changed = JSON.parse(JSON.stringify(schema));
        changed.properties.migration.properties.warmupSeconds = { type: "integer", default: 0 };
        changed.properties.migration.properties.note = { type: "string" };
        const text = await generator.generate(changed);
        const migration = text.slice(text.indexOf("export interface MigrationConfig {"));
        assert.match(migration, /\n {4}warmupSeconds: number;\n/);
        assert.match(migration, /\n {4}note\?: string;\n/);
    });

    it("reads a default from the schema by the field's config path, the one the parser fills in", () => {
        const cfg = parseLabConfig(sampleLab());
        assert.strictEqual(schemaDefault<number>("guests.counterPort"), cfg.guests[0].counterPort);
        assert.strictEqual(schemaDefault<number>("guests.vcpus"), cfg.guests[0].vcpus);
        assert.strictEqual(schemaDefault<string>("nat.network"), cfg.nat.network);
        assert.strictEqual(schemaDefault<string>("overlay.bridge"), cfg.overlay.bridge);
        // Beside a $ref, the field's own default wins over what it refers to.
        assert.strictEqual(schemaDefault<string>("outside.address"), "10.10.20.2");
        assert.strictEqual(schemaAt("outside.address").format, "ipv4");
    });

    it("says which path it cannot find, and which field has no default", () => {
        assert.throws(() => schemaDefault("guests.counterPortt"), /config\.schema\.json has no field guests\.counterPortt/);
        assert.throws(() => schemaDefault("guests.name"), /gives guests\.name no default/);
    });
});

/** The problems the config has at one field after `mutate` (none: it passed there). */
function fieldProblems(mutate: (c: any) => void, field: string): string[] {
    const lab = sampleLab();
    mutate(lab);
    try {
        parseLabConfig(lab);
        return [];
    } catch (e) {
        if (!(e instanceof ConfigError)) { throw e; }
        return e.problems.filter((p) => p.startsWith(`${field}:`));
    }
}

describe("one rule per value: the components' checks are the schema's", () => {
    // Each value the config refuses at a field, the component check refuses, and the other way round.
    const cases: { what: string; check: (v: unknown) => boolean; message: string; field: string; set: (c: any, v: any) => void; values: unknown[] }[] = [
        { what: "IPv4 address", check: checks.isIpv4, message: checks.ipMsg, field: "hosts[1].address", set: (c, v) => { c.hosts[1].address = v; },
            values: ["10.10.10.2", "010.10.10.2", "10.10.10.256", "10.10.10", "10.10.10.2 "] },
        { what: "absolute path", check: checks.isAbsPath, message: checks.pathMsg, field: "nfs.export", set: (c, v) => { c.nfs.export = v; },
            values: ["/srv/miglab/x", "/srv/$x", "/srv/a;b", "/srv/`id`", "srv/x", "/srv/a b", "/srv/../etc"] },
        { what: "network", check: checks.isCidr, message: checks.cidrMsg, field: "nat.subnet",
            set: (c, v) => { c.topology = "nat"; c.nat = { subnet: v, gateway: "192.168.150.1" }; c.guests[0].address = "192.168.150.10"; },
            values: ["192.168.150.0/24", "192.168.150.0/33", "192.168.0150.0/24", "192.168.150.0"] },
        { what: "name", check: checks.isName, message: checks.nameMsg, field: "pool.name", set: (c, v) => { c.pool.name = v; },
            values: ["guests", "Guests", "9pool", "a-very-long-name-x"] },
        { what: "counter port", check: checks.counterPort.test, message: checks.counterPort.message, field: "guests[0].counterPort",
            set: (c, v) => { c.guests[0].counterPort = v; }, values: [7000, 65534, 65535, 0, "7000"] },
        { what: "guest memory", check: checks.guestMemory.test, message: checks.guestMemory.message, field: "guests[0].memoryMiB",
            set: (c, v) => { c.guests[0].memoryMiB = v; }, values: [192, 63, 65537, 192.5] },
        { what: "MAC", check: checks.isMac, message: checks.macMsg, field: "guests[0].mac", set: (c, v) => { c.guests[0].mac = v; },
            values: ["52:54:00:12:34:56", "52:54:00:AB:cd:56", "52-54-00-12-34-56", "52:54:00:12:34"] },
    ];
    for (const c of cases) {
        it(`${c.what}: the config and the component check accept and refuse the same values, in the same words`, () => {
            let good = 0, bad = 0;
            for (const v of c.values) {
                const said = fieldProblems((lab) => c.set(lab, v), c.field);
                assert.strictEqual(c.check(v), said.length === 0, `${JSON.stringify(v)}: the component check says ${c.check(v)}, the config: ${said.join("; ") || "fine"}`);
                if (said.length === 0) { good++; continue; }
                bad++;
                // The schema's refusal is the component's words (a path adds its '..' rule, said by the config's own rule).
                const schemaSaid = said.find((p) => p.startsWith(`${c.field}: must be`));
                if (schemaSaid) { assert.ok(c.message.startsWith(schemaSaid.slice(c.field.length + 2)), `${schemaSaid} vs ${c.message}`); }
            }
            assert.ok(good > 0 && bad > 0, "the values should include good and bad ones");
        });
    }
});
