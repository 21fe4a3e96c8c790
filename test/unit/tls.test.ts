// migration.tls: the option as virsh gets it, the plan's CA and certificates, and the CA and
// host scripts run for real on this machine (openssl, and qemu-img loading the files as QEMU's
// migration endpoints do), in a directory of the test's own; the CA is the hosts' own here,
// so the request goes to it without SSH (the lab suite's modes test signs over SSH).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkMigrationOptions, parseLabConfig } from "../../components/model/config";
import { planLab } from "../../components/model/plan";
import {
    LOCAL_MIGRATION_TLS_DIR, TLS_HOST_DAYS, guestMemoryMarker, localSiteScript, migrateFlags, scriptText, tlsCaScript, tlsHostScript,
} from "../../components/render";
import { siteSpecOf } from "../../components/render/specs";
import { sampleLab } from "./config.test";

function run(text: string): { code: number; stdout: string; stderr: string } {
    const r = spawnSync("bash", ["-s"], { input: text, encoding: "utf8" });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function openssl(...args: string[]): { code: number; out: string } {
    const r = spawnSync("openssl", args, { encoding: "utf8" });
    if (r.error) { assert.fail(`openssl is not installed (${r.error.message}): install it with 'apt-get install openssl' (scripts/setup does)`); }
    return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe("migration.tls", () => {
    it("is off by default and takes virsh's --tls, with any mode, multifd or compression", () => {
        const plain = checkMigrationOptions({});
        assert.deepStrictEqual(plain.problems, []);
        assert.strictEqual(plain.options.tls, false);
        assert.doesNotMatch(migrateFlags(plain.options), /--tls/);
        // QEMU encrypts multifd channels, post-copy and XBZRLE streams alike (since QEMU 5.2): no rule forbids them.
        for (const extra of [{ mode: "postcopy" }, { mode: "cold" }, { parallelConnections: 4 }, { compression: "xbzrle" }]) {
            const c = checkMigrationOptions({ tls: true, ...extra });
            assert.deepStrictEqual(c.problems, [], JSON.stringify(extra));
            assert.match(migrateFlags(c.options), /(^| )--tls( |$)/);
        }
        assert.deepStrictEqual(checkMigrationOptions({ tls: "yes" }).problems, ["tls: must be boolean"]);
    });

    it("plans a certificate for every host a TLS migration visits, and the CA on the first", () => {
        const lab = sampleLab();
        lab.hosts.push({ name: "pc3", address: "10.10.10.4" });
        assert.strictEqual(planLab(parseLabConfig(lab), "unit-tls").tls, undefined);
        delete lab.migration;
        lab.migrations = [{ guest: "vm1", from: "pc1", to: "pc2" }, { guest: "vm1", path: ["pc1", "pc3"], tls: true, roundTrip: false }];
        const plan = planLab(parseLabConfig(lab), "unit-tls");
        assert.deepStrictEqual(plan.tls, { hosts: ["pc1", "pc3"], caHost: "pc1", caDir: `${plan.stateDir}/tls-ca` });
        assert.match(migrateFlags(plan.legs[plan.legs.length - 1].migration), /--tls/);
        assert.doesNotMatch(migrateFlags(plan.legs[0].migration), /--tls/);
    });

    it("gives every local-site host a directory of its own, named in its own qemu.conf before libvirtd starts", () => {
        const text = localSiteScript(siteSpecOf(planLab(parseLabConfig(sampleLab()), "unit-tls")), "up");
        assert.match(text, new RegExp(`^MIGRATE_TLS_DIR='${LOCAL_MIGRATION_TLS_DIR}'$`, "m"));
        // Under the node's own /etc/libvirt (bind-mounted from its directory), made before the daemon reads qemu.conf.
        assert.ok(LOCAL_MIGRATION_TLS_DIR.startsWith("/etc/libvirt/"));
        const body = text.slice(text.indexOf("ensure_libvirtd() {"));
        assert.ok(body.indexOf('mkdir -p "$d/root$MIGRATE_TLS_DIR"') < body.indexOf("/usr/sbin/libvirtd"));
        assert.match(body, /^migrate_tls_x509_cert_dir = "\$MIGRATE_TLS_DIR"$/m);
    });

    it("has the built-in guest keep a known text in every page of /run/marker, written at boot", () => {
        const marker = guestMemoryMarker();
        assert.ok(marker.length >= 24, marker);
        const init = scriptText("guest-init.sh");
        const part = /^# ---- memory marker\n[^]*?>\/run\/marker\n/m.exec(init)?.[0];
        assert.ok(part, "guest-init.sh writes no /run/marker");
        // Before the guest's services start (so before any leg), and as the guest's shell runs it.
        assert.ok(init.indexOf(part) < init.indexOf("serve \"$PORT\" /bin/miglab-status &"));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-marker-"));
        try {
            const file = path.join(dir, "marker");
            const r = spawnSync("busybox", ["sh", "-c", part.replace(/\/run\/marker/g, file)], { encoding: "utf8" });
            assert.strictEqual(r.status, 0, r.error ? `busybox: ${r.error.message} (scripts/setup installs busybox-static)` : r.stderr);
            const text = fs.readFileSync(file);
            assert.ok(text.length >= 16 * 4096, `${text.length} bytes`);
            for (let page = 0; page + 4096 <= text.length; page += 4096) {
                assert.ok(text.subarray(page, page + 4096).includes(marker), `page ${page / 4096} lacks the marker`);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    describe("the CA and host scripts, run here", function () {
        this.timeout(120000);
        let dir: string;
        const labId = "mtest1";
        const ca = () => path.join(dir, "ca");
        /** A host as the script sees it: its qemu.conf (naming `certs` unless told otherwise) and its directory. */
        const host = (name: string, conf = "") => {
            const certs = path.join(dir, name, "certs");
            fs.mkdirSync(path.join(dir, name), { recursive: true });
            fs.writeFileSync(path.join(dir, name, "qemu.conf"), conf || `# a host's qemu.conf\nmigrate_tls_x509_cert_dir = "${certs}"\ngroup = "root"\n`);
            return { certs, conf: path.join(dir, name, "qemu.conf") };
        };
        const hostScript = (name: string, address: string, h: { conf: string; certs?: string }, action: "up" | "down", expectDir?: string) =>
            tlsHostScript({ node: name, labId, address, expectDir, ca: { node: "pc1", dir: ca() }, keyPath: "/nonexistent" }, action)
                .replace(/^QEMU_CONF=.*$/m, `QEMU_CONF='${h.conf}'`);

        before(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-tls-"));
            if (spawnSync("qemu-img", ["--version"]).error) {
                assert.fail("qemu-img is not installed: install qemu-utils (scripts/setup does); the host script checks its certificate with it");
            }
        });
        after(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("makes the CA once, root-only, and prints its fingerprint", () => {
            const first = run(tlsCaScript({ node: "pc1", labId, dir: ca() }, "up"));
            assert.strictEqual(first.code, 0, first.stderr);
            assert.match(first.stdout.trim(), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
            assert.strictEqual(fs.statSync(ca()).mode & 0o777, 0o700);
            assert.match(openssl("x509", "-in", path.join(ca(), "ca-cert.pem"), "-noout", "-text").out, /CA:TRUE/);
            const again = run(tlsCaScript({ node: "pc1", labId, dir: ca() }, "up"));
            assert.strictEqual(again.stdout, first.stdout, "a second up made another CA");
            assert.match(again.stderr, /keeps the lab's CA/);
        });

        it("gives each host a certificate for its address, for both ends, that QEMU loads; its key stays root's and QEMU's group's", () => {
            for (const [name, address] of [["pc1", "10.10.10.1"], ["pc2", "10.10.10.2"]]) {
                const h = host(name);
                fs.mkdirSync(h.certs);
                const r = run(hostScript(name, address, h, "up", h.certs));
                assert.strictEqual(r.code, 0, r.stderr);
                assert.match(r.stdout, new RegExp(`^${name} ${h.certs} ([0-9A-F]{2}:){31}[0-9A-F]{2}$`, "m"));
                const cert = path.join(h.certs, "server-cert.pem");
                // Signed by the lab's CA (one CA for both hosts), valid for this address only.
                assert.strictEqual(openssl("verify", "-CAfile", path.join(ca(), "ca-cert.pem"), "-purpose", "sslserver", "-verify_ip", address, cert).code, 0);
                assert.strictEqual(openssl("verify", "-CAfile", path.join(ca(), "ca-cert.pem"), "-purpose", "sslclient", cert).code, 0);
                assert.notStrictEqual(openssl("verify", "-CAfile", path.join(ca(), "ca-cert.pem"), "-verify_ip", "10.10.10.99", cert).code, 0);
                assert.match(openssl("x509", "-in", cert, "-noout", "-ext", "subjectAltName").out, new RegExp(`IP Address:${address.replace(/\./g, "\\.")}, DNS:${name}`));
                const days = (Date.parse(openssl("x509", "-in", cert, "-noout", "-enddate").out.split("=")[1]) - Date.now()) / 86400e3;
                assert.ok(Math.abs(days - TLS_HOST_DAYS) < 2, `valid ${days} days`);
                for (const f of ["ca-cert.pem", "server-cert.pem", "client-cert.pem"]) { assert.strictEqual(fs.statSync(path.join(h.certs, f)).mode & 0o777, 0o644, f); }
                for (const f of ["server-key.pem", "client-key.pem"]) { assert.strictEqual(fs.statSync(path.join(h.certs, f)).mode & 0o777, 0o640, f); }
                // What libvirt makes of these files on either end of a migration (the script asked the same; asked here again).
                for (const endpoint of ["server", "client"]) {
                    const q = spawnSync("qemu-img", ["info", "--object", `tls-creds-x509,id=t,dir=${h.certs},endpoint=${endpoint},verify-peer=on`, 'json:{"driver":"null-co"}'], { encoding: "utf8" });
                    assert.strictEqual(q.status, 0, q.stderr);
                }
                assert.deepStrictEqual(fs.readdirSync(h.certs).filter((f) => f.startsWith(".new.")), [], "its work directory was left behind");
            }
        });

        it("signs again on another up, with a new key", () => {
            const h = { certs: path.join(dir, "pc2", "certs"), conf: path.join(dir, "pc2", "qemu.conf") };
            const before = fs.readFileSync(path.join(h.certs, "server-key.pem"), "utf8");
            const r = run(hostScript("pc2", "10.10.10.2", h, "up", h.certs));
            assert.strictEqual(r.code, 0, r.stderr);
            assert.notStrictEqual(fs.readFileSync(path.join(h.certs, "server-key.pem"), "utf8"), before);
        });

        it("leaves a directory holding another PKI's files alone, naming it", () => {
            const h = host("pc3");
            fs.mkdirSync(h.certs);
            fs.writeFileSync(path.join(h.certs, "ca-cert.pem"), "theirs");
            const r = run(hostScript("pc3", "10.10.10.3", h, "up"));
            assert.strictEqual(r.code, 1);
            assert.match(r.stderr, new RegExp(`host pc3: its libvirt takes migration TLS files from ${h.certs}, which holds ca-cert.pem that this lab did not make`));
            assert.deepStrictEqual(fs.readdirSync(h.certs), ["ca-cert.pem"]);
            assert.strictEqual(fs.readFileSync(path.join(h.certs, "ca-cert.pem"), "utf8"), "theirs");
            const down = run(hostScript("pc3", "10.10.10.3", h, "down"));
            assert.strictEqual(down.code, 0, down.stderr);
            assert.strictEqual(fs.readFileSync(path.join(h.certs, "ca-cert.pem"), "utf8"), "theirs");
        });

        it("on the local site, refuses a host whose libvirt takes its files elsewhere (a lab built before)", () => {
            const h = host("pc4", "# no migrate_tls_x509_cert_dir: libvirt's default\n");
            const r = run(hostScript("pc4", "10.10.10.4", h, "up", path.join(dir, "pc4", "certs")));
            assert.strictEqual(r.code, 1);
            assert.match(r.stderr, /host pc4: its libvirt takes migration TLS files from \/etc\/pki\/(qemu|libvirt-migrate), not from its own .*: .*rebuild it/);
        });

        it("down removes what up put there, and the directory only where up made it", () => {
            const kept = { certs: path.join(dir, "pc1", "certs"), conf: path.join(dir, "pc1", "qemu.conf") };
            const r = run(hostScript("pc1", "10.10.10.1", kept, "down"));
            assert.strictEqual(r.code, 0, r.stderr);
            assert.deepStrictEqual(fs.readdirSync(kept.certs), [], "the site's directory stays, empty");
            // A real host without the directory: up makes it, down removes it.
            const made = host("pc5");
            assert.ok(!fs.existsSync(made.certs));
            assert.strictEqual(run(hostScript("pc5", "10.10.10.5", made, "up")).code, 0);
            assert.ok(fs.existsSync(path.join(made.certs, "server-key.pem")));
            const d = run(hostScript("pc5", "10.10.10.5", made, "down"));
            assert.strictEqual(d.code, 0, d.stderr);
            assert.ok(!fs.existsSync(made.certs), `${made.certs} is still there`);
        });

        it("the CA's down removes it", () => {
            const r = run(tlsCaScript({ node: "pc1", labId, dir: ca() }, "down"));
            assert.strictEqual(r.code, 0, r.stderr);
            assert.ok(!fs.existsSync(ca()));
        });
    });
});
