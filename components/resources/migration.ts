import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { childOpts } from "./connection";
import { Host } from "./host";
import { DirectionSummary, LegMetrics, parseLeg, summarize } from "../reports/metrics";
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
}

/**
 * Runs the live migration (`virsh migrate --live` over qemu+ssh) source →
 * destination and, by default, back again, each leg measured: libvirt's job
 * statistics, a probe pinging the guest from a third node, and a plain transfer
 * between the same two hosts in the same run. Re-run it with
 * `pulumi up --replace <leg urn>` (scripts/lab --remeasure does that).
 */
export class Migration extends pulumi.ComponentResource {
    readonly legs: pulumi.Output<LegMetrics[]>;
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
        const outputs: pulumi.Output<LegMetrics>[] = [];
        let previous: pulumi.Resource[] = args.dependsOn as pulumi.Resource[];
        for (const s of specs) {
            const leg = new command.remote.Command(`${name}-${s.leg}`, {
                connection: s.from.connection,
                create: bashCommand(migrateLegScript(plan, guest, { leg: s.leg, from: s.from.node, to: s.to.node })),
                triggers: [args.guestDefinition, ...(args.guestInstance ? [args.guestInstance] : [])],
            }, childOpts(this, { dependsOn: previous }));
            outputs.push(leg.stdout.apply((out) => parseLeg(s.leg, s.from.node.name, s.to.node.name, out)));
            previous = [leg];
        }
        this.legs = pulumi.all(outputs);
        this.summary = this.legs.apply(summarize);
        this.registerOutputs({ legs: this.legs, summary: this.summary });
    }
}
