// What the built-in guest's workload may take of its memory. The guest has no swap, so
// memory it fills (tmpfs) and rewrites can never be given back: leave its kernel room, or
// the guest's OOM killer finds nothing to kill and the kernel panics.

export interface Workload { dirtyMiBs: number; workingSetMiB?: number; fillMiB?: number }

/**
 * What the guest's kernel, its initramfs and the workload's own processes need (MiB). Measured:
 * a 512 MiB guest filled all but 96 MiB and ran; a 720 MiB one filled all but 96 MiB panicked at
 * boot (its kernel holds more). The guest also caps its fill at what it finds available.
 */
export const KERNEL_SHARE_MIB = 128;

/** Whether the workload gives the guest anything to do (dirty or fill memory): only the built-in image runs it. */
export function runsWorkload(w: Workload): boolean {
    return w.dirtyMiBs > 0 || (w.fillMiB ?? 0) > 0;
}

/** The memory the dirtying loop holds: its working set and the seed it copies from (guest-init.sh's tmpfs size). */
export function dirtyingMiB(w: Workload): number {
    return w.dirtyMiBs > 0 ? (w.workingSetMiB ?? w.dirtyMiBs) + Math.floor(w.dirtyMiBs / 20) + 3 : 0;
}

/**
 * Why the working set is too large for the guest, naming what to change; undefined when it fits
 * (or nothing is dirtied). Half the memory: the dirtying loop also holds a seed, and the kernel its share.
 */
export function workingSetProblem(memoryMiB: number, w: Workload): string | undefined {
    const set = w.workingSetMiB ?? w.dirtyMiBs;
    if (w.dirtyMiBs === 0 || set <= memoryMiB / 2) { return undefined; }
    return `${set} MiB is more than half the guest's ${memoryMiB} MiB; lower it or give the guest more memory`;
}

/** The most a guest of memoryMiB can fill with the rest of its workload running: 0 when there is no room. */
export function maxFillMiB(memoryMiB: number, w: Workload): number {
    return Math.max(0, memoryMiB - KERNEL_SHARE_MIB - dirtyingMiB(w));
}

/** Why a fill does not fit, naming what to change; undefined when it fits. */
export function fillProblem(memoryMiB: number, w: Workload): string | undefined {
    const fill = w.fillMiB ?? 0;
    const max = maxFillMiB(memoryMiB, w);
    if (fill <= max) { return undefined; }
    const dirty = dirtyingMiB(w);
    return `${fill} MiB does not fit: the guest's ${memoryMiB} MiB less ${KERNEL_SHARE_MIB} MiB for its kernel` +
        `${dirty ? ` and ${dirty} MiB for the dirtying working set` : ""} leaves ${max} MiB; lower it or give the guest more memory`;
}
