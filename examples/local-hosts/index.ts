// Hosts for the ovs-migration example, made on this machine: two hypervisors and an NFS
// server, each a network namespace with its own sshd on a loopback port. Their uplinks
// carry no address yet (Open vSwitch's br-phy takes it), like hosts a team hands over.
import * as pulumi from "@pulumi/pulumi";
import { LocalSite, labIdFor } from "miglab";

const site = new LocalSite("site", {
    id: labIdFor(pulumi.getStack()), hostUplink: "ovs", linkMtu: 1600,   // room for VXLAN headers
    nodes: [
        { name: "pc1", addresses: ["10.30.0.1/24"] },
        { name: "pc2", addresses: ["10.30.0.2/24"] },
        { name: "nfs", role: "nfs", addresses: ["10.30.0.3/24"] },
    ],
    // The NFS server reaches the guests' overlay through pc1, which routes it.
    routes: [{ node: "nfs", dest: "10.31.0.0/24", via: "10.30.0.1" }],
});

/** What ovs-migration's config asks for: where each host's sshd is, and the key. */
export const ports = Object.fromEntries(Object.entries(site.connections).map(([n, c]) => [n, (c as { port: number }).port]));
export const privateKey = site.privateKey;
export const peerKeyPath = site.peerKeyPath;
export const nfsStateDir = `${site.nodeDir("nfs")}/ganesha`;
