// miglab as a component package for every Pulumi language (a YAML program's `packages:` names
// this folder; PulumiPlugin.yaml says it runs on Node.js). @pulumi/pulumi's plugin runner loads
// this module, finds the component classes it exports and serves them as the provider `miglab`,
// whose schema it infers from their TypeScript: the args interface (config.ts, generated from
// config.schema.json) and the class's Output properties. So this class has no other properties.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, Lab as LabResources, parseLabConfig } from "../components";
import { passphraseProblem } from "../components/model/trust";
import { LabArgs } from "./config";

/**
 * A whole migration lab and its measured legs: the same value a stack's `miglab:lab` config
 * holds, given as this resource's properties (stacks/Pulumi.<stack>.yaml has one per topology).
 */
export class Lab extends pulumi.ComponentResource {
    /** Every leg of every migration, in order: its figures (docs/outputs.md), or why it failed. */
    readonly legs: pulumi.Output<any>;
    /** Per direction over all runs: median, min and max of the headline figures. */
    readonly summary: pulumi.Output<any>;
    /** Per drain: its time to empty the host, each guest's outage and link share, the bystanders' losses. */
    readonly drains: pulumi.Output<any>;
    /** The lab's topology, as given. */
    readonly topology: pulumi.Output<string>;

    constructor(name: string, args: LabArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:index:Lab", name, {}, opts);
        const config = labConfig(name, args);
        const problem = passphraseProblem(config.site, process.env);
        if (problem) { throw new pulumi.RunError(problem); }
        const lab = new LabResources(name, { config, stack: pulumi.getStack() }, { parent: this });
        this.legs = lab.legs;
        this.summary = lab.summary;
        this.drains = lab.drainReports;
        this.topology = pulumi.output(config.topology);
        this.registerOutputs({ legs: this.legs, summary: this.summary, drains: this.drains, topology: this.topology });
    }
}

/**
 * The properties as a checked, completed lab config; a problem is the user's, said without a stack
 * trace. What this machine allows is asked by the Lab's own preflight, as for a stack's config.
 */
export function labConfig(name: string, args: LabArgs) {
    // The plan decides names and ports from the whole config before anything is made: a value known
    // only after another resource is made (an Output) cannot be planned in a preview.
    const unknown = Object.entries(args ?? {}).filter(([, v]) => pulumi.Output.isInstance(v)).map(([k]) => k);
    if (unknown.length > 0) {
        throw new pulumi.RunError(`Lab '${name}': ${unknown.join(", ")} must be plain values (not another resource's outputs)`);
    }
    try {
        return parseLabConfig(args);
    } catch (e) {
        if (e instanceof ConfigError) {
            throw new pulumi.RunError(e.message.replace(/^miglab:lab has/, `Lab '${name}' has`));
        }
        throw e;
    }
}
