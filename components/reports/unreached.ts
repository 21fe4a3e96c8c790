// Which of a lab's machines a failed `pulumi up` could not reach over SSH. Both command
// providers quote a connection as host:port only, and on the local site every node is
// 127.0.0.1 with a port of its own: the user is told the node's name and the cause.

export interface NodeEndpoint { name: string; host: string; port: number }

/** What a connection failure line says went wrong, in the words ssh and Go's dialer use. */
const CAUSES: [RegExp, string][] = [
    [/connection refused/i, "connection refused: no sshd listens there"],
    [/no route to host|network is unreachable|host is unreachable/i, "no route to it"],
    [/timed? ?out|timeout/i, "no answer before the timeout"],
    [/permission denied|unable to authenticate|no supported methods remain/i, "the key was refused (permission denied)"],
    [/host key/i, "its SSH host key is not the recorded one"],
    // What a port forwarder (the local site's) or a loaded sshd does: accept, then close.
    [/kex_exchange_identification|connection closed by/i, "the connection was closed before SSH began: no sshd answered behind that port"],
    [/connection reset|broken pipe/i, "the connection was reset"],
    [/could not resolve|name or service not known|no such host/i, "its name does not resolve"],
];
const FAILURE = /cannot reach|could not connect|failed to dial|dial tcp|connect to host|unable to (connect|authenticate)|handshake failed/i;

/** One line per node whose endpoint a connection failure in `output` names: "pc1 (sshd at 127.0.0.1:23000): connection refused: …". */
export function unreachedNodes(output: string, nodes: NodeEndpoint[]): string[] {
    const found = new Map<string, string>();
    for (const line of output.split("\n")) {
        if (!FAILURE.test(line)) { continue; }
        for (const n of nodes) {
            if (found.has(n.name) || !mentions(line, n)) { continue; }
            const cause = CAUSES.find(([re]) => re.test(line))?.[1] ?? "the connection failed";
            found.set(n.name, `${n.name} (sshd at ${n.host}:${n.port}): ${cause}`);
        }
    }
    return [...found.values()];
}

/** host:port as the providers write it, or ssh's own "connect to host H port P". */
function mentions(line: string, n: NodeEndpoint): boolean {
    const host = n.host.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp(`(^|[^\\w.-])${host}:${n.port}(?!\\d)|connect to host ${host} port ${n.port}(?!\\d)`).test(line);
}
