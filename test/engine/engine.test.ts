// The real Pulumi engine (CLI built by scripts/setup-pulumi, the Node.js language
// host, the command plugin) running real programs: no mocks here.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT, fileBackend, pulumi, pulumiEnv, sh, testPrefix } from "../support";
import { TestSshd, startSshd } from "./sshd";

const yaml = require("js-yaml");

describe("the Pulumi engine on this machine", function () {
    this.timeout(5 * 60 * 1000);
    const fixture = path.join(ROOT, "test", "fixtures", "engine-smoke");
    let state: string;
    let env: NodeJS.ProcessEnv;

    before(() => {
        state = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-engine-"));
        env = pulumiEnv({ PULUMI_BACKEND_URL: fileBackend(state) });
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

        r = pulumi(["up", "--yes"], fixture, env);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.doesNotMatch(r.stdout, /warning: using pulumi-language-nodejs from \$PATH/);

        r = pulumi(["stack", "output", "said"], fixture, env);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(r.stdout.trim(), "hello from the engine test");
        // No `.attrs` sidecars: the backend rewrites them in place, and the lab program's read of
        // its own outputs during an update once caught one empty ("failed to load checkpoint: EOF").
        const sidecars = sh(`find ${state} -name '*.attrs'`).stdout.trim();
        assert.strictEqual(sidecars, "", "the file backend wrote sidecars");
        // The project's own backend (npm run lab) is opened the same way.
        const url = /\n\s+url:\s*(\S+)/.exec(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"))?.[1];
        assert.strictEqual(url, fileBackend("./.pulumi-state"));

        r = pulumi(["up", "--yes"], fixture, env);
        assert.match(r.stdout, /2 unchanged/, "a second up changes nothing");

        r = pulumi(["destroy", "--yes"], fixture, env);
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

    describe("remote.Command as users write it, against an sshd of the test's own", () => {
        const remoteFixture = path.join(ROOT, "test", "fixtures", "engine-remote");
        let sshd: TestSshd;
        let marker: string;
        // The provider's per-command folders go to this test's own TMPDIR, so other runs' do not count.
        let tmp: string;
        let renv: NodeJS.ProcessEnv;
        const config = (stack: string, extra: Record<string, string>) => {
            for (const [k, v] of Object.entries({
                host: "127.0.0.1", port: String(sshd.port), keyFile: sshd.clientKey, marker, ...extra,
            })) {
                const r = pulumi(["config", "set", "--stack", stack, k, v], remoteFixture, renv);
                assert.strictEqual(r.code, 0, r.stderr);
            }
            assert.strictEqual(pulumi(["config", "set", "--stack", stack, "--secret", "greeting", "hello-secret-1234"], remoteFixture, renv).code, 0);
        };
        const stacks: string[] = [];
        const init = (name: string) => {
            stacks.push(name);
            const r = pulumi(["stack", "init", name], remoteFixture, renv);
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        };

        before(async () => {
            sshd = await startSshd(["GREETING", "PULUMI_COMMAND_STDOUT", "PULUMI_COMMAND_STDERR"]);
            tmp = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-engine-tmp-"));
            renv = { ...env, TMPDIR: tmp };
            marker = path.join(sshd.dir, "deleted");
            const link = path.join(remoteFixture, "node_modules");
            if (!fs.existsSync(link)) { fs.symlinkSync(path.join(ROOT, "node_modules"), link); }
        });
        after(() => {
            for (const s of stacks) {
                pulumi(["destroy", "--yes", "--stack", s], remoteFixture, renv);
                pulumi(["stack", "rm", s, "--yes", "--force"], remoteFixture, renv);
            }
            sshd?.stop();
            if (tmp) { fs.rmSync(tmp, { recursive: true, force: true }); }
        });

        it("previews first (connection not known yet), then creates, updates and deletes over SSH with the host key verified", () => {
            init("remote");
            config("remote", { hostKey: sshd.hostKey });
            let r = pulumi(["preview", "--stack", "remote"], remoteFixture, renv);
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            assert.match(r.stdout, /\+ 4 to create/);
            r = pulumi(["up", "--yes", "--stack", "remote"], remoteFixture, renv);
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            r = pulumi(["stack", "output", "said", "--show-secrets", "--stack", "remote"], remoteFixture, renv);
            assert.strictEqual(r.stdout.trim(), "ran as root: hello-secret-1234, from stdin",
                "environment went through sshd's AcceptEnv and stdin reached the command");
            const state = pulumi(["stack", "export", "--stack", "remote"], remoteFixture, renv).stdout;
            const leak = /.{0,300}(hello-secret-1234|OPENSSH PRIVATE KEY).{0,100}/s.exec(state);
            assert.strictEqual(leak, null, `secrets are encrypted in the state: ${leak?.[0]}`);
            assert.match(state, /"stderr": "on-stderr"/);

            // A changed command updates (the update command gets the previous stdout).
            assert.strictEqual(pulumi(["config", "set", "--stack", "remote", "--secret", "greeting", "second"], remoteFixture, renv).code, 0);
            r = pulumi(["up", "--yes", "--stack", "remote"], remoteFixture, renv);
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            r = pulumi(["stack", "output", "said", "--show-secrets", "--stack", "remote"], remoteFixture, renv);
            assert.strictEqual(r.stdout.trim(), "updated: second; before: ran as root: hello-secret-1234, from stdin");

            r = pulumi(["destroy", "--yes", "--stack", "remote"], remoteFixture, renv);
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            assert.strictEqual(fs.readFileSync(marker, "utf8").trim(), "deleted", "the delete command ran on the host");
            assert.deepStrictEqual(fs.readdirSync(tmp).filter((f) => f.startsWith("miglab-ssh-")), [], "no per-command key folder is left behind");
        });

        it("refuses a host whose key does not match connection.hostKey, saying so", () => {
            init("wrongkey");
            const other = fs.readFileSync(`${sshd.clientKey}.pub`, "utf8").trim(); // an ed25519 key, not the host's
            config("wrongkey", { hostKey: other });
            const r = pulumi(["up", "--yes", "--stack", "wrongkey"], remoteFixture, renv);
            assert.notStrictEqual(r.code, 0);
            assert.match(r.stdout, /host key of root@127\.0\.0\.1:\d+ does not match connection\.hostKey/);
        });

        it("gives a clear error for a resource type it does not implement (remote.CopyToRemote)", () => {
            init("copy");
            config("copy", { case: "copy" });
            const r = pulumi(["preview", "--stack", "copy"], remoteFixture, renv);
            assert.notStrictEqual(r.code, 0, "preview accepted a type the provider cannot run");
            assert.match(r.stdout, /command:remote:CopyToRemote is not implemented by miglab's command provider/);
        });
    });

    it("previews a fresh stack of every shipped topology, listing its resources", () => {
        const prefix = testPrefix();
        for (const file of fs.readdirSync(path.join(ROOT, "stacks")).filter((f) => /^Pulumi\.[a-z-]+\.yaml$/.test(f) && !f.startsWith("Pulumi.ci-") && !f.startsWith(`Pulumi.${prefix}-`))) {
            const base = file.replace(/^Pulumi\.(.*)\.yaml$/, "$1");
            if (base === "bench") { continue; }
            const stack = `${prefix}-preview-${base}`;
            const copy = path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`);
            const doc = yaml.load(fs.readFileSync(path.join(ROOT, "stacks", file), "utf8"));
            fs.writeFileSync(copy, yaml.dump(doc));
            try {
                assert.strictEqual(pulumi(["stack", "init", stack], ROOT, env).code, 0);
                const r = pulumi(["preview", "--stack", stack], ROOT, env);
                assert.strictEqual(r.code, 0, `${base}: ${r.stdout}${r.stderr}`);
                assert.match(r.stdout, /\+ \d+ to create/, base);
                assert.match(r.stdout, /command:remote:Command\s+\S*-check/, `${base}: the host checks are listed`);
                assert.match(r.stdout, /-migration-out/, `${base}: the migration legs are listed`);
            } finally {
                pulumi(["stack", "rm", stack, "--yes", "--force"], ROOT, env);
                fs.rmSync(copy, { force: true });
            }
        }
    });
});
