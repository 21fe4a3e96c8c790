// An sshd of the test's own on 127.0.0.1 at a free high port, with a temp host key and
// client key; stopped by its PID.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export interface TestSshd { port: number; dir: string; clientKey: string; hostKey: string; stop(): void }

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
        s.on("error", reject);
    });
}

export async function startSshd(acceptEnv: string[]): Promise<TestSshd> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-sshd-"));
    const port = await freePort();
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host")]);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "client")]);
    fs.copyFileSync(path.join(dir, "client.pub"), path.join(dir, "authorized_keys"));
    fs.writeFileSync(path.join(dir, "sshd_config"), [
        "ListenAddress 127.0.0.1", `Port ${port}`, `HostKey ${dir}/host`, `PidFile ${dir}/sshd.pid`,
        "PermitRootLogin prohibit-password", "PasswordAuthentication no", `AuthorizedKeysFile ${dir}/authorized_keys`,
        "StrictModes no", "UsePAM no", `AcceptEnv ${acceptEnv.join(" ")}`, "",
    ].join("\n"));
    // sshd wants its privilege-separation directory; the machine may not have made it.
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    const r = spawnSync("/usr/sbin/sshd", ["-f", path.join(dir, "sshd_config"), "-E", path.join(dir, "sshd.log")], { encoding: "utf8" });
    if (r.status !== 0) { throw new Error(`sshd did not start: ${r.stderr}`); }
    const pidFile = path.join(dir, "sshd.pid");
    for (let i = 0; i < 50 && !fs.existsSync(pidFile); i++) { spawnSync("sleep", ["0.1"]); }
    const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
    return {
        port, dir, clientKey: path.join(dir, "client"), hostKey: fs.readFileSync(path.join(dir, "host.pub"), "utf8").trim(),
        stop() {
            try { process.kill(pid, "SIGTERM"); } catch { /* already gone */ }
            // sshd removes its pid file as it exits: removing the folder meanwhile raced it, and
            // Node 24's recursive rm left the folder and a file in it. It goes once sshd has.
            for (let i = 0; i < 30; i++) {
                try { process.kill(pid, 0); } catch { break; }
                spawnSync("sleep", ["0.1"]);
            }
            fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
        },
    };
}
