// Running the real Pulumi CLI from tests and the benchmark, with the env scripts/setup-pulumi prints.
import { execFileSync, spawnSync } from "child_process";
import * as path from "path";
import { fnv1a } from "../components/model/net";

export const ROOT = path.resolve(__dirname, "..", "..");

/**
 * What the test labs' stack names start with: MIGLAB_TEST_PREFIX, else "ci-" and a tag of this
 * checkout. A local lab's id, namespaces and ports follow from its stack name, so two checkouts
 * running the lab suites on one machine at once must not use the same names (a CI run beside a
 * developer's run of the same suite had both labs share one set of namespaces, and its legs failed).
 */
export function testPrefix(): string {
    return process.env.MIGLAB_TEST_PREFIX ?? `ci-${fnv1a(ROOT).toString(36).slice(0, 4)}`;
}

/**
 * A benchmark's stack name: as docs/benchmarks.md and docs/reproduce.md give it
 * (`bench`, `repro-same-subnet`) unless MIGLAB_TEST_PREFIX is set, which gives each
 * checkout on one machine labs of its own.
 */
export function benchStack(name: string): string {
    return process.env.MIGLAB_TEST_PREFIX ? `${process.env.MIGLAB_TEST_PREFIX}-${name}` : name;
}

/**
 * The URL of a file backend in `dir`. `metadata=skip`: the file backend rewrites each file's
 * `.attrs` sidecar in place (truncate, then write), so a read during a write (the program's own
 * StackReference, while the engine saves the checkpoint) failed with "failed to load checkpoint:
 * EOF"; the checkpoint itself is replaced atomically and needs no sidecar.
 */
export function fileBackend(dir: string): string { return `file://${dir}?metadata=skip`; }

/**
 * The env scripts/setup prints (PATH to the engine, PULUMI_HOME, passphrase), as an object.
 * `setupArgs`: setup-pulumi's options, e.g. --yaml for the YAML language host.
 */
export function pulumiEnv(extra: Record<string, string> = {}, setupArgs: string[] = []): NodeJS.ProcessEnv {
    const printed = execFileSync("bash", [path.join(ROOT, "scripts", "setup-pulumi"), ...setupArgs], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const env: NodeJS.ProcessEnv = { ...process.env, PULUMI_CONFIG_PASSPHRASE: "miglab-local", ...extra };
    for (const line of printed.split("\n")) {
        const m = /^export (\w+)="(.*)"$/.exec(line);
        if (m) { env[m[1]] = m[2].replace(/\$PATH/, process.env.PATH ?? ""); }
    }
    return env;
}

export interface Run { code: number; stdout: string; stderr: string }

/**
 * What a failed `pulumi up` said about why: its Diagnostics section (the errors, which come before
 * the outputs' diff that ends a long output), or its end when it has none, and its stderr.
 */
export function whyFailed(r: Run): string {
    const diag = /^Diagnostics:\n[\s\S]*?(?=^(Outputs|Resources):)/m.exec(r.stdout)?.[0];
    return `${diag ? diag.slice(-8000) : r.stdout.slice(-6000)}${r.stderr}`;
}

export function pulumi(args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 20 * 60 * 1000): Run {
    const r = spawnSync("pulumi", [...args, "--non-interactive"], { cwd, env, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
    return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

export function sh(cmd: string): Run {
    const r = spawnSync("bash", ["-c", cmd], { encoding: "utf8", maxBuffer: 64 << 20 });
    return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}
