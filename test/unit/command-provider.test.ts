import * as assert from "assert";
import { CommandProvider, PROVIDER_VERSION, checkInputs, isRemote, logsStream, remoteCommand, resourceType, shellQuote, sshArgs, unwrapSecrets } from "../../engine/command-provider";
import { requiredPackages } from "../../engine/language-host";
import { ROOT } from "../support";

describe("miglab's command provider (pure parts)", () => {
    it("tells remote from local commands by the resource's own type, whatever its parents", () => {
        assert.strictEqual(resourceType("urn:pulumi:s::p::miglab:host:Host$command:remote:Command::x"), "command:remote:Command");
        assert.ok(isRemote("urn:pulumi:s::p::miglab:host:Host$command:remote:Command::x"));
        assert.ok(!isRemote("urn:pulumi:s::p::miglab:site:LocalSite$command:local:Command::command:remote:Command"));
    });

    it("unwraps secrets for running while leaving plain values alone", () => {
        const sig = "4dabf18193072939515e22adb298388d";
        const v = { [sig]: "1b47061264138c4ac30d75fd1eb44270", value: { host: "h", privateKey: "k" } };
        assert.deepStrictEqual(unwrapSecrets({ connection: v, create: "x" }), { connection: { host: "h", privateKey: "k" }, create: "x" });
    });

    it("builds an ssh command line with the port and user, environment by name only", () => {
        const a = sshArgs({ host: "127.0.0.1", port: 2222, user: "root" }, { envNames: ["A"] }, "echo hi");
        assert.deepStrictEqual(a.slice(-2), ["root@127.0.0.1", "echo hi"]);
        assert.ok(a.includes("BatchMode=yes"));
        assert.ok(a.includes("SendEnv=A"));
        assert.ok(a.includes("StrictHostKeyChecking=no"), "without hostKey, host keys are ignored like the official provider");
        assert.strictEqual(a[a.indexOf("-p") + 1], "2222");
        assert.ok(!a.includes("-i"), "no key file: the key is in an agent");
    });

    it("verifies the host key when one is given", () => {
        const a = sshArgs({ host: "h", hostKey: "ssh-ed25519 AAAAC3Nz x" }, { knownHosts: "/kh", envNames: [] }, "true");
        assert.ok(a.includes("StrictHostKeyChecking=yes"));
        assert.ok(a.includes("UserKnownHostsFile=/kh"));
        assert.ok(a.includes("HostKeyAlgorithms=ssh-ed25519"));
    });

    it("checks that sshd accepted each environment variable by name, never writing a value", () => {
        const c = remoteCommand("run", ["SECRET_TOKEN"]);
        assert.match(c, /\$\{SECRET_TOKEN\+x\}/);
        assert.match(c, /AcceptEnv SECRET_TOKEN/);
        assert.ok(c.endsWith("run"));
        assert.strictEqual(shellQuote("a'b"), `'a'\\''b'`);
    });

    it("logs stdout and stderr by default, as the official provider does, and nothing with logging: none", () => {
        assert.ok(logsStream(undefined, "stdout") && logsStream(undefined, "stderr"));
        assert.ok(logsStream("stdout", "stdout") && !logsStream("stdout", "stderr"));
        assert.ok(!logsStream("none", "stdout") && !logsStream("none", "stderr"));
    });

    it("does not judge values that are not known yet (preview), and names unsupported types and fields", () => {
        const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        assert.deepStrictEqual(checkInputs("command:remote:Command", { create: "x", connection: unknown }), []);
        assert.deepStrictEqual(checkInputs("command:remote:Command", { create: "x", connection: { host: unknown, port: 22 } }), []);
        assert.match(checkInputs("command:remote:CopyToRemote", { source: "a" })[0].reason, /not implemented by miglab's command provider/);
        assert.deepStrictEqual(checkInputs("command:remote:Command", { create: "x", connection: { host: "h", proxy: { host: "b" } } })
            .map((f) => f.property), ["connection.proxy"]);
        assert.deepStrictEqual(checkInputs("command:local:Command", { create: "x", bogus: 1 }).map((f) => f.property), ["bogus"]);
        assert.deepStrictEqual(checkInputs("command:local:Command", { create: "x", logging: "loud" }).map((f) => f.property), ["logging"]);
    });

    it("replaces on a trigger change and updates on a command change", async () => {
        const p = new CommandProvider();
        assert.deepStrictEqual(await p.diff("id", "urn", { create: "a", triggers: [1] }, { create: "a", triggers: [2] }), { changes: true, replaces: ["triggers"] });
        assert.deepStrictEqual(await p.diff("id", "urn", { create: "a" }, { create: "b" }), { changes: true, replaces: [] });
        assert.deepStrictEqual(await p.diff("id", "urn", { create: "a", stdout: "x" }, { create: "a" }), { changes: false, replaces: [] });
        assert.deepStrictEqual(await p.diff("id", "urn", { create: "a", logging: "none" }, { create: "a" }), { changes: true, replaces: [] });
    });

    it("refuses a remote command without a host, naming the field", async () => {
        const r = await new CommandProvider().check("urn:pulumi:s::p::command:remote:Command::x", {}, { create: "true", connection: {} });
        assert.deepStrictEqual(r.failures?.map((f) => f.property), ["connection.host"]);
    });

    it("gives a local command its environment and the previous output on update", async () => {
        const p = new CommandProvider();
        const urn = "urn:pulumi:s::p::command:local:Command::x";
        const made = await p.create(urn, { create: "echo \"$GREETING\"", environment: { GREETING: "hi there" } });
        assert.strictEqual(made.outs.stdout, "hi there");
        const upd = await p.update("id", urn, made.outs, { create: "echo \"was: $PULUMI_COMMAND_STDOUT\"" });
        assert.strictEqual(upd.outs.stdout, "was: hi there");
        const off = await p.update("id", urn, made.outs, { create: "echo \"was: ${PULUMI_COMMAND_STDOUT-unset}\"", addPreviousOutputInEnv: false });
        assert.strictEqual(off.outs.stdout, "was: unset");
    });

    it("ends a running command on Cancel", async () => {
        const p = new CommandProvider();
        const started = Date.now();
        const run = p.create("urn:pulumi:s::p::command:local:Command::x", { create: "sleep 30" });
        await new Promise((r) => setTimeout(r, 300));
        await p.cancel();
        await assert.rejects(run, /killed by SIGTERM/);
        assert.ok(Date.now() - started < 20000, "the command did not run to its end");
    });

    it("runs a local command and reports its failure with stderr", async () => {
        const p = new CommandProvider();
        const ok = await p.create("urn:pulumi:s::p::command:local:Command::x", { create: "echo out; echo err >&2" });
        assert.strictEqual(ok.outs.stdout, "out");
        assert.strictEqual(ok.outs.stderr, "err");
        await assert.rejects(p.create("urn:pulumi:s::p::command:local:Command::x", { create: "echo boom >&2; exit 3" }),
            /command on this machine failed \(exit code 3\)\nstderr:\nboom/);
    });
});

describe("miglab's language host (pure parts)", () => {
    it("pins the official 1.x command SDK, the version the fallback provider answers as", () => {
        assert.strictEqual(require("../../../package.json").dependencies["@pulumi/command"], PROVIDER_VERSION);
    });

    it("finds the resource plugins the program's packages declare", () => {
        const pkgs = requiredPackages(ROOT);
        assert.deepStrictEqual(pkgs.filter((p) => p.name === "command"), [{ name: "command", version: PROVIDER_VERSION, server: undefined }]);
    });
});
