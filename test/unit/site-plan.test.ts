// The site-dependent part of the plan (components/model/sitePlan.ts): one entry per kind of
// site, which planLab asks and does not branch around.
import * as assert from "assert";
import { parseLabConfig } from "../../components/model/config";
import { planLab } from "../../components/model/plan";
import { schema } from "../../components/model/schema";
import { SITE_PLANS } from "../../components/model/sitePlan";
import { KEY, sampleLab } from "./config.test";

/** The sample lab, bridged across two subnets (a router's worth of plan), on `site`. */
function bridged(site: string): any {
    const c = sampleLab();
    c.topology = "bridged"; c.site = site; c.guests[0].address = "10.10.30.10";
    c.hosts[1].address = "10.10.11.1"; c.outside = { address: "10.10.20.2" };
    if (site === "ssh") { delete c.link; for (const n of [...c.hosts, c.nfs.host]) { n.ssh = { privateKey: KEY }; } }
    return parseLabConfig(c);
}

describe("the plan's site-dependent part: one entry per kind of site", () => {
    it("has one entry per kind of site the config's schema allows", () => {
        assert.deepStrictEqual(Object.keys(SITE_PLANS).sort(), [...schema.properties.site.enum].sort());
    });

    it("a new kind of site is one entry: planLab takes every site-dependent answer from it", () => {
        const real = SITE_PLANS.local;
        SITE_PLANS.local = ({ labId }) => ({
            connect: (node, index) => ({ host: `198.51.100.${index + 1}`, port: 4000, user: `lab-${node.name}` }),
            makesRouter: false,
            shared: (_exportDir, pool) => ({ pool: { name: pool.name, type: "netfs", target: "/srv/other/pool" }, nfsServer: "kernel" }),
            labKey: `/srv/other/${labId}.key`,
            hostSsh: { options: "-o StrictHostKeyChecking=yes", uriParams: "", knownHosts: "/srv/other/known_hosts" },
        });
        try {
            const plan = planLab(bridged("local"), "unit-site-plan");
            assert.deepStrictEqual(plan.nodes.map((n) => `${n.name} ${n.connect.user}@${n.connect.host}:${n.connect.port}`),
                ["pc1 lab-pc1@198.51.100.1:4000", "pc2 lab-pc2@198.51.100.2:4000", "nfs lab-nfs@198.51.100.3:4000"]);
            // A site that does not make the router: no forwarding node, no routes, the outside not a node of the lab's.
            assert.deepStrictEqual([plan.forward, plan.routes, plan.capture.node], [[], [], undefined]);
            assert.strictEqual(plan.outside?.address, "10.10.20.2");
            assert.deepStrictEqual(plan.pool, { name: "miglab", type: "netfs", target: "/srv/other/pool" });
            assert.ok(plan.guests.every((g) => g.kernel === "/srv/other/pool/miglab-tiny-vmlinuz"), "the guests boot from the site's pool");
            assert.deepStrictEqual([plan.nfsServer, plan.labKey, plan.hostSsh.knownHosts],
                ["kernel", `/srv/other/${plan.labId}.key`, "/srv/other/known_hosts"]);
        } finally {
            SITE_PLANS.local = real;
        }
    });

    it("the two kinds: the local site makes the router and trusts by the lab key; site ssh uses the team's network and recorded keys", () => {
        const local = planLab(bridged("local"), "x");
        const ssh = planLab(bridged("ssh"), "x");
        assert.deepStrictEqual([local.forward, ssh.forward], [["nfs"], []]);
        assert.deepStrictEqual([local.pool?.type, ssh.pool?.type], ["dir", "netfs"]);
        assert.deepStrictEqual([local.nfsServer, ssh.nfsServer], ["ganesha", "kernel"]);
        assert.deepStrictEqual([local.hostSsh.uriParams, ssh.hostSsh.knownHosts], ["&no_verify=1", `/root/.ssh/miglab-${ssh.labId}.known_hosts`]);
        assert.ok(local.labKey.startsWith(`${local.stateDir}/`) && !ssh.labKey.startsWith(ssh.stateDir), `${local.labKey} ${ssh.labKey}`);
    });
});
