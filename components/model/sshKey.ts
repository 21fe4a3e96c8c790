// What a private key's text says about whether ssh can use it unattended. miglab's
// ssh runs with BatchMode (no prompt, no agent of the user's): a key under a
// passphrase is refused by every connection, late, host by host; so it is caught here.

const OPENSSH_MAGIC = "openssh-key-v1\0";

/** The cipher an OpenSSH-format key's body names ("none" when it has no passphrase), or undefined when the text is not one. */
export function opensshCipher(key: string): string | undefined {
    const m = /-----BEGIN OPENSSH PRIVATE KEY-----([^-]*)-----END OPENSSH PRIVATE KEY-----/.exec(key);
    if (!m) { return undefined; }
    const body = Buffer.from(m[1].replace(/\s+/g, ""), "base64");
    // The magic, then the cipher's name as an SSH string: a 4-byte big-endian length and the bytes.
    const at = OPENSSH_MAGIC.length;
    if (body.length < at + 4 || body.subarray(0, at).toString("latin1") !== OPENSSH_MAGIC) { return undefined; }
    const len = body.readUInt32BE(at);
    if (len > 64 || body.length < at + 4 + len) { return undefined; }
    return body.subarray(at + 4, at + 4 + len).toString("latin1");
}

/**
 * How the key is protected by a passphrase, in words for a message, or undefined when it
 * is not (or is not a key this can read: ssh itself will say what is wrong with it).
 */
export function keyEncryption(key: string): string | undefined {
    if (/^Proc-Type:\s*4,ENCRYPTED\s*$/m.test(key)) { return "an encrypted PEM key (Proc-Type: 4,ENCRYPTED)"; }
    if (key.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----")) { return "an encrypted PKCS#8 key (BEGIN ENCRYPTED PRIVATE KEY)"; }
    const cipher = opensshCipher(key);
    if (cipher !== undefined && cipher !== "none") { return `an OpenSSH key encrypted with ${cipher}`; }
    return undefined;
}

/** Why ssh cannot use the key to reach `node` unattended, and what to give instead; undefined when it can. */
export function lockedKeyProblem(key: string, node: string): string | undefined {
    const locked = keyEncryption(key);
    if (!locked) { return undefined; }
    return `${node}'s key is ${locked}: it needs its passphrase, and miglab's ssh runs in BatchMode (no prompt), ` +
        `so it could never reach ${node}; give a key without a passphrase: decrypt a copy (cp key lab_key && ssh-keygen -p -N "" -f lab_key) ` +
        `or make a deploy key for the lab (ssh-keygen -t ed25519 -N "" -f lab_key) and add lab_key.pub to ${node}'s authorized_keys`;
}
