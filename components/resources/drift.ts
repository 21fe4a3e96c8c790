// Drift: what `pulumi refresh` (and `pulumi up --refresh`) reads back from the hosts.
// A command's state is only what it printed when it ran, with either command provider,
// so a lab changed by hand would go unnoticed. A DriftWatch is a small dynamic resource
// whose read() runs a probe on the hosts, the way a provider's read works: when what it
// watches is no longer as declared, it records that, the next `pulumi up` replaces it, and
// its new `token` (an input of the ensure command it watches) makes that command run again.
import * as pulumi from "@pulumi/pulumi";
import { NodeConnection } from "./connection";
import { sshRun } from "./ssh";

/** Where a probe runs: over SSH to a node, or on this machine when no connection is given. */
export interface WatchTarget { name: string; connection?: pulumi.Input<NodeConnection> }

export interface DriftWatchArgs {
    /** What is watched, for people reading `pulumi refresh`. */
    what: string;
    /** A shell probe: exit 0 while the thing is as declared, else print what was found. */
    probe: pulumi.Input<string>;
    targets: WatchTarget[];
    /** "any": as declared when one target says so (a guest runs on one host); "all": on every target. */
    want: "any" | "all";
}

interface PlainTarget { name: string; host?: string; port?: number; user?: string; privateKey?: string; hostKey?: string }
interface WatchState { what: string; probe: string; targets: PlainTarget[]; want: "any" | "all"; drifted: boolean; found: string }

/**
 * Runs the probe on every target: through the SSH layer every command uses (a target whose
 * connection has a recorded host key is checked against it: site ssh), or on this machine for a
 * target without a host.
 */
async function look(s: WatchState): Promise<{ drifted: boolean; found: string }> {
    /* eslint-disable @typescript-eslint/no-var-requires */
    const cp = require("child_process");
    const results = await Promise.all(s.targets.map(async (t) => {
        const r: { status: number | null; stdout?: string; stderr?: string } = t.host
            ? await sshRun({ host: t.host, port: t.port, user: t.user, privateKey: t.privateKey, hostKey: t.hostKey }, s.probe, 60000)
            : cp.spawnSync("bash", ["-c", s.probe], { encoding: "utf8", timeout: 60000 });
        const said = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-3).join(" ");
        return { name: t.name, ok: r.status === 0, said: said || `probe exit ${r.status}` };
    }));
    const ok = s.want === "any" ? results.some((x) => x.ok) : results.every((x) => x.ok);
    return { drifted: !ok, found: results.map((x) => `${x.name}: ${x.ok ? "as declared" : x.said}`).join("; ") };
}

const driftProvider: pulumi.dynamic.ResourceProvider = {
    // What it watches is made after it (its token is an input of that): nothing to look at yet.
    async create(inputs: WatchState) {
        const token = `${Date.now().toString(36)}${Math.random().toString(16).slice(2, 10)}`;
        return { id: token, outs: { ...inputs, token, drifted: false, found: "not looked at yet" } };
    },
    async read(id: string, props: WatchState) {
        return { id, props: { ...props, ...(await look(props)) } };
    },
    // A drift that refresh recorded is repaired by replacing the watch: a new token.
    async diff(_id: string, olds: WatchState & { token: string }, news: WatchState) {
        const changed = ["what", "probe", "want"].some((k) => JSON.stringify((olds as any)[k]) !== JSON.stringify((news as any)[k])) ||
            JSON.stringify(olds.targets) !== JSON.stringify(news.targets);
        return { changes: olds.drifted || changed, replaces: olds.drifted ? ["drifted"] : [] };
    },
    async update(_id: string, olds: any, news: WatchState) {
        return { outs: { ...news, token: olds.token, drifted: false, found: olds.found } };
    },
};

/** Watches one part of a lab; `token` changes when a refresh found it changed by hand. */
export class DriftWatch extends pulumi.dynamic.Resource {
    declare readonly token: pulumi.Output<string>;
    declare readonly drifted: pulumi.Output<boolean>;
    declare readonly found: pulumi.Output<string>;

    constructor(name: string, args: DriftWatchArgs, opts?: pulumi.CustomResourceOptions) {
        const targets = args.targets.map((t) => pulumi.output(t.connection ?? {}).apply((c: any) => ({
            name: t.name, host: c.host, port: c.port, user: c.user, privateKey: c.privateKey, hostKey: c.hostKey,
        })));
        super(driftProvider, name, {
            what: args.what, probe: args.probe, want: args.want, targets: pulumi.all(targets),
            token: undefined, drifted: undefined, found: undefined,
        }, { ...opts, additionalSecretOutputs: ["targets"] }, "miglab", "DriftWatch");
    }
}

/** An ensure command with the watch's token as a last comment line: a new token (a repaired drift) runs it again. */
export function watched(token: pulumi.Input<string>, script: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.interpolate`${script}\n# drift watch ${token}`;
}
