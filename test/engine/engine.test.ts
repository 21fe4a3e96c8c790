// The real Pulumi engine (CLI built by scripts/setup-pulumi, the Node.js language
// host, the command plugin) running real programs: no mocks here.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT, pulumi, pulumiEnv } from "../support";

describe("the Pulumi engine on this machine", function () {
    this.timeout(5 * 60 * 1000);
    const fixture = path.join(ROOT, "test", "fixtures", "engine-smoke");
    let state: string;
    let env: NodeJS.ProcessEnv;

    before(() => {
        state = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-engine-"));
        env = pulumiEnv({ PULUMI_BACKEND_URL: `file://${state}` });
        // The fixture uses the project's node_modules.
        const link = path.join(fixture, "node_modules");
        if (!fs.existsSync(link)) { fs.symlinkSync(path.join(ROOT, "node_modules"), link); }
    });

    after(() => {
        pulumi(["stack", "rm", "smoke", "--yes", "--force"], fixture, env);
        fs.rmSync(state, { recursive: true, force: true });
    });

    it("is the version package.json asks for", () => {
        const want = require(path.join(ROOT, "package.json")).dependencies["@pulumi/pulumi"];
        const r = pulumi(["version"], fixture, env);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(r.stdout.trim(), `v${want}`);
    });

    it("previews, updates, reads outputs, destroys and removes a stack with a command:local:Command", () => {
        let r = pulumi(["stack", "init", "smoke"], fixture, env);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        r = pulumi(["config", "set", "who", "the engine test"], fixture, env);
        assert.strictEqual(r.code, 0, r.stderr);

        r = pulumi(["preview"], fixture, env);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /\+ 2 to create/);

        r = pulumi(["up", "--yes", "--skip-preview"], fixture, env);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.doesNotMatch(r.stdout, /warning: using pulumi-language-nodejs from \$PATH/);

        r = pulumi(["stack", "output", "said"], fixture, env);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(r.stdout.trim(), "hello from the engine test");

        r = pulumi(["up", "--yes", "--skip-preview"], fixture, env);
        assert.match(r.stdout, /2 unchanged/, "a second up changes nothing");

        r = pulumi(["destroy", "--yes", "--skip-preview"], fixture, env);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /2 deleted/);

        r = pulumi(["stack", "rm", "smoke", "--yes"], fixture, env);
        assert.strictEqual(r.code, 0, r.stderr);
        r = pulumi(["stack", "ls", "--json"], fixture, env);
        assert.deepStrictEqual(JSON.parse(r.stdout), []);
    });

    it("stops `pulumi preview` of the lab on bad config, listing every problem by path", () => {
        const stack = "ci-badconfig";
        const file = path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`);
        const good = fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.same-subnet.yaml"), "utf8");
        const bad = good.replace("address: 10.10.10.2", "address: 10.10.10.999")
            .replace(/guests:\n(\s+)- name: vm1/, "guests:\n$1- name: vm1\n$1  home: pc1\n$1  address: 10.10.10.11\n$1- name: vm1");
        fs.writeFileSync(file, bad);
        try {
            assert.strictEqual(pulumi(["stack", "init", stack], ROOT, env).code, 0);
            const r = pulumi(["preview", "--stack", stack], ROOT, env);
            assert.notStrictEqual(r.code, 0, "preview accepted a bad config");
            assert.match(r.stdout, /hosts\[1\]\.address: must be an IPv4 address/);
            assert.match(r.stdout, /miglab:lab has \d+ problems?/);
            assert.doesNotMatch(r.stdout, /at Object\.<anonymous>|\.ts:\d+:\d+/, "a config error is shown without a stack trace");
            const none = pulumi(["stack", "export", "--stack", stack], ROOT, env);
            assert.doesNotMatch(none.stdout, /miglab:site:LocalSite/, "no resource was declared");
        } finally {
            pulumi(["stack", "rm", stack, "--yes", "--force"], ROOT, env);
            fs.rmSync(file, { force: true });
        }
    });
});
