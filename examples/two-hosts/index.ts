// The seed's same-subnet lab, composed by hand from miglab's components: this machine
// becomes two hypervisor hosts and an NFS server on one /24, a tiny guest runs on pc1
// with its disk on NFS, and it is live-migrated to pc2 and back, each leg measured.
import * as pulumi from "@pulumi/pulumi";
import { Domain, GuestImage, Host, LocalSite, Migration, NfsServer, StoragePool, failOnLoggedErrors, labIdFor } from "miglab";

// A failed leg is logged as an error and kept in the outputs: the update fails once they are saved.
failOnLoggedErrors();

const stack = pulumi.getStack();
const exportDir = `/var/lib/miglab/exports/${stack}`;

// Network namespaces with their own sshd and libvirtd, on a 1 Gbit/s switch.
const site = new LocalSite("site", {
    id: labIdFor(stack), link: { rate: "1gbit" },
    nodes: [
        { name: "pc1", addresses: ["10.20.0.1/24"] },
        { name: "pc2", addresses: ["10.20.0.2/24"] },
        { name: "nfs", role: "nfs", addresses: ["10.20.0.3/24"] },
    ],
});
const [pc1, pc2, nfsNode] = ["pc1", "pc2", "nfs"].map((n) => new Host(n, site.hostArgs(n)));

// The guests' disks on NFS (userspace ganesha: this kernel has no NFS server), a pool on each host.
const nfs = new NfsServer("nfs", {
    host: nfsNode, export: exportDir, allowedNetworks: ["10.20.0.0/24"],
    implementation: "ganesha", stateDir: `${site.nodeDir("nfs")}/ganesha`,
});
const pools = [pc1, pc2].map((h) => new StoragePool(`${h.hostname}-pool`, { host: h, target: exportDir }, { dependsOn: [nfs] }));

const image = new GuestImage("vm1-image", { nfs, name: "vm1" });
const vm1 = new Domain("vm1", {
    host: pc1, hosts: [pc1, pc2], memoryMiB: 192, image,
    network: site.guestBridge, address: "10.20.0.10", prefix: 24,
}, { dependsOn: pools });

// Out to pc2 and back, the NFS node pinging the guest every 10 ms throughout.
const migration = new Migration("migration", { domain: vm1, from: pc1, to: pc2, probe: nfsNode, probeIntervalMs: 10 });

export const legs = migration.legs;
export const summary = migration.summary;
