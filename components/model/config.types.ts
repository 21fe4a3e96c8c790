// Generated from config.schema.json by scripts/config-types.js (npm run build): do not edit.
// The config as parseLabConfig returns it: ajv's useDefaults has filled every field with a
// schema default, so those fields are required here; fields without a default stay optional.

/**
 * One stack's whole lab: where it runs, its hosts, storage, guests, topology and the migration to measure. Set as the structured config value `miglab:lab`.
 */
export interface ParsedLabConfig {
    /**
     * local: this machine becomes the lab (namespaces as hosts); ssh: the hosts are real machines reached over SSH
     */
    site: "local" | "ssh";
    /**
     * same-subnet: hosts and guests share one segment; nat and bridged: hosts in one or more subnets joined by a router (on the local site the NFS server; on site ssh your network's own)
     */
    topology: "same-subnet" | "nat" | "bridged";
    /**
     * the hypervisor hosts; nat and bridged may put them in several subnets, each joined to the others by the router (the NFS server on the local site; on site ssh your network's router, through the hosts' own default routes)
     *
     * @minItems 2
     * @maxItems 8
     */
    hosts: NodeConfig[];
    nfs: {
        host: NodeConfig;
        /**
         * the exported directory that holds guest disks
         */
        export: string;
        /**
         * networks allowed to mount the export; default: the lab subnets
         *
         * @minItems 1
         *
         * Items: an IPv4 network such as 10.10.10.0/24
         */
        allowedNetworks?: string[];
        /**
         * site ssh: the NFS server the NFS host runs: kernel (nfs-kernel-server, /etc/exports) or ganesha (nfs-ganesha, for kernels without an NFS server); default: kernel
         */
        server?: "kernel" | "ganesha";
    };
    pool: {
        /**
         * lower-case letters, digits and '-', at most 15 characters
         */
        name: string;
        /**
         * the pool's target path, the same on every host
         */
        path: string;
        /**
         * site ssh: netfs (libvirt mounts the export at path on every host) or dir (the export is already mounted at path on every host, e.g. by fstab; the pool checks it shows the export); default: netfs
         */
        type?: "netfs" | "dir";
    };
    /**
     * shaping of every node's uplink on the local site (tc)
     */
    link?: {
        /**
         * e.g. 1gbit
         */
        rate?: string;
        /**
         * one-way delay added to every node's uplink (needs the kernel's netem qdisc)
         */
        delayMs?: number;
        /**
         * percentage of the packets each node sends or routes that are dropped (iptables statistic)
         */
        lossPercent?: number;
    };
    /**
     * @minItems 1
     */
    guests: GuestConfig[];
    migration?: MigrationConfig;
    /**
     * nat and bridged: the network beyond the router that guests ping (the reference lab's campus proxy): on the local site a namespace the lab makes; on site ssh an address of your network beyond your router that answers pings from every host (required there; miglab only pings it)
     */
    outside: {
        address: string;
        prefix: number;
    };
    /**
     * nat: the libvirt NAT network on every host, with the same gateway address and MAC everywhere so a migrated guest keeps its ARP entry
     */
    nat: {
        /**
         * an IPv4 network such as 10.10.10.0/24
         */
        subnet: string;
        gateway: string;
        /**
         * the gateway's MAC, the same on every host
         */
        mac: string;
        /**
         * the libvirt network's name on every host, which guests name
         */
        network: string;
        /**
         * the network's Linux bridge on every host
         */
        bridge: string;
    };
    /**
     * bridged: the guests' network, carried between hosts by a tunnel on Open vSwitch
     */
    overlay: {
        /**
         * an IPv4 network such as 10.10.10.0/24
         */
        subnet: string;
        gateway: string;
        /**
         * the host that routes the overlay to the rest of the lab; default: the first host. On site ssh your router must route overlay.subnet to this host's address
         */
        gatewayHost?: string;
        /**
         * VXLAN network identifier (GRE key)
         */
        vni: number;
        tunnel: "vxlan" | "gre";
        /**
         * the Open vSwitch bridge guests plug into on every host
         */
        bridge: string;
        /**
         * the libvirt network over that bridge, which guests name
         */
        network: string;
    };
    /**
     * migrations run in this order, one leg at a time; each guest starts at its home
     *
     * @minItems 1
     * @maxItems 64
     */
    migrations?: MigrationConfig[];
}
export interface NodeConfig {
    /**
     * lower-case letters, digits and '-', at most 15 characters
     */
    name: string;
    /**
     * the host's address on the lab network
     */
    address: string;
    /**
     * prefix length of the host's subnet
     */
    prefix: number;
    ssh?: SshArgs;
}
export interface SshArgs {
    /**
     * where this machine's sshd is reached from where pulumi runs (an address or host name); default: the node's lab address
     */
    host?: string;
    user: string;
    port: number;
    /**
     * the private key of that user (set it with `pulumi config set --path --secret 'lab.hosts[0].ssh.privateKey' < key`)
     */
    privateKey: string;
    /**
     * the machine's SSH host key as in its /etc/ssh/ssh_host_*_key.pub (e.g. ssh-ed25519 AAAA...); default: recorded at the first pulumi up and checked on every later one
     */
    hostKey?: string;
}
export interface GuestConfig {
    /**
     * lower-case letters, digits and '-', at most 15 characters
     */
    name: string;
    /**
     * the host the guest is declared on
     */
    home: string;
    /**
     * the guest's address on the lab network
     */
    address: string;
    memoryMiB: number;
    vcpus: number;
    /**
     * default: derived from the guest's name
     */
    mac?: string;
    image: {
        /**
         * the tiny busybox guest the package builds
         */
        builtin?: "tiny";
        /**
         * a qcow2 file already on the export (booted from its own disk)
         */
        qcow2?: string;
        diskMiB: number;
    };
    /**
     * the guest's TCP status service (its counter); the next port streams its progress for the legs' timelines
     */
    counterPort: number;
    /**
     * memory the guest fills once and dirties while it runs, so pre-copy iterations, dirty rate and post-copy requests show
     */
    workload: {
        /**
         * MiB per second rewritten (0: idle)
         */
        dirtyMiBs: number;
        /**
         * how much memory is rewritten over and over; default: dirtyMiBs
         */
        workingSetMiB?: number;
        /**
         * MiB of memory the guest fills once at boot with non-zero data and keeps, before its counter service answers, so a migration moves a used guest's memory (the reference experiment's guests moved all of theirs) rather than an idle guest's zero pages; at most memoryMiB - 128 (the kernel's share) minus the working set; the guest fills less, and says so on its console, when its kernel left less free
         */
        fillMiB: number;
    };
}
/**
 * One guest moving between hosts: from and to (and back, with roundTrip), or a path through several hosts; each step is one measured leg.
 */
export interface MigrationConfig {
    /**
     * the guest that moves
     */
    guest: string;
    /**
     * where the leg starts: the guest's home, or where the previous migration left it
     */
    from?: string;
    /**
     * where the guest goes
     */
    to?: string;
    /**
     * the hosts the guest visits in order, starting where it is (e.g. [pc1, pc2, pc3, pc1]); instead of from and to
     *
     * @minItems 2
     * @maxItems 32
     *
     * Items: lower-case letters, digits and '-', at most 15 characters
     */
    path?: string[];
    /**
     * precopy: live, memory sent while the guest runs, then a short stop; postcopy: live, the guest switches to the destination and fetches the rest on demand; cold: the guest is paused while its whole state moves and resumes on the destination (the baseline the live modes beat: its downtime is about the whole migration)
     */
    mode: "precopy" | "postcopy" | "cold";
    /**
     * postcopy with postcopySwitch 'after-seconds': switch this long after the start
     */
    postcopyAfterSeconds: number;
    /**
     * return to where the migration started (one more leg, unless the path already ends there), so the guest ends where it began
     */
    roundTrip: boolean;
    probeIntervalMs: number;
    /**
     * the leg's timeline: libvirt's job statistics sampled this often, with libvirt's events and the guest's own progress (0: no timeline)
     */
    timelineIntervalMs: number;
    /**
     * abort a leg after this long; the guest stays on its source
     */
    timeoutSeconds: number;
    /**
     * cap the migration bandwidth (0: no cap)
     */
    bandwidthMiBs: number;
    /**
     * pre-copy's downtime target in ms: QEMU's downtime-limit, set on the source before each leg and read back (a leg fails when QEMU did not take it); 0: leave QEMU's own (300 ms). QEMU stops the guest once what is left to send fits in this time at the rate it measured; libvirt's downtime adds the device state and resuming the guest on the destination (about 50-70 ms of an idle 192 MiB TCG guest's downtime whatever the target). Default 50, chosen by `npm run bench -- hunt` (README, Emulator): on QEMU 10 no leg at 20 or 50 ms damaged the guest, where QEMU 7.2 under TCG damaged 4 of 20 at 20 ms
     */
    maxDowntimeMs: number;
    /**
     * the node that pings the guest; default: the NFS server
     */
    probeHost?: string;
    /**
     * postcopy: when to switch from pre-copy: after the first full pass, after postcopyAfterSeconds, or when pre-copy stops converging
     */
    postcopySwitch: "after-first-pass" | "after-seconds" | "on-stall";
    /**
     * throttle the guest's vCPUs when pre-copy does not converge
     */
    autoConverge: boolean;
    /**
     * more than 1: multifd with this many connections
     */
    parallelConnections: number;
    /**
     * xbzrle: send deltas of pages sent before
     */
    compression: "none" | "xbzrle";
    /**
     * send the migration stream (memory, device state, and the disks where they move too) over QEMU's TLS (virsh migrate --tls): the lab makes its own CA and a certificate per host it visits, with the host's lab address in its subject alternative names, and removes them when no migration needs them or on destroy
     */
    tls: boolean;
    /**
     * how many times to run the migration (each run one or two legs)
     */
    runs: number;
    /**
     * nat and bridged: how often the guest pings the outside address
     */
    guestPingIntervalMs: number;
}
