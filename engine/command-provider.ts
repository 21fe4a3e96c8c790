// A resource provider for `command:local:Command` and `command:remote:Command`,
// speaking the same schema as the @pulumi/command SDK. It is installed as the
// `command` plugin only when the official `pulumi-resource-command` cannot be
// had (its Go module, github.com/pulumi/pulumi-command/provider, is not served
// by the module proxy this project reaches, and the npm package's install
// script downloads a binary). It is built on @pulumi/pulumi's own provider
// server; remote commands go through the system's OpenSSH client.
import * as grpc from "@grpc/grpc-js";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as provider from "@pulumi/pulumi/provider";

/* eslint-disable @typescript-eslint/no-var-requires */
const enginerpc = require("@pulumi/pulumi/proto/engine_grpc_pb.js");
const engineproto = require("@pulumi/pulumi/proto/engine_pb.js");

export const PROVIDER_VERSION = "4.5.0";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** Marks a secret value in the engine's property protocol: {[SECRET_SIG]: SECRET_VAL, value}. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VAL = "1b47061264138c4ac30d75fd1eb44270";

/** The plain values a command needs; the wrapped ones are kept for the state. */
export function unwrapSecrets(v: any): any {
    if (Array.isArray(v)) { return v.map(unwrapSecrets); }
    if (v && typeof v === "object") {
        if (v[SECRET_SIG] === SECRET_VAL) { return unwrapSecrets(v.value); }
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    }
    return v;
}
/** Inputs whose change re-runs the command (update, or create when no update is given). */
const UPDATE_KEYS = ["create", "update", "delete", "environment", "stdin", "connection", "dir", "interpreter"];

export interface CommandResult { stdout: string; stderr: string; code: number | null; signal: string | null }

export interface Connection { host: string; port?: number; user?: string; privateKey?: string; password?: string }

const running = new Set<ChildProcess>();

/** Builds the OpenSSH argument list for one command on a remote host. */
export function sshArgs(conn: Connection, keyFile: string | undefined, command: string): string[] {
    const args = [
        "-o", "BatchMode=yes",
        // Like the official provider, which ignores host keys: lab hosts are re-created with new keys.
        "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null",
        "-o", "LogLevel=ERROR",
        "-o", "ConnectTimeout=15",
        "-o", "ServerAliveInterval=15",
        "-p", String(conn.port ?? 22),
    ];
    if (keyFile) { args.push("-i", keyFile, "-o", "IdentitiesOnly=yes"); }
    args.push(`${conn.user ?? "root"}@${conn.host}`, command);
    return args;
}

/** Shell-quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Environment is set in the command text: sshd drops SendEnv variables unless told to AcceptEnv them. */
export function withEnvironment(command: string, env: Record<string, string> | undefined): string {
    const entries = Object.entries(env ?? {});
    if (entries.length === 0) { return command; }
    const exports = entries.map(([k, v]) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) { throw new Error(`environment: '${k}' is not a valid variable name`); }
        return `export ${k}=${shellQuote(v)}`;
    });
    return `${exports.join("; ")}; ${command}`;
}

class EngineLog {
    private client: any;
    constructor(address: string | undefined) {
        if (address) {
            this.client = new enginerpc.EngineClient(address, grpc.credentials.createInsecure());
        }
    }
    /** Shows a line as the resource's live status in `pulumi up` (ephemeral) or as a kept info message. */
    info(urn: string, message: string, ephemeral: boolean) {
        if (!this.client) { return; }
        const req = new engineproto.LogRequest();
        req.setSeverity(engineproto.LogSeverity.INFO);
        req.setMessage(message);
        req.setUrn(urn);
        req.setEphemeral(ephemeral);
        this.client.log(req, () => { /* logging is best effort */ });
    }
}

function run(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string },
    onLine: (line: string) => void): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
        running.add(child);
        let stdout = "", stderr = "", partial = "";
        child.stdout.on("data", (d) => { stdout += d; });
        child.stderr.on("data", (d) => {
            stderr += d;
            const lines = (partial + d).split("\n");
            partial = lines.pop() ?? "";
            lines.filter((l) => l.trim()).forEach(onLine);
        });
        child.on("error", (e) => { running.delete(child); reject(e); });
        child.on("close", (code, signal) => {
            running.delete(child);
            resolve({ stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, ""), code, signal });
        });
        // A command that never reads its stdin may exit before we finish writing it.
        child.stdin.on("error", () => { /* EPIPE: the command did not want its input */ });
        child.stdin.end(opts.stdin ?? "");
    });
}

function tail(text: string, lines = 30): string {
    const all = text.split("\n");
    return all.slice(-lines).join("\n");
}

export class CommandProvider implements provider.Provider {
    readonly version = PROVIDER_VERSION;
    private log: EngineLog;
    constructor(engineAddress?: string) { this.log = new EngineLog(engineAddress); }

    async check(urn: string, _olds: any, news: any): Promise<provider.CheckResult> {
        const failures: provider.CheckFailure[] = [];
        for (const key of ["create", "update", "delete", "stdin", "dir"]) {
            const v = unwrapSecrets(news[key]);
            if (v !== undefined && typeof v !== "string") {
                failures.push({ property: key, reason: `${key} must be a string` });
            }
        }
        if (isRemote(urn)) {
            const c = unwrapSecrets(news.connection);
            if (!c || c.host === undefined || c.host === "") {
                failures.push({ property: "connection.host", reason: "connection.host is required: the address of the host to run on" });
            } else if (c.password !== undefined && c.privateKey === undefined) {
                failures.push({ property: "connection.password", reason: "password login is not supported here; give connection.privateKey" });
            }
        }
        for (const key of ["assets", "archive", "assetPaths", "archivePaths"]) {
            if (news[key] !== undefined) {
                failures.push({ property: key, reason: `${key} is not supported by miglab's command provider` });
            }
        }
        return { inputs: news, failures };
    }

    async diff(_id: string, _urn: string, olds: any, news: any): Promise<provider.DiffResult> {
        const differs = (k: string) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]) || containsUnknown(news[k]);
        const replaces = differs("triggers") ? ["triggers"] : [];
        const changes = replaces.length > 0 || UPDATE_KEYS.some(differs);
        return { changes, replaces };
    }

    async create(urn: string, inputs: any): Promise<provider.CreateResult> {
        const out = inputs.create ? await this.exec(urn, inputs, inputs.create, {}) : { stdout: "", stderr: "" };
        return { id: `${resourceName(urn)}-${Date.now().toString(36)}`, outs: { ...inputs, ...out } };
    }

    async update(_id: string, urn: string, olds: any, news: any): Promise<provider.UpdateResult> {
        const command = news.update ?? news.create;
        const out = command ? await this.exec(urn, news, command, previousOutput(olds)) : { stdout: olds.stdout ?? "", stderr: olds.stderr ?? "" };
        return { outs: { ...news, ...out } };
    }

    async delete(_id: string, urn: string, props: any): Promise<void> {
        if (props.delete) {
            await this.exec(urn, props, props.delete, previousOutput(props));
        }
    }

    async read(id: string, _urn: string, props: any): Promise<provider.ReadResult> {
        return { id, props, inputs: props };
    }

    async cancel(): Promise<void> {
        for (const child of running) { child.kill("SIGTERM"); }
    }

    private async exec(urn: string, wrapped: any, command: string, extraEnv: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
        const inputs = unwrapSecrets(wrapped);
        command = unwrapSecrets(command);
        const env = { ...(inputs.environment ?? {}), ...extraEnv };
        const status = (line: string) => this.log.info(urn, line.slice(0, 300), true);
        let result: CommandResult;
        let where: string;
        if (isRemote(urn)) {
            const conn: Connection = inputs.connection;
            where = `${conn.user ?? "root"}@${conn.host}:${conn.port ?? 22}`;
            result = await withKeyFile(conn.privateKey, (keyFile) =>
                run("ssh", sshArgs(conn, keyFile, withEnvironment(command, env)), { stdin: inputs.stdin }, status));
            if (result.code === 255) {
                throw new Error(`cannot reach ${where} over SSH: ${tail(result.stderr, 5) || "connection failed"}. ` +
                    "Check the host's address, that sshd runs there, and that connection.privateKey is authorized for that user.");
            }
        } else {
            where = "this machine";
            const interpreter: string[] = inputs.interpreter ?? ["/bin/sh", "-c"];
            result = await run(interpreter[0], [...interpreter.slice(1), command],
                { cwd: inputs.dir, env: { ...process.env, ...env }, stdin: inputs.stdin }, status);
        }
        if (result.code !== 0) {
            const why = result.signal ? `killed by ${result.signal}` : `exit code ${result.code}`;
            throw new Error(`command on ${where} failed (${why})\n` +
                `stderr:\n${tail(result.stderr)}\nstdout:\n${tail(result.stdout, 10)}`);
        }
        return { stdout: result.stdout, stderr: result.stderr };
    }
}

/** The resource's own type token: a URN's qualified type lists its parents' types first, `$`-separated. */
export function resourceType(urn: string): string {
    const qualified = urn.split("::")[2] ?? "";
    return qualified.split("$").pop() ?? "";
}
export function isRemote(urn: string): boolean { return resourceType(urn) === "command:remote:Command"; }
function resourceName(urn: string): string { return urn.split("::").pop() ?? "command"; }
function containsUnknown(v: unknown): boolean { return JSON.stringify(v ?? null).includes(UNKNOWN); }
function previousOutput(props: any): Record<string, string> {
    return { PULUMI_COMMAND_STDOUT: props.stdout ?? "", PULUMI_COMMAND_STDERR: props.stderr ?? "" };
}

async function withKeyFile<T>(privateKey: string | undefined, fn: (file: string | undefined) => Promise<T>): Promise<T> {
    if (!privateKey) { return fn(undefined); }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-key-"));
    const file = path.join(dir, "id");
    fs.writeFileSync(file, privateKey.endsWith("\n") ? privateKey : privateKey + "\n", { mode: 0o600 });
    try {
        return await fn(file);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) {
    const args = process.argv.slice(2);
    provider.main(new CommandProvider(args[args.length - 1]), args).catch((e) => {
        process.stderr.write(`miglab command provider: ${e.message}\n`);
        process.exit(1);
    });
}
