import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { childOpts } from "./connection";
import { Host } from "./host";
import { DirectionSummary, LegOutcome, isFailed, nextAttempt, parseLegOutcome, summarize } from "../reports/metrics";
import { Plan, PlannedGuest } from "../model/plan";
import { bashCommand, migrateLegScript } from "../render";

export interface MigrationArgs {
    plan: Plan;
    guest: PlannedGuest;
    from: Host;
    to: Host;
    /** The guest's libvirt definition: a changed guest is measured again. */
    guestDefinition: pulumi.Input<string>;
    /** Changes when the guest was made to run again after a drift: measured again too. */
    guestInstance?: pulumi.Input<string>;
    /** The guest's domain and anything else that must exist before the first leg. */
    dependsOn: pulumi.Input<pulumi.Resource>[];
    /**
     * The legs this migration reported last time (e.g. the stack's own `legs` output): a leg
     * that failed then is tried again, so a failure is never left standing as the result.
     */
    previousLegs?: pulumi.Input<unknown>;
}

/**
 * Runs the live migration (`virsh migrate --live` over qemu+ssh) source →
 * destination and, by default, back again, each leg measured: libvirt's job
 * statistics, a probe pinging the guest from a third node, and a plain transfer
 * between the same two hosts in the same run. Re-run it with
 * `pulumi up --replace <leg urn>` (scripts/lab --remeasure does that).
 */
export class Migration extends pulumi.ComponentResource {
    /** One entry per leg: its measurement, or (`failed`) why it has none. */
    readonly legs: pulumi.Output<LegOutcome[]>;
    /** Per direction: median, min and max of the headline figures over all runs. */
    readonly summary: pulumi.Output<DirectionSummary[]>;

    constructor(name: string, args: MigrationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:migration:Migration", name, {}, opts);
        const { plan, guest } = args;
        const m = plan.config.migration;
        const specs: { leg: string; from: Host; to: Host }[] = [];
        for (let run = 1; run <= m.runs; run++) {
            // One run keeps the plain names (out, back) that scripts/lab --remeasure looks for.
            const n = m.runs > 1 ? `-${run}` : "";
            specs.push({ leg: `out${n}`, from: args.from, to: args.to });
            if (m.roundTrip) { specs.push({ leg: `back${n}`, from: args.to, to: args.from }); }
        }
        const outputs: pulumi.Output<LegOutcome>[] = [];
        let previous: pulumi.Resource[] = args.dependsOn as pulumi.Resource[];
        for (const s of specs) {
            // A leg that failed last time has a new try number: its triggers change and it runs again.
            const attempt = pulumi.output(args.previousLegs as pulumi.Input<unknown[] | undefined>).apply((p) => nextAttempt(p, s.leg));
            const leg = new command.remote.Command(`${name}-${s.leg}`, {
                connection: s.from.connection,
                create: bashCommand(migrateLegScript(plan, guest, { leg: s.leg, from: s.from.node, to: s.to.node })),
                triggers: pulumi.all([args.guestDefinition, args.guestInstance, attempt])
                    .apply(([d, i, a]) => [d, ...(i ? [i] : []), ...(a > 0 ? [a] : [])]),
            }, childOpts(this, { dependsOn: previous }));
            const outcome = pulumi.all([leg.stdout, attempt]).apply(([out, a]) => parseLegOutcome(s.leg, s.from.node.name, s.to.node.name, out, a));
            // The leg script reports a failed migration instead of failing, so the outputs can say so;
            // the update still fails, with the leg's one clear line.
            outcome.apply((o) => {
                if (!isFailed(o)) { return; }
                pulumi.log.error(`leg ${o.leg} (${o.from} -> ${o.to}): ${o.failed}`, leg);
                // The update fails once the program is done and its outputs (which list this
                // failure) are saved: 32 is the Node SDK's "error already reported" exit code.
                process.exitCode = 32;
            });
            outputs.push(outcome);
            previous = [leg];
        }
        this.legs = pulumi.all(outputs);
        this.summary = this.legs.apply(summarize);
        this.registerOutputs({ legs: this.legs, summary: this.summary });
    }
}
