// Plan -> what the hosts are given: libvirt XML documents and the shell scripts
// (from components/render/scripts/) with a header of shell-quoted variables.
import * as fs from "fs";
import * as path from "path";
import { intToIp, ipToInt } from "../model/net";
import { MigrationConfig } from "../model/config";
import { Plan, PlannedGuest, PlannedLeg, PlannedNode } from "../model/plan";

export function xmlEscape(s: string): string {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

export function shellQuote(v: string): string {
    return `'${v.replace(/'/g, `'\\''`)}'`;
}

/** TCG unless the host has usable hardware virtualization (decided by the host check). */
export type Accel = "kvm" | "tcg";

export function domainXml(plan: Plan, g: PlannedGuest, accel: Accel): string {
    const e = xmlEscape;
    const boot = g.kernel
        ? `    <kernel>${e(g.kernel)}</kernel>\n    <initrd>${e(g.initrd!)}</initrd>\n    <cmdline>${e(g.cmdline!)}</cmdline>\n`
        : "    <boot dev='hd'/>\n";
    // PVM-style nested KVM cannot run stock guest kernels: TCG with a generic CPU is the safe default.
    const cpu = accel === "kvm"
        ? "  <cpu mode='host-passthrough'/>\n"
        : "  <cpu mode='custom' match='exact'>\n    <model fallback='allow'>qemu64</model>\n  </cpu>\n";
    return `<domain type='${accel === "kvm" ? "kvm" : "qemu"}'>
  <name>${e(g.name)}</name>
  <uuid>${g.uuid}</uuid>
  <description>miglab guest of stack ${e(plan.stack)}</description>
  <memory unit='MiB'>${g.memoryMiB}</memory>
  <currentMemory unit='MiB'>${g.memoryMiB}</currentMemory>
  <vcpu placement='static'>${g.vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
${boot}  </os>
  <features>
    <acpi/>
  </features>
${cpu}  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='network' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source protocol='nfs' name='${e(g.disk)}'>
        <host name='${e(plan.nfs.address)}'/>
        <identity user='root' group='root'/>
      </source>
      <target dev='vda' bus='virtio'/>
    </disk>
${guestInterface(plan, g)}
    <serial type='pty'>
      <target port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

function guestInterface(plan: Plan, g: PlannedGuest): string {
    const n = plan.guestNetwork;
    const source = n.kind === "bridge"
        ? `      <source bridge='${xmlEscape(n.bridge)}'/>`
        : `      <source network='${xmlEscape(n.network)}'/>`;
    // Open vSwitch's userspace datapath relays frames as read from the tap: a guest that leaves
    // checksums to offload would send broken TCP. The guest computes them itself there.
    const driver = n.kind === "ovs"
        ? "\n      <driver name='qemu'>\n        <host csum='off' gso='off' tso4='off' tso6='off' ecn='off' ufo='off'/>\n" +
          "        <guest csum='off' tso4='off' tso6='off' ecn='off' ufo='off'/>\n      </driver>"
        : "";
    return `    <interface type='${n.kind === "bridge" ? "bridge" : "network"}'>
      <mac address='${g.mac}'/>
${source}
      <model type='virtio'/>${driver}
    </interface>`;
}

/** nat: the same gateway address and MAC on every host, so a migrated guest's ARP entry stays right. */
export function natNetworkXml(plan: Plan): string {
    const n = plan.guestNetwork;
    if (n.kind !== "nat") { throw new Error("natNetworkXml: the plan's guest network is not nat"); }
    const [net, bits] = n.subnet.split("/");
    const base = ipToInt(net);
    const size = 2 ** (32 - Number(bits));
    return `<network>
  <name>${xmlEscape(n.network)}</name>
  <forward mode='nat'/>
  <bridge name='${xmlEscape(n.bridge)}' stp='off' delay='0'/>
  <mac address='${n.mac}'/>
  <ip address='${n.gateway}' prefix='${bits}'>
    <dhcp>
      <range start='${intToIp(base + Math.floor(size / 2))}' end='${intToIp(base + size - 2)}'/>
    </dhcp>
  </ip>
</network>
`;
}

/** bridged: guests plug into the overlay bridge as Open vSwitch ports. */
export function ovsNetworkXml(plan: Plan): string {
    const n = plan.guestNetwork;
    if (n.kind !== "ovs") { throw new Error("ovsNetworkXml: the plan's guest network is not ovs"); }
    return `<network>
  <name>${xmlEscape(n.network)}</name>
  <forward mode='bridge'/>
  <bridge name='${xmlEscape(n.bridge)}'/>
  <virtualport type='openvswitch'/>
</network>
`;
}

export function poolXml(plan: Plan): string {
    const e = xmlEscape;
    const source = plan.pool.type === "netfs"
        ? `  <source>\n    <host name='${e(plan.nfs.address)}'/>\n    <dir path='${e(plan.export)}'/>\n    <format type='nfs'/>\n  </source>\n`
        : "";
    return `<pool type='${plan.pool.type}'>
  <name>${e(plan.pool.name)}</name>
${source}  <target>
    <path>${e(plan.pool.target)}</path>
  </target>
</pool>
`;
}

function scriptDir(): string {
    // From source (ts-node) the scripts sit beside this file; compiled code runs from bin/components.
    const candidates = [path.join(__dirname, "scripts"), path.resolve(__dirname, "..", "..", "..", "components", "render", "scripts")];
    const found = candidates.find((d) => fs.existsSync(path.join(d, "local-site.sh")));
    if (!found) { throw new Error(`miglab: cannot find components/render/scripts (looked in ${candidates.join(", ")})`); }
    return found;
}

/** A script from components/render/scripts with its variables set in a header. */
export function script(name: string, vars: Record<string, string | number>): string {
    const header = Object.entries(vars).map(([k, v]) => `${k}=${shellQuote(String(v))}`).join("\n");
    const body = fs.readFileSync(path.join(scriptDir(), name), "utf8");
    return `${header}\n${body}`;
}

/** Wraps a script so a remote.Command runs it with bash whatever the login shell is. */
export function bashCommand(text: string): string {
    const tag = "MIGLAB_SCRIPT_END";
    return `bash -s <<'${tag}'\n${text}\n${tag}`;
}

export function localSiteScript(plan: Plan, action: "up" | "down"): string {
    const link = plan.config.link ?? {};
    const nodes = plan.nodes.map((n) =>
        `${n.name} ${n.role} ${n.connect.port} ${n.gateway ?? "-"} ${n.links.map((l) => `${l.segment}:${l.cidr}`).join(",")}`).join("\n");
    return script("local-site.sh", {
        ACTION: action, LAB_ID: plan.labId, STATE: plan.stateDir, NODES: nodes,
        HOST_UPLINK: plan.hostUplink, LINK_MTU: plan.linkMtu, FORWARD: plan.forward.join(" "),
        ROUTES: plan.routes.map((r) => `${r.node} ${r.dest} ${r.via}`).join("\n"),
        LINK_RATE: link.rate ?? "", LINK_DELAY_MS: link.delayMs ?? 0, LINK_LOSS_PCT: link.lossPercent ?? 0,
    });
}

export function nfsScript(plan: Plan, action: "up" | "down"): string {
    return script("nfs-server.sh", {
        ACTION: action, EXPORT: plan.export, CLIENTS: plan.allowedNetworks.join(" "),
        IMPL: plan.site === "local" ? "ganesha" : "kernel",
        STATE: plan.site === "local" ? `${plan.stateDir}/nodes/${plan.nfs.name}/ganesha` : "/var/lib/miglab/nfs",
    });
}

export function hostCheckScript(node: PlannedNode): string {
    return script("host-check.sh", { NODE: node.name, ROLE: node.role });
}

export function poolScript(plan: Plan, action: "up" | "down"): string {
    return script("pool.sh", { ACTION: action, POOL: plan.pool.name, TARGET: plan.pool.target, POOL_XML: poolXml(plan) });
}

export function guestImageScript(plan: Plan, g: PlannedGuest, action: "up" | "down"): string {
    return script("guest-image.sh", {
        ACTION: action, OUT: plan.export, NAME: g.name, DISK: g.disk,
        DISK_MIB: g.image.diskMiB, BUILTIN: g.image.builtin ?? "",
        KERNEL: g.kernel ?? "", INITRD: g.initrd ?? "",
        BUILDER_SCRIPT: fs.readFileSync(path.join(scriptDir(), "build-guest.sh"), "utf8"),
    });
}

export function domainScript(plan: Plan, g: PlannedGuest, xml: string, action: "up" | "down"): string {
    return script("domain.sh", {
        ACTION: action, GUEST: g.name, XML: xml, GUEST_ADDR: g.address, GUEST_PORT: g.counterPort,
        KEY: plan.labKey, PEERS: plan.hosts.map((h) => h.address).join(" "),
    });
}

/** virsh migrate flags for the tuning options (mode, bandwidth and downtime are set by the leg script). */
export function migrateFlags(m: MigrationConfig): string {
    const f: string[] = [];
    if (m.autoConverge) { f.push("--auto-converge"); }
    if (m.parallelConnections > 1) { f.push("--parallel", "--parallel-connections", String(m.parallelConnections)); }
    if (m.compression === "xbzrle") { f.push("--compressed", "--comp-methods", "xbzrle"); }
    return f.join(" ");
}

export interface LegSpec {
    leg: string; from: PlannedNode; to: PlannedNode;
    /** The migration's options; default: the lab's first migration. */
    migration?: MigrationConfig;
    /** The node that pings the guest; default: the plan's probe. */
    probe?: PlannedNode;
    /** The other guests and where they run during the leg. */
    bystanders?: { guest: PlannedGuest; host: PlannedNode }[];
}

/** A planned leg's spec, with its nodes and guests looked up in the plan. */
export function legSpec(plan: Plan, leg: PlannedLeg): LegSpec {
    const node = (name: string) => plan.nodes.find((n) => n.name === name)!;
    return {
        leg: leg.name, from: node(leg.from), to: node(leg.to), migration: leg.migration, probe: node(leg.probe),
        bystanders: leg.bystanders.map((b) => ({ guest: plan.guests.find((g) => g.name === b.guest)!, host: node(b.host) })),
    };
}

export function migrateLegScript(plan: Plan, g: PlannedGuest, spec: LegSpec): string {
    const m = spec.migration ?? plan.config.migrations[0];
    const nat = plan.guestNetwork.kind === "nat";
    const probe = spec.probe ?? plan.probe;
    // Behind NAT a guest's address is private to the host it runs on: only that host can ask its counter.
    const bystanders = (spec.bystanders ?? []).map((b) =>
        `${b.guest.name} ${b.guest.address} ${b.guest.counterPort} ${nat ? b.host.address : probe.address} ${b.host.name}`).join("\n");
    return script("migrate-leg.sh", {
        LEG: spec.leg, GUEST: g.name, SRC_NAME: spec.from.name, DST_NAME: spec.to.name,
        SRC_ADDR: spec.from.address, DST_ADDR: spec.to.address,
        // Behind NAT the guest's address is private to the host it runs on: no third node reaches it,
        // so the hosts ask its counter and the guest's own pings to the outside tell the loss.
        PROBE_ADDR: nat ? "" : probe.address,
        COUNTER_FROM: nat ? "hosts" : "probe",
        TUNNEL_PORT: plan.guestNetwork.kind === "ovs" ? tunnelPort(spec.to) : "",
        GUEST_ADDR: g.address, GUEST_PORT: g.counterPort, KEY: plan.labKey,
        MODE: m.mode, POSTCOPY_SWITCH: m.postcopySwitch, POSTCOPY_AFTER_S: m.postcopyAfterSeconds, TIMEOUT_S: m.timeoutSeconds,
        PROBE_INTERVAL_S: (m.probeIntervalMs / 1000).toFixed(3), PLAIN_BYTES: g.memoryMiB * 1024 * 1024,
        BANDWIDTH_MIBS: m.bandwidthMiBs, MAX_DOWNTIME_MS: m.maxDowntimeMs, EXTRA_FLAGS: migrateFlags(m),
        BYSTANDERS: bystanders,
    });
}

function shortHash(text: string, chars: number): string {
    let h = 2166136261;
    for (const c of text) { h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0; }
    return h.toString(36).padStart(chars, "0").slice(-chars);
}

/**
 * The overlay bridge's tunnel port towards a peer host: `tun-<peer>` while that fits Linux's
 * 15 characters, else `tun-<first 5>-<hash of the whole name>`, so names stay unique and the
 * same from run to run whatever names the schema allows.
 */
export function tunnelPort(peer: { name: string }): string {
    const plain = `tun-${peer.name}`;
    return plain.length <= 15 ? plain : `tun-${peer.name.slice(0, 5)}-${shortHash(peer.name, 5)}`;
}

export function natScript(plan: Plan, action: "up" | "down"): string {
    const n = plan.guestNetwork;
    return script("libvirt-network.sh", { ACTION: action, NETWORK: n.kind === "nat" ? n.network : "", XML: natNetworkXml(plan) });
}

export function ovsScript(plan: Plan, host: PlannedNode, action: "up" | "down"): string {
    const n = plan.guestNetwork;
    if (n.kind !== "ovs") { throw new Error("ovsScript: the plan's guest network is not ovs"); }
    const peerHosts = plan.hosts.filter((h) => h.name !== host.name);
    const ports = new Map(peerHosts.map((h) => [tunnelPort(h), h.name]));
    if (ports.size !== peerHosts.length) {
        throw new Error(`ovsScript: two peers of ${host.name} get the same tunnel port name (${peerHosts.map((h) => `${h.name} -> ${tunnelPort(h)}`).join(", ")}); rename one`);
    }
    const peers = peerHosts.map((h) => `${tunnelPort(h)}:${h.address}`).join(" ");
    const bridges = script("ovs.sh", {
        ACTION: action, NODE: host.name, OWN_DAEMONS: plan.site === "local" ? 1 : 0,
        UPLINK: "eth0", ADDR: `${host.address}/${host.prefix}`, GW: host.gateway ?? "",
        PEERS: peers, VNI: n.vni, TUNNEL: n.tunnel, BRIDGE: n.bridge,
        OVERLAY_GW: n.gatewayHost === host.name ? `${n.gateway}/${n.subnet.split("/")[1]}` : "",
    });
    const network = script("libvirt-network.sh", { ACTION: action, NETWORK: n.network, XML: ovsNetworkXml(plan) });
    // The network sits on the bridge: made after it, removed before it.
    return action === "up" ? `${bridges}\n${network}` : `${network}\n${bridges}`;
}
