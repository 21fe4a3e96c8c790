import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { childOpts } from "./connection";
import { Host } from "./host";
import { DirectionSummary, LegOutcome, isFailed, nextAttempt, parseLegOutcome, summarize } from "../reports/metrics";
import { Plan, PlannedLeg } from "../model/plan";
import { bashCommand, legSpec, migrateLegScript } from "../render";

export interface MigrationArgs {
    plan: Plan;
    /** The legs to run, in order (plan.legs). */
    legs: PlannedLeg[];
    /** Every node by name: legs run on their source and ask the probe. */
    hosts: Record<string, Host>;
    /** The guests' libvirt definitions: a changed guest is measured again. */
    guestDefinitions: pulumi.Input<string>[];
    /** Change when a guest was made to run again after a drift: measured again too. */
    guestInstances?: pulumi.Input<string>[];
    /** The guests' domains and anything else that must exist before the first leg. */
    dependsOn: pulumi.Input<pulumi.Resource>[];
    /**
     * The legs this migration reported last time (e.g. the stack's own `legs` output): a leg
     * that failed then is tried again, so a failure is never left standing as the result.
     */
    previousLegs?: pulumi.Input<unknown>;
}

/**
 * Runs the live migrations (`virsh migrate --live` over qemu+ssh), one leg at a time,
 * each leg measured: libvirt's job statistics, a probe pinging the guest from a third
 * node, a plain transfer between the same two hosts in the same run, and the other
 * guests' counters and pings meanwhile. Re-run it with
 * `pulumi up --replace <leg urn>` (scripts/lab --remeasure does that).
 */
export class Migration extends pulumi.ComponentResource {
    /** One entry per leg: its measurement, or (`failed`) why it has none. */
    readonly legs: pulumi.Output<LegOutcome[]>;
    /** Per direction: median, min and max of the headline figures over all runs. */
    readonly summary: pulumi.Output<DirectionSummary[]>;

    constructor(name: string, args: MigrationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:migration:Migration", name, {}, opts);
        const { plan } = args;
        const outputs: pulumi.Output<LegOutcome>[] = [];
        let previous: pulumi.Resource[] = args.dependsOn as pulumi.Resource[];
        // A changed guest or guest network is measured again (e.g. a stack switching vxlan to gre).
        const changes = pulumi.all([pulumi.all(args.guestDefinitions), pulumi.all(args.guestInstances ?? [])])
            .apply(([d, i]) => [...d, ...i.filter(Boolean), JSON.stringify(plan.guestNetwork)]);
        for (const l of args.legs) {
            const guest = plan.guests.find((g) => g.name === l.guest)!;
            // A leg that failed last time has a new try number: its triggers change and it runs again.
            const attempt = pulumi.output(args.previousLegs as pulumi.Input<unknown[] | undefined>).apply((p) => nextAttempt(p, l.name));
            const leg = new command.remote.Command(`${name}-${l.name}`, {
                connection: args.hosts[l.from].connection,
                create: bashCommand(migrateLegScript(plan, guest, legSpec(plan, l))),
                triggers: pulumi.all([changes, attempt]).apply(([c, a]) => [...c, ...(a > 0 ? [a] : [])]),
            }, childOpts(this, { dependsOn: previous }));
            const outcome = pulumi.all([leg.stdout, attempt])
                .apply(([out, a]): LegOutcome => ({ ...parseLegOutcome(l.name, l.from, l.to, out, a), guest: l.guest }));
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
