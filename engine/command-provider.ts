// A resource provider for `command:local:Command` and `command:remote:Command`
// that speaks the 1.x contract of the official pulumi-command provider (the
// schema of @pulumi/command 1.2.1), so state made by one works with the other.
// It is installed as the `command` plugin only when the official
// `pulumi-resource-command` cannot be had (no plugin download site and no Go
// module for it on the networks this project reaches). It is built on
// @pulumi/pulumi's own provider server; remote commands go through the
// system's OpenSSH client, the private key through a per-command ssh-agent (in
// memory, never in a file), environment values through ssh's own environment
// (`SendEnv`: off every command line, like the official provider's Setenv).
import * as grpc from "@grpc/grpc-js";
import { ChildProcess, spawn } from "child_process";
import * as provider from "@pulumi/pulumi/provider";
import { shellQuote } from "../components/render/text";
import { DIAL_ERROR_LIMIT, HOST_KEY_MISMATCH, parseHostKey, sshArgs, withSshAuth } from "../components/resources/ssh";

export { parseHostKey, shellQuote, sshArgs };

/* eslint-disable @typescript-eslint/no-var-requires */
const enginerpc = require("@pulumi/pulumi/proto/engine_grpc_pb.js");
const engineproto = require("@pulumi/pulumi/proto/engine_pb.js");

export const PROVIDER_VERSION = "1.2.1";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** Marks a secret value in the engine's property protocol: {[SECRET_SIG]: SECRET_VAL, value}. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VAL = "1b47061264138c4ac30d75fd1eb44270";

export const LOCAL = "command:local:Command";
export const REMOTE = "command:remote:Command";

/** The inputs of each type this provider implements, as in the 1.2.1 schema; any other field is refused. */
const LOCAL_INPUTS = ["create", "update", "delete", "triggers", "environment", "stdin", "dir", "interpreter",
    "logging", "addPreviousOutputInEnv", "assetPaths", "archivePaths"];
const REMOTE_INPUTS = ["create", "update", "delete", "triggers", "environment", "stdin", "connection", "logging",
    "addPreviousOutputInEnv"];
const CONNECTION_FIELDS = ["host", "port", "user", "privateKey", "agentSocketPath", "dialErrorLimit", "perDialTimeout",
    "hostKey", "password", "privateKeyPassword", "proxy"];
/** In the schema, not implemented here: a clear check failure rather than a silently different result. */
const NOT_IMPLEMENTED: Record<string, string> = {
    "assetPaths": "collecting assets after the command is not implemented",
    "archivePaths": "collecting an archive after the command is not implemented",
    "connection.password": "password login is not implemented: give connection.privateKey",
    "connection.privateKeyPassword": "encrypted private keys are not implemented: give an unencrypted connection.privateKey",
    "connection.proxy": "proxy (bastion) connections are not implemented",
};
const LOGGING = ["stdout", "stderr", "stdoutAndStderr", "none"];
/** Outputs, not inputs: never compared by diff. */
const OUTPUT_KEYS = new Set(["stdout", "stderr", "assets", "archive"]);
/** A previous output larger than this is not passed on in the environment (an SSH env request must fit a packet). */
const MAX_PREVIOUS_OUTPUT_ENV = 30 * 1024;
/** The remote shell prints this first on stderr: it tells "ssh could not connect" from "the command exited 255". */
const SESSION_MARK = "miglab-session-started";
const ENV_REFUSED_EXIT = 197;

/** The plain values a command needs; the wrapped ones are kept for the state. */
export function unwrapSecrets(v: any): any {
    if (Array.isArray(v)) { return v.map(unwrapSecrets); }
    if (v && typeof v === "object") {
        if (v[SECRET_SIG] === SECRET_VAL) { return unwrapSecrets(v.value); }
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    }
    return v;
}

export function containsUnknown(v: unknown): boolean { return JSON.stringify(v ?? null).includes(UNKNOWN); }

export interface CommandResult { stdout: string; stderr: string; code: number | null; signal: string | null }

export interface Connection {
    host: string; port?: number; user?: string; privateKey?: string; agentSocketPath?: string;
    dialErrorLimit?: number; perDialTimeout?: number; hostKey?: string;
}

export type Logging = "stdout" | "stderr" | "stdoutAndStderr" | "none";

/** Which streams go to the engine's log (the outputs capture both regardless), as the official provider decides. */
export function logsStream(logging: Logging | undefined, stream: "stdout" | "stderr"): boolean {
    return logging === undefined || logging === stream || logging === "stdoutAndStderr";
}

/** Problems with the inputs of one resource, by field path; values not known yet (preview) are not judged. */
export function checkInputs(type: string, news: any): provider.CheckFailure[] {
    const failures: provider.CheckFailure[] = [];
    const fail = (property: string, reason: string) => failures.push({ property, reason });
    if (type !== LOCAL && type !== REMOTE) {
        fail("", `${type} is not implemented by miglab's command provider (the fallback for the official ` +
            `pulumi-resource-command, which could not be installed here); it implements ${LOCAL} and ${REMOTE}`);
        return failures;
    }
    const known = type === LOCAL ? LOCAL_INPUTS : REMOTE_INPUTS;
    const v = unwrapSecrets(news);
    for (const key of Object.keys(v)) {
        if (key.startsWith("__") || OUTPUT_KEYS.has(key)) { continue; }
        if (!known.includes(key)) { fail(key, `${type} has no input '${key}' (its inputs: ${known.join(", ")})`); }
    }
    const isUnknown = (x: unknown) => containsUnknown(x);
    for (const key of ["create", "update", "delete", "stdin", "dir"]) {
        if (v[key] !== undefined && !isUnknown(v[key]) && typeof v[key] !== "string") { fail(key, `${key} must be a string`); }
    }
    if (v.logging !== undefined && !isUnknown(v.logging) && !LOGGING.includes(v.logging)) {
        fail("logging", `logging must be one of ${LOGGING.join(", ")}`);
    }
    if (v.environment !== undefined && !isUnknown(v.environment)) {
        for (const name of Object.keys(v.environment)) {
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) { fail(`environment.${name}`, `'${name}' is not a valid variable name`); }
        }
    }
    if (v.interpreter !== undefined && !isUnknown(v.interpreter) &&
        !(Array.isArray(v.interpreter) && v.interpreter.length > 0 && v.interpreter.every((x: unknown) => typeof x === "string"))) {
        fail("interpreter", "interpreter must be a non-empty list of strings, e.g. [\"/bin/bash\", \"-c\"]");
    }
    for (const key of ["assetPaths", "archivePaths"]) {
        if (v[key] !== undefined && !(Array.isArray(v[key]) && v[key].length === 0)) { fail(key, NOT_IMPLEMENTED[key]); }
    }
    if (type === REMOTE) {
        const c = v.connection;
        if (isUnknown(c)) { return failures; } // only known at `up`: judged then
        if (!c || typeof c !== "object") {
            fail("connection", "connection is required: { host, port, user, privateKey }");
            return failures;
        }
        for (const key of Object.keys(c)) {
            if (!CONNECTION_FIELDS.includes(key)) { fail(`connection.${key}`, `connection has no field '${key}'`); }
            else if (NOT_IMPLEMENTED[`connection.${key}`] && c[key] !== undefined && c[key] !== null) {
                fail(`connection.${key}`, NOT_IMPLEMENTED[`connection.${key}`]);
            }
        }
        if (!isUnknown(c.host) && (typeof c.host !== "string" || c.host === "")) {
            fail("connection.host", "connection.host is required: the address of the host to run on");
        }
        for (const key of ["port", "dialErrorLimit", "perDialTimeout"]) {
            if (c[key] !== undefined && !isUnknown(c[key]) && !Number.isInteger(c[key])) { fail(`connection.${key}`, `connection.${key} must be an integer`); }
        }
        if (c.hostKey !== undefined && !isUnknown(c.hostKey) && parseHostKey(c.hostKey) === undefined) {
            fail("connection.hostKey", "connection.hostKey must be a public key in authorized_keys form, e.g. 'ssh-ed25519 AAAA...'");
        }
    }
    return failures;
}

/**
 * The command as the remote shell runs it: a mark on stderr first (the session started), then a
 * check that sshd accepted each required environment variable (names only, never values).
 */
export function remoteCommand(command: string, requiredEnv: string[]): string {
    const checks = requiredEnv.map((n) => `[ -n "\${${n}+x}" ] || { echo "environment variable ${n} was not accepted by ` +
        `the SSH server: add 'AcceptEnv ${n}' to its sshd_config (the official provider needs that too)" >&2; exit ${ENV_REFUSED_EXIT}; }; `);
    return `echo ${SESSION_MARK} >&2; ${checks.join("")}${command}`;
}

class EngineLog {
    private client: any;
    constructor(address: string | undefined) {
        if (address) {
            this.client = new enginerpc.EngineClient(address, grpc.credentials.createInsecure());
        }
    }
    private send(severity: number, urn: string, message: string, ephemeral: boolean) {
        if (!this.client) { return; }
        const req = new engineproto.LogRequest();
        req.setSeverity(severity);
        req.setMessage(message);
        req.setUrn(urn);
        req.setEphemeral(ephemeral);
        this.client.log(req, () => { /* logging is best effort */ });
    }
    /** A line of the command's output as the resource's live status in `pulumi up`, like the official InfoStatus. */
    status(urn: string, message: string) { this.send(engineproto.LogSeverity.INFO, urn, message, true); }
    warn(urn: string, message: string) { this.send(engineproto.LogSeverity.WARNING, urn, message, false); }
}

type LineSink = (stream: "stdout" | "stderr", line: string) => void;

/** Splits a stream into lines for the live log. */
function lineSplitter(stream: "stdout" | "stderr", sink: LineSink) {
    let partial = "";
    return {
        push(d: string) {
            const lines = (partial + d).split("\n");
            partial = lines.pop() ?? "";
            lines.filter((l) => l.trim()).forEach((l) => sink(stream, l));
        },
        end() { if (partial.trim()) { sink(stream, partial); } partial = ""; },
    };
}

export class CommandProvider implements provider.Provider {
    readonly version = PROVIDER_VERSION;
    private log: EngineLog;
    private running = new Set<ChildProcess>();
    private cancelled = false;
    constructor(engineAddress?: string) { this.log = new EngineLog(engineAddress); }

    async check(urn: string, _olds: any, news: any): Promise<provider.CheckResult> {
        return { inputs: news, failures: checkInputs(resourceType(urn), news) };
    }

    async diff(_id: string, urn: string, olds: any, news: any): Promise<provider.DiffResult> {
        const o = unwrapSecrets(olds), n = unwrapSecrets(news);
        const keys = new Set([...Object.keys(o), ...Object.keys(n)].filter((k) => !OUTPUT_KEYS.has(k) && !k.startsWith("__")));
        const differs = (k: string) => JSON.stringify(o[k]) !== JSON.stringify(n[k]) || containsUnknown(n[k]);
        const changed = [...keys].filter(differs);
        // Like the official provider (replaceOnChanges on triggers): a trigger change replaces.
        const replaces = changed.includes("triggers") ? ["triggers"] : [];
        return { changes: changed.length > 0, replaces };
    }

    async create(urn: string, inputs: any): Promise<provider.CreateResult> {
        this.refuseUnimplemented(urn, inputs);
        const out = inputs.create ? await this.exec(urn, inputs, inputs.create, undefined) : { stdout: "", stderr: "" };
        return { id: `${resourceName(urn)}${randomHex(8)}`, outs: { ...inputs, ...out } };
    }

    async update(_id: string, urn: string, olds: any, news: any): Promise<provider.UpdateResult> {
        this.refuseUnimplemented(urn, news);
        const command = news.update ?? news.create;
        const previous = { stdout: olds.stdout ?? "", stderr: olds.stderr ?? "" };
        const out = command ? await this.exec(urn, news, command, previous) : previous;
        return { outs: { ...news, ...out } };
    }

    async delete(_id: string, urn: string, props: any): Promise<void> {
        if (props.delete) {
            await this.exec(urn, props, props.delete, { stdout: props.stdout ?? "", stderr: props.stderr ?? "" });
        }
    }

    /** Like the official provider: a command's state is what it printed when it ran; reading changes nothing. */
    async read(id: string, _urn: string, props: any): Promise<provider.ReadResult> {
        return { id, props };
    }

    /** Ctrl-C in `pulumi up`: end every running command (its ssh session, so the remote side sees the hangup). */
    async cancel(): Promise<void> {
        this.cancelled = true;
        for (const child of this.running) { killTree(child); }
    }

    async invoke(token: string): Promise<provider.InvokeResult> {
        throw new Error(`${token} is not implemented by miglab's command provider (the fallback for the official ` +
            "pulumi-resource-command): use command.local.Command instead");
    }

    private refuseUnimplemented(urn: string, inputs: any) {
        const failures = checkInputs(resourceType(urn), inputs);
        if (failures.length > 0) {
            throw new Error(failures.map((f) => (f.property ? `${f.property}: ` : "") + f.reason).join("; "));
        }
    }

    private async exec(urn: string, wrapped: any, command: string,
        previous: { stdout: string; stderr: string } | undefined): Promise<{ stdout: string; stderr: string }> {
        if (this.cancelled) { throw new Error("cancelled: the command was not started"); }
        const inputs = unwrapSecrets(wrapped);
        command = unwrapSecrets(command);
        const env: Record<string, string> = { ...(inputs.environment ?? {}) };
        const optionalEnv: string[] = [];
        if (previous && inputs.addPreviousOutputInEnv !== false) {
            const prev = unwrapSecrets(previous);
            for (const [name, value] of [["PULUMI_COMMAND_STDOUT", prev.stdout], ["PULUMI_COMMAND_STDERR", prev.stderr]]) {
                if (!value) { continue; }
                if (value.length > MAX_PREVIOUS_OUTPUT_ENV) {
                    this.log.warn(urn, `${name} is not set: the previous output is ${value.length} bytes (at most ${MAX_PREVIOUS_OUTPUT_ENV} are passed on)`);
                    continue;
                }
                env[name] = value; optionalEnv.push(name);
            }
        }
        const logging: Logging | undefined = inputs.logging;
        const sink: LineSink = (stream, line) => {
            if (logsStream(logging, stream)) { this.log.status(urn, line.slice(0, 500)); }
        };
        if (resourceType(urn) === REMOTE) {
            return this.execRemote(inputs.connection, command, env, optionalEnv, inputs.stdin, sink);
        }
        const interpreter: string[] = inputs.interpreter ?? ["/bin/sh", "-c"];
        const result = await this.run(interpreter[0], [...interpreter.slice(1), command],
            { cwd: inputs.dir, env: { ...process.env, ...env }, stdin: inputs.stdin }, sink);
        return outcome(result, "this machine");
    }

    private async execRemote(conn: Connection, command: string, env: Record<string, string>, optionalEnv: string[],
        stdin: string | undefined, sink: LineSink): Promise<{ stdout: string; stderr: string }> {
        const where = `${conn.user ?? "root"}@${conn.host}:${conn.port ?? 22}`;
        const limit = conn.dialErrorLimit ?? DIAL_ERROR_LIMIT;
        const required = Object.keys(env).filter((n) => !optionalEnv.includes(n));
        return withSshAuth(conn, async (auth) => {
            const args = sshArgs(conn, { knownHosts: auth.knownHosts, envNames: Object.keys(env) }, remoteCommand(command, required));
            const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
            if (auth.agentSocket) { childEnv.SSH_AUTH_SOCK = auth.agentSocket; }
            for (let failures = 0; ; failures++) {
                let started = false;
                const result = await this.run("ssh", args, { env: childEnv, stdin }, sink, (line) => {
                    if (!started && line === SESSION_MARK) { started = true; return true; }
                    return false;
                });
                if (started) {
                    if (result.code === ENV_REFUSED_EXIT) {
                        throw new Error(`on ${where}: ${tail(result.stderr, 3)}`);
                    }
                    return outcome(result, where);
                }
                if (this.cancelled) { throw new Error(`cancelled while connecting to ${where}`); }
                if (HOST_KEY_MISMATCH.test(result.stderr)) {
                    throw new Error(`the SSH host key of ${where} does not match connection.hostKey (${tail(result.stderr, 3)}). ` +
                        "Give the host's current public key, or leave hostKey out to ignore host keys.");
                }
                // Like the official provider: dialErrorLimit failed dials are retried, -1 without end.
                if (limit !== -1 && failures + 1 > limit) {
                    throw new Error(`cannot reach ${where} over SSH: ${tail(result.stderr, 5) || "connection failed"} (${failures + 1} attempts). ` +
                        "Check the host's address, that sshd runs there, and that connection.privateKey is authorized for that user.");
                }
                sink("stderr", `Dial ${failures + 1}/${limit === -1 ? "inf" : limit} failed: retrying`);
                await sleep(Math.min(5000, 200 * 1.5 ** failures));
            }
        }, (child) => { this.track(child); });
    }

    /** Runs one process; `swallow` may consume a stderr line (the session mark) before it is logged or kept. */
    run(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string },
        sink: LineSink, swallow: (line: string) => boolean = () => false): Promise<CommandResult> {
        return new Promise((resolve, reject) => {
            // Its own process group, so Cancel ends the command and whatever it started.
            const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"], detached: true });
            this.running.add(child);
            let stdout = "", stderr = "", stderrPartial = "";
            const out = lineSplitter("stdout", sink), err = lineSplitter("stderr", sink);
            child.stdout.setEncoding("utf8");
            child.stderr.setEncoding("utf8");
            child.stdout.on("data", (d: string) => { stdout += d; out.push(d); });
            child.stderr.on("data", (d: string) => {
                // Whole lines only, so the session mark can be taken out before anything sees it.
                const lines = (stderrPartial + d).split("\n");
                stderrPartial = lines.pop() ?? "";
                for (const line of lines) {
                    if (swallow(line)) { continue; }
                    stderr += line + "\n"; err.push(line + "\n");
                }
            });
            child.on("error", (e) => { this.running.delete(child); reject(e); });
            child.on("close", (code, signal) => {
                this.running.delete(child);
                if (stderrPartial && !swallow(stderrPartial)) { stderr += stderrPartial; err.push(stderrPartial); }
                out.end(); err.end();
                resolve({ stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, ""), code, signal });
            });
            // A command that never reads its stdin may exit before we finish writing it.
            child.stdin.on("error", () => { /* EPIPE: the command did not want its input */ });
            child.stdin.end(opts.stdin ?? "");
        });
    }

    /** Runs a helper process this provider needs (ssh-agent, ssh-add), ended by Cancel like a command. */
    track(child: ChildProcess): ChildProcess {
        this.running.add(child);
        child.on("close", () => this.running.delete(child));
        return child;
    }
}

function outcome(result: CommandResult, where: string): { stdout: string; stderr: string } {
    if (result.code !== 0) {
        const why = result.signal ? `killed by ${result.signal}` : `exit code ${result.code}`;
        throw new Error(`command on ${where} failed (${why})\n` +
            `stderr:\n${tail(result.stderr)}\nstdout:\n${tail(result.stdout, 10)}`);
    }
    return { stdout: result.stdout, stderr: result.stderr };
}

function killTree(child: ChildProcess) {
    try { process.kill(-child.pid!, "SIGTERM"); } catch { child.kill("SIGTERM"); }
}

function tail(text: string, lines = 30): string {
    return text.split("\n").slice(-lines).join("\n");
}
function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }
function randomHex(n: number): string {
    return [...Array(n)].map(() => Math.floor(Math.random() * 16).toString(16)).join("");
}

/** The resource's own type token: a URN's qualified type lists its parents' types first, `$`-separated. */
export function resourceType(urn: string): string {
    const qualified = urn.split("::")[2] ?? "";
    return qualified.split("$").pop() ?? "";
}
export function isRemote(urn: string): boolean { return resourceType(urn) === REMOTE; }
function resourceName(urn: string): string { return urn.split("::").pop() ?? "command"; }

if (require.main === module) {
    const args = process.argv.slice(2);
    provider.main(new CommandProvider(args[args.length - 1]), args).catch((e) => {
        process.stderr.write(`miglab command provider: ${e.message}\n`);
        process.exit(1);
    });
}
