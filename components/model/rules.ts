// Cross-field rules that keep a config that cannot work from reaching a host:
// addresses and subnets that collide, names the lab or Linux would mangle, paths
// and keys the hosts would misread, numbers the tools refuse. Each rule says the
// path(s) it is about and what to change. Pure: the config in, messages out.
import { migrationEntries } from "./migrations";
import type { LabConfig, NodeConfig } from "./types";
import { intToIp, ipToInt, networkOf } from "./net";
import { runsWorkload } from "./workload";
import { guestCpuProblems } from "./cpu";
import { schemaDefault } from "./schema";
import { hasDotSegment, isMac } from "./checks";
import { lockedKeyProblem } from "./sshKey";

interface Net { net: number; prefix: number; at: string; what: string }

const size = (prefix: number) => 2 ** (32 - prefix);
const show = (n: Net) => `${intToIp(n.net)}/${n.prefix}`;
const list = (ns: Net[]) => ns.map((n) => `${n.what} ${show(n)}`).join(ns.length > 2 ? ", " : " and ").replace(/, ([^,]*)$/, " and $1");
const netOf = (ip: string, prefix: number, at: string, what: string): Net => ({ net: networkOf(ip, prefix), prefix, at, what });
function overlaps(a: Net, b: Net): boolean {
    return a.net < b.net + size(b.prefix) && b.net < a.net + size(a.prefix);
}
function broadcast(n: Net): number { return n.net + size(n.prefix) - 1; }

/** "10.0.0.0/24" -> Net, or undefined when the text is not a CIDR (the schema has said so already). */
function parseCidr(text: string, at: string, what: string): Net | undefined {
    const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(text);
    return m ? { net: ipToInt(m[1]), prefix: Number(m[2]), at, what } : undefined;
}

/** Host bits set, or too small to hold a gateway and a guest. */
function cidrProblems(text: string, at: string, needsRoom: boolean): string[] {
    const n = parseCidr(text, at, "");
    if (!n) { return []; }
    const out: string[] = [];
    const canonical = networkOf(intToIp(n.net), n.prefix);
    if (canonical !== n.net) {
        out.push(`${at}: ${text} has host bits set; the network is ${intToIp(canonical)}/${n.prefix}: write that`);
    }
    if (needsRoom && n.prefix > 30) {
        out.push(`${at}: a /${n.prefix} has no room for a gateway and a guest; use a prefix of 30 or less (e.g. /24)`);
    }
    return out;
}

// Directories a lab must never export, mount over or remove: the system's own, and
// those the local site gives each node a private copy of (a disk there would not be shared).
const SYSTEM_TREES = ["/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/dev", "/proc",
    "/sys", "/run", "/root", "/var/run", "/var/lock", "/var/log", "/var/cache", "/var/spool", "/var/mail", "/var/lib/libvirt",
    "/var/lib/nfs", "/var/lib/openvswitch", "/var/lib/dpkg", "/var/lib/apt", "/var/lib/systemd", "/snap", "/lost+found"];
const SYSTEM_DIRS = ["/", "/var", "/var/lib", "/var/tmp", "/home", "/tmp", "/srv", "/opt", "/mnt", "/media", "/usr/local", "/var/lib/miglab"];

function pathProblems(p: string, at: string): string[] {
    const out: string[] = [];
    const segments = p.split("/").slice(1);
    if (hasDotSegment(p)) {
        out.push(`${at}: '${p}' contains '.' or '..'; give the directory's own absolute path`);
        return out;
    }
    if (segments.slice(0, -1).some((s) => s === "")) {
        out.push(`${at}: '${p}' contains '//'; write each '/' once`);
        return out;
    }
    if (p.length > 1 && p.endsWith("/")) {
        out.push(`${at}: '${p}' ends with '/'; write it without (e.g. ${p.replace(/\/+$/, "")})`);
        return out;
    }
    // /var/lib/miglab/<lab id> is a lab's state, removed with it: exports go under /var/lib/miglab/exports.
    if (/^\/var\/lib\/miglab\/m[0-9a-z]{5}(\/|$)/.test(p)) {
        out.push(`${at}: '${p}' is inside a lab's state directory (/var/lib/miglab/<lab id>, removed on destroy); use /var/lib/miglab/exports/<stack> or a directory of your own`);
        return out;
    }
    if (p === "/var/lib/miglab/exports") {
        out.push(`${at}: '${p}' holds every stack's export; give this stack its own directory such as /var/lib/miglab/exports/<stack>`);
        return out;
    }
    if (SYSTEM_DIRS.includes(p)) {
        out.push(`${at}: '${p}' is a system directory; give a directory of the lab's own such as /var/lib/miglab/exports/<stack>`);
    } else {
        const tree = SYSTEM_TREES.find((t) => p === t || p.startsWith(`${t}/`));
        if (tree) {
            out.push(`${at}: '${p}' is ${p === tree ? "" : "inside "}the system directory ${tree}; give a directory of the lab's own such as /var/lib/miglab/exports/<stack>`);
        }
    }
    return out;
}

function macProblems(mac: string, at: string): string[] {
    // A MAC the schema refuses is reported by the schema.
    if (!isMac(mac)) { return []; }
    const first = parseInt(mac.slice(0, 2), 16);
    if (/^(00:){5}00$/.test(mac)) { return [`${at}: ${mac} is the all-zero address, which no NIC may use; pick one such as 52:54:00:12:34:56`]; }
    if (first & 1) { return [`${at}: ${mac} is a multicast address (its first octet is odd); a NIC needs a unicast MAC such as 52:54:00:12:34:56`]; }
    // libvirt gives the host side of a guest's tap the guest's MAC with its first octet set to fe.
    if (first === 0xfe) { return [`${at}: ${mac} starts with fe, which libvirt keeps for the host side of tap devices; pick one such as 52:54:00:12:34:56`]; }
    return [];
}

/** tc rate text -> bits per second. */
export function rateBits(rate: string): number {
    const m = /^(\d+)(kbit|mbit|gbit)$/.exec(rate);
    if (!m) { return NaN; }
    return Number(m[1]) * { kbit: 1e3, mbit: 1e6, gbit: 1e9 }[m[2] as "kbit"];
}

function privateKeyProblems(key: string, at: string, node: string): string[] {
    const k = key.trim();
    const locked = lockedKeyProblem(k, node);
    if (locked) { return [`${at}: ${locked}`]; }
    if (/^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-\S+|sk-\S+)\s+AAAA/.test(k)) {
        return [`${at}: is a public key; give the private key (the file without .pub): pulumi config set --secret --path 'miglab:lab.${at.replace(/\.privateKey$/, "")}.privateKey' < ~/.ssh/id_ed25519`];
    }
    if (!k.includes("\n") && !k.includes("-----BEGIN") && /^(~|\.{0,2}\/|[A-Za-z]:\\)|^[^\s]*\/[^\s]*$|^id_[a-z0-9]+$/.test(k)) {
        return [`${at}: '${k}' looks like a file path, not a key; put the key itself in the config: ` +
            `pulumi config set --secret --path 'miglab:lab.${at.replace(/\.privateKey$/, "")}.privateKey' < ${k}`];
    }
    return [];
}

/**
 * Where the plan puts the router in a routed topology, per subnet that has no address of the NFS
 * node: on the local site only (on site ssh the router is the team's, at addresses of its own).
 */
function routedAddresses(cfg: LabConfig): { ip: string; what: string }[] {
    const out: { ip: string; what: string }[] = [];
    if (cfg.site !== "local") { return out; }
    const nfs = cfg.nfs.host;
    for (const h of cfg.hosts) {
        if (networkOf(h.address, h.prefix) !== networkOf(nfs.address, nfs.prefix) || h.prefix !== nfs.prefix) {
            // As planLab's routerAddressIn: the last usable address of the subnet (once per subnet).
            const ip = intToIp(networkOf(h.address, h.prefix) + size(h.prefix) - 2);
            if (!out.some((o) => o.ip === ip)) { out.push({ ip, what: `the router's address in ${intToIp(networkOf(h.address, h.prefix))}/${h.prefix}` }); }
        }
    }
    return out;
}

/** The router's address beyond itself, where the plan puts it (see planLab). */
export function routerOutsideAddress(cfg: LabConfig): string {
    const o = cfg.outside;
    return intToIp(networkOf(o.address, o.prefix) + (o.address.endsWith(".1") ? 2 : 1));
}

/** The disk file a guest boots from, as planLab names it. */
function diskOf(g: LabConfig["guests"][number]): string {
    return g.image.qcow2 ?? `${g.name}.qcow2`;
}

// Names the lab gives its own nodes and namespaces: a node called so would take their place.
const RESERVED_NODE_NAMES: Record<string, string> = { outside: "the namespace beyond the router in nat and bridged labs" };
const RESERVED_POOL_NAMES: Record<string, string> = { default: "libvirt's own default pool (/var/lib/libvirt/images)" };

/** Addresses no node, guest or gateway can have: this-network, loopback, multicast, reserved, broadcast. */
function addressClass(ip: string): string | undefined {
    const first = Number(ip.split(".")[0]);
    if (first === 0) { return "in 0.0.0.0/8 ('this network')"; }
    if (first === 127) { return "a loopback address (127.0.0.0/8)"; }
    if (first >= 224 && first <= 239) { return "a multicast address (224.0.0.0/4)"; }
    if (first >= 240) { return ip === "255.255.255.255" ? "the broadcast address" : "a reserved address (240.0.0.0/4)"; }
    return undefined;
}

/**
 * Networks the export is opened to beyond the lab's own (its nodes' subnets). The export is
 * shared with no_root_squash, so root on any machine it admits reads and writes every guest's
 * disk: it may admit a lab subnet or a part of one, nothing wider and nothing else.
 */
function exportReachProblems(allowed: string[], underlay: Net[]): string[] {
    const within = (n: Net, u: Net) => n.prefix >= u.prefix && networkOf(intToIp(n.net), u.prefix) === u.net;
    return allowed.flatMap((text, i) => {
        const n = parseCidr(text, `nfs.allowedNetworks[${i}]`, "");
        if (!n || underlay.some((u) => within(n, u))) { return []; }
        return [`nfs.allowedNetworks[${i}]: ${text} reaches beyond the lab's own networks (${underlay.map(show).join(", ")}); ` +
            "the disks are exported with no_root_squash, so root on any machine there could read and write every guest's disk: " +
            "list only those subnets (or parts of them), or leave allowedNetworks out (default: exactly the lab's subnets)"];
    });
}

/**
 * A lab with no export (nfs.export omitted) runs no NFS server and has no shared pool: each host
 * keeps the guests' boot files and disks in its own pool. So every guest is a built-in `copy`
 * guest, and the fields that only describe the export are refused rather than ignored.
 */
export function sharedStorageRules(cfg: LabConfig): string[] {
    const p: string[] = [];
    if (cfg.nfs.export !== undefined) {
        if (!cfg.pool) { p.push("pool: required with nfs.export (the pool every host sees the export's files through); add pool: { name: miglab, path: /var/lib/miglab/pool }, or remove nfs.export for a lab without shared storage"); }
        return p;
    }
    const none = "this lab has no NFS export (nfs.export is not set)";
    if (cfg.pool) { p.push(`pool: is the shared pool over the NFS export, and ${none}; remove pool, or set nfs.export`); }
    if (cfg.nfs.allowedNetworks) { p.push(`nfs.allowedNetworks: says who may mount the NFS export, and ${none}; remove allowedNetworks, or set nfs.export`); }
    if (cfg.nfs.server) { p.push(`nfs.server: chooses the NFS server that serves the export, and ${none}; remove server, or set nfs.export`); }
    cfg.guests.forEach((g, i) => {
        if (g.storage === "shared") {
            p.push(`guests[${i}].storage: '${g.name}' is storage shared (the default), whose disk is on the NFS export, and ${none}; ` +
                "set storage: copy (its disk in a pool of each host's own, moved with the guest), or set nfs.export");
        } else if (g.storage === "copy-incremental") {
            p.push(`guests[${i}].storage: copy-incremental keeps '${g.name}'s backing image on the NFS export, which every host reads, and ${none}; ` +
                "set storage: copy (the whole disk moves), or set nfs.export");
        }
        if (g.image.qcow2 !== undefined) {
            p.push(`guests[${i}].image.qcow2: ${g.image.qcow2} is a file on the NFS export, and ${none}; use the built-in image (image: { builtin: tiny }), or set nfs.export and put the file there`);
        }
    });
    return p;
}

export function labRules(cfg: LabConfig): string[] {
    const p: string[] = [];
    const addressFields: [string, string | undefined][] = [
        ...cfg.hosts.map((h, i): [string, string] => [`hosts[${i}].address`, h.address]),
        ["nfs.host.address", cfg.nfs.host.address],
        ...cfg.guests.map((g, i): [string, string] => [`guests[${i}].address`, g.address]),
        ...(cfg.topology === "same-subnet" ? [] : [["outside.address", cfg.outside.address] as [string, string]]),
        ...(cfg.topology === "nat" ? [["nat.gateway", cfg.nat.gateway] as [string, string], ["nat.subnet", cfg.nat.subnet.split("/")[0]] as [string, string]] : []),
        ...(cfg.topology === "bridged" ? [["overlay.gateway", cfg.overlay.gateway] as [string, string], ["overlay.subnet", cfg.overlay.subnet.split("/")[0]] as [string, string]] : []),
    ];
    for (const [at, ip] of addressFields) {
        const bad = ip ? addressClass(ip) : undefined;
        if (bad) { p.push(`${at}: ${ip} is ${bad}, which no lab network may use; use a private range such as 10.0.0.0/8 or 192.168.0.0/16`); }
    }
    if (p.length > 0) { return p; }
    const routed = cfg.topology !== "same-subnet";
    const nodes: { n: NodeConfig; at: string }[] = [...cfg.hosts.map((h, i) => ({ n: h, at: `hosts[${i}]` })), { n: cfg.nfs.host, at: "nfs.host" }];

    // Names.
    for (const { n, at } of nodes) {
        if (RESERVED_NODE_NAMES[n.name]) { p.push(`${at}.name: '${n.name}' is the name of ${RESERVED_NODE_NAMES[n.name]}; pick another name`); }
        // Each node's namespace is <lab id>-<name>; the switch of segment x is <lab id>-swx.
        if (/^sw[a-z]$/.test(n.name)) { p.push(`${at}.name: '${n.name}' is the name of one of the lab's switch namespaces (sw + a letter); pick another name`); }
    }
    if (cfg.pool && RESERVED_POOL_NAMES[cfg.pool.name]) { p.push(`pool.name: '${cfg.pool.name}' is ${RESERVED_POOL_NAMES[cfg.pool.name]}; pick another name such as 'miglab'`); }

    // Addresses of nodes: not a network or broadcast address, not where the router sits.
    for (const { n, at } of nodes) {
        const net = netOf(n.address, n.prefix, at, "");
        const ip = ipToInt(n.address);
        if (ip === net.net) { p.push(`${at}.address: ${n.address} is the network address of ${show(net)}; give the node an address inside it`); }
        if (ip === broadcast(net)) { p.push(`${at}.address: ${n.address} is the broadcast address of ${show(net)}; give the node an address inside it`); }
    }
    if (routed) {
        for (const r of routedAddresses(cfg)) {
            nodes.filter(({ n }) => n.address === r.ip).forEach(({ at }) =>
                p.push(`${at}.address: ${r.ip} is ${r.what} (the last usable address of a subnet without the NFS node); give the node another address`));
        }
    }

    // Subnets: distinct ones must not overlap.
    const underlay: Net[] = [];
    for (const { n, at } of nodes) {
        const net = netOf(n.address, n.prefix, at, `${at}'s subnet`);
        const clash = underlay.find((u) => overlaps(u, net) && (u.net !== net.net || u.prefix !== net.prefix));
        if (clash) {
            p.push(`${at}.prefix: ${n.address}/${n.prefix} (subnet ${show(net)}) overlaps ${clash.what} ${show(clash)}; nodes on one segment need the same prefix, nodes on different segments disjoint subnets`);
        } else if (!underlay.some((u) => u.net === net.net && u.prefix === net.prefix)) {
            underlay.push(net);
        }
    }
    const guestNet = routed ? (cfg.topology === "nat" ? { cidr: cfg.nat.subnet, at: "nat.subnet", gw: cfg.nat.gateway, gwAt: "nat.gateway" }
        : { cidr: cfg.overlay.subnet, at: "overlay.subnet", gw: cfg.overlay.gateway, gwAt: "overlay.gateway" }) : undefined;
    if (routed) {
        const o = cfg.outside;
        const outside = netOf(o.address, o.prefix, "outside", "the outside network");
        const oip = ipToInt(o.address);
        if (oip === outside.net || oip === broadcast(outside)) {
            p.push(`outside.address: ${o.address} is the ${oip === outside.net ? "network" : "broadcast"} address of ${show(outside)}; give an address inside it`);
        } else if (cfg.site === "local" && o.address === routerOutsideAddress(cfg)) {
            p.push(`outside.address: ${o.address} is where the router sits in ${show(outside)}; use another address (e.g. ${intToIp(outside.net + 2)})`);
        }
        const hit = underlay.filter((u) => overlaps(u, outside));
        if (hit.length) { p.push(`outside.address: the outside network ${show(outside)} overlaps ${list(hit)}; pick an outside network apart from the lab's`); }
        const g = guestNet!;
        p.push(...cidrProblems(g.cidr, g.at, true));
        const gn = parseCidr(g.cidr, g.at, g.at);
        // The NAT network's DHCP range is the subnet's upper half (natNetworkXml), and libvirt refuses
        // a range whose first two octets differ ("range ... is too large (> 65535)") when it defines it:
        // the upper half of a /15 is one /16, that of a /14 two.
        if (gn && cfg.topology === "nat" && gn.prefix < 15) {
            p.push(`nat.subnet: a /${gn.prefix} is larger than a libvirt NAT network can serve (its DHCP range, the upper half, must stay inside one /16; ` +
                `libvirt refuses the network as 'too large (> 65535)' on every host); use a prefix of 15 or more (e.g. 192.168.150.0/24)`);
        }
        if (gn) {
            const hits = [...underlay, outside].filter((o) => overlaps(gn, o));
            if (hits.length) {
                const same = hits.length === 1 && gn.net === hits[0].net && gn.prefix === hits[0].prefix;
                p.push(`${g.at}: ${g.cidr} ${same ? "is" : "overlaps"} ${list(hits)}; the guests' network must be a subnet of its own (e.g. ${g.at === "nat.subnet" ? "192.168.150.0/24" : "10.10.30.0/24"})`);
            }
        }
        if (gn && gn.prefix <= 30) {
            const gw = ipToInt(g.gw);
            const canonical = { ...gn, net: networkOf(intToIp(gn.net), gn.prefix) };
            if (gw === canonical.net || gw === broadcast(canonical)) {
                p.push(`${g.gwAt}: ${g.gw} is the ${gw === canonical.net ? "network" : "broadcast"} address of ${g.cidr}; use an address inside it (e.g. ${intToIp(canonical.net + 1)})`);
            }
        }
    }
    for (const [i, a] of (cfg.nfs.allowedNetworks ?? []).entries()) { p.push(...cidrProblems(a, `nfs.allowedNetworks[${i}]`, false)); }

    // Guests: addresses, MACs, disks.
    const guestSubnet: Net = guestNet && parseCidr(guestNet.cidr, guestNet.at, "")
        ? { ...parseCidr(guestNet.cidr, guestNet.at, "")!, net: networkOf(guestNet.cidr.split("/")[0], Number(guestNet.cidr.split("/")[1])) }
        : netOf(cfg.hosts[0].address, cfg.hosts[0].prefix, "hosts[0]", "");
    const macs = new Map<string, string>();
    const disks = new Map<string, { who: string; writes: boolean }>();
    cfg.guests.forEach((g, i) => {
        const at = `guests[${i}]`;
        const ip = ipToInt(g.address);
        // A guest network too small to hold guests is reported above.
        const inSubnet = guestSubnet.prefix <= 30 && networkOf(g.address, guestSubnet.prefix) === guestSubnet.net;
        if (inSubnet && ip === guestSubnet.net) { p.push(`${at}.address: ${g.address} is the network address of ${show(guestSubnet)}; give the guest an address inside it`); }
        if (inSubnet && ip === broadcast(guestSubnet)) { p.push(`${at}.address: ${g.address} is the broadcast address of ${show(guestSubnet)}; give the guest an address inside it`); }
        if (guestNet && guestSubnet.prefix <= 30 && g.address === guestNet.gw) { p.push(`${at}.address: ${g.address} is ${guestNet.gwAt}; give the guest another address`); }
        if (routed) {
            for (const r of routedAddresses(cfg)) { if (r.ip === g.address) { p.push(`${at}.address: ${g.address} is ${r.what}; give the guest another address`); } }
        }
        if (g.mac !== undefined) {
            const mac = g.mac.toLowerCase();
            p.push(...macProblems(mac, `${at}.mac`));
            if (macs.has(mac)) { p.push(`${at}.mac: ${g.mac} is already the MAC of ${macs.get(mac)}; every guest needs its own (or leave mac out to derive one)`); }
            macs.set(mac, at);
            if (cfg.topology === "nat" && mac === cfg.nat.mac.toLowerCase()) {
                p.push(`${at}.mac: ${g.mac} is the NAT gateway's MAC (nat.mac); give the guest another one`);
            }
        }
        // A shared guest writes its file on the export; a copy guest only reads it (copied at
        // creation, or the backing under its overlay), so several may read one image, but none
        // may read a file another guest writes. A built-in copy guest has no file there.
        const disk = g.storage === "copy" && g.image.qcow2 === undefined ? undefined : diskOf(g);
        const writes = g.storage === "shared";
        const other = disk === undefined ? undefined : disks.get(disk);
        // Two built-in guests of one name share a disk too, but their names are reported already.
        if (disk !== undefined && other && (writes || other.writes) && !(g.image.qcow2 === undefined && cfg.guests.some((o, j) => j < i && o.name === g.name))) {
            const me = `${at} ('${g.name}')`;
            p.push(writes && other.writes
                ? `${at}.image: its disk ${disk} on the export is already ${other.who}'s; two running guests on one disk corrupt it: give each guest its own qcow2`
                : `${at}.image: ${disk} on the export is the disk ${writes ? me : other.who} writes (storage shared) and the image ${writes ? other.who : me} ` +
                  "copies or builds its own disk on (storage copy, copy-incremental): it would change under that guest; give the shared guest its own qcow2, or make both copy guests");
        }
        if (disk !== undefined && (!other || writes)) { disks.set(disk, { who: `${at} ('${g.name}')`, writes }); }
    });
    p.push(...macProblems(cfg.nat.mac.toLowerCase(), "nat.mac"));

    // NFS: every hypervisor opens its guests' disks over NFS from its own address.
    p.push(...exportReachProblems(cfg.nfs.allowedNetworks ?? [], underlay));
    if (cfg.nfs.allowedNetworks) {
        const allowed = cfg.nfs.allowedNetworks.map((a) => parseCidr(a, "", "")).filter((n): n is Net => !!n);
        cfg.hosts.forEach((h, i) => {
            if (!allowed.some((n) => networkOf(h.address, n.prefix) === networkOf(intToIp(n.net), n.prefix))) {
                p.push(`nfs.allowedNetworks: leaves out hosts[${i}] '${h.name}' (${h.address}), which opens its guests' disks over NFS; add ${intToIp(networkOf(h.address, h.prefix))}/${h.prefix} or leave allowedNetworks out (default: the lab's subnets)`);
            }
        });
    }
    if (cfg.nfs.export !== undefined) { p.push(...pathProblems(cfg.nfs.export, "nfs.export")); }
    if (cfg.pool) { p.push(...pathProblems(cfg.pool.path, "pool.path")); }

    // Numbers the tools take but that cannot give a measurement.
    for (const { m, at } of migrationEntries(cfg)) {
        if (m.mode === "postcopy" && m.postcopySwitch === "after-seconds") {
            if (m.postcopyAfterSeconds > 0 && m.postcopyAfterSeconds < 0.5) {
                p.push(`${at}.postcopyAfterSeconds: ${m.postcopyAfterSeconds} is below the leg's 0.5 s polling; use 0 (switch at once) or 0.5 and more`);
            }
            if (m.postcopyAfterSeconds >= m.timeoutSeconds) {
                p.push(`${at}.postcopyAfterSeconds: ${m.postcopyAfterSeconds} s is not before ${at}.timeoutSeconds (${m.timeoutSeconds} s), when the leg is aborted; switch earlier`);
            }
        }
        const guest = cfg.guests.find((g) => g.name === m.guest);
        if (guest) {
            // Even an idle guest's memory crosses once: a leg that cannot move it in time is certain to be aborted.
            const bytes = guest.memoryMiB * 2 ** 20;
            const caps: { bps: number; at: string; text: string }[] = [];
            if (m.bandwidthMiBs > 0) { caps.push({ bps: m.bandwidthMiBs * 2 ** 20, at: `${at}.bandwidthMiBs`, text: `${m.bandwidthMiBs} MiB/s` }); }
            const rate = cfg.link?.rate ? rateBits(cfg.link.rate) / 8 : NaN;
            if (Number.isFinite(rate)) { caps.push({ bps: rate, at: "link.rate", text: cfg.link!.rate! }); }
            for (const c of caps) {
                const seconds = bytes / c.bps;
                if (seconds > m.timeoutSeconds) {
                    p.push(`${c.at}: at ${c.text} guest ${guest.name}'s ${guest.memoryMiB} MiB take at least ${Math.ceil(seconds)} s to cross, more than ${at}.timeoutSeconds (${m.timeoutSeconds}); raise ${c.at} or the timeout`);
                }
            }
        }
    }
    if (cfg.link?.rate) {
        const bits = rateBits(cfg.link.rate);
        if (bits < 64e3 || bits > 100e9) { p.push(`link.rate: ${cfg.link.rate} is outside what tc shapes well here (64kbit to 100gbit)`); }
    }
    // local-site.sh writes the drop probability with 4 decimals: below 0.005 % it drops nothing, below 0.01 % more than asked.
    const loss = cfg.link?.lossPercent ?? 0;
    if (loss > 0 && loss < 0.01) {
        p.push(`link.lossPercent: ${loss} % is finer than the lab's drop rule takes (its probability has 4 decimals: steps of 0.01 %), so it would drop ${loss < 0.005 ? "nothing" : "0.01 %"}; use 0 or 0.01 and more`);
    }

    // Workloads: only the built-in guest runs one (its kernel command line says what to dirty and fill).
    cfg.guests.forEach((g, i) => {
        if (g.image.qcow2 !== undefined && runsWorkload(g.workload)) {
            p.push(`guests[${i}].workload: only the built-in image runs a workload; guest '${g.name}' boots its own ${g.image.qcow2}, ` +
                "which would migrate idle while the legs report it as dirtying or filled: remove workload or use image: { builtin: tiny }");
        }
    });

    // CPUs: what can be said without asking a host (the preflight asks the hosts the rest).
    p.push(...guestCpuProblems(cfg));

    // Site ssh: every host a machine of its own. Two hosts behind one sshd are one machine: each
    // one's setup overwrites the other's, and libvirt refuses to migrate a guest to the host it runs on.
    if (cfg.site === "ssh") {
        const endpoint = (n: NodeConfig) => {
            const host = (n.ssh?.host ?? n.address).toLowerCase();
            return `${host === "localhost" || host === "::1" ? "127.0.0.1" : host}:${n.ssh?.port ?? schemaDefault<number>("hosts.ssh.port")}`;
        };
        const seenAt = new Map<string, number>();
        cfg.hosts.forEach((h, i) => {
            const e = endpoint(h);
            const j = seenAt.get(e);
            if (j !== undefined) {
                p.push(`hosts[${i}].ssh: reaches the same sshd as hosts[${j}] '${cfg.hosts[j].name}' (${e}), so '${h.name}' would be that machine again ` +
                    `and a migration between them a migration to the host the guest runs on, which libvirt refuses; give hosts[${i}] the ssh.host or ssh.port of a machine of its own`);
            } else { seenAt.set(e, i); }
        });
    }

    // Keys: the text of a key, not where it lives.
    for (const { n, at } of cfg.site === "ssh" ? nodes : []) {
        if (n.ssh?.privateKey !== undefined) { p.push(...privateKeyProblems(n.ssh.privateKey, `${at}.ssh.privateKey`, n.name)); }
    }
    return p;
}

/**
 * Fields given that this lab would not use: they belong to another topology, site or mode, so
 * the lab would quietly measure something else than the config says (a `nat` block in a bridged
 * lab, a probe host behind NAT). Only fields the config gave: defaults fill in the rest.
 */
export function givenFieldRules(cfg: LabConfig, raw: Record<string, any>): string[] {
    const p: string[] = [];
    const blocks: [string, LabConfig["topology"][], string][] = [
        ["nat", ["nat"], "topology: nat"], ["overlay", ["bridged"], "topology: bridged"], ["outside", ["nat", "bridged"], "topology: nat or bridged"],
    ];
    for (const [field, topologies, fix] of blocks) {
        const block = raw?.[field];
        // An empty block sets nothing: harmless wherever it is.
        const empty = block !== null && typeof block === "object" && Object.keys(block).length === 0;
        if (block !== undefined && !empty && !topologies.includes(cfg.topology)) {
            p.push(`${field}: applies to topology ${topologies.map((t) => `'${t}'`).join(" and ")} only, and this lab is '${cfg.topology}' (the block would be ignored); remove it or set ${fix}`);
        }
    }
    const given = raw?.migration !== undefined ? [{ m: raw.migration, at: "migration" }]
        : Array.isArray(raw?.migrations) ? raw.migrations.map((m: any, i: number) => ({ m, at: `migrations[${i}]` })) : [];
    // The guests' own pings: set once, on the guest's kernel command line when it boots, from its
    // first migration (planLab): another interval given for a later one would not be what its legs measure.
    if (cfg.topology !== "same-subnet") {
        const first = new Map<string, { ms: number; at: string }>();
        migrationEntries(cfg).forEach(({ m, at }, k) => {
            // A drain's guests keep the interval they booted with (their first own migration's, or the first entry's).
            if (m.guest === undefined) { return; }
            const f = first.get(m.guest);
            if (!f) { first.set(m.guest, { ms: m.guestPingIntervalMs, at }); return; }
            if (given[k]?.m?.guestPingIntervalMs !== undefined && m.guestPingIntervalMs !== f.ms) {
                p.push(`${at}.guestPingIntervalMs: ${m.guestPingIntervalMs} ms, but guest '${m.guest}' pings every ${f.ms} ms all along ` +
                    `(${f.at}.guestPingIntervalMs, set when it boots), so its legs here would be measured at ${f.ms} ms; give every migration of '${m.guest}' the same guestPingIntervalMs`);
            }
        });
    }
    for (const { m, at } of given as { m: any; at: string }[]) {
        if (m?.guestPingIntervalMs !== undefined && cfg.topology === "same-subnet") {
            p.push(`${at}.guestPingIntervalMs: guests ping the outside in topologies 'nat' and 'bridged' only (a same-subnet lab has no outside); remove it`);
        }
        if (m?.probeHost !== undefined && cfg.topology === "nat") {
            p.push(`${at}.probeHost: behind NAT no other node reaches the guest, so a nat lab has no probe (the hosts ask the guest's counter and the guest pings the outside); remove it`);
        }
        const switches = m?.mode === "postcopy" && m?.postcopySwitch === "after-seconds";
        if (m?.postcopyAfterSeconds !== undefined && !switches) {
            p.push(`${at}.postcopyAfterSeconds: applies to mode 'postcopy' with postcopySwitch 'after-seconds' only (it would be ignored); remove it or set both`);
        }
    }
    (Array.isArray(raw?.guests) ? raw.guests : []).forEach((g: any, i: number) => {
        if (g?.image?.qcow2 !== undefined && g.image.diskMiB !== undefined) {
            p.push(`guests[${i}].image.diskMiB: sizes the built-in image's disk only; ${g.image.qcow2} keeps its own size: remove it`);
        }
    });
    return p;
}
