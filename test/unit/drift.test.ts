// The drift probes, run by bash against a state folder of the test's own: what they call
// "as declared" and what they name when it is not.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseLabConfig } from "../../components/model/config";
import { planLab } from "../../components/model/plan";
import { guestRunningProbe, localSiteProbe } from "../../components/render/drift";
import { sampleLab } from "./config.test";

describe("drift probes", () => {
    const plan = planLab(parseLabConfig(sampleLab()), "unit-drift");

    it("are valid bash", () => {
        for (const script of [localSiteProbe(plan), guestRunningProbe(plan.guests[0])]) {
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

    it("call a guest running only when virsh says running", () => {
        const probe = guestRunningProbe(plan.guests[0]);
        const withVirsh = (state: string) => spawnSync("bash", ["-c", `virsh() { echo '${state}'; }; ${probe}`], { encoding: "utf8" });
        assert.strictEqual(withVirsh("running").status, 0);
        const off = withVirsh("shut off");
        assert.strictEqual(off.status, 1);
        assert.strictEqual(off.stdout.trim(), `${plan.guests[0].name}: shut off`);
    });
});
