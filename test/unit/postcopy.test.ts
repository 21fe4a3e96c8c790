// Post-copy's variants: what reaches virsh, and what a leg reports after its switch.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseJobInfo, parseLeg, parsePostcopy } from "../../components/reports/metrics";
import { DEMAND_PUSH_MIBS } from "../../components/model/migrations";
import { MigrationTuning, migrateFlags } from "../../components/render/scripts";
import { legsTable } from "../../scripts/print-legs";

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "..", "..", "..", "test", "fixtures", name), "utf8");

describe("post-copy variants", () => {
    const tuning = (t: Partial<MigrationTuning>) => ({ mode: "postcopy", postcopyVariant: "push", autoConverge: false, parallelConnections: 1, compression: "none", ...t }) as MigrationTuning;

    it("demand caps the background push at libvirt's smallest post-copy bandwidth; push leaves it", () => {
        assert.deepStrictEqual(migrateFlags(tuning({ postcopyVariant: "demand" })).split(" "), ["--postcopy-bandwidth", String(DEMAND_PUSH_MIBS)]);
        assert.strictEqual(migrateFlags(tuning({})), "");
        // 0 would mean "no cap" to libvirt: the trickle must be a real one.
        assert.ok(DEMAND_PUSH_MIBS >= 1);
    });
});

describe("a post-copy leg's account of its switch", () => {
    const job = parseJobInfo("time_elapsed: 2196\nmemory_processed: 90000000\nmemory_postcopy_requests: 117\nmemory_page_size: 4096\n");

    it("gives the tail, the pages fetched by faults and the ones pushed, and the preempt channel", () => {
        const p = parsePostcopy("1650 8388608 81920000 2\n", job)!;
        assert.strictEqual(p.switchedAtMs, 1650);
        assert.strictEqual(p.tailMs, 2196 - 1650);
        assert.strictEqual(p.remainingAtSwitchBytes, 8388608);
        assert.strictEqual(p.sentAfterSwitchBytes, 90000000 - 81920000);
        assert.strictEqual(p.faults, 117);
        assert.strictEqual(p.pushedPages, Math.round((90000000 - 81920000) / 4096) - 117);
        assert.strictEqual(p.preemptChannel, true);
        assert.strictEqual(parsePostcopy("1650 8388608 81920000 1", job)!.preemptChannel, false);
    });

    it("gives how long a broken stream kept the guest paused before the leg resumed it", () => {
        const p = parsePostcopy("1650 8388608 81920000 2", job, "1000.250 1005.750 1007.000 12\n")!;
        assert.deepStrictEqual(p.recovery, { pausedMs: 5500, resumedMs: 1250, tries: 12 });
        assert.strictEqual(parsePostcopy("1650 8388608 81920000 2", job)!.recovery, null);
        assert.throws(() => parsePostcopy("1650 8388608 81920000 2", job, "1000.250 - - 3"), /post-copy recovery: expected/);
        assert.match(legsTable([{ ...parseLeg("out", "pc1", "pc2", fixture("leg-postcopy.txt").replace("=== dest-state", "=== postcopy\n6100 1048576 140000000 2\n=== dest-state")),
            postcopy: p }]), /the stream broke and was resumed after 5500 ms paused \(12 tries\), then 1250 ms to the end/);
    });

    it("keeps a figure libvirt did not give as unknown, is absent for a leg that did not switch, and refuses a garbled line", () => {
        assert.ok(Number.isNaN(parsePostcopy("? ? ? 2", job)!.tailMs));
        assert.strictEqual(parsePostcopy(undefined, job), null);
        assert.throws(() => parsePostcopy("1650 2", job), /post-copy: expected 'elapsed remaining processed channels'/);
    });

    it("is read from a leg's output and shown under the legs' table", () => {
        const text = fixture("leg-postcopy.txt").replace("=== dest-state", "=== postcopy\n6100 1048576 140000000 2\n=== dest-state");
        const leg = parseLeg("out", "pc1", "pc2", text);
        assert.strictEqual(leg.postcopy!.tailMs, leg.totalTimeMs - 6100);
        assert.strictEqual(parseLeg("out", "pc1", "pc2", fixture("leg-precopy.txt")).postcopy, null);
        assert.match(legsTable([leg]), /pc1 -> pc2 post-copy: switched at 6100 ms with 1\.0 MiB left; \d+ pages fetched by faults, \d+ pushed; the last page 490 ms after the switch; preempt channel yes/);
    });
});
