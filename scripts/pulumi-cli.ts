// Running the real Pulumi CLI from tests and the benchmark, with the env scripts/setup-pulumi prints.
import { execFileSync, spawnSync } from "child_process";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..", "..");

/** The env scripts/setup prints (PATH to the engine, PULUMI_HOME, passphrase), as an object. */
/**
 * The URL of a file backend in `dir`. `metadata=skip`: the file backend rewrites each file's
 * `.attrs` sidecar in place (truncate, then write), so a read during a write (the program's own
 * StackReference, while the engine saves the checkpoint) failed with "failed to load checkpoint:
 * EOF"; the checkpoint itself is replaced atomically and needs no sidecar.
 */
export function fileBackend(dir: string): string { return `file://${dir}?metadata=skip`; }

export function pulumiEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const printed = execFileSync("bash", [path.join(ROOT, "scripts", "setup-pulumi")], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const env: NodeJS.ProcessEnv = { ...process.env, PULUMI_CONFIG_PASSPHRASE: "miglab-local", ...extra };
    for (const line of printed.split("\n")) {
        const m = /^export (\w+)="(.*)"$/.exec(line);
        if (m) { env[m[1]] = m[2].replace(/\$PATH/, process.env.PATH ?? ""); }
    }
    return env;
}

export interface Run { code: number; stdout: string; stderr: string }

export function pulumi(args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 20 * 60 * 1000): Run {
    const r = spawnSync("pulumi", [...args, "--non-interactive"], { cwd, env, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
    return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

export function sh(cmd: string): Run {
    const r = spawnSync("bash", ["-c", cmd], { encoding: "utf8", maxBuffer: 64 << 20 });
    return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}
