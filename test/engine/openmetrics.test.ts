// promtool, Prometheus' own checker (Debian's prometheus package, which scripts/setup installs),
// on the OpenMetrics text of a measured and a failed leg: what a monitoring stack would accept.
// Here rather than in test/unit, which needs no system package (scripts/test).
import * as assert from "assert";
import { spawnSync } from "child_process";
import { renderOpenMetrics } from "../../components/reports/openmetrics";
import { fixtureLegs, fixtureText } from "../openmetrics-fixture";

function promtool(text: string): { code: number | null; out: string } {
    const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    if (r.error) {
        assert.fail(`promtool is missing (${r.error.message}): run scripts/setup as root, which installs Debian's prometheus package`);
    }
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("OpenMetrics text under promtool", () => {
    it("passes `promtool check metrics` for a measured and a failed leg", () => {
        const r = promtool(fixtureText());
        assert.strictEqual(r.code, 0, r.out);
        assert.strictEqual(r.out.trim(), "", "promtool's lint found nothing to say");
    });

    it("passes for a nat leg with no probe and a failure reason full of quotes", () => {
        const [ok, failed] = fixtureLegs();
        const nat = { ...ok, leg: "back", from: "pc2", to: "pc1", probe: null };
        const odd = { ...failed, leg: "again", failed: 'a "quoted" \\ reason\nover two lines' };
        const r = promtool(renderOpenMetrics({ stack: "nat", topology: "nat", legs: [nat, odd], modes: { back: "postcopy" } }));
        assert.strictEqual(r.code, 0, r.out);
        assert.strictEqual(r.out.trim(), "", "promtool's lint found nothing to say");
    });

    it("fails on a text that breaks the format: the check is a real one", () => {
        const broken = fixtureText().replace(/^(kubevirt_vmi_migration_failed\{[^}]*\}) 0$/m, "$1 zero");
        assert.notStrictEqual(broken, fixtureText());
        assert.notStrictEqual(promtool(broken).code, 0);
    });
});
