// The drift probes, run by bash against a state folder of the test's own: what they call
// "as declared" and what they name when it is not.
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseLabConfig } from "../../components/model/config";
import { planLab } from "../../components/model/plan";
import { guestAnsweringProbe, localSiteProbe } from "../../components/render/drift";
import { nfsScript } from "../../components/render/scripts";
import { sampleLab } from "./config.test";

describe("drift probes", () => {
    const plan = planLab(parseLabConfig(sampleLab()), "unit-drift");

    it("are valid bash", () => {
        for (const script of [localSiteProbe(plan), guestAnsweringProbe(plan.guests[0])]) {
            const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
            assert.strictEqual(r.status, 0, r.stderr);
        }
    });

    it("name every node part that is gone: namespace, sshd, port, and libvirtd on hypervisor hosts only", () => {
        const state = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-drift-test-"));
        try {
            // Every daemon "alive" (this test's own PID) except pc2's libvirtd.
            for (const n of plan.nodes) {
                const d = path.join(state, "nodes", n.name);
                fs.mkdirSync(path.join(d, "root", "run"), { recursive: true });
                for (const f of ["anchor.pid", "sshd.pid", "forward.pid", "root/run/libvirtd.pid"]) {
                    if (!(n.name === "pc2" && f.includes("libvirtd"))) { fs.writeFileSync(path.join(d, f), String(process.pid)); }
                }
            }
            const probe = localSiteProbe({ ...plan, stateDir: state });
            const r = spawnSync("bash", ["-c", probe], { encoding: "utf8" });
            assert.strictEqual(r.status, 1);
            assert.match(r.stdout, /^gone:/);
            assert.match(r.stdout, / pc2:libvirtd/);
            assert.doesNotMatch(r.stdout, / pc1:libvirtd| nfs:libvirtd| pc1:sshd/);
            // No namespace of this made-up lab exists in /run/netns: each node is named for it.
            for (const n of plan.nodes) { assert.match(r.stdout, new RegExp(` ${n.name}:namespace`)); }
        } finally {
            fs.rmSync(state, { recursive: true, force: true });
        }
    });

    it("name the local site's NFS daemon that is gone: ganesha, then rpcbind", () => {
        const state = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-drift-test-"));
        try {
            const check = () => spawnSync("bash", ["-c", nfsScript({ export: path.join(state, "export"), clients: ["10.10.10.0/24"], implementation: "ganesha", stateDir: state }, "check")],
                { encoding: "utf8" });
            let r = check();
            assert.strictEqual(r.status, 1, r.stderr);
            assert.strictEqual(r.stdout, "nfs: ganesha is not running\n");
            // ganesha "alive" (this test's own PID), rpcbind not.
            fs.writeFileSync(path.join(state, "ganesha.pid"), String(process.pid));
            r = check();
            assert.strictEqual(r.status, 1, r.stderr);
            assert.strictEqual(r.stdout, "nfs: rpcbind is not running\n");
        } finally {
            fs.rmSync(state, { recursive: true, force: true });
        }
    });

    it("call a guest as declared only when virsh says running and its counter answers", async function () {
        this.timeout(30000);
        // A counter service of the test's own on loopback, in its own process (spawnSync below blocks this one).
        const server = spawn(process.execPath, ["-e",
            "const s = require('net').createServer((c) => c.end('42\\n')).listen(0, '127.0.0.1', () => console.log(s.address().port))"]);
        try {
            const port = await new Promise<number>((resolve) => server.stdout.once("data", (d) => resolve(Number(String(d).trim()))));
            const probe = (p: number) => guestAnsweringProbe({ name: "vm1", address: "127.0.0.1", counterPort: p });
            const withVirsh = (state: string, p: number) => spawnSync("bash", ["-c", `virsh() { echo '${state}'; }; ${probe(p)}`], { encoding: "utf8" });
            assert.strictEqual(withVirsh("running", port).status, 0);
            const off = withVirsh("shut off", port);
            assert.strictEqual(off.status, 1);
            assert.strictEqual(off.stdout.trim(), "vm1: shut off");
            // Running, and silent: nothing listens on that port any more.
            server.kill();
            await new Promise((resolve) => server.once("exit", resolve));
            const silent = withVirsh("running", port);
            assert.strictEqual(silent.status, 1);
            assert.strictEqual(silent.stdout.trim(), `vm1: running, but its counter service at 127.0.0.1:${port} does not answer`);
        } finally {
            server.kill();
        }
    });
});
