// The libvirt XML documents the hosts are given: pure functions of narrow specs,
// each document checked with virt-xml-validate in the unit suite.
import type { GuestCpu } from "../model/cpu";
import { intToIp, ipToInt } from "../model/net";
import { xmlEscape as e } from "./text";

/** TCG unless the host has usable hardware virtualization (decided by the host check). */
export type Accel = "kvm" | "tcg";

/** A guest that migrates runs on each of its hosts alike: KVM only if every one has it. */
export function commonAccel(accels: Accel[]): Accel {
    return accels.length > 0 && accels.every((a) => a === "kvm") ? "kvm" : "tcg";
}

/** libvirt's name of an accelerator (a domain's type, virsh's --virttype). */
export function virtType(accel: Accel): "kvm" | "qemu" {
    return accel === "kvm" ? "kvm" : "qemu";
}

/** How a guest's NIC attaches on every host: a Linux bridge, or a libvirt network (NAT or Open vSwitch). */
export type GuestAttachment =
    | { kind: "bridge"; bridge: string }
    | { kind: "network"; network: string; openvswitch?: boolean };

export interface DomainSpec {
    name: string;
    uuid: string;
    description?: string;
    memoryMiB: number;
    vcpus: number;
    /**
     * The qcow2 disk: opened over NFS (libnfs), the server's address and the file's path on its
     * export; or a file in the host's own pool (`file`), which a migration copies (storage copy).
     */
    disk: { server: string; path: string } | { file: string };
    /** Direct kernel boot (the built-in image); without it the disk boots. */
    boot?: { kernel: string; initrd: string; cmdline: string };
    mac: string;
    network: GuestAttachment;
    /** The CPU the guest sees (guests[].cpu); default: the host's under KVM, QEMU's generic qemu64 under TCG. */
    cpu?: GuestCpu;
}

/**
 * A domain's <cpu> element, also the document the CPU preflight asks each host about. A named
 * model never falls back to another: a guest gets the CPU it was checked with or does not start.
 */
export function cpuXml(cpu: GuestCpu | undefined, accel: Accel): string {
    if (!cpu) {
        // PVM-style nested KVM cannot run stock guest kernels: TCG with a generic CPU is the safe default.
        return accel === "kvm"
            ? "<cpu mode='host-passthrough'/>\n"
            : "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>qemu64</model>\n</cpu>\n";
    }
    if (cpu.mode !== "custom") { return `<cpu mode='${cpu.mode}'/>\n`; }
    const features = cpu.features.map((f) => `  <feature policy='${f.policy}' name='${e(f.name)}'/>\n`).join("");
    return `<cpu mode='custom' match='exact'>\n  <model fallback='forbid'>${e(cpu.model)}</model>\n${features}</cpu>\n`;
}

/**
 * Where a guest's serial console is kept on each host it runs on: beside libvirt's own log of the
 * guest (<name>.log). The scripts that make its directory and print its end get it from here.
 */
export function consoleLogPath(guest: string): string {
    return `/var/log/libvirt/qemu/${guest}-console.log`;
}

/**
 * A second QMP monitor of the guest's QEMU on each host, beside libvirt's: post-copy recovery
 * needs QMP's out-of-band commands on the destination (migrate-pause, migrate-recover), because
 * that QEMU's main loop stops on the first page it touches while the migration is paused (its
 * NIC receiving into a page still on the source) and libvirt, which negotiates no out-of-band
 * execution, then gets no answer there. See docs/config.md, post-copy recovery.
 */
export function recoveryMonitorPath(guest: string): string {
    return `/var/lib/libvirt/qemu/${guest}.miglab-qmp.sock`;
}

export function domainXml(d: DomainSpec, accel: Accel): string {
    const boot = d.boot
        ? `    <kernel>${e(d.boot.kernel)}</kernel>\n    <initrd>${e(d.boot.initrd)}</initrd>\n    <cmdline>${e(d.boot.cmdline)}</cmdline>\n`
        : "    <boot dev='hd'/>\n";
    const cpu = cpuXml(d.cpu, accel).replace(/^/gm, "  ").replace(/ +$/, "");
    // The serial console is also kept in a file on each host the guest runs on: a leg whose guest
    // stops answering after a migration prints its end (migrate-leg.sh).
    return `<domain type='${virtType(accel)}' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>${e(d.name)}</name>
  <uuid>${e(d.uuid)}</uuid>
  <description>${e(d.description ?? `miglab guest ${d.name}`)}</description>
  <memory unit='MiB'>${d.memoryMiB}</memory>
  <currentMemory unit='MiB'>${d.memoryMiB}</currentMemory>
  <vcpu placement='static'>${d.vcpus}</vcpu>
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
${diskXml(d.disk)}
${guestInterface(d)}
    <serial type='pty'>
      <log file='${e(consoleLogPath(d.name))}' append='on'/>
      <target port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-chardev'/>
    <qemu:arg value='socket,id=miglab-qmp,path=${e(recoveryMonitorPath(d.name))},server=on,wait=off'/>
    <qemu:arg value='-mon'/>
    <qemu:arg value='chardev=miglab-qmp,mode=control'/>
  </qemu:commandline>
</domain>
`;
}

function diskXml(disk: DomainSpec["disk"]): string {
    const source = "file" in disk
        ? `      <source file='${e(disk.file)}'/>`
        : `      <source protocol='nfs' name='${e(disk.path)}'>\n        <host name='${e(disk.server)}'/>\n        <identity user='root' group='root'/>\n      </source>`;
    return `    <disk type='${"file" in disk ? "file" : "network"}' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
${source}
      <target dev='vda' bus='virtio'/>
    </disk>`;
}

function guestInterface(d: DomainSpec): string {
    const n = d.network;
    const source = n.kind === "bridge"
        ? `      <source bridge='${e(n.bridge)}'/>`
        : `      <source network='${e(n.network)}'/>`;
    // Open vSwitch's userspace datapath relays frames as read from the tap: a guest that leaves
    // checksums to offload would send broken TCP. The guest computes them itself there.
    const driver = n.kind === "network" && n.openvswitch
        ? "\n      <driver name='qemu'>\n        <host csum='off' gso='off' tso4='off' tso6='off' ecn='off' ufo='off'/>\n" +
          "        <guest csum='off' tso4='off' tso6='off' ecn='off' ufo='off'/>\n      </driver>"
        : "";
    return `    <interface type='${n.kind}'>
      <mac address='${e(d.mac)}'/>
${source}
      <model type='virtio'/>${driver}
    </interface>`;
}

export interface NatNetworkSpec { network: string; bridge: string; subnet: string; gateway: string; mac: string }

/** The same gateway address and MAC on every host, so a migrated guest's ARP entry stays right. */
export function natNetworkXml(n: NatNetworkSpec): string {
    const [net, bits] = n.subnet.split("/");
    const base = ipToInt(net);
    const size = 2 ** (32 - Number(bits));
    return `<network>
  <name>${e(n.network)}</name>
  <forward mode='nat'/>
  <bridge name='${e(n.bridge)}' stp='off' delay='0'/>
  <mac address='${e(n.mac)}'/>
  <ip address='${e(n.gateway)}' prefix='${Number(bits)}'>
    <dhcp>
      <range start='${intToIp(base + Math.floor(size / 2))}' end='${intToIp(base + size - 2)}'/>
    </dhcp>
  </ip>
</network>
`;
}

/** Guests plug into an Open vSwitch bridge as its ports. */
export function ovsNetworkXml(n: { network: string; bridge: string }): string {
    return `<network>
  <name>${e(n.network)}</name>
  <forward mode='bridge'/>
  <bridge name='${e(n.bridge)}'/>
  <virtualport type='openvswitch'/>
</network>
`;
}

export interface PoolSpec {
    name: string;
    target: string;
    /** A netfs pool mounting this export; without it, a dir pool over target. */
    nfs?: { address: string; export: string };
}

export function poolXml(p: PoolSpec): string {
    const source = p.nfs
        ? `  <source>\n    <host name='${e(p.nfs.address)}'/>\n    <dir path='${e(p.nfs.export)}'/>\n    <format type='nfs'/>\n  </source>\n`
        : "";
    return `<pool type='${p.nfs ? "netfs" : "dir"}'>
  <name>${e(p.name)}</name>
${source}  <target>
    <path>${e(p.target)}</path>
  </target>
</pool>
`;
}

export interface TinyGuestSpec {
    address: string;
    prefix: number;
    counterPort: number;
    /** The guest's default gateway (nat, bridged). */
    gateway?: string;
    /** An address the guest pings while it runs, and how often (ms), as the reference lab did. */
    ping?: { address: string; intervalMs: number };
    /** Memory the guest rewrites: MiB per second, over a working set of MiB (default: the rate); and MiB it fills once at boot. */
    workload?: { dirtyMiBs: number; workingSetMiB?: number; fillMiB?: number };
}

/** The built-in guest's kernel command line: its /init (guest-init.sh) reads the miglab.* parameters. */
export function tinyGuestCmdline(g: TinyGuestSpec): string {
    const args = [`console=ttyS0`, `quiet`, `miglab.ip=${g.address}/${g.prefix}`, `miglab.port=${g.counterPort}`];
    if (g.gateway) { args.push(`miglab.gw=${g.gateway}`); }
    if (g.ping) { args.push(`miglab.ping=${g.ping.address}`, `miglab.ping_interval=${(g.ping.intervalMs / 1000).toFixed(3)}`); }
    const w = g.workload;
    if (w && w.dirtyMiBs > 0) { args.push(`miglab.dirty_mib_s=${w.dirtyMiBs}`, `miglab.dirty_wss_mib=${w.workingSetMiB ?? w.dirtyMiBs}`); }
    if (w && (w.fillMiB ?? 0) > 0) { args.push(`miglab.fill_mib=${w.fillMiB}`); }
    return args.join(" ");
}
