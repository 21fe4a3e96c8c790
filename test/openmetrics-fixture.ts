// The legs the OpenMetrics tests render: test/unit checks the text's structure, test/engine
// runs promtool on it.
import * as fs from "fs";
import * as path from "path";
import { LegMetrics, LegOutcome, parseLegOutcome } from "../components/reports/metrics";
import { renderOpenMetrics } from "../components/reports/openmetrics";
import { judgeSla } from "../components/reports/sla";
import { ROOT } from "./support";

const captured = fs.readFileSync(path.join(ROOT, "test", "fixtures", "leg-out.txt"), "utf8");
// What migrate-leg.sh prints for a leg whose destination's libvirtd died (test/unit/failed-legs.test.ts has the whole story).
const failedLegOut = "=== counter-before\ncounter=812 uptime=90\n=== iperf3\n{}\n=== wallclock\n1764080000.1 1764080003.9\n" +
    "=== migrate\nerror: internal error: client socket is closed\n=== probe\n" +
    "=== failed\nmigration of vm1 from pc1 to pc2 failed: the libvirt daemon on pc2 is not answering; the guest is 'running' on \"pc1\" \\ still\n" +
    "=== at\n1764080004.2\n";

/** The fixture's good leg (which broke an SLA of 50 ms downtime) and a failed one, as the program's outputs keep them. */
export function fixtureLegs(): LegOutcome[] {
    const out = parseLegOutcome("out", "pc1", "pc2", captured) as LegMetrics;
    return [
        { ...out, guest: "vm1", sla: judgeSla(out, { maxDowntimeMs: 50 }) },
        { ...parseLegOutcome("back", "pc2", "pc1", failedLegOut, 1), guest: "vm1" },
    ];
}

export function fixtureText(): string {
    return renderOpenMetrics({ stack: "same-subnet", topology: "same-subnet", legs: fixtureLegs(), modes: { out: "precopy", back: "precopy" } });
}
