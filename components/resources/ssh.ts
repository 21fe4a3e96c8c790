// The one SSH layer of miglab on this machine: how a node's sshd is reached with OpenSSH, the
// private key given to an ssh-agent of that one call (in memory, never in a file), and a given
// host key the only one accepted (checked like the official command provider's FixedHostKey).
// The command provider (engine/command-provider.ts) runs remote commands through it, and so do
// the probes that run outside a command: the drift watches' reads and the CPU preflight.
//
// Every function here is self-contained (Node's own modules required inside): the drift watch's
// dynamic provider is serialized with what it calls, and a module object cannot be.

/** How to reach one node's sshd: the connection of a remote command (connection.hostKey, when given, is checked). */
export interface SshTarget {
    host: string; port?: number; user?: string; privateKey?: string; agentSocketPath?: string;
    dialErrorLimit?: number; perDialTimeout?: number; hostKey?: string;
}

/** What ssh is given for one call: the agent holding the key, the file holding the one known host key. */
export interface SshAuth { agentSocket?: string; knownHosts?: string }

/** A process this layer starts (ssh-agent, ssh-add, ssh), handed to the caller so it can end it (a provider's Cancel). */
export type Track = (child: import("child_process").ChildProcess) => void;

// Module constants are used by name (not as exports.X), so the serializer copies their values.
const DIALS = 10;
const DIAL_TIMEOUT_S = 15;
const MISMATCH = /Host key verification failed|host key .* (differs|is known)|REMOTE HOST IDENTIFICATION HAS CHANGED|No \S+ host key is known/i;
/** The official provider's defaults (connectionArgsProvideDefaults in the SDK sets them too). */
export const DIAL_ERROR_LIMIT = DIALS;
export const PER_DIAL_TIMEOUT_S = DIAL_TIMEOUT_S;
/** ssh's words when the node's host key is not the given one. */
export const HOST_KEY_MISMATCH = MISMATCH;

/** "type base64 [comment]" -> [type, base64], or undefined when it is not a public key line. */
export function parseHostKey(line: string): [string, string] | undefined {
    const m = /^\s*((?:ssh|ecdsa|sk)-[\w@.-]+)\s+([A-Za-z0-9+/=]+)(\s.*)?$/.exec(String(line));
    return m ? [m[1], m[2]] : undefined;
}

/** The OpenSSH argument list for one command on a node (with auth.knownHosts: only its key is accepted). */
export function sshArgs(conn: SshTarget, opts: { knownHosts?: string; envNames: string[] }, command: string): string[] {
    const args = [
        "-o", "BatchMode=yes",
        "-o", "LogLevel=ERROR",
        "-o", `ConnectTimeout=${conn.perDialTimeout ?? DIAL_TIMEOUT_S}`,
        "-o", "ServerAliveInterval=15",
        "-o", "IdentitiesOnly=no",
        "-p", String(conn.port ?? 22),
    ];
    if (opts.knownHosts) {
        // Verified against the given key only, like the official provider's FixedHostKey.
        const [type] = parseHostKey(conn.hostKey!)!;
        args.push("-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${opts.knownHosts}`,
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", `HostKeyAlgorithms=${type}`);
    } else {
        // Without connection.hostKey the official provider ignores host keys; so does this layer.
        args.push("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null");
    }
    for (const name of opts.envNames) { args.push("-o", `SendEnv=${name}`); }
    args.push(`${conn.user ?? "root"}@${conn.host}`, command);
    return args;
}

/** Runs one helper process to its end: its exit code and stderr. */
function runHelper(file: string, args: string[], env: NodeJS.ProcessEnv, stdin: string, track?: Track): Promise<{ code: number | null; stderr: string }> {
    /* eslint-disable @typescript-eslint/no-var-requires */
    const cp = require("child_process");
    return new Promise((resolve, reject) => {
        const child = cp.spawn(file, args, { env, stdio: ["pipe", "ignore", "pipe"] });
        if (track) { track(child); }
        let stderr = "";
        child.stderr.setEncoding("utf8");
        child.stderr.on("data", (d: string) => { stderr += d; });
        child.on("error", reject);
        child.on("close", (code: number | null) => resolve({ code, stderr }));
        child.stdin.on("error", () => { /* EPIPE: it did not read its input */ });
        child.stdin.end(stdin);
    });
}

/**
 * Gives ssh its key through an ssh-agent of this call alone: the key goes to the agent over a
 * pipe and lives in its memory, with a lifetime, so a killed process leaves no key in any file.
 * A hostKey is written (it is public) as the only known host.
 */
export async function withSshAuth<T>(conn: SshTarget, fn: (auth: SshAuth) => Promise<T>, track?: Track): Promise<T> {
    /* eslint-disable @typescript-eslint/no-var-requires */
    const cp = require("child_process"), fs = require("fs"), os = require("os"), path = require("path");
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-ssh-"));
    let agent: import("child_process").ChildProcess | undefined;
    try {
        const auth: SshAuth = {};
        if (conn.hostKey) {
            const key = parseHostKey(conn.hostKey);
            if (!key) { throw new Error(`connection.hostKey is not a public key line ('type base64'): ${String(conn.hostKey).slice(0, 40)}`); }
            auth.knownHosts = path.join(dir, "known_hosts");
            const names = (conn.port ?? 22) === 22 ? conn.host : `[${conn.host}]:${conn.port}`;
            fs.writeFileSync(auth.knownHosts, `${names} ${key[0]} ${key[1]}\n`);
        }
        if (conn.privateKey) {
            const socket = auth.agentSocket = path.join(dir, "agent.sock");
            agent = cp.spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore", detached: true }) as import("child_process").ChildProcess;
            if (track) { track(agent); }
            for (let i = 0; i < 100 && !fs.existsSync(socket); i++) { await sleep(20); }
            // The key is needed only to log in: it expires from the agent after every dial could have happened.
            const limit = conn.dialErrorLimit ?? DIALS;
            const lifetime = Math.max(60, ((limit < 0 ? 100 : limit) + 1) * ((conn.perDialTimeout ?? DIAL_TIMEOUT_S) + 5));
            const key = conn.privateKey.endsWith("\n") ? conn.privateKey : `${conn.privateKey}\n`;
            const add = () => runHelper("ssh-add", ["-q", "-t", String(lifetime), "-"], { PATH: process.env.PATH, SSH_AUTH_SOCK: socket }, key, track);
            let added = await add();
            // The socket file appears when the agent binds it, a moment before it listens: on a busy machine, ask again.
            for (let i = 0; i < 50 && added.code !== 0 && /connecting to agent/i.test(added.stderr); i++) {
                await sleep(100);
                added = await add();
            }
            if (added.code !== 0) {
                throw new Error(`connection.privateKey could not be used: ${added.stderr.replace(/\(stdin\)/g, "the key").trim() || `ssh-add exit ${added.code}`}`);
            }
        } else if (conn.agentSocketPath) {
            auth.agentSocket = conn.agentSocketPath;
        } else if (process.env.SSH_AUTH_SOCK) {
            auth.agentSocket = process.env.SSH_AUTH_SOCK;
        }
        return await fn(auth);
    } finally {
        if (agent) {
            const a = agent;
            const gone = new Promise<void>((r) => { if (a.exitCode !== null || a.signalCode !== null) { r(); } else { a.once("exit", () => r()); } });
            try { process.kill(-a.pid!, "SIGTERM"); } catch { a.kill("SIGTERM"); }
            // ssh-agent unlinks its socket as it exits: removing the folder meanwhile raced it, and
            // Node 24's recursive rm gave up on the entry that vanished, leaving the folder.
            await Promise.race([gone, sleep(3000)]);
        }
        fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    }
}

/**
 * Runs one command on a node and waits for it (a probe: no retries, no environment). Exit 255:
 * ssh could not reach the node, or the node's host key is not the given one, said in stdout.
 */
export async function sshRun(t: SshTarget, command: string, timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
    /* eslint-disable @typescript-eslint/no-var-requires */
    const cp = require("child_process");
    const where = `${t.user ?? "root"}@${t.host}:${t.port ?? 22}`;
    return withSshAuth(t, (auth) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...(auth.agentSocket ? { SSH_AUTH_SOCK: auth.agentSocket } : {}) };
        const child = cp.spawn("ssh", sshArgs(t, { knownHosts: auth.knownHosts, envNames: [] }, command), { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
        let stdout = "", stderr = "";
        child.stdout.setEncoding("utf8");
        child.stderr.setEncoding("utf8");
        child.stdout.on("data", (d: string) => { stdout += d; });
        child.stderr.on("data", (d: string) => { stderr += d; });
        const timer = setTimeout(() => { try { process.kill(-child.pid, "SIGTERM"); } catch { /* gone */ } }, timeoutMs);
        child.on("error", (e: Error) => { clearTimeout(timer); resolve({ status: 255, stdout: `cannot run ssh to ${where}: ${e.message}`, stderr: "" }); });
        child.on("close", (code: number | null) => {
            clearTimeout(timer);
            const last = stderr.trim().split("\n").pop() ?? "";
            if (code === 255 && MISMATCH.test(stderr)) {
                resolve({ status: 255, stdout: `the SSH host key of ${where} is not the recorded one (${last}); nothing was run there`, stderr: "" });
            } else if (code === 255) {
                resolve({ status: 255, stdout: `unreachable over SSH (${last})`, stderr: "" });
            } else {
                resolve({ status: code, stdout, stderr });
            }
        });
    })).catch((e: Error) => ({ status: 255, stdout: `cannot reach ${where} over SSH: ${e.message}`, stderr: "" }));
}
