// A lab stack of the lab suites' (and the benchmark's) own: a copy of one of stacks/
// under another stack name and export path, with a state backend in a temp folder.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LabConfig, parseLabConfig } from "../components/model/config";
import { Plan, planLab } from "../components/model/plan";
import { siteSpecOf } from "../components/render/specs";
import { localSiteScript, nicStateScript } from "../components/render";
import { ROOT, Run, fileBackend, pulumi, pulumiEnv, sh, testPrefix } from "./pulumi-cli";
import { LegOutcome } from "../components/reports/metrics";

const yaml = require("js-yaml");

/** The legs of `legs` (a stack's `legs` output) that finished after `sinceMs`: what one `pulumi up` measured. */
function freshLegs(legs: unknown, sinceMs: number): LegOutcome[] {
    return (Array.isArray(legs) ? legs : []).filter((l) => l && typeof l === "object" && Date.parse(l.finishedAt ?? "") >= sinceMs);
}

/**
 * The counter a lab guest keeps in sector 0 of its disk ("<n>\n"), read from its qcow2 image
 * beside the QEMU that runs it (qemu-io, shared and read-only): NaN when it cannot be read.
 */
export function diskCounterOf(image: string): number {
    const r = spawnSync("qemu-io", ["-r", "-U", "-f", "qcow2", "-c", "read -v 0 16", image], { encoding: "utf8" });
    // qemu-io prints "00000000:  36 35 30 0a 00 ...  650....."
    const hex = /^00000000: +((?:[0-9a-f]{2} ){16})/m.exec(r.stdout ?? "")?.[1];
    const text = hex ? Buffer.from(hex.trim().split(/ +/).map((b) => parseInt(b, 16))).toString("latin1") : "";
    return Number(/^(\d+)\n/.exec(text)?.[1] ?? NaN);
}

export class LabStack {
    readonly file: string;
    readonly export: string;
    readonly env: NodeJS.ProcessEnv;
    /** The stack's own file backend (its state). */
    readonly state: string;
    plan!: Plan;

    /** name: the stack; base: the shipped stack its config starts from. */
    readonly name: string;

    /**
     * name: the stack ("ci-..." names take testPrefix() instead of "ci", so two checkouts
     * can run lab suites side by side); base: the shipped stack its config starts from; root:
     * the checkout whose program and stacks/ it runs (the A/B bench runs another version's).
     */
    constructor(name: string, readonly base = "same-subnet", env: Record<string, string> = {}, readonly root = ROOT) {
        this.name = name.replace(/^ci-/, `${testPrefix()}-`);
        name = this.name;
        this.file = path.join(root, "stacks", `Pulumi.${name}.yaml`);
        this.export = `/var/lib/miglab/exports/${name}`;
        // Made by init(), not here: a suite that --grep leaves out constructs its LabStack all the
        // same, and never removes it.
        this.state = path.join(os.tmpdir(), `miglab-${name}-${process.pid}`);
        this.env = pulumiEnv({ PULUMI_BACKEND_URL: fileBackend(this.state), ...env });
    }

    /** Writes the stack file: the base stack's lab, changed by `edit`. */
    configure(edit: (lab: any) => void = () => undefined): LabConfig {
        const doc = yaml.load(fs.readFileSync(path.join(this.root, "stacks", `Pulumi.${this.base}.yaml`), "utf8"));
        const lab = doc.config["miglab:lab"];
        // A lab without an export (no NFS server) stays without one.
        if (lab.nfs.export !== undefined) { lab.nfs.export = this.export; }
        edit(lab);
        fs.writeFileSync(this.file, yaml.dump(doc));
        const cfg = parseLabConfig(lab);
        this.plan = planLab(cfg, this.name);
        return cfg;
    }

    init(): void {
        fs.mkdirSync(this.state, { recursive: true, mode: 0o700 });
        const r = pulumi(["stack", "init", this.name], this.root, this.env);
        if (r.code !== 0) { throw new Error(r.stdout + r.stderr); }
    }

    pulumi(args: string[]): Run {
        return pulumi([...args, "--stack", this.name], this.root, this.env);
    }

    /** `pulumi up --yes` as a user types it: the preview runs first. */
    up(...extra: string[]): Run { return this.pulumi(["up", "--yes", ...extra]); }

    /** The URNs of the stack's migration legs, for `pulumi up --replace` (what `npm run lab -- --remeasure` replaces). */
    legUrns(): string[] {
        const s = JSON.parse(this.pulumi(["stack", "export"]).stdout);
        return (s.deployment.resources ?? []).map((r: any) => r.urn).filter((u: string) => /-migration-(out|back)$/.test(u));
    }

    /**
     * `pulumi up` in the background while `watch` is asked every 300 ms (at most `tries` times)
     * until it says true; then `during` runs once (an up that never gets there is interrupted). The wait never blocks: pulumi's output must
     * keep draining, or once the pipe fills it stops writing, and so stops working.
     */
    async upWhile(args: string[], watch: () => boolean, during: (up: ChildProcess) => void, tries = 600):
        Promise<{ run: Run; seen: boolean }> {
        const up = spawn("pulumi", ["up", "--yes", "--non-interactive", "--stack", this.name, ...args], { cwd: this.root, env: this.env });
        let stdout = "", stderr = "";
        up.stdout.on("data", (d) => { stdout += d; });
        up.stderr.on("data", (d) => { stderr += d; });
        const exited = new Promise<number>((resolve) => up.on("close", (code) => resolve(code ?? -1)));
        let seen = false;
        try {
            for (let i = 0; i < tries && up.exitCode === null; i++) {
                if (watch()) { seen = true; during(up); break; }
                await new Promise((resolve) => setTimeout(resolve, 300));
            }
        } catch (e) {
            up.kill("SIGINT");
            await exited;
            throw e;
        }
        if (!seen && up.exitCode === null) { up.kill("SIGINT"); }
        return { run: { code: await exited, stdout, stderr }, seen };
    }

    /**
     * One `pulumi up` of a benchmark case: the legs it measured (only those it finished: a leg
     * it never reached keeps an earlier case's figures), its time, the machine's load around it.
     */
    measuredUp(...extra: string[]): { run: Run; legs: LegOutcome[]; upSeconds: number; load: [number, number] } {
        const load0 = os.loadavg()[0];
        const t0 = Date.now();
        const run = this.up(...extra);
        const upSeconds = (Date.now() - t0) / 1000;
        let legs: LegOutcome[] = [];
        try { legs = freshLegs(this.outputs().legs, t0); } catch { legs = []; }
        return { run, legs, upSeconds, load: [load0, os.loadavg()[0]] };
    }

    outputs(): any { return JSON.parse(this.pulumi(["stack", "output", "--json"]).stdout); }

    /** Runs a command inside a node's namespaces on this machine (for captures the node's sshd cannot make). */
    inNode(node: string, command: string): Run {
        const pid = fs.readFileSync(path.join(this.plan.stateDir, "nodes", node, "anchor.pid"), "utf8").trim();
        return sh(`nsenter -t ${pid} -m -n -- bash -c ${JSON.stringify(command)}`);
    }

    /**
     * Captures what crosses a node's interface `iface` matching the capture filter `filter`
     * (dumpcap, pcap format), inside the node's network namespace, from when this resolves until
     * stop(), which gives the capture file's path on this machine (the caller removes it) and
     * what dumpcap said (its count of packets received and dropped).
     */
    async capture(node: string, iface: string, filter: string): Promise<{ stop(): Promise<{ file: string; said: string }> }> {
        const pid = fs.readFileSync(path.join(this.plan.stateDir, "nodes", node, "anchor.pid"), "utf8").trim();
        const file = path.join(os.tmpdir(), `miglab-capture-${this.name}-${node}-${process.pid}-${Date.now()}.pcap`);
        const log = `${file}.log`;
        const out = fs.openSync(log, "w");
        // dumpcap writes the file itself: nothing of its output passes through this process,
        // whose event loop a synchronous `pulumi up` blocks meanwhile. A kernel buffer of 64 MiB
        // keeps up with a leg at the link's 1 Gbit/s while the machine is busy.
        const child = spawn("nsenter", ["-t", pid, "-n", "--", "dumpcap", "-i", iface, "-P", "-q", "-B", "64", "-f", filter, "-w", file],
            { stdio: ["ignore", out, out] });
        fs.closeSync(out);
        let code: number | null = null;
        const exited = new Promise<void>((resolve) => child.on("exit", (c) => { code = c ?? -1; resolve(); }));
        const said = () => fs.readFileSync(log, "utf8");
        try {
            for (let i = 0; !/Capturing on/.test(said()); i++) {
                if (code !== null || i > 100) { throw new Error(`dumpcap on ${node} (${iface}) did not start capturing: ${said() || `exit ${code}`}`); }
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
        } catch (e) {
            child.kill("SIGINT");
            fs.rmSync(log, { force: true });
            fs.rmSync(file, { force: true });
            throw e;
        }
        return {
            stop: async () => {
                child.kill("SIGINT");
                await exited;
                const text = said();
                fs.rmSync(log, { force: true });
                return { file, said: text.trim() };
            },
        };
    }

    /** Runs a command on a lab node through its sshd, as the program does. */
    onNode(node: string, command: string, input = ""): Run {
        const n = this.plan.nodes.find((x) => x.name === node)!;
        const key = path.join(this.plan.stateDir, "ssh", "id_ed25519");
        const r = spawnSync("ssh", ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-i", key, "-p", String(n.connect.port), "root@127.0.0.1", command],
        { encoding: "utf8", input, timeout: 10 * 60 * 1000 });
        return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    }

    /** onNode without waiting: the command runs while the caller does something else (its output drains meanwhile). */
    onNodeAsync(node: string, command: string, input = ""): Promise<Run> {
        const n = this.plan.nodes.find((x) => x.name === node)!;
        const key = path.join(this.plan.stateDir, "ssh", "id_ed25519");
        const child = spawn("ssh", ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-i", key, "-p", String(n.connect.port), "root@127.0.0.1", command]);
        let stdout = "", stderr = "";
        child.stdout.on("data", (d) => { stdout += d; });
        child.stderr.on("data", (d) => { stderr += d; });
        child.stdin.end(input);
        return new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr })));
    }

    /** Whether a migration of `guest` is moving data out of `node` now. */
    migrating(node: string, guest: string): boolean {
        const info = this.onNode(node, `virsh -c qemu:///system domjobinfo ${guest}`).stdout;
        return /Job type:\s+Unbounded/.test(info) && /Data processed:\s+[1-9]/.test(info);
    }

    /** Whether `guest`'s migration from `node` is past its post-copy switch (libvirt: "paused (post-copy)"). */
    inPostcopy(node: string, guest: string): boolean {
        return /post-copy\)/.test(this.inNode(node, `virsh -c qemu:///system domstate ${guest} --reason`).stdout);
    }

    /** The guest's counter, asked from the probe node. */
    counter(guest = this.plan.guests[0]): number {
        const line = this.onNode(this.plan.probe.name,
            `timeout 5 bash -c 'exec 3<>/dev/tcp/${guest.address}/${guest.counterPort}; head -n1 <&3'`).stdout;
        return Number(/counter=(\d+)/.exec(line)?.[1] ?? NaN);
    }

    /**
     * What `guest` does on `node`, asked as a leg asks a guest silent after its move
     * (nic-state.sh): `nic` its NIC's traffic over 2 s and QEMU's virtqueues, `console` the end of
     * its console, `guestFault` the fault its kernel reported since it last started.
     */
    guestState(node: string, guest = this.plan.guests[0]): { nic: string; console: string; guestFault?: string } {
        const r = this.onNode(node, "bash -s", nicStateScript(guest.name));
        const lines = (r.stdout + r.stderr).split("\n");
        const tagged = (tag: string) => lines.filter((l) => l.startsWith(`${tag}: `)).map((l) => l.slice(tag.length + 2));
        return { nic: [...tagged("nic"), ...tagged("queues")].join("; "), console: tagged("console").join("\n"), guestFault: tagged("fault")[0] };
    }

    /**
     * The counter the guest writes to sector 0 of its disk once a second (with fsync), read beside
     * its running QEMU (qemu-io, shared): it rises while the guest runs, whatever its network
     * does. NaN when it cannot be read.
     */
    diskCounter(guest = this.plan.guests[0]): number {
        const at = this.diskPaths(guest);
        return at.length === 1 ? diskCounterOf(at[0].file) : NaN;
    }

    /**
     * Where the guest's disk is on this machine: the file on the export, or (storage copy*) the
     * copy in each host's own pool that holds one (a local-site node's /var/lib/libvirt is a
     * directory of the site's state): after every leg exactly one host should.
     */
    diskPaths(guest = this.plan.guests[0]): { host?: string; file: string }[] {
        if (!guest.local) { return [{ file: guest.disk }]; }
        return this.plan.hosts.map((h) => ({ host: h.name, file: path.join(this.plan.stateDir, "nodes", h.name, "root", guest.local!.path) }))
            .filter((d) => fs.existsSync(d.file));
    }

    /**
     * Whether the guest runs: its counter (one tick per 100 ms the guest actually runs) rises
     * within `withinS` seconds. A read can fail on a busy machine (the ask has a 5 s timeout),
     * so reads are repeated until the bound, and the message says what was read. When it does not
     * rise: `disk` says whether the guest itself stands still (its disk counter, over 4 s) or runs
     * cut off; the message adds the NIC and console of each host that runs the guest; and
     * `guestFault` names the fault the guest's kernel reported, with the host whose console says
     * so (see guestState). A guest that stands still is given 45 s to say why: its kernel's
     * soft-lockup watchdog reports a stuck CPU after about 20 s.
     */
    counting(guest = this.plan.guests[0], withinS = 20): { ok: boolean; said: string; guestFault?: string; disk?: string } {
        const reads: number[] = [];
        const deadline = Date.now() + withinS * 1000;
        let first = NaN;
        while (Date.now() < deadline) {
            const n = this.counter(guest);
            reads.push(n);
            if (Number.isNaN(first)) { first = n; } else if (n > first) { return { ok: true, said: reads.join(", ") }; }
            spawnSync("sleep", ["0.5"]);
        }
        const d0 = this.diskCounter(guest);
        spawnSync("sleep", ["4"]);
        const d1 = this.diskCounter(guest);
        const stands = !Number.isNaN(d0) && d1 === d0;
        const disk = Number.isNaN(d0) || Number.isNaN(d1) ? "its disk counter could not be read"
            : stands ? `its disk counter stood at ${d0} over 4 s: the guest stands still` : `its disk counter went ${d0} -> ${d1} in 4 s: the guest runs, cut off`;
        // Every host's account: a fault is on the console of the host the guest ran on then,
        // which need not be where the guest runs now (it may have been moved on dead).
        const accounts = () => this.plan.hosts.map((h) => ({ h: h.name, ...this.guestState(h.name, guest),
            running: this.onNode(h.name, `virsh -c qemu:///system domstate ${guest.name}`).stdout.trim() === "running" }));
        let hosts = accounts();
        for (const until = Date.now() + 45000; stands && !hosts.some((x) => x.guestFault) && Date.now() < until;) {
            spawnSync("sleep", ["5"]);
            hosts = accounts();
        }
        const broke = hosts.find((x) => x.guestFault);
        const running = hosts.filter((x) => x.running);
        return { ok: false, guestFault: broke && `on ${broke.h}: ${broke.guestFault}`, disk,
            said: `${guest.name}'s counter did not rise within ${withinS} s (reads: ${reads.join(", ")}); ${disk}; ` +
            `running on ${running.map((x) => x.h).join(", ") || "no host"}` +
            running.map((c) => `\n${guest.name}'s NIC on ${c.h}: ${c.nic}\n${guest.name}'s console on ${c.h}:\n${c.console}`).join("") +
            (broke && !broke.running ? `\n${guest.name}'s kernel's fault on ${broke.h}, where it ran before: ${broke.guestFault}` : "") };
    }

    /**
     * After an aborted or failed migration: `node` drops its incoming copy of `guest` within
     * `withinS` seconds (libvirt does so when the job's last step reaches it, a moment after the
     * source's job ends), and that copy never runs meanwhile.
     */
    dropsGuest(node: string, guest = "vm1", withinS = 30): { ok: boolean; said: string } {
        const virsh = (a: string) => this.onNode(node, `virsh -c qemu:///system ${a}`).stdout.trim();
        const deadline = Date.now() + withinS * 1000;
        for (;;) {
            if (!new RegExp(`^${guest}$`, "m").test(virsh("list --all --name"))) { return { ok: true, said: "" }; }
            const st = virsh(`domstate ${guest}`);
            if (st === "running") { return { ok: false, said: `${guest} runs on ${node} too` }; }
            if (Date.now() > deadline) { return { ok: false, said: `${node} kept a copy of ${guest} ('${st}') ${withinS} s after the migration ended` }; }
            spawnSync("sleep", ["0.5"]);
        }
    }

    /** Destroys whatever is up (falling back to the site script), removes the stack and its files. */
    remove(): void {
        const r = this.pulumi(["destroy", "--yes", "--skip-preview"]);
        if (r.code !== 0 && this.plan) {
            console.error(r.stdout.slice(-3000));
            sh(localSiteScript(siteSpecOf(this.plan), "down"));
        }
        this.pulumi(["stack", "rm", "--yes", "--force"]);
        fs.rmSync(this.file, { force: true });
        fs.rmSync(this.state, { recursive: true, force: true });
    }
}
