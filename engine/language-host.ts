// A Node.js language host for the Pulumi engine, used when the official
// `pulumi-language-nodejs` binary cannot be had: its Go module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not
// served by the module proxy this project can reach. It does what the
// official host does for `pulumi preview/up/destroy`: it runs the program with
// @pulumi/pulumi's own runner (`@pulumi/pulumi/cmd/run`) and reports the
// packages the program depends on, so program semantics (TypeScript via
// ts-node, exports as stack outputs, config, secrets) are the SDK's, not ours.
import * as grpc from "@grpc/grpc-js";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

// The proto stubs ship with @pulumi/pulumi; they have no public typings path.
/* eslint-disable @typescript-eslint/no-var-requires */
const langrpc = require("@pulumi/pulumi/proto/language_grpc_pb.js");
const langproto = require("@pulumi/pulumi/proto/language_pb.js");
const plugproto = require("@pulumi/pulumi/proto/plugin_pb.js");
const emptyproto = require("google-protobuf/google/protobuf/empty_pb.js");

// The official host reports the Pulumi release it belongs to; this one belongs to the SDK it runs
// programs with, which setup keeps at the engine's version.
const VERSION: string = require("@pulumi/pulumi/version").version;
// Exit code @pulumi/pulumi's runner uses after it has already reported the error.
const BAIL_EXIT_CODE = 32;

interface PackageDep { name: string; version: string; server?: string }

/** Resource plugins the program's node_modules declare (package.json `pulumi.resource`). */
export function requiredPackages(programDir: string): PackageDep[] {
    const found = new Map<string, PackageDep>();
    const visit = (nodeModules: string, depth: number) => {
        if (depth > 3 || !fs.existsSync(nodeModules)) { return; }
        for (const entry of fs.readdirSync(nodeModules)) {
            if (entry.startsWith(".")) { continue; }
            const dir = path.join(nodeModules, entry);
            if (entry.startsWith("@")) { visit(dir, depth); continue; }
            const pkgFile = path.join(dir, "package.json");
            if (!fs.existsSync(pkgFile)) { continue; }
            try {
                const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
                const meta = pkg.pulumi;
                if (meta && meta.resource) {
                    const name = meta.name || String(pkg.name).replace(/^@pulumi\//, "");
                    const version = String(meta.version || pkg.version).replace(/^v/, "");
                    found.set(`${name}@${version}`, { name, version, server: meta.server });
                }
            } catch { /* an unreadable package.json is not ours to judge */ }
            visit(path.join(dir, "node_modules"), depth + 1);
        }
    };
    let dir = path.resolve(programDir);
    // Walk up like Node's resolver does, so a program in a subfolder still finds its packages.
    for (;;) {
        visit(path.join(dir, "node_modules"), 0);
        const parent = path.dirname(dir);
        if (parent === dir) { break; }
        dir = parent;
    }
    return [...found.values()];
}

function runnerPath(programDir: string): string {
    return require.resolve("@pulumi/pulumi/cmd/run", { paths: [programDir, __dirname] });
}

function runtimeOptions(info: any): Record<string, unknown> {
    const opts = info?.getOptions?.();
    return opts ? opts.toJavaScript() : {};
}

export function runnerArgs(req: any, engineAddress: string): { args: string[]; cwd: string; env: NodeJS.ProcessEnv } {
    const info = req.getInfo();
    const programDir = info?.getProgramDirectory() || req.getPwd() || process.cwd();
    const rootDir = info?.getRootDirectory() || programDir;
    const entry = info?.getEntryPoint() || req.getProgram() || ".";
    const opts = runtimeOptions(info);
    const config: Record<string, string> = {};
    for (const [k, v] of req.getConfigMap().entries()) { config[k] = v; }
    const args = [
        runnerPath(programDir),
        `--monitor=${req.getMonitorAddress()}`,
        `--engine=${engineAddress}`,
        `--project=${req.getProject()}`,
        `--stack=${req.getStack()}`,
        `--pwd=${req.getPwd() || programDir}`,
        `--root-directory=${rootDir}`,
        `--parallel=${req.getParallel()}`,
    ];
    if (req.getOrganization()) { args.push(`--organization=${req.getOrganization()}`); }
    if (req.getDryrun()) { args.push("--dry-run"); }
    args.push(entry, ...req.getArgsList());
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        PULUMI_CONFIG: JSON.stringify(config),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
        PULUMI_NODEJS_TYPESCRIPT: String(opts.typescript !== false),
    };
    if (typeof opts.tsconfig === "string") { env.PULUMI_NODEJS_TSCONFIG_PATH = opts.tsconfig; }
    const nodeargs = typeof opts.nodeargs === "string" ? opts.nodeargs.split(/\s+/).filter(Boolean) : [];
    return { args: [...nodeargs, ...args], cwd: programDir, env };
}

/**
 * How a plugin written in Node.js is started (a component package such as miglab's own plugin/,
 * named by a YAML program's `packages:`): @pulumi/pulumi's plugin runner loads the plugin's folder,
 * and when it exports component classes it serves them as a provider. As the official host does,
 * the runner comes from the plugin's own node_modules, so the provider speaks its own SDK's version.
 */
export function pluginArgs(req: any): { args: string[]; cwd: string; env: NodeJS.ProcessEnv } {
    const info = req.getInfo();
    const dir = info?.getProgramDirectory() || req.getProgram() || req.getPwd();
    if (!dir) { throw new Error("the engine named no plugin directory"); }
    const opts = runtimeOptions(info);
    const runner = require.resolve("@pulumi/pulumi/cmd/run-plugin", { paths: [dir, __dirname] });
    const nodeargs = typeof opts.nodeargs === "string" ? opts.nodeargs.split(/\s+/).filter(Boolean) : [];
    const env: NodeJS.ProcessEnv = { ...process.env };
    // The engine's list is the plugin's whole environment; laid over ours so PATH and HOME stay when it is short.
    for (const kv of req.getEnvList() as string[]) {
        const at = kv.indexOf("=");
        if (at > 0) { env[kv.slice(0, at)] = kv.slice(at + 1); }
    }
    if (opts.typescript !== false) { env.PULUMI_NODEJS_TYPESCRIPT = "true"; }
    if (typeof opts.tsconfig === "string") { env.PULUMI_NODEJS_TSCONFIG_PATH = opts.tsconfig; }
    return { args: [runner, ...nodeargs, dir, ...req.getArgsList()], cwd: req.getPwd() || dir, env };
}

/** RunPlugin: the plugin's stdout (its port first), stderr and exit code, streamed to the engine. */
function runPlugin(call: any, programs: Set<ChildProcess>): void {
    let spec: ReturnType<typeof pluginArgs>;
    try {
        spec = pluginArgs(call.request);
    } catch (e) {
        call.destroy({ code: grpc.status.INVALID_ARGUMENT, details: `cannot start the plugin: ${(e as Error).message}` });
        return;
    }
    const child = spawn(process.execPath, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ["ignore", "pipe", "pipe"] });
    programs.add(child);
    const send = (set: (r: any) => void) => { const r = new langproto.RunPluginResponse(); set(r); call.write(r); };
    child.stdout.on("data", (b: Buffer) => send((r) => r.setStdout(b)));
    child.stderr.on("data", (b: Buffer) => send((r) => r.setStderr(b)));
    let ended = false;
    child.on("error", (err) => {
        if (ended) { return; }
        ended = true; programs.delete(child);
        call.destroy({ code: grpc.status.INTERNAL, details: `cannot start node for the plugin: ${err.message}` });
    });
    child.on("close", (code, signal) => {
        if (ended) { return; }
        ended = true; programs.delete(child);
        send((r) => r.setExitcode(code ?? (signal ? 128 : 1)));
        call.end();
    });
    // The engine closes the stream when it is done with the plugin: the plugin goes with it.
    call.on("cancelled", () => child.kill("SIGTERM"));
}

function serve(engineAddress: string): Promise<number> {
    // The programs this host runs, so Cancel (Ctrl-C in `pulumi up`) can end them.
    const programs = new Set<ChildProcess>();
    const server = new grpc.Server({ "grpc.max_receive_message_length": 1 << 30 });
    const unimplemented = (name: string) => (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not supported by miglab's language host` } as grpc.ServiceError);
    const impl: Record<string, unknown> = {};
    for (const method of Object.keys(langrpc.LanguageRuntimeService)) {
        impl[method] = unimplemented(method);
    }
    Object.assign(impl, {
        handshake: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, new langproto.LanguageHandshakeResponse()),
        getPluginInfo: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
            const info = new plugproto.PluginInfo();
            info.setVersion(VERSION);
            cb(null, info);
        },
        getRequiredPlugins: (call: any, cb: grpc.sendUnaryData<unknown>) => {
            const dir = call.request.getInfo()?.getProgramDirectory() || call.request.getPwd() || process.cwd();
            const resp = new langproto.GetRequiredPluginsResponse();
            resp.setPluginsList(requiredPackages(dir).map((p) => {
                const d = new plugproto.PluginDependency();
                d.setName(p.name); d.setKind("resource"); d.setVersion(p.version); d.setServer(p.server || "");
                return d;
            }));
            cb(null, resp);
        },
        getRequiredPackages: (call: any, cb: grpc.sendUnaryData<unknown>) => {
            const dir = call.request.getInfo()?.getProgramDirectory() || process.cwd();
            const resp = new langproto.GetRequiredPackagesResponse();
            resp.setPackagesList(requiredPackages(dir).map((p) => {
                const d = new plugproto.PackageDependency();
                d.setName(p.name); d.setKind("resource"); d.setVersion(p.version); d.setServer(p.server || "");
                return d;
            }));
            cb(null, resp);
        },
        installDependencies: (call: any) => {
            // Dependencies are installed by `npm ci` in the project's own setup; say so rather than guess.
            const resp = new langproto.InstallDependenciesResponse();
            resp.setStdout(Buffer.from("miglab: dependencies are installed by `npm ci` (scripts/setup)\n"));
            call.write(resp);
            call.end();
        },
        about: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
            const resp = new langproto.AboutResponse();
            resp.setExecutable(process.execPath);
            resp.setVersion(process.version);
            cb(null, resp);
        },
        cancel: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
            // The engine stops sending work; the program would otherwise wait on it forever.
            for (const p of programs) { p.kill("SIGTERM"); }
            cb(null, new emptyproto.Empty());
        },
        runPlugin: (call: any) => runPlugin(call, programs),
        run: (call: any, cb: grpc.sendUnaryData<unknown>) => {
            let spec: ReturnType<typeof runnerArgs>;
            try {
                spec = runnerArgs(call.request, engineAddress);
            } catch (e) {
                const resp = new langproto.RunResponse();
                resp.setError(`cannot start the program: ${(e as Error).message}`);
                cb(null, resp);
                return;
            }
            const child = spawn(process.execPath, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ["ignore", "pipe", "pipe"] });
            programs.add(child);
            // The engine shows a plugin's stdout/stderr as diagnostics: pass the program's through.
            child.stdout.pipe(process.stdout);
            child.stderr.pipe(process.stderr);
            // A child that fails to start may report both 'error' and 'close': answer once.
            let answered = false;
            const answer = (resp: unknown) => { if (!answered) { answered = true; cb(null, resp); } };
            child.on("error", (err) => {
                const resp = new langproto.RunResponse();
                resp.setError(`cannot start node: ${err.message}`);
                answer(resp);
            });
            child.on("close", (code, signal) => {
                programs.delete(child);
                const resp = new langproto.RunResponse();
                if (code === BAIL_EXIT_CODE) {
                    resp.setBail(true);
                } else if (code !== 0) {
                    resp.setError(signal ? `program was killed by ${signal}` : `program exited with code ${code}`);
                }
                answer(resp);
            });
        },
    });
    server.addService(langrpc.LanguageRuntimeService, impl as grpc.UntypedServiceImplementation);
    return new Promise((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => err ? reject(err) : resolve(port)));
}

if (require.main === module) {
    // The engine passes flags (-root=..., -tracing=...) and then its own address.
    const positional = process.argv.slice(2).filter((a) => !a.startsWith("-"));
    const engineAddress = positional[positional.length - 1] || "";
    serve(engineAddress).then((port) => {
        process.stdout.write(`${port}\n`);
    }, (err) => {
        process.stderr.write(`miglab language host: ${err.message}\n`);
        process.exit(1);
    });
}
