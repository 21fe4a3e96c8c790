// Site ssh trust: the hosts' SSH host keys (recorded at the first `pulumi up` or
// given in config, verified on every later one), the lab's own host-to-host key,
// and the rule that real hosts' secrets are never under the shipped passphrase.

function shellQuote(v: string): string { return `'${v.replace(/'/g, `'\\''`)}'`; }

/** The passphrase scripts/setup sets for the local lab; it protects nothing. */
export const LOCAL_PASSPHRASE = "miglab-local";

/** Site ssh: a reason not to run under this environment's secrets provider, if there is one. */
export function passphraseProblem(site: string, env: NodeJS.ProcessEnv): string | undefined {
    if (site !== "ssh") { return undefined; }
    const p = env.PULUMI_CONFIG_PASSPHRASE;
    if (p === LOCAL_PASSPHRASE || (p === "" && !env.PULUMI_CONFIG_PASSPHRASE_FILE)) {
        return `site 'ssh' keeps your hosts' SSH private keys in this stack, and PULUMI_CONFIG_PASSPHRASE is ` +
            `${p === "" ? "empty" : `the local lab's default ('${LOCAL_PASSPHRASE}')`}, which protects nothing. ` +
            `Set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to a passphrase of your own before creating the stack, ` +
            `or use another secrets provider (pulumi stack init --secrets-provider ...; pulumi stack change-secrets-provider for an existing stack).`;
    }
    return undefined;
}

const KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"];

/** Every host key in ssh-keyscan output (or known_hosts lines), as "type base64". */
export function hostKeysIn(scan: string): string[] {
    const keys: string[] = [];
    for (const line of scan.split("\n")) {
        const f = line.trim().split(/\s+/);
        const i = f.findIndex((x) => KEY_TYPES.includes(x));
        if (i >= 0 && f[i + 1]) { keys.push(`${f[i]} ${f[i + 1]}`); }
    }
    return keys;
}

/** The key to record of a host: its ed25519 key where it has one, else the strongest it offers. */
export function preferredHostKey(scan: string): string | undefined {
    const keys = hostKeysIn(scan);
    for (const t of KEY_TYPES) {
        const k = keys.find((x) => x.startsWith(`${t} `));
        if (k) { return k; }
    }
    return undefined;
}

/** Reads a host's keys as the program reaches its sshd; fails naming the node when nothing answers. */
export function keyscanCommand(node: string, host: string, port: number): string {
    const where = `${host}:${port}`;
    return `out=$(ssh-keyscan -T 10 -p ${port} ${shellQuote(host)} 2>/dev/null); ` +
        `[ -n "$out" ] || { echo ${shellQuote(`cannot read the SSH host key of ${node} at ${where}: is sshd running there, and is ${host} reachable from this machine?`)} >&2; exit 1; }; ` +
        `printf '%s\\n' "$out"`;
}

/** Why a host's current keys do not match the recorded one, or undefined when they do. */
export function hostKeyProblem(node: string, where: string, recorded: string, currentScan: string): string | undefined {
    const current = hostKeysIn(currentScan);
    const want = hostKeysIn(`x ${recorded}`)[0] ?? recorded.trim();
    if (current.includes(want)) { return undefined; }
    if (current.length === 0) {
        return `host ${node} (${where}): cannot read its SSH host key to check it against the recorded one (${want.slice(0, 40)}...): is sshd running there?`;
    }
    return `host ${node} (${where}): its SSH host key changed: recorded ${want.slice(0, 40)}..., it now offers ${current.map((k) => `${k.slice(0, 40)}...`).join(", ")}. ` +
        `Nothing was changed on any host. If ${node} was reinstalled on purpose, set its new key in ssh.hostKey ` +
        `(or re-record it: pulumi up --replace the resource named '...-${node}-hostkey'); otherwise find out who answers at ${where}.`;
}

/** Makes the lab's own host-to-host key pair and prints it (private key, then the public key line); nothing stays on disk. */
export function labKeyCommand(labId: string): string {
    return `d=$(mktemp -d "$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp )/miglab-key.XXXXXX") && ` +
        `ssh-keygen -q -t ed25519 -N '' -C miglab-${labId} -f "$d/k" && cat "$d/k" "$d/k.pub"; rc=$?; rm -rf "$d"; exit $rc`;
}

export function splitLabKey(out: string): { privateKey: string; publicKey: string } {
    const end = out.indexOf("-----END OPENSSH PRIVATE KEY-----");
    if (end < 0) { throw new Error("miglab: the lab key was not made (no private key in ssh-keygen's output)"); }
    const cut = end + "-----END OPENSSH PRIVATE KEY-----".length;
    return { privateKey: `${out.slice(0, cut).trim()}\n`, publicKey: out.slice(cut).trim() };
}
