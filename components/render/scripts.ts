// What the hosts run: the shell scripts in components/render/scripts/, each rendered
// as a header of shell-quoted variables, the shared prelude (prelude.sh), and the
// script's body. Every renderer takes a narrow spec of plain values, so a component
// resource, the Lab and a test render the same text from the same facts.
import type { MigrationConfig } from "../model/config";
import { DEMAND_PUSH_MIBS } from "../model/migrations";
import type { LocalDisk, Role } from "../model/plan";
import { fnv1a } from "../model/net";
import { counterAnswers } from "./drift";
import { scriptText } from "./files";
import { shellQuote } from "./text";
import { NatNetworkSpec, PoolSpec, consoleLogPath, natNetworkXml, ovsNetworkXml, poolXml, recoveryMonitorPath } from "./xml";

export { scriptDir, scriptText } from "./files";

export type Action = "up" | "down";

/** The variables' header (values shell-quoted, so no value can inject shell). */
export function scriptHeader(vars: Record<string, string | number>): string {
    return Object.entries(vars).map(([k, v]) => `${k}=${shellQuote(String(v))}`).join("\n");
}

/** A script from components/render/scripts: its variables, the shared prelude, then its body. */
export function script(name: string, vars: Record<string, string | number>): string {
    return `${scriptHeader(vars)}\n${scriptText("prelude.sh")}\n${scriptText(name)}`;
}

/**
 * Runs a command as root: as is for root, through `sudo -n` for a user with
 * passwordless sudo (what most teams give), with a clear error otherwise.
 */
export function asRoot(command: string): string {
    return `if [ "$(id -u)" -eq 0 ]; then exec ${command}; ` +
        `elif command -v sudo >/dev/null; then exec sudo -n ${command}; ` +
        `else echo "miglab: $(id -un) is not root and sudo is not installed on $(hostname): install sudo and give $(id -un) passwordless sudo, or connect as root" >&2; exit 1; fi`;
}

/** Wraps a script so a remote.Command runs it with bash as root, whatever the login shell and user. */
export function bashCommand(text: string): string {
    const tag = "MIGLAB_SCRIPT_END";
    return `${asRoot("bash -s")} <<'${tag}'\n${text}\n${tag}`;
}

// ---- the local site -----------------------------------------------------------

export interface LocalSiteNode {
    name: string;
    role: Role;
    /** The loopback port on this machine that leads to the node's sshd. */
    port: number;
    /** Default gateway, if the topology routes. */
    gateway?: string;
    /** Every segment the node joins, with its address there as a CIDR. */
    links: { segment: string; cidr: string }[];
}

export interface LocalSiteSpec {
    /** Short id every namespace, link and path of this site is named after. */
    labId: string;
    stateDir: string;
    /** Whose lab it is (a program's directory): a lab of the same id up for another owner is left alone. */
    owner: string;
    nodes: LocalSiteNode[];
    /** How hypervisor hosts hold their uplink: a Linux bridge guests join, plain, or left to Open vSwitch. */
    hostUplink: "bridge" | "plain" | "ovs";
    linkMtu: number;
    /** Nodes that forward packets, and static routes. */
    forward: string[];
    routes: { node: string; dest: string; via: string }[];
    /** Egress shaping of every link. */
    link?: { rate?: string; delayMs?: number; lossPercent?: number };
}

/**
 * Where each local-site host's libvirt takes QEMU's migration TLS files from: named in the
 * host's own qemu.conf, inside its own /etc/libvirt (a per-node copy), since the machine's
 * /etc/pki is every node's.
 */
export const LOCAL_MIGRATION_TLS_DIR = "/etc/libvirt/miglab-tls";

export function localSiteScript(s: LocalSiteSpec, action: Action): string {
    const link = s.link ?? {};
    const nodes = s.nodes.map((n) =>
        `${n.name} ${n.role} ${n.port} ${n.gateway ?? "-"} ${n.links.map((l) => `${l.segment}:${l.cidr}`).join(",")}`).join("\n");
    return script("local-site.sh", {
        ACTION: action, LAB_ID: s.labId, STATE: s.stateDir, OWNER: s.owner, NODES: nodes, MIGRATE_TLS_DIR: LOCAL_MIGRATION_TLS_DIR,
        HOST_UPLINK: s.hostUplink, LINK_MTU: s.linkMtu, FORWARD: s.forward.join(" "),
        ROUTES: s.routes.map((r) => `${r.node} ${r.dest} ${r.via}`).join("\n"),
        LINK_RATE: link.rate ?? "", LINK_DELAY_MS: link.delayMs ?? 0, LINK_LOSS_PCT: link.lossPercent ?? 0,
    });
}

// ---- hosts, storage -------------------------------------------------------------

/** An address a node must get ping replies from, and why the lab needs it (said when it does not). */
export interface Reach { address: string; why: string }

/** Fails on the node unless every address answers its pings. */
export function reachScript(node: { name: string; reach: Reach[] }): string {
    return script("reach.sh", { NODE: node.name, REACH: node.reach.map((r) => `${r.address} ${r.why}`).join("\n") });
}

/** reach: addresses the node must get ping replies from, checked first. */
export function hostCheckScript(node: { name: string; role: Role; reach?: Reach[] }): string {
    const check = script("host-check.sh", { NODE: node.name, ROLE: node.role });
    return node.reach?.length ? `${reachScript({ name: node.name, reach: node.reach })}\n${check}` : check;
}

export interface NfsSpec {
    export: string;
    /** CIDRs allowed to mount. */
    clients: string[];
    /**
     * ganesha: the userspace server run by the script (no kernel NFS; the local site);
     * ganesha-service: the host's own nfs-ganesha service, given one EXPORT file and reloaded;
     * kernel: nfs-kernel-server and /etc/exports.
     */
    implementation: NfsImplementation;
    /** ganesha's config, logs and pid files. */
    stateDir: string;
    /** Names the export's marker content and the ganesha-service file; default: from the export's path. */
    id?: string;
}

export type NfsImplementation = "ganesha" | "ganesha-service" | "kernel";

/** The id an export is known by: its marker's content, its ganesha file's name. */
export function exportIdOf(n: { export: string; id?: string }): string {
    return n.id ?? `e${fnv1a(n.export).toString(36)}`;
}

/** "check": the drift watch's probe, exit 0 while the export is served as "up" left it. */
export function nfsScript(n: NfsSpec, action: Action | "check"): string {
    const id = exportIdOf(n);
    return script("nfs-server.sh", {
        ACTION: action, EXPORT: n.export, CLIENTS: n.clients.join(" "), IMPL: n.implementation, STATE: n.stateDir,
        // A fixed Export_Id per export, so two labs can share one ganesha.
        LAB_ID: id, EXPORT_ID: 1000 + (fnv1a(id) % 60000),
    });
}

/** expectMarker: a dir pool over an export the host mounted itself must show that export's marker. */
export function poolScript(p: PoolSpec & { node?: string; expectMarker?: string }, action: Action): string {
    return script("pool.sh", {
        ACTION: action, POOL: p.name, TARGET: p.target, POOL_XML: poolXml(p), NODE: p.node ?? "", EXPECT_EXPORT: p.expectMarker ?? "",
    });
}

// ---- guests ---------------------------------------------------------------------

export interface GuestImageSpec {
    name: string;
    /** The export directory on the NFS host; in a lab without an export, the host's local pool. */
    export: string;
    /**
     * The folder of marks of what this made, in that directory. Default .miglab-made; a local pool
     * (perHost) takes another, since pool.sh marks a directory it made with a file of that name.
     */
    marks?: string;
    /** The disk's path there; "" for none (the built-in image's boot files only: a guest whose disk is in a host's own pool). */
    disk: string;
    diskMiB: number;
    /** "tiny": build the built-in image's kernel and initramfs too; undefined: the disk must already be there. */
    builtin?: "tiny";
    /** Where the built-in image's kernel and initramfs go on the NFS host. */
    kernel?: string;
    initrd?: string;
}

/** The text the built-in guest keeps in its memory from boot (guest-init.sh's /run/marker): what a capture of a migration in clear shows. */
export function guestMemoryMarker(): string {
    const m = /^MEMORY_MARKER='([^']+)'$/m.exec(scriptText("guest-init.sh"));
    if (!m) { throw new Error("miglab: guest-init.sh sets no MEMORY_MARKER"); }
    return m[1];
}

/** guest-image.sh's marks in a host's own pool (a lab without an export). */
export const BOOT_MARKS = ".miglab-boot-made";

export function guestImageScript(g: GuestImageSpec, action: Action): string {
    return script("guest-image.sh", {
        ACTION: action, OUT: g.export, MARKS: g.marks ?? ".miglab-made", NAME: g.name, DISK: g.disk,
        DISK_MIB: g.diskMiB, BUILTIN: g.builtin ?? "",
        KERNEL: g.kernel ?? "", INITRD: g.initrd ?? "",
        BUILDER_SCRIPT: scriptText("build-guest.sh"), GUEST_INIT: scriptText("guest-init.sh"),
    });
}

export interface DomainScriptSpec {
    name: string;
    xml: string;
    /** The guest's address and the port of its counter service, asked once it runs. */
    address: string;
    counterPort: number;
    /** Key file on the host with which it reaches its peers. */
    keyPath: string;
    /** The peers' recorded host keys on the host (known_hosts); none: not checked (the local site). */
    knownHosts?: string;
    /** The lab addresses of every host the guest may run on. */
    peers: string[];
    /** A disk in the hosts' own pools (storage copy*): made at home when no host holds it, brought home to restart there, removed from every host on down. */
    localDisk?: LocalDisk;
}

/** How a local disk is made where there is none: "empty <MiB>", "copy <image>" or "overlay <backing>" (domain.sh's MAKE_DISK). */
export function makeDiskWord(d: LocalDisk): string {
    const m = d.make;
    return "empty" in m ? `empty ${m.empty}` : "copyOf" in m ? `copy ${m.copyOf}` : `overlay ${m.overlayOn}`;
}

export function domainScript(d: DomainScriptSpec, action: Action): string {
    return script("domain.sh", {
        ACTION: action, GUEST: d.name, XML: d.xml, GUEST_ADDR: d.address, GUEST_PORT: d.counterPort,
        KEY: d.keyPath, KNOWN_HOSTS: d.knownHosts ?? "", PEERS: d.peers.join(" "), CONSOLE_LOG: consoleLogPath(d.name),
        ASK_COUNTER: `${counterAnswers(d.address, d.counterPort)}; exit 1`,
        LOCAL_DISK: d.localDisk?.path ?? "", MAKE_DISK: d.localDisk ? makeDiskWord(d.localDisk) : "",
    });
}

export interface CpuCheckSpec {
    /** The host asked, for messages. */
    node: string;
    /** How the lab's guests run (virsh's --virttype): kvm or qemu (TCG). */
    virtType: "kvm" | "qemu";
    /** Print the CPU modes the host offers and its host-model CPU. */
    hostInfo: boolean;
    /** CPU documents (cpuXml) to ask about, by id (letters, digits, '-', '_'). */
    compare: { id: string; xml: string }[];
    /** CPU documents whose common CPU (libvirt's baseline) to ask for. */
    baseline: string[];
}

/** One host's answer to the CPU preflight (cpu-check.sh); reports/cpuCheck.ts reads it. */
export function cpuCheckScript(c: CpuCheckSpec): string {
    for (const { id } of c.compare) {
        if (!/^[A-Za-z0-9_-]+$/.test(id)) { throw new Error(`cpuCheckScript: '${id}' is not an id of letters, digits, '-' and '_'`); }
    }
    return script("cpu-check.sh", {
        NODE: c.node, VIRTTYPE: c.virtType, HOST_INFO: c.hostInfo ? 1 : 0,
        COMPARE: c.compare.map(({ id, xml }) => `#cpu ${id}\n${xml.trimEnd()}`).join("\n"), BASELINE: c.baseline.map((x) => x.trimEnd()).join("\n"),
    });
}

// ---- networks -------------------------------------------------------------------

export function natScript(n: NatNetworkSpec, action: Action): string {
    return script("libvirt-network.sh", { ACTION: action, NETWORK: n.network, XML: natNetworkXml(n) });
}

/**
 * The overlay bridge's tunnel port towards a peer host: `tun-<peer>` while that fits Linux's
 * 15 characters, else `tun-<first 5>-<hash of the whole name>`, so names stay unique and the
 * same from run to run whatever names the schema allows.
 */
export function tunnelPort(peer: { name: string }): string {
    const plain = `tun-${peer.name}`;
    return plain.length <= 15 ? plain : `tun-${peer.name.slice(0, 5)}-${fnv1a(peer.name).toString(36).padStart(5, "0").slice(-5)}`;
}

export interface OvsSpec {
    /** The host's name, for messages. */
    node: string;
    /** Start ovsdb-server and ovs-vswitchd here (the local site); real hosts run them as services. */
    ownDaemons: boolean;
    /**
     * The NIC moved into br-phy, which then takes `address` and the default route via `gateway`
     * (the local site); "" on real hosts: the NIC that holds `address`, whose addresses and
     * routes move to br-phy and back on down (kept in `stateDir`).
     */
    uplink: string;
    /** The host's underlay address on br-phy, as a CIDR, and its default gateway. */
    address: string;
    gateway?: string;
    /** Real hosts: where the uplink's addresses, routes and settings are kept until down. */
    stateDir?: string;
    peers: { name: string; address: string }[];
    vni: number;
    tunnel: "vxlan" | "gre";
    bridge: string;
    /** The libvirt network guests attach to. */
    network: string;
    /** This host routes the overlay: its address there, as a CIDR. */
    overlayGateway?: string;
}

export function ovsScript(o: OvsSpec, action: Action): string {
    const ports = new Set(o.peers.map((p) => tunnelPort(p)));
    if (ports.size !== o.peers.length) {
        throw new Error(`ovsScript: two peers of ${o.node} get the same tunnel port name (${o.peers.map((p) => `${p.name} -> ${tunnelPort(p)}`).join(", ")}); rename one`);
    }
    const bridges = script("ovs.sh", {
        ACTION: action, NODE: o.node, OWN_DAEMONS: o.ownDaemons ? 1 : 0,
        UPLINK: o.uplink, ADDR: o.address, GW: o.gateway ?? "",
        PEERS: o.peers.map((p) => `${tunnelPort(p)}:${p.address}`).join(" "),
        VNI: o.vni, TUNNEL: o.tunnel, BRIDGE: o.bridge, OVERLAY_GW: o.overlayGateway ?? "", STATE: o.stateDir ?? "",
    });
    const network = script("libvirt-network.sh", { ACTION: action, NETWORK: o.network, XML: ovsNetworkXml(o) });
    // The network sits on the bridge: made after it, removed before it.
    return action === "up" ? `${bridges}\n${network}` : `${network}\n${bridges}`;
}

// ---- migration ------------------------------------------------------------------

/** How a leg migrates: the config's migration fields that reach virsh and the leg script. */
export type MigrationTuning = Pick<MigrationConfig, "mode" | "postcopySwitch" | "postcopyAfterSeconds" | "postcopyVariant" | "timeoutSeconds"
    | "probeIntervalMs" | "timelineIntervalMs" | "bandwidthMiBs" | "maxDowntimeMs" | "autoConverge" | "parallelConnections" | "compression"
    | "stopAfter" | "tls" | "capture">;

/** Where the guest's disk is, as a leg moves it: shared (only memory moves), or copied with it over NBD. */
export type LegStorage = LocalDisk["storage"] | "shared";

/**
 * virsh migrate flags for the tuning options and the guest's storage (mode, bandwidth and downtime
 * are set by the leg script). A disk in a host's own pool goes with the memory, over NBD to the
 * destination's QEMU: whole (--copy-storage-all), or only the overlay above a backing image both
 * hosts hold (--copy-storage-inc).
 */
export function migrateFlags(m: MigrationTuning, storage: LegStorage = "shared", disksPort?: number): string {
    const f: string[] = [];
    if (storage === "copy") { f.push("--copy-storage-all"); }
    if (storage === "copy-incremental") { f.push("--copy-storage-inc"); }
    if (storage !== "shared" && disksPort !== undefined) { f.push("--disks-port", String(disksPort)); }
    if (m.autoConverge) { f.push("--auto-converge"); }
    if (m.parallelConnections > 1) { f.push("--parallel", "--parallel-connections", String(m.parallelConnections)); }
    if (m.compression === "xbzrle") { f.push("--compressed", "--comp-methods", "xbzrle"); }
    if (m.mode === "postcopy" && m.postcopyVariant === "demand") { f.push("--postcopy-bandwidth", String(DEMAND_PUSH_MIBS)); }
    if (m.tls) { f.push("--tls"); }
    return f.join(" ");
}

export interface LegSpec {
    /** The leg's name (out, back, out-2, ...), in its messages and probe files. */
    leg: string;
    /**
     * `disk`: the guest's disk in the hosts' own pools (storage copy*), moved with it; absent: on the
     * export. `diskWrites`: the built-in guest writes its disk's first sector only (its counter), so
     * the rest must come out of the leg byte for byte the same; a guest's own image is only checked.
     */
    guest: { name: string; address: string; counterPort: number; memoryMiB: number; disk?: LocalDisk; diskWrites?: "counter-sector" };
    from: { name: string; address: string };
    to: { name: string; address: string };
    /** A third node that pings the guest throughout; absent (NAT), the hosts ask the guest's counter. */
    probe?: string;
    /** The destination's port for the plain transfer (default 5201): legs of a drain that run at once each have their own. */
    iperfPort?: number;
    /** Bridged: the source's tunnel port towards the destination, whose packet count shows forwarding. */
    tunnelPort?: string;
    /**
     * migration.capture: the node that captures (its address, none: the source itself, on its own
     * underlay link), its name, and the directory it keeps the pcap in. Default: the source, DEFAULT_CAPTURE_DIR.
     */
    capture?: { at?: string; node: string; dir: string };
    /** Key file on the source with which it reaches the destination and the probe. */
    keyPath: string;
    /** The peers' recorded host keys on the source (known_hosts); none: not checked (the local site). */
    knownHosts?: string;
    tuning: MigrationTuning;
    /**
     * The other guests, which must keep working meanwhile: where each runs (host name) and the
     * node that can ask its counter (`asker`: the probe, or behind NAT the host it runs on).
     */
    bystanders?: { name: string; address: string; counterPort: number; asker: string; host: string }[];
}

/**
 * What a guest that does not answer is doing (nic-state.sh), run on the host that runs it: its
 * NIC's traffic, QEMU's virtqueues, a ring its driver found corrupt, the end of its console.
 */
export function nicStateScript(guest: string): string {
    return `${scriptHeader({ GUEST: guest, CONSOLE_LOG: consoleLogPath(guest) })}\n${scriptText("nic-state.sh")}`;
}

/** Where a leg's capture goes on the node that captures, unless the lab names its own directory. */
export const DEFAULT_CAPTURE_DIR = "/var/lib/miglab/captures";

/** A leg's capture (capture.sh), sent by the leg to the node that captures after a `set -- ACTION ARGS` line. */
export function captureScript(guestAddress: string): string {
    return `${scriptHeader({ GUEST_ADDR: guestAddress })}\n${scriptText("capture.sh")}`;
}

/** iperf3's own default port: the plain transfer's, when one leg runs at a time. */
export const IPERF_PORT = 5201;

/**
 * The destination's NBD port for a leg that copies the guest's disk: the top of libvirt's default
 * migration range (49152-49215, which a site's firewall opens), one lower for each leg that runs
 * at once to one destination (its plain transfer's port above IPERF_PORT), far from the ports
 * libvirt hands out from the bottom. Named, it is the one connection in that range the leg's count
 * of migration channels leaves out.
 */
export function disksPortFor(iperfPort = IPERF_PORT): number {
    return 49215 - (iperfPort - IPERF_PORT);
}

export function migrateLegScript(s: LegSpec): string {
    const m = s.tuning;
    const capture = m.capture ? { at: "", node: s.from.name, dir: DEFAULT_CAPTURE_DIR, ...s.capture } : undefined;
    return script("migrate-leg.sh", {
        LEG: s.leg, GUEST: s.guest.name, SRC_NAME: s.from.name, DST_NAME: s.to.name,
        SRC_ADDR: s.from.address, DST_ADDR: s.to.address,
        PROBE_ADDR: s.probe ?? "", COUNTER_FROM: s.probe ? "probe" : "hosts",
        TUNNEL_PORT: s.tunnelPort ?? "",
        GUEST_ADDR: s.guest.address, GUEST_PORT: s.guest.counterPort, CONSOLE_LOG: consoleLogPath(s.guest.name), NIC_STATE: nicStateScript(s.guest.name), KEY: s.keyPath, KNOWN_HOSTS: s.knownHosts ?? "",
        MODE: m.mode, POSTCOPY_SWITCH: m.postcopySwitch, POSTCOPY_AFTER_S: m.postcopyAfterSeconds, TIMEOUT_S: m.timeoutSeconds,
        PROBE_INTERVAL_S: (m.probeIntervalMs / 1000).toFixed(3), TIMELINE_INTERVAL_S: m.timelineIntervalMs ? (m.timelineIntervalMs / 1000).toFixed(3) : "0", PLAIN_BYTES: s.guest.memoryMiB * 1024 * 1024, IPERF_PORT: s.iperfPort ?? IPERF_PORT,
        BANDWIDTH_MIBS: m.bandwidthMiBs, MAX_DOWNTIME_MS: m.maxDowntimeMs,
        EXTRA_FLAGS: migrateFlags(m, s.guest.disk?.storage, s.guest.disk ? disksPortFor(s.iperfPort) : undefined),
        DISK_PORT: s.guest.disk ? disksPortFor(s.iperfPort) : "",
        // A disk in the hosts' own pools: its path, the backing an incremental copy's overlay needs on the destination, and what to check.
        STORAGE: s.guest.disk?.storage ?? "shared", DISK: s.guest.disk?.path ?? "", DISK_BACKING: s.guest.disk?.backing ?? "",
        DISK_SUM: s.guest.disk && s.guest.diskWrites === "counter-sector" ? 1 : 0,
        // Pre-copy's stop conditions (0: not set).
        STOP_ITERATIONS: m.stopAfter?.iterations ?? 0, STOP_SENT_MIB: m.stopAfter?.sentMiB ?? 0, STOP_DIRTY_PAGES_BELOW: m.stopAfter?.dirtyPagesBelow ?? 0,
        BYSTANDERS: (s.bystanders ?? []).map((b) => `${b.name} ${b.address} ${b.counterPort} ${b.asker} ${b.host}`).join("\n"),
        CAPTURE_SH: capture ? captureScript(s.guest.address) : "", CAPTURE_AT: capture?.at ?? "", CAPTURE_NODE: capture?.node ?? "", CAPTURE_DIR: capture?.dir ?? "",
        QMP_SOCK: recoveryMonitorPath(s.guest.name),
    });
}

// ---- TLS migrations ---------------------------------------------------------------

/** How long the lab's migration CA and the hosts' certificates are valid (days); `up` renews either 30 days before. */
export const TLS_CA_DAYS = 3650;
export const TLS_HOST_DAYS = 365;

export interface TlsCaSpec {
    /** The host that keeps the CA, for messages. */
    node: string;
    /** Names the CA (its subject). */
    labId: string;
    /** Where its key and certificate are on that host (only root reads it). */
    dir: string;
}

/** The lab's migration CA on one host: up makes it (printing its certificate's fingerprint), down removes it. */
export function tlsCaScript(c: TlsCaSpec, action: Action): string {
    return script("tls-ca.sh", { ACTION: action, NODE: c.node, LAB_ID: c.labId, CA_DIR: c.dir, DAYS: TLS_CA_DAYS });
}

export interface TlsHostSpec {
    node: string;
    /** Marks the files this lab put on the host. */
    labId: string;
    /** The host's lab address: the name its certificate is for (a leg migrates to tcp://<address>). */
    address: string;
    /**
     * The local site: the directory the host's own qemu.conf names (LOCAL_MIGRATION_TLS_DIR), which
     * up insists on; undefined on real hosts: wherever their libvirt takes migration TLS files from.
     */
    expectDir?: string;
    /** The host keeping the CA (tlsCaScript): its name, its lab address (undefined: this host) and the CA's directory. */
    ca: { node: string; address?: string; dir: string };
    /** Key file on the host with which it reaches the CA's host, and the peers' recorded host keys (none: not checked). */
    keyPath: string;
    knownHosts?: string;
}

/** One host's key (made there) and certificate, signed by the lab's CA on its host: up installs them, down removes them. */
export function tlsHostScript(t: TlsHostSpec, action: Action): string {
    return script("tls-host.sh", {
        ACTION: action, NODE: t.node, LAB_ID: t.labId, ADDR: t.address, EXPECT_DIR: t.expectDir ?? "", QEMU_CONF: "/etc/libvirt/qemu.conf",
        CA_NODE: t.ca.node, CA_ADDR: t.ca.address ?? "", CA_DIR: t.ca.dir, DAYS: TLS_HOST_DAYS,
        KEY: t.keyPath, KNOWN_HOSTS: t.knownHosts ?? "", SIGN: scriptText("tls-sign.sh"),
    });
}

// ---- real hosts (site ssh) -------------------------------------------------------

export interface HostBridgeSpec {
    /** The host's name, for messages. */
    node: string;
    /** The host's lab address: the interface holding it goes into the bridge. */
    address: string;
    bridge: string;
    /** Where the uplink's name is kept for down. */
    stateDir: string;
}

/** A real host's lab interface in a bridge the guests join, with its MAC, addresses and routes. */
export function hostBridgeScript(b: HostBridgeSpec, action: Action): string {
    return script("host-bridge.sh", { ACTION: action, NODE: b.node, ADDR: b.address, BRIDGE: b.bridge, STATE: b.stateDir });
}

/** A node's recorded SSH host key as a known_hosts line for its lab address. */
export function knownHostsLine(address: string, hostKey: string): string {
    return `${address} ${hostKey.trim().split(/\s+/).slice(0, 2).join(" ")}`;
}

export interface HostTrustSpec {
    /** The node it is installed on, for messages. */
    node: string;
    /** Names the lab key's authorized_keys line (miglab-<id>). */
    labId: string;
    /** Where the lab's private key goes on the node; its known_hosts and ssh_config.d files. */
    keyPath: string;
    knownHosts: string;
    configFile: string;
    publicKey: string;
    /** Every node of the lab: its lab address and recorded host key ("type base64"). */
    nodes: { address: string; hostKey: string }[];
}

/** Installs (up) or removes (down) the lab key and the nodes' host keys on one node; the private key goes on stdin. */
export function hostTrustCommand(t: HostTrustSpec, action: Action): string {
    const text = script("host-trust.sh", {
        ACTION: action, NODE: t.node, LAB_ID: t.labId, KEY: t.keyPath, PUB: t.publicKey.trim(),
        KNOWN: t.nodes.map((n) => knownHostsLine(n.address, n.hostKey)).join("\n"),
        PEERS: t.nodes.map((n) => n.address).join(" "), KNOWN_HOSTS: t.knownHosts, CONFIG_FILE: t.configFile,
    });
    return asRoot(`bash -c ${shellQuote(text)}`);
}
