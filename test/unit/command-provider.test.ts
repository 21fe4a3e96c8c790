import * as assert from "assert";
import { CommandProvider, isRemote, resourceType, shellQuote, sshArgs, unwrapSecrets, withEnvironment } from "../../engine/command-provider";
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

    it("builds an ssh command line with the key, port and user", () => {
        const a = sshArgs({ host: "127.0.0.1", port: 2222, user: "root" }, "/k", "echo hi");
        assert.deepStrictEqual(a.slice(-2), ["root@127.0.0.1", "echo hi"]);
        assert.ok(a.includes("BatchMode=yes"));
        assert.strictEqual(a[a.indexOf("-p") + 1], "2222");
        assert.strictEqual(a[a.indexOf("-i") + 1], "/k");
    });

    it("sets the environment in the command text, quoted", () => {
        assert.strictEqual(withEnvironment("run", { A: "x y", B: "it's" }), `export A='x y'; export B='it'\\''s'; run`);
        assert.throws(() => withEnvironment("run", { "A-B": "x" }), /not a valid variable name/);
        assert.strictEqual(shellQuote("a'b"), `'a'\\''b'`);
    });

    it("replaces on a trigger change and updates on a command change", async () => {
        const p = new CommandProvider();
        assert.deepStrictEqual(await p.diff("id", "urn", { create: "a", triggers: [1] }, { create: "a", triggers: [2] }), { changes: true, replaces: ["triggers"] });
        assert.deepStrictEqual(await p.diff("id", "urn", { create: "a" }, { create: "b" }), { changes: true, replaces: [] });
        assert.deepStrictEqual(await p.diff("id", "urn", { create: "a", stdout: "x" }, { create: "a" }), { changes: false, replaces: [] });
    });

    it("refuses a remote command without a host, naming the field", async () => {
        const r = await new CommandProvider().check("urn:pulumi:s::p::command:remote:Command::x", {}, { create: "true", connection: {} });
        assert.deepStrictEqual(r.failures?.map((f) => f.property), ["connection.host"]);
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
    it("finds the resource plugins the program's packages declare", () => {
        const pkgs = requiredPackages(ROOT);
        assert.deepStrictEqual(pkgs.filter((p) => p.name === "command"), [{ name: "command", version: "4.5.0", server: undefined }]);
    });
});
