import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { childOpts } from "./connection";
import { Host } from "./host";
import { Plan, PlannedGuest } from "../model/plan";
import { Accel, bashCommand, domainScript, domainXml } from "../render";
import { guestRunningProbe } from "../render/drift";
import { DriftWatch, watched } from "./drift";

export interface DomainArgs {
    plan: Plan;
    guest: PlannedGuest;
    home: Host;
    /** Every hypervisor host: the guest must be able to run on all of them. */
    hosts: Host[];
    dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** A persistent libvirt domain with a fixed uuid, its disk opened from the NFS server (cache='none'). */
export class Domain extends pulumi.ComponentResource {
    readonly xml: pulumi.Output<string>;
    /** The counter line the guest answered with once it was up. */
    readonly firstAnswer: pulumi.Output<string>;
    /** Changes when the guest was found gone or shut off and made to run again: measure it again. */
    readonly instance: pulumi.Output<string>;

    constructor(name: string, args: DomainArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:guest:Domain", name, {}, opts);
        const { plan, guest } = args;
        // A guest that migrates runs everywhere: KVM only if every host has it.
        const accel = pulumi.all(args.hosts.map((h) => h.accel))
            .apply((a): Accel => (a.every((x) => x === "kvm") ? "kvm" : "tcg"));
        this.xml = accel.apply((a) => domainXml(plan, guest, a));
        const watch = new DriftWatch(`${name}-drift`, {
            what: `guest ${guest.name} running on one of the hosts`, probe: guestRunningProbe(guest),
            targets: args.hosts.map((h) => ({ name: h.node.name, connection: h.connection })), want: "any",
        }, { parent: this });
        this.instance = watch.token;
        const cmd = new command.remote.Command(`${name}-domain`, {
            connection: args.home.connection,
            create: watched(watch.token, this.xml.apply((x) => bashCommand(domainScript(plan, guest, x, "up")))),
            update: watched(watch.token, this.xml.apply((x) => bashCommand(domainScript(plan, guest, x, "up")))),
            delete: this.xml.apply((x) => bashCommand(domainScript(plan, guest, x, "down"))),
        }, childOpts(this, { dependsOn: [...args.hosts, ...args.dependsOn] }));
        this.firstAnswer = cmd.stdout;
        this.registerOutputs({ xml: this.xml, firstAnswer: this.firstAnswer });
    }
}
