import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { childOpts, givenDependsOn } from "./connection";
import { GuestImage } from "./guestImage";
import { Host } from "./host";
import { NatNetwork } from "./natNetwork";
import { OvsBridge } from "./ovsBridge";
import { schemaDefault } from "../model/schema";
import { ArgChecks, counterPort as counterPortRule, dirtyRate, guestCpu, guestMemory, guestVcpus, ipMsg, isAbsPath, isCount, isIpv4, isMac, isName, macMsg, nameMsg } from "./validate";
import { macFor, uuidFor } from "../model/net";
import { fillProblem, runsWorkload, workingSetProblem } from "../model/workload";
import { parseGuestCpu } from "../model/cpu";
import type { LocalDisk } from "../model/plan";
import { GuestAttachment, bashCommand, commonAccel, domainScript, domainXml, tinyGuestCmdline } from "../render";
import { guestAnsweringProbe } from "../render/drift";
import { DriftWatch, watched } from "./drift";

export interface DomainArgs {
    /** The host the guest is defined and started on (its home). */
    host: Host;
    /** Every host the guest may run on (default: just `host`): KVM only if all have it, and removal looks on each. */
    hosts?: Host[];
    /** The libvirt domain's name; default the resource name. */
    guestName?: string;
    memoryMiB: number;
    /** Default: the schema's guests.vcpus (1). */
    vcpus?: number;
    /**
     * The CPU the guest sees, as guests[].cpu takes it: host-model, host-passthrough or a named model
     * with +/- features. Default: the host's under KVM, QEMU's qemu64 under TCG. A CpuCheck's
     * `cpuOf(guest)` gives it once every host the guest may visit runs it.
     */
    cpu?: pulumi.Input<string>;
    /** Its disk (and, for the built-in image, kernel and initramfs). */
    image: GuestImage;
    /**
     * A disk in the hosts' own pools instead of the image's on the export (guests[].storage copy or
     * copy-incremental): made on `host` when no host holds it, moved with the guest by every leg.
     * Every host needs a `dir` StoragePool at its directory (depend on them).
     */
    localDisk?: LocalDisk;
    /** Where its NIC plugs in on every host: a NatNetwork, an OvsBridge, or `{ kind: "bridge", bridge: "br-lab" }`. */
    network: GuestAttachment | NatNetwork | OvsBridge;
    /** The guest's address and prefix length (the built-in image configures itself with them). */
    address: string;
    prefix: number;
    /** The guest's TCP counter service, asked once it is up and during migrations. Default: the schema's guests.counterPort (7000). */
    counterPort?: number;
    /** Built-in image: the guest's default gateway (behind NAT or on an overlay). */
    gateway?: string;
    /** Built-in image: an address the guest pings while it runs (every intervalMs, default: the schema's migration.guestPingIntervalMs, 50). */
    ping?: { address: string; intervalMs?: number };
    /** Built-in image: memory the guest rewrites, MiB/s over a working set (default: the rate), and MiB it fills once at boot (fillMiB). */
    workload?: { dirtyMiBs: number; workingSetMiB?: number; fillMiB?: number };
    /** Fixed identity, so a redefinition keeps them; default derived from the stack and guestName. */
    uuid?: string;
    mac?: string;
    description?: string;
}

/** A persistent libvirt domain with a fixed uuid, its disk opened from the NFS server (cache='none'). */
export class Domain extends pulumi.ComponentResource {
    readonly guestName: string;
    readonly address: string;
    readonly counterPort: number;
    readonly memoryMiB: number;
    readonly host: Host;
    readonly hosts: Host[];
    /** Its disk in the hosts' own pools, which its legs move with it; undefined: on the export. */
    readonly localDisk?: LocalDisk;
    /** The built-in image writes only its disk's first sector (its counter): a leg moving the disk checks the rest is unchanged. */
    readonly diskWrites?: "counter-sector";
    readonly xml: pulumi.Output<string>;
    /** The counter line the guest answered with once it was up. */
    readonly firstAnswer: pulumi.Output<string>;
    /** Changes when the guest was found gone or shut off and made to run again: measure it again. */
    readonly instance: pulumi.Output<string>;

    constructor(name: string, args: DomainArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:guest:Domain", name, {}, opts);
        const guestName = args.guestName ?? name;
        const hosts = args.hosts ?? (args.host ? [args.host] : []);
        const vcpus = args.vcpus ?? schemaDefault<number>("guests.vcpus");
        const counterPort = args.counterPort ?? schemaDefault<number>("guests.counterPort");
        const network = args.network instanceof NatNetwork || args.network instanceof OvsBridge ? args.network.attachment : args.network;
        const v = new ArgChecks("Domain", name);
        v.check(args.host instanceof Host, "host", "must be the Host the guest is defined on");
        v.check(hosts.every((h) => h instanceof Host), "hosts", "must be Hosts");
        v.check(!args.host || hosts.includes(args.host), "hosts", `must include the guest's host '${args.host?.hostname}'`);
        v.check(hosts.every((h) => !(h instanceof Host) || h.role === "host"), "hosts",
            `${hosts.filter((h) => h.role !== "host").map((h) => `'${h.hostname}'`).join(", ")} is not a hypervisor (role 'host')`);
        v.check(isName(guestName), args.guestName ? "guestName" : "guestName (default: the resource name)", `'${guestName}' ${nameMsg}`);
        v.check(guestMemory.test(args.memoryMiB), "memoryMiB", `${args.memoryMiB} ${guestMemory.message}`);
        v.check(guestVcpus.test(vcpus), "vcpus", `${vcpus} ${guestVcpus.message}`);
        v.later(args.cpu, "cpu", (c) => (guestCpu.test(c) ? undefined : `'${c}' ${guestCpu.message}`), this);
        v.check(args.image instanceof GuestImage, "image", "must be a GuestImage on the NFS export");
        const ld = args.localDisk;
        v.check(!ld || (isAbsPath(ld.path) && /\.qcow2$/.test(ld.path)), "localDisk.path", `'${ld?.path}' must be an absolute path of a .qcow2 file in the hosts' own pool`);
        v.check(!ld || ld.storage === "copy" || (ld.backing !== undefined && isAbsPath(ld.backing)), "localDisk.backing",
            "copy-incremental needs the absolute path of the backing image every host holds");
        v.check(!!network && (network.kind === "bridge" ? !!network.bridge : network.kind === "network" && !!network.network), "network",
            "must be a NatNetwork, an OvsBridge or { kind: 'bridge', bridge: '<linux bridge>' }");
        v.check(isIpv4(args.address), "address", `'${args.address}' ${ipMsg}`);
        v.check(isCount(args.prefix, 1, 32), "prefix", `${args.prefix} must be a prefix length from 1 to 32`);
        v.check(counterPortRule.test(counterPort), "counterPort", `${counterPort} ${counterPortRule.message} (the next port streams the guest's progress)`);
        v.check(args.gateway === undefined || isIpv4(args.gateway), "gateway", `'${args.gateway}' ${ipMsg}`);
        v.check(args.ping === undefined || isIpv4(args.ping.address), "ping.address", `'${args.ping?.address}' ${ipMsg}`);
        v.check(args.mac === undefined || isMac(args.mac), "mac", `'${args.mac}' ${macMsg}`);
        const w = args.workload;
        v.check(!w || dirtyRate.test(w.dirtyMiBs), "workload.dirtyMiBs", `${w?.dirtyMiBs} ${dirtyRate.message}`);
        const set = w ? workingSetProblem(args.memoryMiB, w) : undefined;
        v.check(!set, "workload.workingSetMiB", set ?? "");
        const fill = w ? fillProblem(args.memoryMiB, w) : undefined;
        v.check(!fill, "workload.fillMiB", fill ?? "");
        // The workload is the built-in guest's (its kernel command line); a guest booting its own qcow2 would run idle.
        v.check(!(args.image instanceof GuestImage) || !!args.image.kernel || !w || !runsWorkload(w), "workload",
            "only the built-in image runs a workload; this guest boots its own qcow2, which would migrate idle: remove workload or use a GuestImage with builtin: 'tiny'");
        v.done(this);
        this.guestName = guestName;
        this.address = args.address;
        this.counterPort = counterPort;
        this.memoryMiB = args.memoryMiB;
        this.host = args.host;
        this.hosts = hosts;
        this.localDisk = ld;
        if (args.image instanceof GuestImage && args.image.kernel) { this.diskWrites = "counter-sector"; }
        const identity = `${pulumi.getStack()}/${guestName}`;
        const image = args.image;
        const boot = image.kernel ? {
            kernel: image.kernel, initrd: image.initrd!,
            cmdline: tinyGuestCmdline({
                address: args.address, prefix: args.prefix, counterPort, gateway: args.gateway, workload: args.workload,
                ping: args.ping ? { address: args.ping.address, intervalMs: args.ping.intervalMs ?? schemaDefault<number>("migration.guestPingIntervalMs") } : undefined,
            }),
        } : undefined;
        // A guest that migrates runs everywhere: KVM only if every host has it.
        const accel = pulumi.all(hosts.map((h) => h.accel)).apply(commonAccel);
        this.xml = pulumi.all([accel, image.disk, args.cpu]).apply(([a, disk, cpu]) => domainXml({
            name: guestName, uuid: args.uuid ?? uuidFor(identity), mac: args.mac ?? macFor(identity),
            description: args.description, memoryMiB: args.memoryMiB, vcpus, disk: ld ? { file: ld.path } : disk, boot, network: network!,
            cpu: cpu === undefined || !guestCpu.test(cpu) ? undefined : parseGuestCpu(cpu),
        }, a));
        const watch = new DriftWatch(`${name}-drift`, {
            what: `guest ${guestName} running on one of the hosts and answering`,
            probe: guestAnsweringProbe({ name: guestName, address: args.address, counterPort }),
            targets: hosts.map((h) => ({ name: h.hostname, connection: h.connection })), want: "any",
        }, { parent: this });
        this.instance = watch.token;
        const script = (action: "up" | "down") => pulumi.all([this.xml, pulumi.all(hosts.map((h) => h.address))])
            .apply(([xml, peers]) => bashCommand(domainScript({
                name: guestName, xml, address: args.address, counterPort, keyPath: args.host.peerKeyPath, knownHosts: args.host.peerKnownHosts, peers,
                localDisk: ld,
            }, action)));
        const cmd = new command.remote.Command(`${name}-domain`, {
            connection: args.host.connection,
            create: watched(watch.token, script("up")), update: watched(watch.token, script("up")), delete: script("down"),
        }, childOpts(this, { dependsOn: [...hosts, image, ...givenDependsOn(opts)] }));
        this.firstAnswer = cmd.stdout;
        this.registerOutputs({ xml: this.xml, firstAnswer: this.firstAnswer });
    }
}
