import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { Action, bashCommand } from "../render";

/** How remote.Commands reach one node: host, port, user and a private key (a secret). */
export type NodeConnection = command.types.input.remote.ConnectionArgs;

/** Whether the program runs under pulumi.runtime.setMocks, whose monitor holds the mocks: checks that would reach real machines skip. */
export function underMocks(): boolean {
    const monitor: unknown = pulumi.runtime.getMonitor();
    return typeof monitor === "object" && monitor !== null && "mocks" in monitor;
}

/** Default options of every host-side command: long scripts may take minutes, never hide their failure. */
export function childOpts(parent: pulumi.Resource, extra?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
    return { parent, customTimeouts: { create: "30m", update: "30m", delete: "10m" }, ...extra };
}

/**
 * A host-side "ensure" action: the same idempotent script creates and updates,
 * its counterpart removes. Both are rendered per action so a change of either is seen.
 */
export function ensureOnHost(name: string, connection: pulumi.Input<NodeConnection>,
    render: (action: Action) => pulumi.Input<string>, opts: pulumi.CustomResourceOptions): command.remote.Command {
    const up = pulumi.output(render("up")).apply(bashCommand);
    return new command.remote.Command(name, {
        connection, create: up, update: up, delete: pulumi.output(render("down")).apply(bashCommand),
    }, opts);
}

/**
 * The dependsOn a component was given, for its commands: a child waits for what its
 * parent was told to wait for, whichever SDK version declares it.
 */
export function givenDependsOn(opts?: pulumi.ComponentResourceOptions): pulumi.Input<pulumi.Resource>[] {
    const d = opts?.dependsOn;
    if (!d) { return []; }
    return Array.isArray(d) ? d : [d as pulumi.Input<pulumi.Resource>];
}
