import * as pulumi from "@pulumi/pulumi";
import { givenDependsOn } from "./connection";
import { Domain } from "./domain";
import { Host } from "./host";
import { bystanderSpecs, checkCapture, measuredLeg } from "./migration";
import { ArgChecks } from "./validate";
import { SlaConfig, checkMigrationOptions } from "../model/config";
import { drainChain, drainWaits } from "../model/drain";
import { fieldRule, schemaDefault } from "../model/schema";
import { asOutputValue } from "../reports/metrics";
import { DrainReport, drainAttempts, drainBreachLine, drainReport, judgeDrain } from "../reports/drain";
import { LegOutcome } from "../reports/metrics";
import { DRAIN_BOUNDS } from "../reports/sla";
import { IPERF_PORT, MigrationTuning } from "../render";

const parallelRule = fieldRule("migration.drain.parallel");

export interface DrainArgs extends Partial<MigrationTuning> {
    /** The host to empty. */
    host: Host;
    /**
     * Every guest running on `host` and where it goes, in the order the legs start (the config's
     * drains take the largest guest first: see placeGuests in components/model/drain.ts).
     */
    moves: { domain: Domain; to: Host }[];
    /** The most legs at once (default: the schema's). Leg k starts when leg k - parallel has ended. */
    parallel?: number;
    /** Bring the guests back once the host is empty, `parallel` at once too. Default true. */
    roundTrip?: boolean;
    /** A node that pings each guest during its legs (none: behind NAT, the hosts ask the counters). */
    probe?: Host;
    /** Guests that stay put meanwhile, and where they run: asked before and after every leg. */
    bystanders?: { domain: Domain; host: Host }[];
    /** Bridged: count the packets each leg's source sends into its tunnel port. */
    watchTunnel?: boolean;
    /** With `capture: true`: the node that captures each leg (a router between the hosts); default each leg's source. */
    captureAt?: Host;
    /** With `capture: true`: where the pcaps go there. Default /var/lib/miglab/captures. */
    captureDir?: string;
    /** The legs' names, out then back (unique among the program's legs); default <guest>-out / <guest>-back. */
    legNames?: string[];
    /** What the legs' command resources are named after (`<legPrefix>-<leg>`); default the resource name. */
    legPrefix?: string;
    /** Anything else whose change should measure again. */
    triggers?: pulumi.Input<unknown>[];
    /** The legs reported last time: failed ones run again, and every leg when one broke its SLA. */
    previousLegs?: pulumi.Input<unknown>;
    /** The drains reported last time (the stack's `drains` output): every leg runs again when this drain broke maxDrainMs. */
    previousDrains?: pulumi.Input<unknown>;
    /** Bounds on each leg and (maxDrainMs) on the drain's time; a breach fails the update, and the next one runs the drain again. */
    sla?: SlaConfig;
    /** What the report and its error line call the drain (the config path, e.g. migrations[0]); default the resource name. */
    at?: string;
}

/**
 * Empties a host: every guest on it migrates to its destination, at most `parallel` legs at
 * once (leg k waits for leg k - parallel: `parallel` chains), and with roundTrip comes back once
 * all have left, `parallel` at once too. Each leg is measured as a Migration's is; `report` has
 * the drain's own figures (components/reports/drain.ts). Legs to one destination that may run at
 * once measure their plain transfer on ports of their own (5201 + their chain).
 */
export class Drain extends pulumi.ComponentResource {
    readonly legs: pulumi.Output<LegOutcome[]>;
    readonly report: pulumi.Output<DrainReport>;
    /** Each leg in the order declared: the legs it waits for (its dependsOn among them) and its plain transfer's port. */
    readonly schedule: { leg: string; after: string[]; iperfPort: number }[];

    constructor(name: string, args: DrainArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:migration:Drain", name, {}, opts);
        const { host, moves, parallel: parallelArg, probe, watchTunnel, captureAt, captureDir, bystanders, legNames, legPrefix, triggers, previousLegs, previousDrains, at, ...rest } = args;
        const roundTrip = rest.roundTrip ?? schemaDefault<boolean>("migration.roundTrip");
        const { options, problems } = checkMigrationOptions(rest as Record<string, unknown>, false, probe !== undefined, true);
        const parallel = parallelArg ?? schemaDefault<number>("migration.drain.parallel");
        const v = new ArgChecks("Drain", name);
        for (const p of problems) { v.check(false, p.slice(0, p.indexOf(":")), p.slice(p.indexOf(":") + 2)); }
        v.check(parallelRule.test(parallel), "parallel", parallelRule.message);
        v.check(host instanceof Host, "host", "must be the Host to empty");
        v.check(Array.isArray(moves) && moves.length > 0, "moves", "must list the guests on host and where each goes ({ domain, to })");
        (Array.isArray(moves) ? moves : []).forEach((m, i) => {
            v.check(m.domain instanceof Domain, `moves[${i}].domain`, "must be a Domain running on host");
            v.check(m.to instanceof Host && m.to !== host, `moves[${i}].to`, "must be a Host other than the one drained");
            if (m.domain instanceof Domain && m.to instanceof Host && host instanceof Host) {
                for (const h of [host, m.to]) {
                    v.check(m.domain.hosts.includes(h), `moves[${i}]`, `'${h.hostname}' is not one of ${m.domain.guestName}'s hosts; add it to the Domain's hosts`);
                }
            }
            v.check(moves.findIndex((x) => x.domain === m.domain) === i, `moves[${i}].domain`, "is listed twice; each guest moves once");
        });
        v.check(probe === undefined || (probe instanceof Host && probe !== host && !(moves ?? []).some((m) => m.to === probe)), "probe",
            "must be a Host none of the guests visits (it pings them from outside)");
        checkCapture(v, captureAt, captureDir, [host, ...(Array.isArray(moves) ? moves.map((m) => m.to) : [])]);
        (bystanders ?? []).forEach((b, i) => v.check(b.domain instanceof Domain && b.host instanceof Host && !(moves ?? []).some((m) => m.domain === b.domain),
            `bystanders[${i}]`, "must be a guest that does not move, and the Host it runs on"));
        const given = Array.isArray(moves) ? moves : [];
        const steps = [...given.map((m) => ({ domain: m.domain, from: host, to: m.to, back: false })),
            ...(roundTrip ? given.map((m) => ({ domain: m.domain, from: m.to, to: host, back: true })) : [])];
        const names = legNames ?? steps.map((s) => `${s.domain?.guestName}-${s.back ? "back" : "out"}`);
        v.check(names.length === steps.length, "legNames", `has ${names.length} names for ${steps.length} legs (out, then back with roundTrip)`);
        v.done(this);

        const where = at ?? name;
        // The legs are judged by the leg bounds; the drain's own bound is judged on its report.
        const legBounds = Object.entries(options.sla ?? {}).filter(([k]) => !(DRAIN_BOUNDS as readonly string[]).includes(k));
        const legSla = legBounds.length ? Object.fromEntries(legBounds) as SlaConfig : undefined;
        const bystanderList = bystanderSpecs(bystanders, probe);
        const changes = pulumi.all([...steps.flatMap((s) => [s.domain.xml, s.domain.instance]),
            ...(bystanders ?? []).flatMap((b) => [b.domain.xml, b.domain.instance]),
            // Another placement or concurrency is another measurement.
            JSON.stringify({ parallel, moves: moves.map((m) => `${m.domain.guestName}>${m.to.hostname}`) }), ...(triggers ?? [])]);
        const attempts = pulumi.all([previousLegs, previousDrains]).apply(([pl, pd]) => drainAttempts(pl, pd, where, names));
        const waits = drainWaits(moves.length, parallel, roundTrip);
        const first: pulumi.Input<pulumi.Resource>[] = [host, ...moves.flatMap((m) => [m.domain, m.to]), ...(probe ? [probe] : []),
            ...(bystanders ?? []).map((b) => b.domain), ...givenDependsOn(opts)];
        this.schedule = names.map((leg, k) => ({ leg, after: waits[k].map((j) => names[j]), iperfPort: IPERF_PORT + drainChain(k % moves.length, parallel) }));
        const made: pulumi.Resource[] = [];
        const outputs: pulumi.Output<LegOutcome>[] = [];
        steps.forEach((s, k) => {
            const leg = measuredLeg(this, `${legPrefix ?? name}-${names[k]}`, {
                leg: names[k], domain: s.domain, from: s.from, to: s.to, probe, watchTunnel, capture: { at: captureAt, dir: captureDir }, bystanders: bystanderList,
                tuning: options, sla: legSla, changes, attempt: attempts.apply((a) => a[k]), iperfPort: this.schedule[k].iperfPort,
            }, [...first, ...waits[k].map((j) => made[j])]);
            made.push(leg.resource);
            outputs.push(leg.outcome);
        });
        this.legs = pulumi.all(outputs);
        const spec = { at: where, host: host.hostname, parallel, out: names.slice(0, moves.length), back: names.slice(moves.length) };
        this.report = this.legs.apply((legs) => {
            const r = drainReport(spec, legs);
            const verdict = options.sla ? judgeDrain(r, options.sla) : undefined;
            if (verdict) {
                r.sla = verdict;
                const preview = pulumi.runtime.isDryRun();
                // An error on the drain fails the update once the program is done (exit.ts).
                for (const b of verdict.broken) { (preview ? pulumi.log.warn : pulumi.log.error)(drainBreachLine(r, b), this); }
            }
            return asOutputValue(r);
        });
        this.registerOutputs({ legs: this.legs, report: this.report });
    }
}
