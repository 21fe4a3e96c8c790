import * as pulumi from "@pulumi/pulumi";
import { GuestCpu, parseGuestCpu } from "../model/cpu";
import { CpuCase, CpuFindings, HostCpuAnswer, baselineCpu, cpuProblem, parseCpuCheck } from "../reports/cpuCheck";
import { Accel, CpuCheckSpec, bashCommand, commonAccel, cpuCheckScript, cpuXml, virtType } from "../render";
import { underMocks } from "./connection";
import { sshRun } from "./ssh";
import { Host } from "./host";
import { ArgChecks, guestCpu, isName, nameMsg } from "./validate";

/** Asks one host what cpu-check.sh rendered from the spec prints. */
export type CpuAsk = (host: string, spec: CpuCheckSpec) => Promise<string>;

/**
 * The CPU preflight: which guests' CPUs do not run on every host they may visit, as one line
 * each (none: all run). Three rounds, each one question per host: (1) every visited host says
 * which CPU modes it offers, its host-model CPU, and whether it runs each named model of the
 * guests that visit it; (2) a guest in host-model (or host-passthrough) mode takes its home's CPU
 * along, so the other hosts it visits are asked about that CPU; (3) for a guest that does not run
 * somewhere, the first host it visits is asked for the baseline of all its hosts' CPUs.
 */
export async function cpuPreflight(cases: CpuCase[], accel: Accel, ask: CpuAsk): Promise<string[]> {
    const virt = virtType(accel);
    const cpus = new Map<string, GuestCpu>(cases.map((c) => [c.guest, parseGuestCpu(c.cpu)]));
    const id = (c: CpuCase) => `g${cases.indexOf(c)}`;
    const hosts = [...new Set(cases.flatMap((c) => c.visits))];
    const visiting = (h: string) => cases.filter((c) => c.visits.includes(h));
    const first: Record<string, HostCpuAnswer> = {};
    for (const h of hosts) {
        const compare = visiting(h).filter((c) => cpus.get(c.guest)!.mode === "custom").map((c) => ({ id: id(c), xml: cpuXml(cpus.get(c.guest), accel) }));
        first[h] = parseCpuCheck(await ask(h, { node: h, virtType: virt, hostInfo: true, compare, baseline: [] }));
    }
    const findings = new Map<CpuCase, CpuFindings>(cases.map((c) => [c, { unsupported: [], missing: [], errors: [] }]));
    const record = (c: CpuCase, h: string, a: HostCpuAnswer["compares"][string] | undefined) => {
        const f = findings.get(c)!;
        if (!a) { f.errors.push({ host: h, error: "no answer" }); } else if (!a.runs && a.error !== undefined) { f.errors.push({ host: h, error: a.error }); } else if (!a.runs) { f.missing.push({ host: h, features: a.missing }); }
    };
    const carried: { c: CpuCase; xml: string }[] = [];
    for (const c of cases) {
        const cpu = cpus.get(c.guest)!;
        if (cpu.mode === "custom") {
            for (const h of c.visits) { record(c, h, first[h].compares[id(c)]); }
            continue;
        }
        const f = findings.get(c)!;
        f.unsupported = c.visits.filter((h) => first[h].modes[cpu.mode] !== true);
        // host-passthrough shows the home's own CPU; libvirt's host-model is the nearest document of it.
        const home = first[c.visits[0]].hostModel;
        if (f.unsupported.length === 0 && c.visits.length > 1) {
            if (home) { carried.push({ c, xml: home }); } else { f.errors.push({ host: c.visits[0], error: "libvirt printed no host-model CPU" }); }
        }
    }
    for (const h of hosts) {
        const compare = carried.filter(({ c }) => c.visits.slice(1).includes(h)).map(({ c, xml }) => ({ id: id(c), xml }));
        if (compare.length === 0) { continue; }
        const a = parseCpuCheck(await ask(h, { node: h, virtType: virt, hostInfo: false, compare, baseline: [] }));
        for (const { c } of carried.filter(({ c }) => c.visits.slice(1).includes(h))) { record(c, h, a.compares[id(c)]); }
    }
    const problems: string[] = [];
    for (const c of cases) {
        const f = findings.get(c)!;
        const models = c.visits.map((h) => first[h].hostModel);
        if (f.missing.length > 0 && models.every((m): m is string => m !== undefined)) {
            const b = parseCpuCheck(await ask(c.visits[0], { node: c.visits[0], virtType: virt, hostInfo: false, compare: [], baseline: models })).baseline;
            f.suggestion = b && "xml" in b ? baselineCpu(b.xml) : undefined;
        }
        const p = cpuProblem(c, f, virt);
        if (p) { problems.push(p); }
    }
    return problems;
}

export interface CpuCheckArgs {
    /** The hypervisor hosts the guests may visit (each guest's visits name them by hostname). */
    hosts: Host[];
    /** The guests whose CPU is configured: the CPU (guests[].cpu), the hosts it may visit (home first), the field to name in a fix. */
    guests: { name: string; cpu: string; visits: string[]; field?: string }[];
}

/**
 * Checks, on every host each guest may visit, that the guest's CPU runs there, before any guest
 * is defined: `passed` resolves only then (a Domain given `cpu: check.cpuOf(name)` waits for it),
 * and a CPU that does not run fails the run with a line per guest naming the hosts, the missing
 * features and a CPU all of them run. It runs in the program itself, at every `pulumi preview` and
 * `pulumi up` whose hosts are known already (a lab built before); a lab not yet built is checked
 * during its `up`, as soon as its hosts answer and before its guests are made.
 */
export class CpuCheck extends pulumi.ComponentResource {
    readonly passed: pulumi.Output<true>;
    private readonly cpus: Record<string, string>;

    constructor(name: string, args: CpuCheckArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:guest:CpuCheck", name, {}, opts);
        const v = new ArgChecks("CpuCheck", name);
        const hostNames = args.hosts.map((h) => h.hostname);
        v.check(args.hosts.length > 0 && args.hosts.every((h) => h instanceof Host && h.role === "host"), "hosts", "must be hypervisor Hosts (role 'host')");
        args.guests.forEach((g, i) => {
            v.check(isName(g.name), `guests[${i}].name`, `'${g.name}' ${nameMsg}`);
            v.check(guestCpu.test(g.cpu), `guests[${i}].cpu`, `'${g.cpu}' ${guestCpu.message}`);
            v.check(g.visits.length > 0 && g.visits.every((h) => hostNames.includes(h)), `guests[${i}].visits`,
                `must name hosts of this check (${hostNames.join(", ")}), the guest's home first`);
        });
        v.done(this);
        this.cpus = Object.fromEntries(args.guests.map((g) => [g.name, g.cpu]));
        const cases: CpuCase[] = args.guests.map((g, i) => ({ guest: g.name, cpu: g.cpu, visits: g.visits, field: g.field ?? `guests[${i}].cpu` }));
        const hosts = pulumi.all(args.hosts.map((h) => pulumi.all([pulumi.output(h.connection), h.accel])));
        this.passed = hosts.apply(async (known) => {
            // A unit test's hosts are made up: nothing to ask.
            if (underMocks() || cases.length === 0) { return true as const; }
            const ask: CpuAsk = async (host, spec) => {
                const [c] = known[hostNames.indexOf(host)];
                const r = await sshRun({ host: c.host as string, port: c.port as number | undefined, user: c.user as string | undefined,
                    privateKey: c.privateKey as string | undefined, hostKey: c.hostKey as string | undefined }, bashCommand(cpuCheckScript(spec)), 180000);
                if (r.status !== 0) {
                    throw new pulumi.RunError(`host ${host}: the CPU preflight could not ask libvirt there: ${`${r.stdout}\n${r.stderr}`.trim().split("\n").slice(-3).join(" ")}`);
                }
                return r.stdout;
            };
            const problems = await cpuPreflight(cases, commonAccel(known.map(([, a]) => a)), ask);
            if (problems.length > 0) { throw new pulumi.RunError(problems.join("\n")); }
            return true as const;
        });
        this.registerOutputs({ passed: this.passed });
    }

    /** A guest's CPU, known once the check passed: a Domain given it waits for the check. */
    cpuOf(guest: string): pulumi.Output<string> {
        const cpu = this.cpus[guest];
        if (cpu === undefined) { throw new pulumi.ResourceError(`CpuCheck: guest '${guest}' is not one it checks (${Object.keys(this.cpus).join(", ")})`, this); }
        return this.passed.apply(() => cpu);
    }
}
