// A stack's legs as OpenMetrics text, for a monitoring stack to scrape (node_exporter's
// textfile collector reads the file `pulumi up` writes; `npm run metrics` prints it).
//
// KubeVirt's migration metric names are used where miglab measures the same thing, so a
// dashboard built for KubeVirt's live migrations reads a lab's legs too; what KubeVirt does
// not export (downtime, network recovery, probe loss, the plain transfer) is `miglab_`.
// Every family is a gauge: a leg's figures are values of that leg, not a count that grows.
// No sample carries a timestamp: node_exporter's textfile collector refuses files that do.
import type { Plan } from "../model/plan";
import { LegMetrics, LegOutcome, isFailed } from "./metrics";

/** What the text is drawn from: the stack's `legs` output and what only the config knows. */
export interface MetricsSource {
    stack: string;
    topology?: string;
    legs: LegOutcome[];
    /** The migration mode (precopy, postcopy, ...) of each leg by its name: the outputs do not keep it. */
    modes?: Record<string, string>;
}

interface Family {
    name: string;
    /** OpenMetrics requires the family name to end with its unit; unitless counts have none. */
    unit?: string;
    help: string;
    /** The figure of one leg; undefined, null or not finite: no sample for that leg. */
    value: (l: LegOutcome) => number | null | undefined;
}

const sec = (ms: number | null | undefined) => (typeof ms === "number" ? ms / 1000 : undefined);
const measured = (f: (l: LegMetrics) => number | null | undefined) => (l: LegOutcome) => (isFailed(l) ? undefined : f(l));
// x86 guests (the lab runs qemu-system-x86): libvirt reports the dirty rate in 4 KiB pages.
const PAGE_BYTES = 4096;

const FAMILIES: Family[] = [
    // KubeVirt's names (its docs/metrics.md), with the meaning KubeVirt gives them.
    { name: "kubevirt_vmi_migration_succeeded", help: "Indicates if the VMI migration succeeded (1) or not (0).",
        value: (l) => (isFailed(l) ? 0 : 1) },
    { name: "kubevirt_vmi_migration_failed", help: "Indicates if the VMI migration failed (1) or not (0).",
        value: (l) => (isFailed(l) ? 1 : 0) },
    { name: "kubevirt_vmi_migration_data_processed_bytes", unit: "bytes", help: "The total guest OS data processed and migrated to the new VM.",
        value: measured((l) => l.dataProcessedBytes) },
    // A leg is measured once it completed: nothing was left to copy (libvirt's data_remaining: 0).
    { name: "kubevirt_vmi_migration_data_remaining_bytes", unit: "bytes", help: "The remaining guest OS data to be migrated to the new VM (0: the leg completed).",
        value: measured(() => 0) },
    { name: "kubevirt_vmi_migration_dirty_memory_rate_bytes", unit: "bytes", help: "The rate of memory being dirtied in the guest OS, in bytes per second, as libvirt last reported it.",
        value: measured((l) => l.dirtyRatePagesPerSec * PAGE_BYTES) },
    { name: "kubevirt_vmi_migration_memory_transfer_rate_bytes", unit: "bytes", help: "The rate at which the memory was transferred, in bytes per second (libvirt's memory_bps).",
        value: measured((l) => l.memoryBps) },
    { name: "kubevirt_vmi_migration_end_time_seconds", unit: "seconds", help: "The time at which the migration ended (Unix epoch).",
        // The epoch itself is no time a leg ended: parseLeg gives it to an output without an `at` section.
        value: (l) => { const t = Date.parse(l.finishedAt); return t > 0 ? t / 1000 : undefined; } },
    // What KubeVirt leaves out.
    { name: "miglab_migration_total_seconds", unit: "seconds", help: "Total migration time as libvirt measured it.",
        value: measured((l) => sec(l.totalTimeMs)) },
    { name: "miglab_migration_setup_seconds", unit: "seconds", help: "Migration setup time as libvirt measured it.",
        value: measured((l) => sec(l.setupTimeMs)) },
    { name: "miglab_migration_downtime_seconds", unit: "seconds", help: "Downtime as libvirt reports it: the guest paused on neither host.",
        value: measured((l) => sec(l.downtimeMs)) },
    { name: "miglab_migration_downtime_target_seconds", unit: "seconds", help: "The downtime target QEMU held for the leg (virsh migrate-getmaxdowntime).",
        value: measured((l) => sec(l.maxDowntimeMs)) },
    { name: "miglab_migration_network_recovery_seconds", unit: "seconds", help: "From the guest resuming on the destination to the probe's first reply there.",
        value: measured((l) => sec(l.phases?.networkRecoveryMs)) },
    { name: "miglab_migration_probe_longest_gap_seconds", unit: "seconds", help: "Longest time between two replies to the probe pinging the guest from a third node.",
        value: measured((l) => sec(l.probe?.longestGapMs)) },
    { name: "miglab_migration_probe_sent_packets", unit: "packets", help: "Pings the probe sent the guest during the leg (none behind NAT, where no third node reaches it).",
        value: measured((l) => l.probe?.sent) },
    { name: "miglab_migration_probe_lost_packets", unit: "packets", help: "Pings from the probe to the guest that got no reply during the leg.",
        value: measured((l) => l.probe?.lost) },
    { name: "miglab_migration_guest_ping_lost_packets", unit: "packets", help: "The guest's own pings to the outside lost during the leg (nat and bridged).",
        value: measured((l) => l.guestPing?.lost) },
    { name: "miglab_migration_throughput_bytes_per_second", unit: "bytes_per_second", help: "Data processed over the migration time.",
        value: measured((l) => l.throughputMBs * 1e6) },
    { name: "miglab_migration_plain_transfer_bytes_per_second", unit: "bytes_per_second", help: "A plain TCP transfer between the same two hosts, measured in the same run.",
        value: measured((l) => l.plainMBs * 1e6) },
    { name: "miglab_migration_plain_transfer_ratio", unit: "ratio", help: "Migration throughput divided by the plain transfer's.",
        value: measured((l) => l.ratio) },
    { name: "miglab_migration_memory_total_bytes", unit: "bytes", help: "The guest's memory to migrate, as libvirt counted it.",
        value: measured((l) => l.memoryTotalBytes) },
    { name: "miglab_migration_iterations", help: "Pre-copy passes over the guest's memory.",
        value: measured((l) => l.iterations) },
    { name: "miglab_migration_postcopy_requests", help: "Pages the destination asked the source for after switching to post-copy.",
        value: measured((l) => l.postcopyRequests) },
    { name: "miglab_migration_tunnel_forwarded_packets", unit: "packets", help: "Bridged: packets the source sent into its tunnel to the destination during the leg.",
        value: measured((l) => l.tunnelForwardedPackets) },
    { name: "miglab_migration_attempt", help: "How many earlier tries of this leg were run again (after it failed, or a leg of its migration broke the SLA).",
        value: (l) => l.attempt },
    // Only a leg an SLA judged has a sample: a leg with no SLA neither met nor broke one.
    { name: "miglab_migration_sla_passed", help: "Whether the leg met every bound of its migration's SLA (1) or broke one (0).",
        value: measured((l) => (l.sla ? (l.sla.passed ? 1 : 0) : undefined)) },
];

/** The label set's order is fixed, so the same leg renders to the same line every time. */
const LABELS = ["stack", "topology", "leg", "guest", "source", "destination", "mode"] as const;

/** A label value as OpenMetrics quotes it: backslash, double quote and newline escaped. */
export function escapeLabelValue(v: string): string {
    return v.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n");
}

/** HELP text escapes backslash and newline only. */
function escapeHelp(v: string): string {
    return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/**
 * Integers as integers; others to 15 significant digits, which keeps an epoch time's ms and drops
 * the binary noise of a division (70.6 / 1000 printed as 0.0706, not 0.07059999999999999).
 */
function formatNumber(v: number): string {
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(15)));
}

function labelSet(src: MetricsSource, l: LegOutcome, extra: Record<string, string> = {}): string {
    const values: Record<string, string | undefined> = {
        stack: src.stack, topology: src.topology, leg: l.leg, guest: l.guest,
        source: l.from, destination: l.to, mode: src.modes?.[l.leg],
    };
    // A label the outputs cannot give (an older output without `guest`) is left out, not set empty.
    const pairs = [...LABELS.map((k): [string, string | undefined] => [k, values[k]]), ...Object.entries(extra)]
        .filter((p): p is [string, string] => typeof p[1] === "string" && p[1] !== "");
    return `{${pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}

function renderFamily(name: string, unit: string | undefined, help: string, samples: string[]): string[] {
    if (samples.length === 0) { return []; }
    return [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} gauge`, ...(unit ? [`# UNIT ${name} ${unit}`] : []), ...samples];
}

/** The stack's legs as an OpenMetrics text exposition, `# EOF` included. */
export function renderOpenMetrics(src: MetricsSource): string {
    const lines: string[] = [];
    for (const f of FAMILIES) {
        const samples = src.legs.flatMap((l) => {
            const v = f.value(l);
            return typeof v === "number" && Number.isFinite(v) ? [`${f.name}${labelSet(src, l)} ${formatNumber(v)}`] : [];
        });
        lines.push(...renderFamily(f.name, f.unit, f.help, samples));
    }
    // Why a leg failed, as a label: a dashboard can show the line beside the failed leg.
    const failures = src.legs.filter(isFailed).map((l) => `miglab_migration_failure_info${labelSet(src, l, { reason: l.failed })} 1`);
    lines.push(...renderFamily("miglab_migration_failure_info", undefined, "A failed leg, with why it failed as its reason label.", failures));
    lines.push("# EOF");
    return `${lines.join("\n")}\n`;
}

/** Each leg's migration mode, by leg name, from the plan (the outputs do not keep it). */
export function legModes(plan: Pick<Plan, "legs">): Record<string, string> {
    return Object.fromEntries(plan.legs.map((l) => [l.name, l.migration.mode]));
}

/**
 * The legs of a `pulumi stack output --json` value: entries that are not a leg (an older or a
 * damaged output) are dropped, since a figure they lack is left out anyway.
 */
export function legsOfOutputs(outputs: unknown): LegOutcome[] {
    const legs = (outputs as { legs?: unknown } | null)?.legs;
    return Array.isArray(legs)
        ? legs.filter((l): l is LegOutcome => !!l && typeof l === "object" && typeof l.leg === "string" && typeof l.from === "string" && typeof l.to === "string")
        : [];
}

/** Where `pulumi up` writes a stack's file, relative to the project: one file per stack, as the textfile collector wants. */
export function metricsFileName(stack: string): string {
    return `metrics/${stack.replace(/[^A-Za-z0-9._-]/g, "_")}.prom`;
}
