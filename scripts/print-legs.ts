// Prints a stack's measured migration legs (the `legs` output) as a table.
import * as fs from "fs";
import { LegMetrics } from "../components/reports/metrics";
import { textTable } from "../components/reports/table";

export function legsTable(legs: LegMetrics[]): string {
    const head = ["leg", "total ms", "downtime ms", "probe lost", "longest gap ms", "guest pings lost", "data MB", "iter", "migr MB/s", "plain MB/s", "ratio"];
    const rows = legs.map((l) => [
        `${l.from} -> ${l.to}`, l.totalTimeMs, l.downtimeMs, l.probe ? `${l.probe.lost}/${l.probe.sent}` : "n/a", l.probe?.longestGapMs ?? "n/a",
        l.guestPing ? `${l.guestPing.lost}/${l.guestPing.sent}` : "-",
        (l.dataProcessedBytes / 1e6).toFixed(1), l.iterations, l.throughputMBs, l.plainMBs, l.ratio,
    ].map(String));
    return textTable(head, rows);
}

if (require.main === module) {
    const outputs = JSON.parse(fs.readFileSync(0, "utf8"));
    if (!Array.isArray(outputs.legs)) {
        console.error("print-legs: the stack has no `legs` output yet");
        process.exit(1);
    }
    console.log(`\nmiglab: ${outputs.topology} (${outputs.site} site), guest ${outputs.guest}\n`);
    console.log(legsTable(outputs.legs));
}
