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
    /**
     * the lab's third node and, with export, the shared storage it serves. Without export the lab runs no NFS server at all: every guest is storage: copy, each host keeps the guest's boot files and disk in a pool of its own, and the node is only the probe (and, on a routed local lab, the router)
     */
    nfs: {
        host: NodeConfig;
        /**
         * the exported directory that holds guest disks, served over NFS to the hosts and seen by them through pool. Omitted: no NFS server and no shared pool (give no pool, allowedNetworks or server then); every guest must then be storage: copy with the built-in image
         */
        export?: string;
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
    /**
     * the shared pool over nfs.export on every host; required with nfs.export, refused without it
     */
    pool?: {
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
    sla?: SlaConfig;
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
    /**
     * hypervisor hosts: the memory this host gives its guests, in MiB; a drain places the guests it moves on the destinations with the most of it free (this less the memoryMiB of the guests there then), and a drain whose guests do not fit is refused before anything is built. Default: no bound (a drain then places by the least guest memory already on each destination). On the local site every host shares this machine, whose own memory is checked as a whole; there it only steers placement. Not for nfs.host
     */
    memoryMiB?: number;
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
     * the CPU the guest sees: host-model (libvirt's model of what the host runs: under TCG the emulator's own widest CPU), host-passthrough (the host's own CPU; needs KVM on every host it may visit) or a named libvirt model (virsh cpu-models x86_64), optionally with features added (+name) or removed (-name), e.g. 'Nehalem' or 'EPYC,-vme'. Checked before anything is made on every host the guest may visit (its home and every host its migrations take it to); a failed check names the host, the missing features and a model all of them run. Default: QEMU's generic qemu64 under TCG, the host's CPU under KVM
     */
    cpu?: string;
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
     * where the guest's disk lives and how it moves: shared (on the NFS export, which every host opens; only memory moves), copy (in a local pool on the host it runs on, /var/lib/libvirt/images/miglab-<lab id>; each leg copies the whole disk to the destination over NBD, virsh migrate --copy-storage-all, and removes the source's copy once the guest runs there) or copy-incremental (a local overlay whose backing image, the guest's image on the export, every host holds; each leg copies only the overlay, --copy-storage-inc). A copy guest's disk is made on its home host when the guest is first defined: an empty disk for the built-in image, a copy of image.qcow2 from the export otherwise
     */
    storage: "shared" | "copy" | "copy-incremental";
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
 * One guest moving between hosts: from and to (and back, with roundTrip), or a path through several hosts; each step is one measured leg. Or a drain: every guest on one host moved off it, several at once.
 */
export interface MigrationConfig {
    /**
     * the guest that moves (not with drain)
     */
    guest?: string;
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
     * move every guest running on host (where the migrations before left them) off it, at most parallel legs at once; with roundTrip (the default) they come back once the host is empty, parallel at once too. Each move is a measured leg like any other; the drain's own figures are the output `drains`. Instead of guest with from/to or path; runs must be 1
     */
    drain?: {
        /**
         * the host to empty
         */
        host: string;
        /**
         * the hosts the guests may go to: a list of host names, or 'any' (every other host)
         */
        to: string[] | "any";
        /**
         * the most legs running at once (2: KubeVirt's default parallelOutboundMigrationsPerNode); leg k starts when leg k - parallel has ended, the guests taken largest first
         */
        parallel: number;
        /**
         * where given guests go, by name (e.g. { vm1: pc2 }), each a host of to; the other guests are placed by free memory (hosts[].memoryMiB)
         */
        place?: {
            /**
             * lower-case letters, digits and '-', at most 15 characters
             */
            [k: string]: string;
        };
    };
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
     * pre-copy's downtime target in ms: QEMU's downtime-limit, set on the source before each leg and read back (a leg fails when QEMU did not take it); 0: leave QEMU's own (300 ms). QEMU stops the guest once what is left to send fits in this time at the rate it measured; libvirt's downtime adds the device state and resuming the guest on the destination (about 50-70 ms of an idle 192 MiB TCG guest's downtime whatever the target). Default 50, chosen by `npm run bench -- hunt` (docs/benchmarks.md, Emulator): on QEMU 10 no leg at 20 or 50 ms damaged the guest, where QEMU 7.2 under TCG damaged 4 of 20 at 20 ms
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
     * postcopy: how the pages left at the switch reach the destination. push: the source sends them in the background at full rate while the destination's faults are served first (QEMU's default); demand: the background push throttled to a trickle of 1 MiB/s (libvirt's --postcopy-bandwidth), so nearly every page the guest touches is fetched by its fault, as in pure demand paging. Either way libvirt adds post-copy preempt (a second connection for the faults' pages) where both QEMUs have it; the leg reports whether it did (postcopy.preemptChannel)
     */
    postcopyVariant: "push" | "demand";
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
     * precopy: the reference's stop conditions for pre-copy; once any is met (checked every 0.5 s), miglab raises QEMU's downtime limit for the rest of the leg, so QEMU pauses the guest and sends what is left (the stop-and-copy phase); the leg reports the condition, the iteration and what was left (stoppedBy), and libvirt's downtime is what the stop cost. The migration completes, where timeoutSeconds aborts it
     */
    stopAfter?: {
        /**
         * once pre-copy reaches this pass over memory (libvirt's memory_iteration: 1 is the first full pass, 2 begins once it is sent)
         */
        iterations?: number;
        /**
         * once this much memory has been sent (libvirt's memory_processed, MiB)
         */
        sentMiB?: number;
        /**
         * once a pass begins with fewer pages to send than this: the pages the guest dirtied during the pass before, which is QEMU's memory remaining right after it synced its dirty bitmap (when memory_iteration advances), in its pages (memory_page_size, 4 KiB on x86); the leg's reading comes up to one timeline interval after the sync and adds back what QEMU sent meanwhile. Not QEMU's dirty rate, which is pages per second over at least a second, whatever a pass lasted
         */
        dirtyPagesBelow?: number;
    };
    /**
     * send the migration stream (memory, device state, and the disks where they move too) over QEMU's TLS (virsh migrate --tls): the lab makes its own CA and a certificate per host it visits, with the host's lab address in its subject alternative names, and removes them when no migration needs them or on destroy
     */
    tls: boolean;
    /**
     * write a packet capture (pcap) of each leg: dumpcap on the router's link towards the leg's source (the local site's nat and bridged labs), else on the source host's own underlay link, from before the migration until the leg's last figure; the frames the guests send (tunnelled ones decoded: VXLAN, GRE), ICMP and ARP/RARP, not the migration stream. The leg's outputs get its summary (capture): the file, frames per VNI, the RARP/GARP announcements, and the ICMP replies that reached the old host and were forwarded through the tunnel. Needs dumpcap and tshark where it captures; npm run capture -- <stack> <leg> shows it
     */
    capture: boolean;
    /**
     * how many times to run the migration (each run one or two legs)
     */
    runs: number;
    /**
     * nat and bridged: how often the guest pings the outside address
     */
    guestPingIntervalMs: number;
    sla?: SlaConfig;
}
/**
 * bounds a measured leg must meet (its service-level agreement); a leg that breaks one fails pulumi up with one line naming the leg, the figure, the bound and the value, keeps its figures in the outputs with sla: { passed: false, broken: [...] }, and its migration runs again, from its start, on the next pulumi up (so the migration must end where it starts). A figure a leg did not measure breaks its bound
 */
export interface SlaConfig {
    /**
     * the leg's downtime as libvirt reports it (downtimeMs), in ms, at most this; not the migration's own maxDowntimeMs, the target QEMU aims at
     */
    maxDowntimeMs?: number;
    /**
     * the leg's total migration time as libvirt measured it (totalTimeMs), in ms, at most this
     */
    maxTotalMs?: number;
    /**
     * pings from the probe node to the guest that got no reply during the leg (probe.lost), at most this; needs the probe, which topology nat has not
     */
    maxProbeLost?: number;
    /**
     * from the guest resuming on the destination to the probe's first reply there (phases.networkRecoveryMs), in ms, at most this; needs the probe (not topology nat) and the leg's timeline (timelineIntervalMs above 0)
     */
    maxNetworkRecoveryMs?: number;
    /**
     * the migration's throughput divided by a plain TCP transfer's between the same hosts in the same leg (ratio), at least this
     */
    minRatio?: number;
    /**
     * a drain's total time (drainMs: from its first leg's migration start to its last leg's end, the legs that bring the guests back not counted), in ms, at most this; applies to drain entries only. A drain that breaks it fails pulumi up with one line naming the drain, and runs again whole on the next pulumi up
     */
    maxDrainMs?: number;
}
