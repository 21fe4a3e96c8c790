// `npm run lab -- --clean STACK`: removes what is left of a local lab on this machine
// when its Pulumi state is gone (or its destroy cannot finish), as `mn -c` does for
// Mininet: every namespace named after the stack's lab id with the processes inside
// it (QEMU, libvirtd, sshd, ganesha), the loopback forwarders, stray links, the lab's
// state directory, and the guest files miglab made on the export. A user's own
// qcow2 on the export is left alone.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseLabConfig } from "../components/model/config";
import { labIdFor, planLab } from "../components/model/plan";
import { guestImageSpecOf } from "../components/render/specs";
import { guestImageScript, script } from "../components/render";

const yaml = require("js-yaml");

function run(text: string): number {
    const r = spawnSync("bash", ["-c", text], { stdio: ["ignore", "inherit", "inherit"] });
    return r.status ?? 1;
}

export function cleanLab(stack: string, root = path.resolve(__dirname, "..", "..")): number {
    const labId = labIdFor(stack);
    const stateDir = `/var/lib/miglab/${labId}`;
    let rc = run(script("local-site.sh", { ACTION: "clean", LAB_ID: labId, STATE: stateDir }));
    const file = path.join(root, "stacks", `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        console.error(`clean: no stacks/Pulumi.${stack}.yaml, so the export was not looked at (the lab id ${labId} was enough for the rest)`);
        return rc;
    }
    const cfg = parseLabConfig(yaml.load(fs.readFileSync(file, "utf8"))?.config?.["miglab:lab"]);
    if (cfg.site !== "local") {
        console.error(`clean: stack ${stack} is on site '${cfg.site}': clean its hosts with pulumi destroy; nothing on this machine belongs to it`);
        return rc;
    }
    const plan = planLab(cfg, stack);
    if (plan.export === undefined) {
        // Its boot files and disks were in the nodes' own libvirt directories, which went with the lab's state.
        console.error(`clean: lab ${labId} (stack ${stack}) removed from this machine (it has no NFS export)`);
        return rc;
    }
    for (const g of plan.guests) { rc = run(guestImageScript(guestImageSpecOf(plan, g), "down")) || rc; }
    // The NFS server's marker (nfs-server.sh's mark) goes with the lab whose id it holds.
    const exp = plan.export;
    const marker = path.join(exp, ".miglab-export");
    if (fs.existsSync(marker) && fs.readFileSync(marker, "utf8").trim() === labId) { fs.rmSync(marker); }
    run(`rmdir ${JSON.stringify(exp)} 2>/dev/null || true`);
    console.error(`clean: lab ${labId} (stack ${stack}) removed from this machine${fs.existsSync(exp) ? `; ${exp} still holds files that are not miglab's` : ""}`);
    return rc;
}

if (require.main === module) {
    const stack = process.argv[2];
    if (!stack) { console.error("usage: clean-lab STACK"); process.exit(2); }
    process.exit(cleanLab(stack));
}
