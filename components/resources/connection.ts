import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { bashCommand } from "../render";

/** How remote.Commands reach one node. */
export type NodeConnection = command.types.input.remote.ConnectionArgs;

/** Default options of every host-side command: long scripts may take minutes, never hide their failure. */
export function childOpts(parent: pulumi.Resource, extra?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
    return { parent, customTimeouts: { create: "30m", update: "30m", delete: "10m" }, ...extra };
}

/**
 * A host-side "ensure" action: the same idempotent script creates and updates,
 * its counterpart removes. Both are rendered per action so a change of either is seen.
 */
export function ensureOnHost(name: string, connection: NodeConnection, render: (action: "up" | "down") => string,
    opts: pulumi.CustomResourceOptions): command.remote.Command {
    const up = bashCommand(render("up"));
    return new command.remote.Command(name, { connection, create: up, update: up, delete: bashCommand(render("down")) }, opts);
}
