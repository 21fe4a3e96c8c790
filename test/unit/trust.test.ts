// Site ssh: the trust and secrets rules, and the host-side commands they render.
import * as assert from "assert";
import { spawnSync } from "child_process";
import { ConfigError, parseLabConfig } from "../../components/model/config";
import { planLab } from "../../components/model/plan";
import { hostKeyProblem, hostKeysIn, passphraseProblem, preferredHostKey, splitLabKey } from "../../components/model/trust";
import * as r from "../../components/render";
import { sampleLab } from "./config.test";

const ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOmiglabHostKeyForTestsOnly000000000000000000";
const ED2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAnotherHostKeyForTestsOnly00000000000000000";

function sshLab(): any {
    const c = sampleLab();
    c.site = "ssh"; delete c.link;
    for (const n of [...c.hosts, c.nfs.host]) { n.ssh = { privateKey: "k" }; }
    return c;
}

describe("site ssh: secrets", () => {
    it("refuses the local lab's passphrase, or none, for site ssh only", () => {
        assert.match(passphraseProblem("ssh", { PULUMI_CONFIG_PASSPHRASE: "miglab-local" })!, /PULUMI_CONFIG_PASSPHRASE is the local lab's default \('miglab-local'\).*Set PULUMI_CONFIG_PASSPHRASE/s);
        assert.match(passphraseProblem("ssh", { PULUMI_CONFIG_PASSPHRASE: "" })!, /is empty/);
        assert.strictEqual(passphraseProblem("ssh", { PULUMI_CONFIG_PASSPHRASE: "our own" }), undefined);
        assert.strictEqual(passphraseProblem("ssh", { PULUMI_CONFIG_PASSPHRASE: "", PULUMI_CONFIG_PASSPHRASE_FILE: "/f" }), undefined);
        assert.strictEqual(passphraseProblem("ssh", {}), undefined, "another secrets provider");
        assert.strictEqual(passphraseProblem("local", { PULUMI_CONFIG_PASSPHRASE: "miglab-local" }), undefined);
    });
});

describe("site ssh: host keys", () => {
    const scan = `# 127.0.0.1:2222 SSH-2.0-OpenSSH_9.2p1\n[127.0.0.1]:2222 ssh-rsa AAAAB3NzaRSA\n[127.0.0.1]:2222 ${ED}\n`;
    it("records the ed25519 key a host offers, else the strongest", () => {
        assert.deepStrictEqual(hostKeysIn(scan), ["ssh-rsa AAAAB3NzaRSA", ED]);
        assert.strictEqual(preferredHostKey(scan), ED);
        assert.strictEqual(preferredHostKey("h ssh-rsa AAAAB3NzaRSA"), "ssh-rsa AAAAB3NzaRSA");
        assert.strictEqual(preferredHostKey(""), undefined);
    });
    it("names the host whose key changed, and says what to do", () => {
        assert.strictEqual(hostKeyProblem("pc1", "10.0.0.1:22", ED, scan), undefined);
        assert.strictEqual(hostKeyProblem("pc1", "10.0.0.1:22", `${ED} root@pc1`, scan), undefined, "a comment after the key");
        assert.match(hostKeyProblem("pc2", "10.0.0.2:22", ED2, scan)!, /^host pc2 \(10\.0\.0\.2:22\): its SSH host key changed: .*Nothing was changed on any host.*ssh\.hostKey/);
        assert.match(hostKeyProblem("pc2", "10.0.0.2:22", ED2, "")!, /cannot read its SSH host key/);
    });
    it("takes host, hostKey, nfs.server and pool.type for site ssh, and refuses the last two on the local site", () => {
        const c = sshLab();
        c.hosts[0].ssh = { host: "127.0.0.1", port: 2201, user: "alice", privateKey: "k", hostKey: ED };
        c.nfs.server = "ganesha"; c.pool.type = "dir";
        const p = planLab(parseLabConfig(c), "x");
        assert.deepStrictEqual(p.hosts[0].connect, { host: "127.0.0.1", port: 2201, user: "alice" });
        assert.strictEqual(p.nfsServer, "ganesha-service");
        assert.strictEqual(p.pool!.type, "dir");
        assert.match(p.hostSsh.options, /StrictHostKeyChecking=yes -o UserKnownHostsFile=\/root\/\.ssh\/miglab-m\w+\.known_hosts/);
        assert.strictEqual(p.hostSsh.uriParams, "");
        const bad = sshLab();
        bad.hosts[0].ssh.hostKey = "not a key";
        assert.throws(() => parseLabConfig(bad), (e: ConfigError) => e.problems.some((x) => x.startsWith("hosts[0].ssh.hostKey: must be")));
        const local = sampleLab();
        local.nfs.server = "kernel"; local.pool.type = "netfs";
        assert.throws(() => parseLabConfig(local), (e: ConfigError) =>
            e.problems.some((x) => x.startsWith("nfs.server: applies to site 'ssh' only")) && e.problems.some((x) => x.startsWith("pool.type: applies to site 'ssh' only")));
        const lp = planLab(parseLabConfig(sampleLab()), "x");
        assert.strictEqual(lp.nfsServer, "ganesha");
        assert.strictEqual(lp.hostSsh.uriParams, "&no_verify=1");
    });
});

describe("site ssh: host-side commands", () => {
    const plan = planLab(parseLabConfig(sshLab()), "x");
    it("installs the lab key from stdin, never from the command, with every node's host key", () => {
        const cmd = r.hostTrustCommand({
            node: "pc1", labId: plan.labId, keyPath: plan.labKey, knownHosts: plan.hostSsh.knownHosts!, configFile: plan.hostSsh.configFile!,
            publicKey: "ssh-ed25519 AAAAlabkey miglab-x", nodes: plan.nodes.map((n) => ({ address: n.address, hostKey: ED })),
        }, "up");
        assert.doesNotMatch(cmd, /PRIVATE KEY-----/);
        for (const n of plan.nodes) { assert.ok(cmd.includes(`${n.address} ${ED}`), n.name); }
        assert.strictEqual(spawnSync("bash", ["-n", "-c", cmd]).status, 0);
    });
    it("runs scripts as root, through sudo -n for another user", () => {
        const c = r.bashCommand("id -u");
        const asUser = spawnSync("bash", ["-c", c.replace(/"\$\(id -u\)" -eq 0/, "1 -eq 0").replace("exec sudo -n bash -s", "echo via-sudo")], { encoding: "utf8" });
        assert.strictEqual(asUser.stdout.trim(), "via-sudo");
    });
    it("renders the bridge, pool and export scripts for real hosts", () => {
        const nfs = { export: "/srv/x", clients: ["10.0.0.0/24"], implementation: "ganesha-service" as const, stateDir: "/var/lib/x", id: plan.labId };
        // The export's marker holds the id the pool expects.
        assert.match(r.nfsScript(nfs, "up"), new RegExp(`^LAB_ID='${plan.labId}'`, "m"));
        assert.match(r.poolScript({ name: "p", target: "/mnt/x", node: "pc1", expectMarker: plan.labId }, "up"), new RegExp(`^EXPECT_EXPORT='${plan.labId}'`, "m"));
        assert.strictEqual(r.exportIdOf(nfs), plan.labId);
        assert.match(r.exportIdOf({ export: "/srv/x" }), /^e[0-9a-z]+$/);
    });
    it("splits the lab key ssh-keygen printed", () => {
        const k = splitLabKey("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\nssh-ed25519 AAAAx miglab-m1\n");
        assert.strictEqual(k.publicKey, "ssh-ed25519 AAAAx miglab-m1");
        assert.match(k.privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n$/);
    });
});
