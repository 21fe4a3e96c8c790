import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { NodeConnection, childOpts } from "./connection";
import { Plan } from "../model/plan";
import { localSiteScript } from "../render";
import { localSiteProbe } from "../render/drift";
import { DriftWatch, watched } from "./drift";

export interface LocalSiteArgs { plan: Plan }

/**
 * Turns this machine into the lab: a network namespace (with its own mount
 * namespace, sshd and, for hosts, libvirt daemon) per node, veth links to a
 * switch namespace, optional tc shaping. Each node's sshd is reachable only on a
 * loopback port. Destroy removes every namespace, daemon, mount and link it made.
 */
export class LocalSite extends pulumi.ComponentResource {
    /** Connection per node name. */
    readonly connections: Record<string, NodeConnection>;
    readonly privateKey: pulumi.Output<string>;

    constructor(name: string, args: LocalSiteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:site:LocalSite", name, {}, opts);
        const { plan } = args;
        // A node's namespace or daemon gone by hand: refresh sees it, the next up runs the site script again.
        const watch = new DriftWatch(`${name}-drift`, {
            what: "the lab's namespaces and daemons", probe: localSiteProbe(plan), targets: [{ name: "this machine" }], want: "all",
        }, { parent: this });
        const up = watched(watch.token, localSiteScript(plan, "up"));
        const site = new command.local.Command(`${name}-namespaces`, {
            create: up,
            update: up,
            delete: localSiteScript(plan, "down"),
            interpreter: ["/bin/bash", "-c"],
        }, childOpts(this));
        // The key is made on this machine by the site script; read it back as a secret.
        const key = new command.local.Command(`${name}-key`, {
            create: `cat ${plan.stateDir}/ssh/id_ed25519`,
            triggers: [site.id],
            // It prints the private key: never into `pulumi up`'s log.
            logging: "none",
        }, childOpts(this, { dependsOn: [site], additionalSecretOutputs: ["stdout"] }));
        this.privateKey = pulumi.secret(key.stdout);
        this.connections = {};
        for (const n of plan.nodes) {
            this.connections[n.name] = { host: n.connect.host, port: n.connect.port, user: n.connect.user, privateKey: this.privateKey };
        }
        this.registerOutputs({ privateKey: this.privateKey });
    }
}
