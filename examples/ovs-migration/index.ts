// Given hosts (by config: where their sshd is, their lab addresses, a key), add an Open
// vSwitch overlay (a VXLAN tunnel from each host to every other), the guest's disk on NFS,
// a guest on the overlay, and a live migration there and back, measured.
import * as pulumi from "@pulumi/pulumi";
import { Domain, GuestImage, Host, Migration, NfsServer, OvsBridge, StoragePool, failOnLoggedErrors } from "miglab";

// A failed leg is logged as an error and kept in the outputs: the update fails once they are saved.
failOnLoggedErrors();

interface HostConfig { name: string; address: string; port: number; sshHost?: string }
const config = new pulumi.Config();
const hostConfigs = config.requireObject<HostConfig[]>("hosts");      // hypervisors
const nfsConfig = config.requireObject<HostConfig>("nfs");
const privateKey = config.requireSecret("privateKey");                // accepted by every host
const peerKeyPath = config.get("peerKeyPath") ?? "/root/.ssh/id_miglab";  // on the hosts: reaches the others
const exportDir = config.get("export") ?? "/var/lib/miglab/exports/ovs-migration";

const host = (c: HostConfig, role?: "nfs") => new Host(c.name, {
    connection: { host: c.sshHost ?? c.address, port: c.port, user: "root", privateKey },
    address: c.address, role, peerKeyPath,
});
const hosts = hostConfigs.map((c) => host(c));
const nfsNode = host(nfsConfig, "nfs");

// The overlay: br-int on each host with a VXLAN port to every other (VNI 5001); the first host routes it.
const bridges = hosts.map((h, i) => new OvsBridge(`${h.hostname}-ovs`, {
    host: h, address: `${hostConfigs[i].address}/24`, peers: hosts.filter((p) => p !== h), vni: 5001,
    overlayGateway: i === 0 ? "10.31.0.1/24" : undefined, ownDaemons: config.getBoolean("ownDaemons") ?? false,
}));

const nfs = new NfsServer("nfs", {
    host: nfsNode, export: exportDir, allowedNetworks: ["10.30.0.0/24"],
    implementation: config.get("nfsImplementation") === "ganesha" ? "ganesha" : "kernel", stateDir: config.get("nfsStateDir"),
}, { dependsOn: bridges });
// Hosts mount the export (a netfs pool), or, sharing one filesystem with the NFS server, see its directory.
const shared = config.getBoolean("sharedExport") ?? false;
const pools = hosts.map((h) => new StoragePool(`${h.hostname}-pool`,
    { host: h, target: shared ? exportDir : "/var/lib/miglab/pool", nfs: shared ? undefined : nfs }, { dependsOn: [nfs] }));
const vm = new Domain("vm2", {
    host: hosts[0], hosts, memoryMiB: 192,
    image: new GuestImage("vm2-image", { nfs, name: "vm2", poolTarget: pools[0].target }),
    network: bridges[0], address: "10.31.0.10", prefix: 24, gateway: "10.31.0.1",
}, { dependsOn: pools });

const migration = new Migration("migration", { domain: vm, from: hosts[0], to: hosts[1], probe: nfsNode, watchTunnel: true });

export const legs = migration.legs;
