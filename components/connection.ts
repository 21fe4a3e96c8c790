import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";

/** How remote.Commands reach one node. */
export type NodeConnection = command.types.input.remote.ConnectionArgs;

/** Default options of every host-side command: long scripts may take minutes, never hide their failure. */
export function childOpts(parent: pulumi.Resource, extra?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
    return { parent, customTimeouts: { create: "30m", update: "30m", delete: "10m" }, ...extra };
}
