import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseLabConfig } from "../../components/model/config";
import { SshSite } from "../../components";
import { keyEncryption, lockedKeyProblem, opensshCipher } from "../../components/model/sshKey";
import "./mocks";
import { KEY, problems, sampleLab } from "./config.test";

describe("the NFS export stays inside the lab's own networks (it is shared with no_root_squash)", () => {
    const refusal = (i: number, net: string) => new RegExp(`^nfs\\.allowedNetworks\\[${i}\\]: ${net.replace(/[./]/g, "\\$&")} reaches beyond the lab's own networks ` +
        "\\(10\\.10\\.10\\.0/24\\); the disks are exported with no_root_squash, .* list only those subnets \\(or parts of them\\), or leave allowedNetworks out");

    for (const [what, net] of [["every network", "0.0.0.0/0"], ["a network wider than the lab's", "10.0.0.0/8"], ["a network the lab is not on", "192.168.7.0/24"]]) {
        it(`refuses ${what} (${net}), naming the field and the fix`, () => {
            const p = problems((c) => { c.nfs.allowedNetworks = ["10.10.10.0/24", net]; });
            assert.ok(p.some((x) => refusal(1, net).test(x)), p.join("\n"));
        });
    }

    it("accepts the lab's subnets and parts of them, on one subnet and on several", () => {
        const one = sampleLab();
        one.nfs.allowedNetworks = ["10.10.10.0/24", "10.10.10.0/29", "10.10.10.3/32"];
        assert.deepStrictEqual(parseLabConfig(one).nfs.allowedNetworks, one.nfs.allowedNetworks);
        const two = sampleLab();
        Object.assign(two, { topology: "nat", nat: { subnet: "192.168.150.0/24", gateway: "192.168.150.1" } });
        two.hosts[1].address = "10.10.11.2";
        two.guests[0].address = "192.168.150.10";
        two.nfs.allowedNetworks = ["10.10.10.0/24", "10.10.11.0/24"];
        assert.deepStrictEqual(parseLabConfig(two).nfs.allowedNetworks, two.nfs.allowedNetworks);
        // The guests' own network is not where the disks are opened from.
        two.nfs.allowedNetworks.push("192.168.150.0/24");
        assert.throws(() => parseLabConfig(two), /nfs\.allowedNetworks\[2\]: 192\.168\.150\.0\/24 reaches beyond the lab's own networks \(10\.10\.10\.0\/24, 10\.10\.11\.0\/24\)/);
    });
});

describe("private keys ssh cannot use unattended (BatchMode: no passphrase prompt)", function () {
    this.timeout(20000);
    let dir = "";
    const keys: Record<string, string> = {};
    before(function () {
        if (spawnSync("ssh-keygen", ["-?"]).error) { this.skip(); }
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-keys-"));
        const make = (name: string, pass: string, ...args: string[]) => {
            const r = spawnSync("ssh-keygen", ["-q", "-N", pass, "-C", "", "-f", path.join(dir, name), ...args], { encoding: "utf8" });
            assert.strictEqual(r.status, 0, r.stderr);
            keys[name] = fs.readFileSync(path.join(dir, name), "utf8");
        };
        make("openssh-locked", "a passphrase", "-t", "ed25519");
        make("pem-locked", "a passphrase", "-t", "ecdsa", "-m", "PEM");
        make("pkcs8-locked", "a passphrase", "-t", "ecdsa", "-m", "PKCS8");
        make("openssh-open", "", "-t", "ed25519");
        make("pem-open", "", "-t", "ecdsa", "-m", "PEM");
    });
    after(() => { if (dir) { fs.rmSync(dir, { recursive: true, force: true }); } });

    const onSsh = (c: any, key: string) => {
        c.site = "ssh";
        delete c.link;
        for (const n of [...c.hosts, c.nfs.host]) { n.ssh = { privateKey: KEY }; }
        c.hosts[1].ssh.privateKey = key;
    };

    for (const [name, how] of [["openssh-locked", "an OpenSSH key encrypted with aes256-ctr"], ["pem-locked", "an encrypted PEM key"],
        ["pkcs8-locked", "an encrypted PKCS#8 key"]]) {
        it(`refuses ${how} made by ssh-keygen, naming the host and how to get a key without a passphrase`, () => {
            const p = problems((c) => onSsh(c, keys[name]));
            const line = p.find((x) => x.startsWith("hosts[1].ssh.privateKey: "));
            assert.ok(line, p.join("\n"));
            assert.ok(line.startsWith(`hosts[1].ssh.privateKey: pc2's key is ${how}`), line);
            assert.match(line, /miglab's ssh runs in BatchMode \(no prompt\), so it could never reach pc2/);
            assert.match(line, /ssh-keygen -p -N "" -f lab_key\) or make a deploy key for the lab \(ssh-keygen -t ed25519 -N "" -f lab_key\)/);
        });
    }

    it("refuses one given to an SshSite directly, in the same words", () => {
        assert.throws(() => new SshSite("s-locked", { id: "lab", nodes: [{ name: "pc1", address: "192.0.2.1", privateKey: keys["openssh-locked"] }] }),
            (e: Error) => e.message.includes(`nodes[0].privateKey: ${lockedKeyProblem(keys["openssh-locked"], "pc1")}`));
    });

    it("accepts the same kinds of key without a passphrase", () => {
        for (const name of ["openssh-open", "pem-open"]) {
            const c = sampleLab();
            onSsh(c, keys[name]);
            assert.strictEqual(parseLabConfig(c).hosts[1].ssh!.privateKey, keys[name]);
        }
    });

    it("reads the cipher from an OpenSSH key's body, and nothing from text that is not one", () => {
        assert.strictEqual(opensshCipher(keys["openssh-locked"]), "aes256-ctr");
        assert.strictEqual(opensshCipher(keys["openssh-open"]), "none");
        assert.strictEqual(opensshCipher(KEY), "none");
        assert.strictEqual(opensshCipher("-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n"), undefined);
        assert.strictEqual(keyEncryption(keys["pem-open"]), undefined);
    });
});
