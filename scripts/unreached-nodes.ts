// After a failed `npm run lab`: names the lab's nodes whose sshd the up could not reach.
// Pulumi's error quotes a connection as host:port only (on the local site, 127.0.0.1 and a
// port for every node). Usage: pulumi config get miglab:lab | node unreached-nodes.js STACK UP_LOG
import * as fs from "fs";
import { parseLabConfig } from "../components/model/config";
import { planLab } from "../components/model/plan";
import { NodeEndpoint, unreachedNodes } from "../components/reports/unreached";

export function labEndpoints(labConfig: unknown, stack: string): { site: string; nodes: NodeEndpoint[] } {
    // Only the plan is needed: the up has already checked this machine's kernel and memory.
    const cfg = parseLabConfig(labConfig);
    const plan = planLab(cfg, stack);
    return { site: cfg.site, nodes: plan.nodes.filter((n) => n.connect.port > 0).map((n) => ({ name: n.name, ...n.connect })) };
}

if (require.main === module) {
    const [stack, log] = process.argv.slice(2);
    try {
        const { site, nodes } = labEndpoints(JSON.parse(fs.readFileSync(0, "utf8")), stack);
        const lines = unreachedNodes(fs.readFileSync(log, "utf8"), nodes);
        for (const l of lines) { console.error(`lab: could not reach ${l}`); }
        if (lines.length > 0) {
            console.error(site === "local"
                ? "lab: those sshds are the lab's own, in the nodes' namespaces; `npm run lab` restarts one that died (its up refreshes first). " +
                  `If one stays down, \`npm run lab -- --clean ${stack}\` and build the lab again.`
                : "lab: check that sshd runs on those machines, that this machine reaches them at that address and port, and that the key is authorized there.");
        }
    } catch (e) {
        // A config that does not parse was already reported by the up itself.
        console.error(`lab: could not tell which nodes were unreachable (${(e as Error).message.split("\n")[0]})`);
    }
}
