// The emulator this machine runs the lab on: QEMU's and libvirt's versions, as their binaries
// say them. Figures depend on it (docs/benchmarks.md, Emulator), so every benchmark and `npm run lab` name it.
import { spawnSync } from "child_process";

function firstLine(cmd: string, args: string[]): string | undefined {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    return r.status === 0 ? (r.stdout || r.stderr).split("\n")[0].trim() : undefined;
}

export function emulatorVersions(): { qemu: string; libvirt: string } {
    const q = firstLine("qemu-system-x86_64", ["--version"]);
    const l = firstLine("libvirtd", ["--version"]);
    return {
        qemu: q ? `QEMU ${/version (\S+)/.exec(q)?.[1] ?? q}` : "QEMU not installed",
        libvirt: l ? `libvirt ${/(\d+\.\d+\.\d+)/.exec(l)?.[1] ?? l}` : "libvirt not installed",
    };
}

if (require.main === module) {
    const v = emulatorVersions();
    console.log(`${v.qemu}, ${v.libvirt}`);
}
