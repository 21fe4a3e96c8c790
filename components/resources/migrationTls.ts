import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { childOpts, ensureOnHost, givenDependsOn } from "./connection";
import { Host } from "./host";
import { ArgChecks, isAbsPath, pathMsg } from "./validate";
import { bashCommand, tlsCaScript, tlsHostScript } from "../render";

export interface MigrationTlsArgs {
    /** Every host a migration with `tls: true` visits: each gets a key (made there) and a certificate for its address. */
    hosts: Host[];
    /** The host that keeps the lab's CA; default the first of `hosts`. Every host must reach it over SSH with its peerKeyPath. */
    caHost?: Host;
    /** Names the CA and marks the files this lab puts on the hosts, so two labs never take each other's ([a-z0-9-]). */
    labId: string;
    /** Where the CA's key and certificate are kept on caHost (only root reads it). Default /var/lib/miglab/<labId>/tls-ca. */
    caDir?: string;
    /**
     * LocalSite's hosts: the directory each one's qemu.conf names for migration TLS files
     * (`site.migrationTlsDir`), which the certificates must go to; unset on real hosts, whose
     * libvirt decides (migrate_tls_x509_cert_dir, else /etc/pki/qemu).
     */
    expectDir?: string;
}

/**
 * What `virsh migrate --tls` needs on every host (MigrationArgs.tls): the lab's own CA, kept
 * on one host, and for each host a key made there and a certificate the CA signs, with the
 * host's lab address as an IP subject alternative name (what the source's QEMU checks the
 * destination against), installed where the host's libvirt takes QEMU's migration TLS files
 * from. No key passes through Pulumi: each host sends the CA's host its request over the lab's
 * SSH key. A host whose libvirt already holds another PKI's files there fails the up, naming
 * the directory. Destroy removes the certificates and the CA. Declare the Migration with
 * `dependsOn` this.
 */
export class MigrationTls extends pulumi.ComponentResource {
    /** The CA's command; its stdout is the CA certificate's SHA-256 fingerprint. */
    readonly ca: command.remote.Command;
    /** One per host; each prints "<host> <directory> <certificate fingerprint>". */
    readonly certificates: command.remote.Command[];

    constructor(name: string, args: MigrationTlsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("miglab:migration:MigrationTls", name, {}, opts);
        const hosts = args.hosts ?? [];
        const caHost = args.caHost ?? hosts[0];
        const caDir = args.caDir ?? `/var/lib/miglab/${args.labId}/tls-ca`;
        const v = new ArgChecks("MigrationTls", name);
        v.check(hosts.length > 0 && hosts.every((h) => h instanceof Host), "hosts", "must list the Hosts a TLS migration visits");
        v.check(new Set(hosts).size === hosts.length, "hosts", "lists a host twice");
        v.check(caHost instanceof Host, "caHost", "must be a Host (default: the first of hosts)");
        v.check(typeof args.labId === "string" && /^[a-z0-9-]{1,20}$/.test(args.labId), "labId", "must be 1 to 20 lower-case letters, digits or '-'");
        v.check(isAbsPath(caDir), "caDir", pathMsg);
        v.check(args.expectDir === undefined || isAbsPath(args.expectDir), "expectDir", pathMsg);
        v.done(this);
        this.ca = ensureOnHost(`${name}-ca`, caHost.connection,
            (a) => tlsCaScript({ node: caHost.hostname, labId: args.labId, dir: caDir }, a),
            // Replaced, the old one's down must come first: after the new one's up it would remove what that made.
            childOpts(this, { dependsOn: [caHost, ...givenDependsOn(opts)], deleteBeforeReplace: true }));
        this.certificates = hosts.map((h) => {
            const render = (action: "up" | "down") => pulumi.all([h.address, caHost.address]).apply(([address, caAddress]) => bashCommand(tlsHostScript({
                node: h.hostname, labId: args.labId, address, expectDir: args.expectDir,
                ca: { node: caHost.hostname, address: h === caHost ? undefined : caAddress, dir: caDir },
                keyPath: h.peerKeyPath, knownHosts: h.peerKnownHosts,
            }, action)));
            return new command.remote.Command(`${name}-cert-${h.hostname}`, {
                connection: h.connection, create: render("up"), update: render("up"), delete: render("down"),
                // A new CA (made again, or kept elsewhere) signs every host's certificate again.
                triggers: [this.ca.stdout],
            }, childOpts(this, { dependsOn: [this.ca, h, ...givenDependsOn(opts)], deleteBeforeReplace: true }));
        });
        this.registerOutputs({ caFingerprint: this.ca.stdout });
    }
}
