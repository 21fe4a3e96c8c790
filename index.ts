// The miglab program: read and validate the stack's lab, build it, export the measured migration.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, Lab, parseLabConfig } from "./components";
import { passphraseProblem } from "./components/model/trust";
import { recordLegMetrics } from "./components/reports/metricsFile";
import { legModes } from "./components/reports/openmetrics";

function readConfig() {
    try {
        // Only the config: what this machine can do is asked by the Lab's preflight, as the program runs.
        return parseLabConfig(new pulumi.Config("miglab").getObject("lab"));
    } catch (e) {
        // A config problem is the user's to fix: say it plainly, without a stack trace.
        throw e instanceof ConfigError ? new pulumi.RunError(e.message) : e;
    }
}

const config = readConfig();
// Before any connection: real hosts' keys are not kept under the local lab's passphrase.
const secretsProblem = passphraseProblem(config.site, process.env);
if (secretsProblem) { throw new pulumi.RunError(secretsProblem); }
// The stack's own outputs of last time: a leg that failed then is tried again now.
const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
const lab = new Lab("lab", { config, stack: pulumi.getStack(), previousLegs: self.getOutput("legs"), previousDrains: self.getOutput("drains") });

export const topology = config.topology;
export const site = config.site;
export const guest = config.migrations[0].guest;
// An update that measured also leaves its legs as OpenMetrics for node_exporter (docs/outputs.md, Metrics);
// a preview measures nothing and writes nothing. In the outputs' own chain, so an error of a leg
// stays the one the outputs report.
export const legs = lab.legs.apply((measured) => {
    const { problem } = recordLegMetrics(process.cwd(),
        { stack: pulumi.getStack(), topology: config.topology, legs: measured, modes: legModes(lab.plan) }, pulumi.runtime.isDryRun());
    if (problem) { pulumi.log.warn(`metrics file not written: ${problem}`); }
    return measured;
});
/** Per direction over all runs: median, min and max of the headline figures. */
export const summary = lab.summary;
/** Per drain: its time to empty the host (and to bring the guests back), each guest's outage and link share, the bystanders' losses. */
export const drains = lab.drainReports;
