// The SSH test bed from TypeScript: machines that look like fresh Debian hosts
// (see bed.sh), what a stack needs to reach them, and the test's own view into
// them (nsenter, for checks miglab itself may not make).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { shellQuote } from "../../components/render";
import { ROOT, Run, sh } from "../../scripts/pulumi-cli";

export interface BedMachine {
    name: string; role: "host" | "nfs"; port: number; address: string; prefix: number;
    /** Its address on the routed network (a second NIC, eth1), if the bed has one. */
    routed?: { address: string; prefix: number };
}

/**
 * A network as a team's would be: subnets joined by a router the team runs (not a machine
 * miglab reaches), an outside node beyond it that answers pings, and the routes the team
 * gave the router (e.g. an overlay behind one of the hosts).
 */
export interface BedRoutedNetwork {
    /** The router's address on each subnet, as a CIDR. */
    router: string[];
    /** The router's address beyond itself and the outside node's, as CIDRs. */
    outside: { router: string; address: string };
    routes: { dest: string; via: string }[];
}

const ipInt = (ip: string) => ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
const sameSubnet = (a: string, b: string, prefix: number) => Math.floor(ipInt(a) / 2 ** (32 - prefix)) === Math.floor(ipInt(b) / 2 ** (32 - prefix));

export class SshBed {
    readonly state: string;
    readonly clientKey: string;
    readonly machines: BedMachine[];

    /** id: a short name for the bed's namespaces and links (at most 6 characters). */
    constructor(readonly id: string, machines: Omit<BedMachine, "port">[], basePort: number, readonly sudoUser = "miglabop",
        readonly network?: BedRoutedNetwork) {
        this.state = `/var/lib/miglab-bed/${id}`;
        this.machines = machines.map((m, i) => ({ ...m, port: basePort + i }));
        this.clientKey = path.join(this.state, "client", "id_ed25519");
    }

    private script(action: "up" | "down"): string {
        const vars: Record<string, string> = {
            ACTION: action, BED: this.id, STATE: this.state, SUDO_USER_NAME: this.sudoUser, CLIENT_PUB: `${this.clientKey}.pub`,
            MACHINES: this.machines.map((m) => `${m.name} ${m.role} ${m.port} ${m.address}/${m.prefix} ${this.routedLink(m)}`).join("\n"),
            ROUTER: (this.network?.router ?? []).map((c, i) => `${i + 1} ${c}`).join("\n"),
            OUTSIDE: this.network ? `${this.network.outside.router} ${this.network.outside.address}` : "",
            ROUTER_ROUTES: (this.network?.routes ?? []).map((r) => `${r.dest} ${r.via}`).join("\n"),
        };
        const header = Object.entries(vars).map(([k, v]) => `${k}=${shellQuote(v)}`).join("\n");
        return `${header}\n${fs.readFileSync(path.join(ROOT, "test", "sshbed", "bed.sh"), "utf8")}`;
    }

    /** "rcidr segment gateway" of a machine's routed NIC: the router's subnet it is in. */
    private routedLink(m: BedMachine): string {
        if (!m.routed) { return "- - -"; }
        const { address, prefix } = m.routed;
        const k = (this.network?.router ?? []).findIndex((c) => sameSubnet(c.split("/")[0], address, prefix));
        if (k < 0) { throw new Error(`sshbed: ${m.name}'s routed address ${address}/${prefix} is in none of the router's subnets`); }
        return `${address}/${prefix} ${k + 1} ${this.network!.router[k].split("/")[0]}`;
    }

    up(): void {
        fs.mkdirSync(path.dirname(this.clientKey), { recursive: true });
        if (!fs.existsSync(this.clientKey)) {
            spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `sshbed-${this.id}`, "-f", this.clientKey]);
        }
        const r = spawnSync("bash", ["-s"], { input: this.script("up"), encoding: "utf8" });
        if (r.status !== 0) { throw new Error(`sshbed up failed:\n${r.stderr}`); }
    }

    down(): void {
        const r = spawnSync("bash", ["-s"], { input: this.script("down"), encoding: "utf8" });
        if (r.status !== 0) { throw new Error(`sshbed down failed:\n${r.stderr}`); }
    }

    machine(name: string): BedMachine {
        const m = this.machines.find((x) => x.name === name);
        if (!m) { throw new Error(`sshbed: no machine ${name}`); }
        return m;
    }

    /** A command in the outside node beyond the router (the test's view; miglab never reaches it). */
    inOutside(command: string): Run {
        return sh(`ip netns exec ${this.id}-out bash -c ${shellQuote(command)}`);
    }

    /** A command in the team's router. */
    inRouter(command: string): Run {
        return sh(`ip netns exec ${this.id}-rt bash -c ${shellQuote(command)}`);
    }

    /** The test's own view of a machine (its namespaces, as root), for checks and for changing it behind miglab's back. */
    inMachine(name: string, command: string): Run {
        const pid = fs.readFileSync(path.join(this.state, "m", name, "anchor.pid"), "utf8").trim();
        return sh(`nsenter -t ${pid} -m -n -u -- bash -c ${shellQuote(command)}`);
    }

    /** A command over SSH, as an operator would run it. */
    ssh(name: string, command: string, user = "root"): Run {
        const m = this.machine(name);
        const r = spawnSync("ssh", ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-i", this.clientKey, "-p", String(m.port), `${user}@127.0.0.1`, command],
        { encoding: "utf8", timeout: 60 * 1000 });
        return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    }

    /** The machine's ed25519 host key, as its public key line ("ssh-ed25519 AAAA..."). */
    hostKey(name: string): string {
        return fs.readFileSync(path.join(this.state, "m", name, "root", "etc", "ssh", "ssh_host_ed25519_key.pub"), "utf8")
            .split(" ").slice(0, 2).join(" ");
    }

    /** Gives a machine new host keys, as a reinstall would, and reloads its sshd; returns what puts the old ones back. */
    rekey(name: string): () => void {
        const keep = path.join(this.state, "m", name, "old-host-keys");
        const run = (cmd: string) => {
            const r = this.inMachine(name, cmd);
            if (r.code !== 0) { throw new Error(`sshbed rekey ${name}: ${r.stderr}`); }
        };
        // Reloaded sshd re-executes and reads its keys anew; wait until it listens again.
        const reload = "kill -HUP $(cat /run/sshd.pid); for i in $(seq 50); do sleep 0.1; ssh-keyscan -T 2 127.0.0.1 >/dev/null 2>&1 && break; done";
        fs.mkdirSync(keep, { recursive: true });
        run(`cp -a /etc/ssh/ssh_host_* ${keep}/ && rm -f /etc/ssh/ssh_host_* && ssh-keygen -q -A && ${reload}`);
        return () => run(`rm -f /etc/ssh/ssh_host_* && cp -a ${keep}/ssh_host_* /etc/ssh/ && rm -rf ${keep} && ${reload}`);
    }

    /**
     * What miglab may leave changed on a machine: a listing (path, and a checksum for files) of the
     * directories it keeps state in, and its links, addresses, domains and pools. Logs and runtime
     * files of the daemons themselves are left out.
     */
    snapshot(name: string): string {
        const r = this.inMachine(name, [
            "cd / && find etc/ssh etc/libvirt etc/ganesha etc/sudoers.d etc/pki etc/exports etc/passwd etc/group root home srv mnt tmp var/lib/miglab var/lib/libvirt " +
            "-xdev \\( -type f -printf '%p ' -exec md5sum {} \\; \\) -o \\( ! -type f -print \\) 2>/dev/null | " +
            // libvirt makes its storage directories on first use and keeps them, empty.
            "grep -v -e '^var/lib/libvirt/dnsmasq' -e '^tmp/\\.' -e '^etc/libvirt/storage$' -e '^etc/libvirt/storage/autostart$' | sort",
            "echo '--- links'; ip -o link show | sed -E 's/^[0-9]+: //; s/ qlen [0-9]+//' | awk '{print $1, $2}' | sort",
            "echo '--- addresses'; ip -o addr show | awk '{print $2, $4}' | sort",
            "echo '--- routes'; ip route show | sort",
            "if command -v virsh >/dev/null && [ -S /run/libvirt/libvirt-sock ]; then echo '--- domains'; virsh -c qemu:///system list --all --name; " +
            "echo '--- pools'; virsh -c qemu:///system pool-list --all --name; echo '--- networks'; virsh -c qemu:///system net-list --all --name; fi",
            "if [ -S /run/openvswitch/db.sock ]; then echo '--- ovs'; ovs-vsctl list-br; fi",
        ].join("\n"));
        return r.stdout;
    }

    static tmpFile(prefix: string): string { return path.join(fs.mkdtempSync(path.join(os.tmpdir(), prefix)), "f"); }
}
