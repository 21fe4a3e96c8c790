import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { childOpts, givenDependsOn } from "./connection";
import { Domain } from "./domain";
import { Host } from "./host";
import { failOnLoggedErrors } from "./exit";
import { ArgChecks } from "./validate";
import { SlaConfig, checkMigrationOptions } from "../model/config";
import { DirectionSummary, LegOutcome, asOutputValue, isFailed, nextAttempts, parseLegOutcome, summarize } from "../reports/metrics";
import { judgeSla, slaBreachLine } from "../reports/sla";
import { DEFAULT_CAPTURE_DIR, LegSpec, MigrationTuning, bashCommand, migrateLegScript, tunnelPort } from "../render";

export interface MigrationArgs extends Partial<MigrationTuning> {
    /** The guest that moves. */
    domain: Domain;
    /** Where the guest runs when the migration starts, and where it goes (or give `path`). */
    from?: Host;
    to?: Host;
    /** The hosts the guest visits in order, starting where it runs (e.g. [pc1, pc2, pc3, pc1]), instead of from and to. */
    path?: Host[];
    /**
     * A third node that pings the guest every probeIntervalMs during each leg and asks its
     * counter. Without one (a guest behind NAT, which no other node reaches) the hosts ask the counter.
     */
    probe?: Host;
    /** Go back to the start at the end (unless the path ends there), so the guest ends where it began. Default true. */
    roundTrip?: boolean;
    /** Repeat the whole; every leg is kept and `summary` gives median, min and max per direction. Default 1. */
    runs?: number;
    /** Bridged: count the packets each leg's source sends into its tunnel port towards the destination. */
    watchTunnel?: boolean;
    /**
     * With `capture: true`: the node that captures each leg, on its link towards the leg's source
     * (a router between the hosts); default each leg's source itself, on its own underlay link.
     */
    captureAt?: Host;
    /** With `capture: true`: where the pcaps go on the node that captures. Default /var/lib/miglab/captures. */
    captureDir?: string;
    /** Other guests that must keep working meanwhile, and the host each runs on: asked before and after every leg. */
    bystanders?: { domain: Domain; host: Host }[];
    /** The legs' names in order (unique among the program's legs); default out/back(-<run>), or leg-<n> for a path. */
    legNames?: string[];
    /** What the legs' command resources are named after (`<legPrefix>-<leg>`); default the resource name. */
    legPrefix?: string;
    /** Anything else whose change should measure again (e.g. the guest network's definition). */
    triggers?: pulumi.Input<unknown>[];
    /** The legs reported last time (e.g. the stack's own `legs` output): a leg that failed then is tried again, and a migration whose leg broke its SLA runs again. */
    previousLegs?: pulumi.Input<unknown>;
    /**
     * Bounds each leg must meet (the config's `sla`). A leg that breaks one fails the update with
     * one line per broken bound, is kept with `sla: { passed: false, broken }`, and the next
     * `pulumi up` given `previousLegs` runs the whole migration again (it must end where it starts).
     */
    sla?: SlaConfig;
}

/**
 * Runs a live migration (`virsh migrate --live` over qemu+ssh) from → to and, by
 * default, back again (or along a path), one leg at a time, each leg measured:
 * libvirt's job statistics, a probe pinging the guest from a third node, a plain
 * transfer between the same two hosts in the same run, and the bystanders' counters.
 * Legs are named `<name>-out`, `<name>-back` (`-<run>` with several runs); re-run them
 * with `pulumi up --replace <leg urn>` (scripts/lab --remeasure does that). Several
 * Migrations run in the order their dependsOn gives (each starting where the guest is then).
 * A leg that fails is reported as its outcome (`failed`: one line naming the host and the
 * cause), the update fails, and the next `pulumi up` given `previousLegs` tries it again.
 * A leg that breaks its `sla` fails the update too, and the next such `pulumi up` measures the
 * whole migration again.
 */
export class Migration extends pulumi.ComponentResource {
    /** One entry per leg: its measurement, or (`failed`) why it has none. */
    readonly legs: pulumi.Output<LegOutcome[]>;
    /** Per direction: median, min and max of the headline figures over all runs. */
    readonly summary: pulumi.Output<DirectionSummary[]>;
    /** The options every leg ran with, defaults filled in. */
    readonly options: MigrationTuning & { roundTrip: boolean; runs: number; sla?: SlaConfig };

    constructor(name: string, args: MigrationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:migration:Migration", name, {}, opts);
        const { domain, from, to, path, probe, watchTunnel, captureAt, captureDir, bystanders, legNames, legPrefix, triggers, previousLegs, ...rest } = args;
        const hosts = path ?? [from, to].filter((h): h is Host => h !== undefined);
        const { options, problems } = checkMigrationOptions(rest as Record<string, unknown>, hosts.length > 1 && hosts[hosts.length - 1] === hosts[0], probe !== undefined);
        const v = new ArgChecks("Migration", name);
        for (const p of problems) { v.check(false, p.slice(0, p.indexOf(":")), p.slice(p.indexOf(":") + 2)); }
        v.check(domain instanceof Domain, "domain", "must be the Domain to migrate");
        v.check(path === undefined ? from !== undefined && to !== undefined : from === undefined && to === undefined, "path",
            "give either path (the hosts in order) or from and to");
        const field = (k: number) => (path ? `path[${k}]` : k === 0 ? "from" : "to");
        hosts.forEach((h, k) => {
            v.check(h instanceof Host, field(k), "must be a Host the guest runs on");
            if (!(h instanceof Host) || !(domain instanceof Domain)) { return; }
            v.check(domain.hosts.includes(h), field(k),
                `'${h.hostname}' is not one of the domain's hosts (${domain.hosts.map((x) => x.hostname).join(", ")}); add it to the Domain's hosts`);
            v.check(k === 0 || h !== hosts[k - 1], field(k), path ? `'${h.hostname}' again; each step must go to another host`
                : `is '${h.hostname}', the same host as from; give two different hosts`);
        });
        v.check(probe === undefined || (probe instanceof Host && !hosts.includes(probe)), "probe",
            "must be a Host the guest does not visit (it pings the guest from outside them)");
        checkCapture(v, captureAt, captureDir, hosts);
        (bystanders ?? []).forEach((b, i) => v.check(b.domain instanceof Domain && b.host instanceof Host && b.domain !== domain,
            `bystanders[${i}]`, "must be another guest's Domain and the Host it runs on meanwhile"));
        v.done(this);
        this.options = options;

        const steps = options.roundTrip && hosts[hosts.length - 1] !== hosts[0] ? [...hosts, hosts[0]] : hosts;
        const specs: { leg: string; from: Host; to: Host }[] = [];
        for (let run = 1; run <= options.runs; run++) {
            for (let k = 1; k < steps.length; k++) {
                // A from/to migration's legs keep the plain names (out, back) that scripts/lab --remeasure looks for.
                const fallback = path ? `leg-${specs.length + 1}` : `${k === 1 ? "out" : "back"}${options.runs > 1 ? `-${run}` : ""}`;
                specs.push({ leg: legNames?.[specs.length] ?? fallback, from: steps[k - 1], to: steps[k] });
            }
        }
        if (legNames && legNames.length !== specs.length) {
            throw new pulumi.ResourceError(`Migration '${name}': legNames has ${legNames.length} names for ${specs.length} legs`, this);
        }
        // A changed guest (or bystander, or anything given) is measured again, and so is one made to run again after a drift.
        const changes = pulumi.all([domain.xml, domain.instance, ...(bystanders ?? []).flatMap((b) => [b.domain.xml, b.domain.instance]),
            ...(triggers ?? [])]);
        const bystanderList = bystanderSpecs(bystanders, probe);
        // A leg that failed last time, or every leg when one broke the SLA, has a new try number:
        // its triggers change and it runs again.
        const attempts = pulumi.output(previousLegs as pulumi.Input<unknown[] | undefined>).apply((p) => nextAttempts(p, specs.map((s) => s.leg)));
        const outputs: pulumi.Output<LegOutcome>[] = [];
        let previous: pulumi.Input<pulumi.Resource>[] = [domain, ...hosts, ...(probe ? [probe] : []),
            ...(bystanders ?? []).map((b) => b.domain), ...givenDependsOn(opts)];
        for (const [k, s] of specs.entries()) {
            const leg = measuredLeg(this, `${legPrefix ?? name}-${s.leg}`, {
                leg: s.leg, domain, from: s.from, to: s.to, probe, watchTunnel, capture: { at: captureAt, dir: captureDir }, bystanders: bystanderList, tuning: options,
                sla: options.sla, changes, attempt: attempts.apply((a) => a[k]),
            }, previous);
            outputs.push(leg.outcome);
            previous = [leg.resource];
        }
        this.legs = pulumi.all(outputs);
        this.summary = this.legs.apply((l) => asOutputValue(summarize(l)));
        this.registerOutputs({ legs: this.legs, summary: this.summary });
    }
}

/** captureAt and captureDir of a Migration or a Drain. */
export function checkCapture(v: ArgChecks, at: Host | undefined, dir: string | undefined, visited: Host[]): void {
    v.check(at === undefined || (at instanceof Host && !visited.includes(at)), "captureAt",
        "must be a Host on the way between the hosts (a router) that the guest does not visit; leave it out to capture on each leg's source");
    v.check(dir === undefined || (typeof dir === "string" && /^\/[^\s'"]*$/.test(dir)), "captureDir", "must be an absolute path without spaces or quotes");
}

/** The other guests as a leg's script takes them: where each runs and the node that can ask its counter. */
export function bystanderSpecs(bystanders: { domain: Domain; host: Host }[] | undefined, probe: Host | undefined): pulumi.Output<NonNullable<LegSpec["bystanders"]>> {
    return pulumi.all((bystanders ?? []).map((b) => pulumi.all([b.host.address, probe?.address]).apply(([hostAddr, probeAddr]) => ({
        name: b.domain.guestName, address: b.domain.address, counterPort: b.domain.counterPort,
        // Behind NAT (no probe) only the host a guest runs on reaches its counter.
        asker: probeAddr ?? hostAddr, host: b.host.hostname,
    }))));
}

/** One measured leg as a Migration or a Drain declares it. */
export interface LegArgs {
    leg: string;
    domain: Domain;
    from: Host;
    to: Host;
    probe?: Host;
    watchTunnel?: boolean;
    /** Where a leg with tuning.capture captures (at: a node between the hosts, none: the source) and into which directory. */
    capture?: { at?: Host; dir?: string };
    bystanders: pulumi.Output<NonNullable<LegSpec["bystanders"]>>;
    tuning: MigrationTuning;
    sla?: SlaConfig;
    /** The plain transfer's port on the destination (legs to one destination at once each need their own). */
    iperfPort?: number;
    /** Whatever, changed, measures the leg again. */
    changes: pulumi.Output<unknown[]>;
    /** Its try number (nextAttempts): a new one runs it again. */
    attempt: pulumi.Output<number>;
}

/**
 * A leg: migrate-leg.sh run on the source, after `dependsOn`, and its outcome (parsed, judged
 * against the SLA). A failed leg or a broken bound is logged as an error on the leg, which fails
 * the update once the program is done (its outputs saved: see failOnLoggedErrors); a preview
 * only warns about a broken bound.
 */
export function measuredLeg(parent: pulumi.Resource, resourceName: string, x: LegArgs, dependsOn: pulumi.Input<pulumi.Resource>[]):
    { resource: command.remote.Command; outcome: pulumi.Output<LegOutcome> } {
    const { domain, from, to } = x;
    // Only in a program the Pulumi runner runs (it names the engine's monitor): under a test's
    // mocks the process is the test runner's, whose exit code is its own.
    if (process.env.PULUMI_NODEJS_MONITOR) { failOnLoggedErrors(); }
    const spec = pulumi.all([from.address, to.address, x.probe?.address, x.bystanders, x.capture?.at?.address])
        .apply(([fromAddr, toAddr, probeAddr, others, captureAddr]): LegSpec => ({
            leg: x.leg,
            guest: {
                name: domain.guestName, address: domain.address, counterPort: domain.counterPort, memoryMiB: domain.memoryMiB,
                ...(domain.localDisk ? { disk: domain.localDisk, diskWrites: domain.diskWrites } : {}),
            },
            from: { name: from.hostname, address: fromAddr }, to: { name: to.hostname, address: toAddr },
            probe: probeAddr, tunnelPort: x.watchTunnel ? tunnelPort({ name: to.hostname }) : undefined,
            keyPath: from.peerKeyPath, knownHosts: from.peerKnownHosts, tuning: x.tuning, bystanders: others,
            capture: {
                ...(x.capture?.at ? { at: captureAddr, node: x.capture.at.hostname } : { node: from.hostname }),
                dir: x.capture?.dir ?? DEFAULT_CAPTURE_DIR,
            },
            ...(x.iperfPort !== undefined ? { iperfPort: x.iperfPort } : {}),
        }));
    const leg = new command.remote.Command(resourceName, {
        connection: from.connection,
        create: spec.apply((s) => bashCommand(migrateLegScript(s))),
        // stdout is the leg's raw figures (iperf3's JSON, every probe reply): kept in the
        // outputs, not streamed into `pulumi up`; stderr is its progress, shown live.
        logging: "stderr",
        triggers: pulumi.all([x.changes, x.attempt]).apply(([c, a]) => [...c.filter((v) => v !== undefined && v !== ""), ...(a > 0 ? [a] : [])]),
    }, childOpts(parent, { dependsOn }));
    // The leg script reports a failed migration instead of failing, so the outputs can say so;
    // the update still fails, with the leg's one clear line logged as an error on the leg
    // (the program's exit code follows from it: exit.ts). Said here, in the one chain the
    // outputs hang on: a side chain would turn any error of the leg into an unhandled rejection.
    const outcome = pulumi.all([leg.stdout, x.attempt]).apply(([out, a]): LegOutcome => {
        const o: LegOutcome = { ...parseLegOutcome(x.leg, from.hostname, to.hostname, out, a), guest: domain.guestName };
        if (isFailed(o)) {
            pulumi.log.error(`leg ${o.leg} (${o.from} -> ${o.to}): ${o.failed}`, leg);
        } else if (x.sla) {
            // Judged on every update, from the figures the state keeps: a bound tightened
            // since the leg ran fails this update, and the next one measures again. A
            // preview only warns: failing it would stop the update whose outputs record
            // the verdict that the next update measures again on.
            o.sla = judgeSla(o, x.sla);
            const preview = pulumi.runtime.isDryRun();
            for (const b of o.sla.broken) { (preview ? pulumi.log.warn : pulumi.log.error)(slaBreachLine(o, b), leg); }
        }
        return asOutputValue(o);
    });
    return { resource: leg, outcome };
}
