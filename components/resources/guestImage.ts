import * as pulumi from "@pulumi/pulumi";
import { childOpts, ensureOnHost, givenDependsOn } from "./connection";
import { Host } from "./host";
import { NfsServer } from "./nfsServer";
import { schemaDefault } from "../model/schema";
import { ArgChecks, guestDisk, isAbsPath, isName, nameMsg, pathMsg } from "./validate";
import { BOOT_MARKS, guestImageScript } from "../render";

export interface GuestImageArgs {
    /** The NFS server whose export holds the disk (the files are made on its host). Give this or hosts. */
    nfs?: NfsServer;
    /**
     * A lab without an export: the hypervisors, each of which builds the built-in image's kernel
     * and initramfs itself into poolTarget (a directory of its own, such as its local pool's).
     * Built-in image only, with no disk (exportDisk false: the guest's disk is in the hosts' own pools).
     */
    hosts?: Host[];
    /** The disk's base name (`<name>.qcow2`) for the built-in image; default the resource name. */
    name?: string;
    /**
     * `{ builtin: "tiny" }` (default): a Debian kernel and a busybox initramfs whose workload is
     * a TCP counter service, with an empty qcow2 disk the counter is kept on;
     * `{ qcow2: "file.qcow2" }`: a disk already on the export, booted from itself.
     */
    image?: { builtin: "tiny" } | { qcow2: string };
    /** Size of a new built-in disk. Default: the schema's guests.image.diskMiB (64). */
    diskMiB?: number;
    /**
     * false: no disk on the export, only the built-in image's kernel and initramfs (a guest whose
     * disk is made in a host's own pool, storage copy). Default true.
     */
    exportDisk?: boolean;
    /**
     * Where the hypervisors see the export's files (their storage pool's target), for the
     * kernel and initramfs paths. Default: the export path itself (hosts that share its directory).
     * With hosts: the directory on each host the files are built in (required).
     */
    poolTarget?: string;
}

/**
 * The guest's disk on the NFS export and, for the built-in image, a Debian kernel
 * with a busybox initramfs whose workload is a TCP counter service (the counter is
 * also written to the disk, so integrity can be checked after migrations). In a lab
 * without an export (`hosts`), only the kernel and initramfs, built on every host.
 */
export class GuestImage extends pulumi.ComponentResource {
    /** The disk as QEMU opens it over NFS: the server's address and the file's path on the export (none made with exportDisk false). */
    readonly disk: pulumi.Output<{ server: string; path: string }>;
    /** Whether the disk is on the export (exportDisk). */
    readonly onExport: boolean;
    /** Direct-boot files as the hypervisors see them (built-in image only). */
    readonly kernel?: string;
    readonly initrd?: string;

    constructor(name: string, args: GuestImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:guest:GuestImage", name, {}, opts);
        const image = args.image ?? { builtin: "tiny" as const };
        const base = args.name ?? name;
        const diskMiB = args.diskMiB ?? schemaDefault<number>("guests.image.diskMiB");
        const exp = args.nfs?.export;
        const poolTarget = args.poolTarget ?? exp;
        const builtin = "builtin" in image;
        const perHost = args.hosts !== undefined;
        const v = new ArgChecks("GuestImage", name);
        v.check(perHost ? args.nfs === undefined : args.nfs instanceof NfsServer, perHost ? "hosts" : "nfs", perHost
            ? "give nfs (an export holds the image) or hosts (each host builds the boot files itself), not both"
            : "must be the NfsServer whose export holds the disk, or give hosts for a lab without an export");
        v.check(!perHost || (args.hosts!.length > 0 && args.hosts!.every((h) => h instanceof Host)), "hosts", "must list the Hosts (new Host(...)) that run the guest");
        v.check(!perHost || (builtin && args.exportDisk === false), "hosts", "build the built-in image's boot files only: give image { builtin: 'tiny' } and exportDisk false (with no export, the disk is in the hosts' own pools)");
        v.check(!builtin || isName(base), args.name ? "name" : "name (default: the resource name)", `'${base}' ${nameMsg}`);
        v.check(builtin ? (image as any).builtin === "tiny" : /^[A-Za-z0-9._-]+\.qcow2$/.test((image as any).qcow2 ?? ""), "image",
            builtin ? "builtin must be 'tiny'" : `qcow2 '${(image as any).qcow2}' must be a file name ending in .qcow2 (on the export)`);
        v.check(guestDisk.test(diskMiB), "diskMiB", `${diskMiB} ${guestDisk.message}`);
        v.check(isAbsPath(poolTarget), "poolTarget", `'${poolTarget}' ${pathMsg}`);
        v.check(args.exportDisk !== false || builtin, "exportDisk", "false applies to the built-in image only: a guest's own qcow2 is on the export");
        v.done(this);
        const diskPath = `${exp}/${builtin ? `${base}.qcow2` : (image as { qcow2: string }).qcow2}`;
        if (builtin) {
            this.kernel = `${poolTarget}/miglab-tiny-vmlinuz`;
            this.initrd = `${poolTarget}/miglab-tiny-initrd.img`;
        }
        this.onExport = args.exportDisk !== false;
        if (perHost) {
            // Each host's own copy, in its own directory: nothing is shared, so nothing is served.
            for (const h of args.hosts!) {
                ensureOnHost(`${name}-files-${h.hostname}`, h.connection, (a) => guestImageScript({
                    name: base, export: poolTarget!, marks: BOOT_MARKS, disk: "", diskMiB, builtin: "tiny", kernel: this.kernel, initrd: this.initrd,
                }, a), childOpts(this, { dependsOn: [h, ...givenDependsOn(opts)] }));
            }
            this.disk = pulumi.output({ server: "", path: "" });
        } else {
            ensureOnHost(`${name}-files`, args.nfs!.host.connection, (a) => guestImageScript({
                name: base, export: exp!, disk: this.onExport ? diskPath : "", diskMiB, builtin: builtin ? "tiny" : undefined,
                kernel: builtin ? `${exp}/miglab-tiny-vmlinuz` : undefined, initrd: builtin ? `${exp}/miglab-tiny-initrd.img` : undefined,
            }, a), childOpts(this, { dependsOn: [args.nfs!, ...givenDependsOn(opts)] }));
            this.disk = args.nfs!.address.apply((server) => ({ server, path: diskPath }));
        }
        this.registerOutputs({ disk: this.disk });
    }
}
