// The programs in examples/, each as a user runs it: `pulumi up` in its folder (the
// components imported as the package "miglab": this checkout linked, or for `installed` the
// packed tarball installed into an empty project), a migration really measured, and a
// `pulumi destroy` that leaves nothing on this machine.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { labIdFor } from "../../components/model/plan";
import { LegMetrics } from "../../components/reports/metrics";
import { ROOT, Run, fileBackend, pulumi, pulumiEnv, sh, testPrefix } from "../support";
import { sharedSteps } from "../labFixture";

/** One example program on a stack of its own, with a state backend in a temp folder. */
class Example {
    readonly dir: string;
    readonly stack: string;
    readonly labId: string;
    private readonly state: string;
    private readonly setupArgs: string[];
    private setupEnv?: NodeJS.ProcessEnv;

    /** `program`: a folder of examples/, or the absolute path of a project elsewhere; `setupArgs`: setup-pulumi's. */
    constructor(program: string, stack: string, setupArgs: string[] = []) {
        this.dir = path.resolve(ROOT, "examples", program);
        this.stack = `${testPrefix()}-${stack}`;
        this.labId = labIdFor(this.stack);
        // Made by init(): a describe that --grep leaves out makes nothing.
        this.state = path.join(os.tmpdir(), `miglab-${this.stack}-${process.pid}`);
        this.setupArgs = setupArgs;
    }

    /** Asked of setup-pulumi at first use: a describe that --grep leaves out builds nothing (--yaml's Go build). */
    get env(): NodeJS.ProcessEnv {
        return this.setupEnv ??= pulumiEnv({ PULUMI_BACKEND_URL: fileBackend(this.state) }, this.setupArgs);
    }

    pulumi(args: string[]): Run { return pulumi([...args, "--stack", this.stack], this.dir, this.env); }

    init(): void {
        fs.mkdirSync(this.state, { recursive: true });
        const r = pulumi(["stack", "init", this.stack], this.dir, this.env);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
    }

    config(key: string, value: string, secret = false): void {
        // The value last, after "--" (a private key starts with dashes).
        const r = spawnSync("pulumi", ["config", "set", "--non-interactive", "--stack", this.stack, ...(secret ? ["--secret"] : []), key, "--", value],
            { cwd: this.dir, env: this.env, encoding: "utf8" });
        assert.strictEqual(r.status, 0, `${r.stdout}${r.stderr}`);
    }

    up(): Run { return this.pulumi(["up", "--yes"]); }
    outputs(): any { return JSON.parse(this.pulumi(["stack", "output", "--json", "--show-secrets"]).stdout); }
    destroy(): Run { return this.pulumi(["destroy", "--yes"]); }

    /** Whatever happened, the stack, its config file and its state go. */
    remove(): void {
        this.pulumi(["stack", "rm", "--yes", "--force"]);
        fs.rmSync(path.join(this.dir, `Pulumi.${this.stack}.yaml`), { force: true });
        fs.rmSync(this.state, { recursive: true, force: true });
    }
}

/** What a measured leg guarantees, whatever the machine's load. */
function assertMeasured(legs: LegMetrics[], from: string, to: string, memoryMiB: number): void {
    assert.deepStrictEqual(legs.map((l) => `${l.from}->${l.to}`), [`${from}->${to}`, `${to}->${from}`]);
    for (const l of legs) {
        console.log(`      ${l.leg} ${l.from}->${l.to}: total ${l.totalTimeMs} ms, downtime ${l.downtimeMs} ms, ` +
            `probe lost ${l.probe?.lost}/${l.probe?.sent}, ${(l.dataProcessedBytes / 1e6).toFixed(1)} MB, tunnel packets ${l.tunnelForwardedPackets ?? "-"}`);
        const at = `leg ${l.from}->${l.to}: ${JSON.stringify(l)}`;
        assert.ok(l.downtimeMs > 0 && l.downtimeMs < l.totalTimeMs, at);
        assert.ok(l.dataProcessedBytes > 1 << 20 && l.dataProcessedBytes < 2 * memoryMiB * (1 << 20), at);
        assert.ok(l.probe && l.probe.sent > 10 && l.probe.received > 0, at);
        assert.strictEqual(l.destinationState, "running", at);
        assert.ok(l.counterAfter > l.counterBefore, `the guest's counter did not advance: ${at}`);
    }
}

function assertGone(labId: string, exportDir: string): void {
    assert.doesNotMatch(sh("ip netns list").stdout, new RegExp(labId));
    assert.doesNotMatch(sh("ip -o link show").stdout, new RegExp(`${labId}[sn]\\d`));
    assert.strictEqual(sh(`ps -eo args | grep -F '/var/lib/miglab/${labId}' | grep -v grep`).stdout, "");
    assert.ok(!fs.existsSync(`/var/lib/miglab/${labId}`), `/var/lib/miglab/${labId} is still there`);
    assert.ok(!fs.existsSync(exportDir), `${exportDir} is still there`);
}

/**
 * A project that installed miglab from the tarball `npm pack` makes (its dependencies from the
 * registry, as a user's `npm install` gets them), holding examples/installed's program.
 */
function installedProject(): { dir: string; tmp: string } {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-installed-"));
    const pack = spawnSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], { cwd: ROOT, encoding: "utf8" });
    assert.strictEqual(pack.status, 0, pack.stderr);
    const dir = path.join(tmp, "app");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "miglab-installed", private: true }));
    for (const f of ["Pulumi.yaml", "index.ts"]) { fs.copyFileSync(path.join(ROOT, "examples", "installed", f), path.join(dir, f)); }
    // --ignore-scripts: @pulumi/command's install script downloads its plugin; the engine has it (scripts/setup-pulumi).
    const typescript = require(path.join(ROOT, "node_modules", "typescript", "package.json")).version;
    const npm = spawnSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts",
        path.join(tmp, JSON.parse(pack.stdout)[0].filename), `typescript@${typescript}`], { cwd: dir, encoding: "utf8", timeout: 5 * 60 * 1000 });
    assert.strictEqual(npm.status, 0, npm.stdout + npm.stderr);
    assert.ok(!fs.lstatSync(path.join(dir, "node_modules", "miglab")).isSymbolicLink(), "miglab was linked, not installed");
    return { dir, tmp };
}

describe("examples/: programs using the components directly, each up, measured and destroyed", function () {
    this.timeout(40 * 60 * 1000);

    before(() => {
        // The examples import "miglab" as a user's program would: here it is this checkout.
        const r = sh(`bash ${path.join(ROOT, "examples", "link")}`);
        assert.strictEqual(r.code, 0, r.stderr);
    });

    describe("installed: the 20-line program in an empty project that installed the packed tarball", () => {
        let project: { dir: string; tmp: string } | undefined;
        let ex: Example;
        let built = false;
        before(() => {
            project = installedProject();
            ex = new Example(project.dir, "ex-installed");
            ex.init();
        });
        after(() => {
            if (ex && built && ex.destroy().code !== 0) { sh(`cd ${ROOT} && node bin/scripts/clean-lab.js ${ex.stack}`); }
            ex?.remove();
            if (project) { fs.rmSync(project.tmp, { recursive: true, force: true }); }
        });

        it("pulumi preview plans the lab from the package's components and makes nothing", () => {
            const r = ex.pulumi(["preview"]);
            assert.strictEqual(r.code, 0, r.stdout.slice(-6000) + r.stderr);
            for (const t of ["miglab:site:LocalSite\\s+site", "miglab:host:Host\\s+pc1", "miglab:guest:Domain\\s+vm1", "miglab:migration:Migration\\s+migration"]) {
                assert.match(r.stdout, new RegExp(`${t}\\s+create`), r.stdout.slice(-6000));
            }
            assert.ok(!fs.existsSync(`/var/lib/miglab/${ex.labId}`), "a preview made the site");
        });

        it("pulumi up builds it and migrates the guest pc1 -> pc2 -> pc1, measured; destroy leaves nothing", () => {
            const r = ex.up();
            built = fs.existsSync(`/var/lib/miglab/${ex.labId}`);
            assert.ok(built, `no site was made: ${r.stdout.slice(-3000)}${r.stderr}`);
            assert.strictEqual(r.code, 0, r.stdout.slice(-6000) + r.stderr);
            assertMeasured(ex.outputs().legs, "pc1", "pc2", 192);
            const d = ex.destroy();
            assert.strictEqual(d.code, 0, d.stdout.slice(-3000));
            built = false;
            assertGone(ex.labId, `/var/lib/miglab/exports/${ex.stack}`);
        });
    });

    describe("yaml-lab: the same-subnet lab declared in Pulumi YAML, miglab:index:Lab served by plugin/", () => {
        // --yaml: the YAML language host, built from its Go module (seconds once cached).
        const ex = new Example("yaml-lab", "ex-yaml", ["--yaml"]);
        const exportDir = `/var/lib/miglab/exports/${ex.stack}`;
        /** Whether a site is up on this machine, for the cleanup. */
        let built = false;
        before(() => ex.init());
        after(() => {
            if (built && ex.destroy().code !== 0) { sh(`cd ${ROOT} && node bin/scripts/clean-lab.js ${ex.stack}`); }
            ex.remove();
        });
        const steps = sharedSteps();
        /** The program's pulumi up, run by the first test that needs the lab. */
        const up = steps.step("yaml-lab's pulumi up", () => {
            const r = ex.up();
            built = fs.existsSync(`/var/lib/miglab/${ex.labId}`);
            assert.ok(built, `no site was made: ${r.stdout.slice(-3000)}${r.stderr}`);
            assert.strictEqual(r.code, 0, r.stdout.slice(-6000) + r.stderr);
            return r;
        });

        it("pulumi up builds the lab under the Lab component and migrates pc1 -> pc2 -> pc1, measured", () => {
            const r = up();
            // The program's one resource is the package's component; the lab's own components are its children.
            for (const t of ["miglab:index:Lab\\s+lab", "miglab:lab:Lab\\s+lab", "miglab:migration:Migration\\s+lab-migration"]) {
                assert.match(r.stdout, new RegExp(`${t}\\s+create`), r.stdout.slice(-6000));
            }
            const out = ex.outputs();
            assert.strictEqual(out.topology, "same-subnet");
            assertMeasured(out.legs, "pc1", "pc2", 192);
        });

        it("pulumi destroy leaves no namespace, daemon, link or file", () => {
            up();
            const r = ex.destroy();
            assert.strictEqual(r.code, 0, r.stdout.slice(-3000));
            built = false;
            assertGone(ex.labId, exportDir);
        });
    });

    describe("ovs-migration: an overlay and a migration added to hosts given by config", () => {
        const site = new Example("local-hosts", "ex-hosts");
        const ex = new Example("ovs-migration", "ex-ovs");
        const exportDir = `/var/lib/miglab/exports/${ex.stack}`;
        before(() => {
            site.init();
            const r = site.up();
            assert.strictEqual(r.code, 0, r.stdout.slice(-6000) + r.stderr);
            const hosts = site.outputs();
            ex.init();
            const node = (name: string, address: string) => ({ name, address, port: hosts.ports[name], sshHost: "127.0.0.1" });
            ex.config("hosts", JSON.stringify([node("pc1", "10.30.0.1"), node("pc2", "10.30.0.2")]));
            ex.config("nfs", JSON.stringify(node("nfs", "10.30.0.3")));
            ex.config("privateKey", hosts.privateKey, true);
            ex.config("peerKeyPath", hosts.peerKeyPath);
            // One machine: the hosts run their own OVS daemons, share the export's directory, and get ganesha.
            ex.config("ownDaemons", "true");
            ex.config("sharedExport", "true");
            ex.config("nfsImplementation", "ganesha");
            ex.config("nfsStateDir", hosts.nfsStateDir);
            ex.config("export", exportDir);
        });
        after(() => {
            ex.destroy(); ex.remove();
            if (site.destroy().code !== 0) { sh(`cd ${ROOT} && node bin/scripts/clean-lab.js ${site.stack}`); }
            site.remove();
        });

        const steps = sharedSteps();
        /** The overlay's pulumi up, run by the first test that needs it: the legs it measured. */
        const overlayLegs = steps.step("the overlay's pulumi up", (): LegMetrics[] => {
            const r = ex.up();
            assert.strictEqual(r.code, 0, r.stdout.slice(-6000) + r.stderr);
            return ex.outputs().legs;
        });

        it("pulumi up adds br-int with VXLAN tunnels and migrates the guest across them, measured", () => {
            assertMeasured(overlayLegs(), "pc1", "pc2", 192);
        });

        it("overlay traffic crossed the VXLAN tunnel in each leg (the source's port towards the destination counted it)", () => {
            for (const l of overlayLegs()) {
                assert.ok(l.tunnelForwardedPackets !== undefined && l.tunnelForwardedPackets !== null && l.tunnelForwardedPackets > 0,
                    `leg ${l.from}->${l.to}: ${JSON.stringify(l)}`);
            }
        });

        it("pulumi destroy of the overlay, then of the hosts, leaves nothing", () => {
            overlayLegs();
            const r = ex.destroy();
            assert.strictEqual(r.code, 0, r.stdout.slice(-3000));
            const s = site.destroy();
            assert.strictEqual(s.code, 0, s.stdout.slice(-3000));
            assertGone(site.labId, exportDir);
        });
    });
});
