// Naming the node behind a connection that a failed `pulumi up` could not reach (npm run lab).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { unreachedNodes } from "../../components/reports/unreached";
import { labEndpoints } from "../../scripts/unreached-nodes";
import { ROOT } from "../support";

const yaml = require("js-yaml");

const local = [
    { name: "pc1", host: "127.0.0.1", port: 23000 }, { name: "pc2", host: "127.0.0.1", port: 23001 },
    { name: "nfs", host: "127.0.0.1", port: 23002 },
];

describe("naming the node whose sshd a failed up could not reach", () => {
    it("reads the fallback provider's, ssh's and Go's wording of a refused connection", () => {
        const out = [
            "    command:remote:Command (lab-migration-out):",
            "      error: cannot reach root@127.0.0.1:23000 over SSH: ssh: connect to host 127.0.0.1 port 23000: Connection refused (11 attempts). Check the host's address",
            "      error: ssh: dial tcp 127.0.0.1:23001: connect: connection refused",
        ].join("\n");
        assert.deepStrictEqual(unreachedNodes(out, local), [
            "pc1 (sshd at 127.0.0.1:23000): connection refused: no sshd listens there",
            "pc2 (sshd at 127.0.0.1:23001): connection refused: no sshd listens there",
        ]);
    });

    it("tells a forwarder that accepts and closes (the local site's, with the node's sshd dead) from a refusal", () => {
        const out = "  error: cannot reach root@127.0.0.1:23002 over SSH: kex_exchange_identification: Connection closed by remote host " +
            "Connection closed by 127.0.0.1 port 23002 (11 attempts). Check the host's address";
        assert.deepStrictEqual(unreachedNodes(out, local), ["nfs (sshd at 127.0.0.1:23002): the connection was closed before SSH began: no sshd answered behind that port"]);
    });

    it("tells a timeout, a missing route and a refused key apart, once per node", () => {
        const nodes = [{ name: "alpha", host: "lab-a.example", port: 22 }, { name: "beta", host: "192.0.2.7", port: 2222 },
            { name: "gamma", host: "192.0.2.8", port: 22 }];
        const out = [
            "cannot reach admin@lab-a.example:22 over SSH: ssh: connect to host lab-a.example port 22: Connection timed out (11 attempts)",
            "cannot reach admin@lab-a.example:22 over SSH: Connection refused",
            "error: ssh: dial tcp 192.0.2.7:2222: connect: no route to host",
            "error: ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain (192.0.2.8:22)",
        ].join("\n");
        assert.deepStrictEqual(unreachedNodes(out, nodes), [
            "alpha (sshd at lab-a.example:22): no answer before the timeout",
            "beta (sshd at 192.0.2.7:2222): no route to it",
            "gamma (sshd at 192.0.2.8:22): the key was refused (permission denied)",
        ]);
    });

    it("names nothing for a port that only starts like a node's, or a failure that names no connection", () => {
        const out = [
            "error: ssh: dial tcp 127.0.0.1:230001: connect: connection refused",
            "error: ssh: dial tcp 127.0.0.10:23000: connect: connection refused",
            "leg out (pc1 -> pc2): migration of vm1 from pc1 to pc2 failed: the libvirt daemon on pc2 is not answering",
            "127.0.0.1:23000 is where pc1 listens (no failure on this line)",
        ].join("\n");
        assert.deepStrictEqual(unreachedNodes(out, local), []);
    });

    it("finds every node's endpoint in a stack's lab config, the NFS server and the local router too", () => {
        // The shipped nat stack with a third host on a subnet of its own.
        const cfg = yaml.load(fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.nat.yaml"), "utf8")).config["miglab:lab"];
        cfg.hosts.push({ name: "far-away-host3", address: "10.10.30.1", prefix: 24 });
        const { site, nodes } = labEndpoints(cfg, "ep-test");
        assert.strictEqual(site, "local");
        assert.deepStrictEqual(nodes.map((n) => n.name), ["pc1", "pc2", "far-away-host3", "nfs", "outside"]);
        assert.ok(nodes.every((n) => n.host === "127.0.0.1" && n.port > 1024), JSON.stringify(nodes));
        assert.strictEqual(new Set(nodes.map((n) => n.port)).size, 5);
    });
});
