// Prints a stack's measured migration legs (the `legs` output) as a table. A leg that
// failed is shown as failed with its reason, one that broke its SLA marked with the bounds
// it broke; with `--since EPOCH` (scripts/lab passes when its `pulumi up` began), a leg
// measured before then is marked as an earlier one, so an old measurement is never shown
// as this run's.
import * as fs from "fs";
import { DiskMetrics, LegMetrics, LegOutcome, PostcopyMetrics, isFailed } from "../components/reports/metrics";
import { brokeSla, slaBreachLines } from "../components/reports/sla";
import { DrainReport, drainsTable } from "../components/reports/drain";
import { textTable } from "../components/reports/table";
import { emulatorVersions } from "./versions";

/** A leg measured before `since` (ms since the epoch), or with no time at all (older outputs). */
export function isEarlier(l: LegOutcome, since: number | undefined): boolean {
    if (since === undefined) { return false; }
    const t = Date.parse(l.finishedAt ?? "");
    return !Number.isFinite(t) || t < since;
}

/** The other guests during a leg: how far each counted, and its pings lost (probe's, else its own). */
function bystanderText(l: LegMetrics): string {
    return (l.bystanders ?? []).map((b) => {
        const pings = b.probe ?? b.guestPing;
        return `${b.guest}@${b.host} +${b.counterAfter - b.counterBefore}${pings ? ` ${pings.lost}/${pings.sent} lost` : ""}`;
    }).join(", ");
}

/** A post-copy leg after its switch, in one line. */
export function postcopyText(p: PostcopyMetrics): string {
    return `post-copy: switched at ${p.switchedAtMs} ms with ${(p.remainingAtSwitchBytes / 2 ** 20).toFixed(1)} MiB left; ` +
        `${p.faults} pages fetched by faults, ${p.pushedPages} pushed; the last page ${p.tailMs} ms after the switch; ` +
        `preempt channel ${p.preemptChannel ? "yes" : "no"}` +
        (p.recovery ? `; the stream broke and was resumed after ${p.recovery.pausedMs} ms paused (${p.recovery.tries} tries), then ${p.recovery.resumedMs} ms to the end` : "");
}

/** A disk that moved with its guest, in one line: what crossed, the disk phase and its rate (and where that time came from), and the check. */
export function diskText(d: DiskMetrics): string {
    const phase = d.ms === null ? "its phase's time unknown (no timeline and no rate from libvirt)"
        : `its phase ${d.ms} ms (${d.msFrom === "timeline" ? "from the timeline" : "bytes over libvirt's rate"})${d.bps ? ` at ${(d.bps / 1e6).toFixed(1)} MB/s` : ""}`;
    const check = d.intact === null ? "not checked" : d.intact
        ? `intact (${d.checked === "sum" ? "qemu-img check clean, the same bytes beyond the counter sector" : "qemu-img check clean"})` : "NOT intact";
    return `disk: ${(d.bytes / 1e6).toFixed(1)} MB sent of ${(d.totalBytes / 1e6).toFixed(1)} MB, ${phase}; on arrival ${check}`;
}

/** A leg whose pre-copy a stop condition (migration.stopAfter) ended, in one line: what was met, when, and what it cost. */
export function stoppedNote(l: LegMetrics): string | undefined {
    const s = l.stoppedBy;
    return s ? `${l.from} -> ${l.to}: pre-copy stopped by stopAfter.${s.condition} at iteration ${s.iteration}, ${(s.afterMs / 1000).toFixed(1)} s in, ` +
        `${(s.sentBytes / 1e6).toFixed(1)} MB sent and ${(s.remainingBytes / 1e6).toFixed(1)} MB left${s.lastPassPages === null ? "" : ` (the pass began with ${s.lastPassPages} dirty pages)`}; ` +
        `the stop-and-copy cost ${l.downtimeMs} ms of downtime` : undefined;
}

export function legsTable(legs: LegOutcome[], since?: number): string {
    // Several guests: the leg names the guest that moved, and the others are shown standing by.
    const several = legs.some((o) => (o as LegMetrics).bystanders?.length);
    // A stop condition's column sits beside the downtime it cost, shown when one ended a leg.
    const stopped = legs.some((o) => (o as LegMetrics).stoppedBy);
    const head = ["leg", "total ms", "downtime ms", ...(stopped ? ["stopped by"] : []), "probe lost", "longest gap ms", "guest pings lost", "data MB", "iter", "migr MB/s", "plain MB/s", "ratio",
        ...(several ? ["bystanders (counter, pings lost)"] : [])];
    const rows = legs.map((o) => {
        const name = `${several && o.guest ? `${o.guest} ` : ""}${o.from} -> ${o.to}${isEarlier(o, since) ? " *" : ""}${brokeSla(o) ? " !" : ""}`;
        if (isFailed(o)) { return [name, "FAILED", ...head.slice(2).map(() => "-")]; }
        const l = o as LegMetrics;
        return [
            name, l.totalTimeMs, l.downtimeMs, ...(stopped ? [l.stoppedBy ? `${l.stoppedBy.condition} @${l.stoppedBy.iteration}` : "-"] : []), l.probe ? `${l.probe.lost}/${l.probe.sent}` : "n/a", l.probe?.longestGapMs ?? "n/a",
            l.guestPing ? `${l.guestPing.lost}/${l.guestPing.sent}` : "-",
            (l.dataProcessedBytes / 1e6).toFixed(1), l.iterations, l.throughputMBs, l.plainMBs, l.ratio,
            ...(several ? [bystanderText(l)] : []),
        ].map(String);
    });
    const notes: string[] = legs.flatMap((o) => (isFailed(o) ? [] : [stoppedNote(o as LegMetrics)].filter((n): n is string => n !== undefined)));
    for (const o of legs) {
        const p = isFailed(o) ? null : o.postcopy;
        if (p) { notes.push(`${o.from} -> ${o.to} ${postcopyText(p)}`); }
        const d = isFailed(o) ? null : o.disk;
        if (d) { notes.push(`${o.from} -> ${o.to} ${diskText(d)}`); }
    }
    for (const o of legs.filter(isFailed)) {
        notes.push(`${o.from} -> ${o.to} failed${o.attempt ? ` (try ${o.attempt + 1})` : ""}: ${o.failed}`);
    }
    if (legs.some((l) => isEarlier(l, since))) {
        const at = legs.filter((l) => isEarlier(l, since)).map((l) => l.finishedAt || "an older version").join(", ");
        notes.push(`* not measured by this run: the outputs still hold what an earlier run measured (${at})`);
    }
    notes.push(...slaBreachLines(legs).map((l) => `! ${l}`));
    if (legs.some(isFailed)) { notes.push("the next `pulumi up` (npm run lab) tries the failed legs again"); }
    if (legs.some(brokeSla)) { notes.push("the next `pulumi up` (npm run lab) measures again every migration with a leg that broke its SLA"); }
    return textTable(head, rows) + (notes.length ? `\n\n${notes.join("\n")}` : "");
}

if (require.main === module) {
    const i = process.argv.indexOf("--since");
    const since = i > 0 ? Number(process.argv[i + 1]) * 1000 : undefined;
    const outputs = JSON.parse(fs.readFileSync(0, "utf8") || "{}");
    if (!Array.isArray(outputs.legs)) {
        console.error("print-legs: the stack has no `legs` output yet");
        process.exit(1);
    }
    const guests = [...new Set(outputs.legs.map((l: LegOutcome) => l.guest ?? outputs.guest))].join(", ");
    // The emulator decides the figures as much as the code does (docs/benchmarks.md, Emulator); on the local
    // site it is this machine's, on real hosts theirs (not asked here).
    const v = outputs.site === "local" ? emulatorVersions() : undefined;
    console.log(`\nmiglab: ${outputs.topology} (${outputs.site} site), ${guests.includes(",") ? "guests" : "guest"} ${guests}${v ? `; ${v.qemu}, ${v.libvirt}` : ""}\n`);
    console.log(legsTable(outputs.legs, since));
    const drains: DrainReport[] = Array.isArray(outputs.drains) ? outputs.drains : [];
    if (drains.length) { console.log(`\n${drainsTable(drains)}`); }
    if (outputs.legs.some((l: LegOutcome) => isFailed(l) || brokeSla(l)) || drains.some((d) => d.sla?.passed === false)) { process.exit(1); }
}
