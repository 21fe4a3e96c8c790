// IPv4 arithmetic for config checks and address planning.

export function ipToInt(ip: string): number {
    return ip.split(".").reduce((acc, o) => (acc * 256) + Number(o), 0);
}

export function intToIp(n: number): string {
    return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

export function networkOf(ip: string, prefix: number): number {
    const size = 2 ** (32 - prefix);
    return Math.floor(ipToInt(ip) / size) * size;
}

export function inSubnet(ip: string, netIp: string, prefix: number): boolean {
    return networkOf(ip, prefix) === networkOf(netIp, prefix);
}

export function cidrOf(ip: string, prefix: number): string {
    return `${intToIp(networkOf(ip, prefix))}/${prefix}`;
}

/** The last usable address of a subnet: where the router sits in the host subnets it was not given an address in. */
export function routerAddressIn(ip: string, prefix: number): string {
    return intToIp(networkOf(ip, prefix) + 2 ** (32 - prefix) - 2);
}

/** 32-bit FNV-1a of a text, optionally continuing from an earlier hash: the package's one stable hash. */
export function fnv1a(text: string, seed = 2166136261): number {
    let h = seed;
    for (const c of text) { h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0; }
    return h;
}

/** A stable locally-administered MAC for a guest, so a redefinition keeps its address. */
export function macFor(name: string): string {
    const h = fnv1a(name);
    const b = [h >>> 16 & 255, h >>> 8 & 255, h & 255].map((x) => x.toString(16).padStart(2, "0"));
    return `52:54:00:${b.join(":")}`;
}

/** A stable UUID from a name (libvirt domains keep theirs across redefinitions). */
export function uuidFor(name: string): string {
    const hex: string[] = [];
    let h = fnv1a("");
    for (let i = 0; hex.join("").length < 32; i++) {
        h = fnv1a(`${name}#${i}`, h);
        hex.push(h.toString(16).padStart(8, "0"));
    }
    const s = hex.join("").slice(0, 32);
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-a${s.slice(17, 20)}-${s.slice(20, 32)}`;
}
