// How a lab suite's tests share one lab and still fail alone. A lab takes minutes to build,
// so a suite builds it once; but a test must not read what another test left, or one failure
// fails every test after it and the report no longer says which check broke. So:
// - the lab is built on first need, and its outcome kept: a test after a failed build fails
//   at once with the build's reason, without a second 5-minute up;
// - a result several checks read (a measured up, a capture) is a named step, run by the first
//   test that needs it, its value or its failure kept for the others;
// - before each test a cheap check (the config file, where each guest runs) says whether the
//   lab is as the suite builds it; when not (a test failed half way), it is put back.
import * as fs from "fs";
import { migrateLegScript } from "../components/render";
import { legSpecOf } from "../components/render/specs";
import { Run } from "../scripts/pulumi-cli";
import type { LabStack } from "../scripts/lab-stack";

/** What each host's libvirt lists: guest name -> state ("running", "shut off", ...), or why it could not be asked. */
export type Placement = Record<string, { guests: Record<string, string> } | { error: string }>;

/** Parses `virsh list --all`: each defined guest's name and state. */
export function parseVirshList(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of text.split("\n")) {
        const m = /^\s*(\d+|-)\s+(\S+)\s+(\S.*?)\s*$/.exec(line);
        if (m) { out[m[2]] = m[3]; }
    }
    return out;
}

/** What is out of place: each guest must run on its home, and be defined on no other host. Empty when all is well. */
export function misplaced(placement: Placement, homes: Record<string, string>): string[] {
    const found: string[] = [];
    for (const [host, v] of Object.entries(placement)) {
        if ("error" in v) { found.push(`${host}: ${v.error}`); }
    }
    for (const [guest, home] of Object.entries(homes)) {
        const at = placement[home];
        if (at && "guests" in at && at.guests[guest] !== "running") { found.push(`${guest} is ${at.guests[guest] ?? "not defined"} on ${home}, its home`); }
        for (const [host, v] of Object.entries(placement)) {
            if (host !== home && "guests" in v && v.guests[guest] !== undefined) { found.push(`${guest} is ${v.guests[guest]} on ${host}`); }
        }
    }
    return found;
}

type Memo = { ok: true; value: unknown } | { ok: false; message: string; by: string };

/**
 * Named results computed once: `const idle = steps.step("idle pre-copy", () => ...)`; `idle()`
 * runs it the first time, gives its value after, and after a failure throws at once, naming the
 * step, the test that ran it and why. A step returning a promise is kept as that promise (a
 * rejection is kept as a failure).
 */
export class Steps {
    private readonly memo = new Map<string, Memo>();
    /** The test running now, named in a kept failure. */
    current = "";

    step<T>(name: string, run: () => T, failure = `'${name}' failed`): () => T {
        return () => this.get(name, run, failure);
    }

    get<T>(name: string, run: () => T, failure = `'${name}' failed`): T {
        const m = this.memo.get(name);
        if (m?.ok) { return m.value as T; }
        if (m) { throw new Error(`${failure}: ${m.message}\n(kept from '${m.by}', not tried again)`); }
        const by = this.current;
        const fail = (e: unknown): Error => {
            const message = e instanceof Error ? e.message : String(e);
            this.memo.set(name, { ok: false, message, by });
            return e instanceof Error && message.startsWith(failure) ? e : new Error(`${failure}: ${message}`);
        };
        let value: T;
        try { value = run(); } catch (e) { throw fail(e); }
        if (value instanceof Promise) {
            const kept = value.catch((e) => { throw fail(e); }) as unknown as T;
            this.memo.set(name, { ok: true, value: kept });
            return kept;
        }
        this.memo.set(name, { ok: true, value });
        return value;
    }

    /** The value `name` gave, if it has run and succeeded (undefined otherwise: nothing is run). */
    value<T>(name: string): T | undefined {
        const m = this.memo.get(name);
        return m?.ok ? m.value as T : undefined;
    }

    /** Whether `name` has run (to a value or a failure). */
    has(name: string): boolean { return this.memo.has(name); }

    forget(name: string): void { this.memo.delete(name); }
}

/** What a shared lab needs of its suite: how to make, check, put back and remove its lab. */
export interface LabOps<B> {
    /** Writes the suite's config and makes the stack (mocha's before: nothing built). */
    prepare(): void;
    /** Builds the lab with the suite's config: what the tests read of that first up. Throws why it failed. */
    build(): B;
    /** The stack's config file now. */
    configText(): string;
    /** Where each guest is, per host. */
    placement(): Placement;
    /** Each guest's home host. */
    homes(): Record<string, string>;
    /** The suite's config again and `pulumi up --refresh`; throws why it failed. */
    putBack(): void;
    /** Destroys the lab and builds it again (when putBack was not enough); throws why it failed. */
    rebuild(): void;
    /** Removes the lab, its stack and its files (mocha's after). */
    remove(): void;
}

/**
 * One lab shared by a suite's tests (see the top of this file). `built()` gives the first up's
 * result; `step()` memoizes a result; `heal()` (before each test) checks the lab and puts it
 * back when it is not as built; `passed()` (after each passing test) accepts the config that
 * test left as one the lab may be in (each test that changes the config sets all it needs).
 */
export class SharedLab<B> {
    readonly steps = new Steps();
    /** How long each check took (ms), and what each heal found: the suite prints them at its end. */
    readonly checks: number[] = [];
    readonly healed: string[] = [];
    private shipped = "";
    private accepted: string | undefined;
    private broken: Error | undefined;
    private gone = false;

    constructor(private readonly ops: LabOps<B>, private readonly log: (line: string) => void = (l) => console.log(l)) {}

    prepare(): void {
        this.ops.prepare();
        this.shipped = this.ops.configText();
    }

    /** The lab as the suite builds it (built on first need): the first up's result, or the reason it could not be had. */
    built(): B {
        if (this.broken) { throw this.broken; }
        this.gone = false;
        return this.steps.get("the lab", () => this.ops.build(), "the lab could not be built");
    }

    step<T>(name: string, run: () => T): () => T { return this.steps.step(name, run); }

    /** Before each test: nothing when the lab is unbuilt or as it should be; else puts it back, saying what it found. */
    heal(test: string): void {
        this.steps.current = test;
        if (this.gone || this.broken || !this.steps.has("the lab")) { return; }
        try { this.built(); } catch { return; }
        const t0 = Date.now();
        const found = this.check();
        this.checks.push(Date.now() - t0);
        if (found.length === 0) { return; }
        const what = `before '${test}': ${found.join("; ")}`;
        this.log(`      lab: ${what}: putting it back (its config, pulumi up --refresh)`);
        const putting = Date.now();
        try {
            this.ops.putBack();
            const still = this.check();
            if (still.length > 0) { throw new Error(`after pulumi up --refresh: ${still.join("; ")}`); }
        } catch (e) {
            this.log(`      lab: not put back (${(e as Error).message.slice(0, 2000)}): destroying and building it again`);
            try {
                this.ops.rebuild();
                const still = this.check();
                if (still.length > 0) { throw new Error(`after building it again: ${still.join("; ")}`); }
            } catch (e2) {
                this.broken = new Error(`the lab could not be put back ${what}: ${(e2 as Error).message}`);
                this.healed.push(`${what}: not put back`);
                return;
            }
        }
        this.healed.push(`${what}: put back in ${Math.round((Date.now() - putting) / 1000)} s`);
        this.accepted = undefined;
    }

    /** After a test that passed: the config it left is one the lab may stay in (its up succeeded, its checks held). */
    passed(): void {
        if (!this.gone && this.steps.has("the lab")) { this.accepted = this.ops.configText(); }
    }

    /** Whether the lab is built now (by the suite: a test may have removed it since). */
    isBuilt(): boolean { return !this.gone && this.steps.value("the lab") !== undefined; }

    /** A test removed the lab (a destroy it checks): the next built() builds it again. */
    forget(): void {
        this.gone = true;
        this.accepted = undefined;
        this.steps.forget("the lab");
    }

    /** What the cheap check finds out of place (empty: nothing): the config file, then each guest's host. */
    check(): string[] {
        const text = this.ops.configText();
        const config = text === this.shipped || text === this.accepted ? [] : ["the stack's config is not the suite's"];
        return [...config, ...misplaced(this.ops.placement(), this.ops.homes())];
    }

    /** One line for the suite's end: what the checks cost and what they healed. */
    summary(): string {
        const sorted = [...this.checks].sort((a, b) => a - b);
        const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
        return `lab checks: ${sorted.length}, median ${median} ms, max ${sorted[sorted.length - 1] ?? 0} ms; put back ${this.healed.length} time(s)` +
            this.healed.map((h) => `\n        ${h}`).join("");
    }

    remove(): void {
        this.log(`      ${this.summary()}`);
        this.ops.remove();
    }
}

/** A LabStack's first up: the run, its outputs, and where the guests were right after it. */
export interface Built { run: Run; outputs: any; placement: Placement }

/**
 * Where a LabStack's guests are: `virsh list --all` in each host's namespaces (nsenter: no SSH
 * handshake, which took a second a host on a busy machine).
 */
export function stackPlacement(lab: LabStack): Placement {
    const out: Placement = {};
    for (const h of lab.plan.hosts) {
        let r: Run;
        try { r = lab.inNode(h.name, "virsh -c qemu:///system list --all"); } catch (e) { r = { code: -1, stdout: "", stderr: (e as Error).message }; }
        out[h.name] = r.code === 0 ? { guests: parseVirshList(r.stdout) } : { error: `virsh list failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 300)}` };
    }
    return out;
}

/**
 * Each guest that runs away from home goes home by a leg as the program runs one (pulumi up
 * leaves a guest it finds elsewhere where it is); a stopped copy on another host is undefined
 * (its disk stays). What could not be done is left to the up that follows.
 */
function sendHome(lab: LabStack, log: (line: string) => void): void {
    const placement = stackPlacement(lab);
    for (const g of lab.plan.guests) {
        const home = lab.plan.hosts.find((h) => h.name === g.home)!;
        const homeView = placement[home.name];
        const atHome = "guests" in homeView && homeView.guests[g.name] === "running";
        for (const h of lab.plan.hosts.filter((x) => x.name !== home.name)) {
            const v = placement[h.name];
            const state = "guests" in v ? v.guests[g.name] : undefined;
            if (state === "running" && !atHome) {
                const r = lab.onNode(h.name, "bash -s", migrateLegScript(legSpecOf(lab.plan, g, { leg: "home", from: h, to: home })));
                log(`      lab: ${g.name} from ${h.name} home to ${home.name}: ${/^=== failed\n(.*)$/m.exec(r.stdout)?.[1] ?? (r.code === 0 ? "moved" : `exit ${r.code}`)}`);
            } else if (state === "shut off") {
                const r = lab.inNode(h.name, `virsh -c qemu:///system undefine ${g.name}`);
                log(`      lab: ${g.name}'s stopped copy on ${h.name} undefined (exit ${r.code})`);
            }
        }
    }
}

/** An up's failure, as a message: its diagnostics (or output's end). */
function upFailed(r: Run): string {
    const diag = /^Diagnostics:\n[\s\S]*?(?=^(Outputs|Resources):)/m.exec(r.stdout)?.[0];
    return `pulumi up exited ${r.code}: ${(diag ? diag.slice(-8000) : r.stdout.slice(-6000)) + r.stderr}`;
}

/** The ops of a LabStack suite whose lab is the base stack changed by `edit`. */
export function stackOps(lab: LabStack, edit: (c: any) => void = () => undefined, log: (line: string) => void = (l) => console.log(l)): LabOps<Built> {
    const up = (...extra: string[]): Built => {
        const run = lab.up(...extra);
        if (run.code !== 0) { throw new Error(upFailed(run)); }
        return { run, outputs: lab.outputs(), placement: stackPlacement(lab) };
    };
    return {
        prepare: () => { lab.configure(edit); lab.init(); },
        build: () => { lab.configure(edit); return up(); },
        configText: () => fs.existsSync(lab.file) ? fs.readFileSync(lab.file, "utf8") : "",
        placement: () => stackPlacement(lab),
        homes: () => Object.fromEntries(lab.plan.guests.map((g) => [g.name, g.home])),
        putBack: () => { lab.configure(edit); sendHome(lab, log); up("--refresh"); },
        rebuild: () => {
            const d = lab.pulumi(["destroy", "--yes", "--skip-preview"]);
            if (d.code !== 0) { throw new Error(`pulumi destroy exited ${d.code}: ${d.stdout.slice(-3000)}${d.stderr}`); }
            lab.configure(edit);
            up();
        },
        remove: () => lab.remove(),
    };
}

/**
 * The shared lab of the describe this is called in, with its hooks: prepared before the tests,
 * checked (and put back) before each, its config accepted after each that passed, removed after.
 */
export function sharedLab<B>(ops: LabOps<B>): SharedLab<B> {
    const shared = new SharedLab(ops);
    before(() => shared.prepare());
    beforeEach(function () { shared.heal(this.currentTest?.fullTitle() ?? ""); });
    afterEach(function () { if (this.currentTest?.state === "passed") { shared.passed(); } });
    after(() => shared.remove());
    return shared;
}

/** Named steps for the describe this is called in (a kept failure names the test that ran the step). */
export function sharedSteps(): Steps {
    const steps = new Steps();
    beforeEach(function () { steps.current = this.currentTest?.fullTitle() ?? ""; });
    return steps;
}

/** sharedLab for a LabStack whose suite config is its base stack changed by `edit`. */
export function sharedStack(lab: LabStack, edit?: (c: any) => void): SharedLab<Built> {
    return sharedLab(stackOps(lab, edit));
}
