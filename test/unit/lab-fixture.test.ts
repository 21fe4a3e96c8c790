// The lab suites' shared lab (test/labFixture.ts) on a fake lab: a kept failure reaches every
// test that needs it, and the check before each test heals only what is out of place.
import * as assert from "assert";
import { LabOps, SharedLab, Steps, misplaced, parseVirshList, Placement } from "../labFixture";

/** A lab of two hosts and one guest whose every operation is counted; `fail` makes the build or put-back fail. */
function fakeLab(fail: { build?: string; putBack?: string; rebuild?: string } = {}) {
    const calls: string[] = [];
    const state = { config: "", placement: {} as Placement };
    const home = (): Placement => ({ pc1: { guests: { vm1: "running" } }, pc2: { guests: {} } });
    const ops: LabOps<{ legs: number }> = {
        prepare: () => { calls.push("prepare"); state.config = "suite"; },
        build: () => {
            calls.push("build");
            if (fail.build) { throw new Error(fail.build); }
            state.placement = home();
            return { legs: 2 };
        },
        configText: () => { calls.push("configText"); return state.config; },
        placement: () => { calls.push("placement"); return state.placement; },
        homes: () => ({ vm1: "pc1" }),
        putBack: () => {
            calls.push("putBack");
            if (fail.putBack) { throw new Error(fail.putBack); }
            state.config = "suite"; state.placement = home();
        },
        rebuild: () => {
            calls.push("rebuild");
            if (fail.rebuild) { throw new Error(fail.rebuild); }
            state.config = "suite"; state.placement = home();
        },
        remove: () => { calls.push("remove"); },
    };
    const logged: string[] = [];
    const shared = new SharedLab(ops, (l) => logged.push(l));
    shared.prepare();
    return { shared, calls, state, logged, costly: () => calls.filter((c) => /^(build|putBack|rebuild)$/.test(c)) };
}

describe("lab suites' shared lab (test/labFixture.ts)", () => {
    it("builds the lab once, on first need, and gives every test the same result", () => {
        const { shared, costly } = fakeLab();
        assert.deepStrictEqual(costly(), [], "prepare builds nothing");
        shared.heal("t1");
        assert.deepStrictEqual(costly(), [], "the check before a test builds nothing");
        const a = shared.built(), b = shared.built();
        assert.strictEqual(a, b);
        assert.deepStrictEqual(costly(), ["build"]);
    });

    it("keeps a failed build: each later test fails at once with its reason, naming the test that tried, with no second build", () => {
        const { shared, costly } = fakeLab({ build: "pulumi up exited 255: host pc2 is missing prerequisites" });
        shared.heal("builds the lab");
        assert.throws(() => shared.built(), /^Error: the lab could not be built: pulumi up exited 255: host pc2 is missing prerequisites$/);
        shared.heal("measures each leg");
        assert.throws(() => shared.built(), (e: Error) => e.message.startsWith("the lab could not be built: pulumi up exited 255: host pc2 is missing prerequisites") &&
            /kept from 'builds the lab', not tried again/.test(e.message));
        assert.deepStrictEqual(costly(), ["build"]);
    });

    it("runs a named step for the first test that needs it, and gives the others its value or its failure", () => {
        const steps = new Steps();
        let runs = 0;
        steps.current = "first";
        const idle = steps.step("idle pre-copy", () => { runs++; return [150, 150]; });
        assert.deepStrictEqual(idle(), [150, 150]);
        assert.strictEqual(idle(), idle());
        assert.strictEqual(runs, 1);
        const tls = steps.step("tls legs", (): number => { runs++; throw new Error("pulumi up exited 1: leg out failed"); });
        assert.throws(() => tls(), /^Error: 'tls legs' failed: pulumi up exited 1: leg out failed$/);
        steps.current = "second";
        assert.throws(() => tls(), /'tls legs' failed: pulumi up exited 1: leg out failed\n\(kept from 'first', not tried again\)/);
        assert.strictEqual(runs, 2);
    });

    it("keeps an async step's promise, and its rejection as a failure", async () => {
        const steps = new Steps();
        let runs = 0;
        const ok = steps.step("capture", async () => { runs++; return "flows"; });
        assert.strictEqual(await ok(), "flows");
        assert.strictEqual(await ok(), "flows");
        const bad = steps.step("captured up", async (): Promise<string> => { runs++; throw new Error("dumpcap did not start"); });
        await assert.rejects(bad(), /^Error: 'captured up' failed: dumpcap did not start$/);
        await assert.rejects(async () => bad(), /'captured up' failed: dumpcap did not start\n\(kept from/);
        assert.strictEqual(runs, 2);
    });

    it("checks the lab before each test with its config file and where the guests run, healing nothing when it is as built", () => {
        const { shared, calls, costly } = fakeLab();
        shared.built();
        calls.length = 0;
        shared.heal("t2");
        assert.deepStrictEqual(calls, ["configText", "placement"], "one read of the file, one look at the hosts");
        assert.deepStrictEqual(costly(), []);
        assert.strictEqual(shared.checks.length, 1);
    });

    it("puts the lab back when a test left the guest on pc2 and the config edited, and says what it found", () => {
        const { shared, state, logged, costly } = fakeLab();
        shared.built();
        state.config = "edited"; state.placement = { pc1: { guests: {} }, pc2: { guests: { vm1: "running" } } };
        shared.heal("after the failing test");
        assert.deepStrictEqual(costly(), ["build", "putBack"]);
        assert.match(logged.join("\n"), /before 'after the failing test': the stack's config is not the suite's; vm1 is not defined on pc1, its home; vm1 is running on pc2: putting it back/);
        assert.deepStrictEqual(shared.check(), []);
        shared.heal("the next test");
        assert.deepStrictEqual(costly(), ["build", "putBack"], "healed once, not again");
    });

    it("accepts the config a passing test left (each such test sets all it needs), but not one a failing test left", () => {
        const { shared, state, costly } = fakeLab();
        shared.built();
        state.config = "dirtying guest";
        shared.passed();
        shared.heal("next");
        assert.deepStrictEqual(costly(), ["build"]);
        state.config = "post-copy, its up failed";
        shared.heal("after it");
        assert.deepStrictEqual(costly(), ["build", "putBack"]);
    });

    it("builds the lab again when putting it back fails, and keeps the failure when that fails too", () => {
        const a = fakeLab({ putBack: "pulumi up exited 1" });
        a.shared.built();
        a.state.placement = { pc1: { error: "virsh list failed (exit 1): libvirtd not answering" }, pc2: { guests: {} } };
        a.shared.heal("t");
        assert.deepStrictEqual(a.costly(), ["build", "putBack", "rebuild"]);
        assert.deepStrictEqual(a.shared.built(), { legs: 2 });

        const b = fakeLab({ putBack: "pulumi up exited 1", rebuild: "pulumi destroy exited 1" });
        b.shared.built();
        b.state.config = "x";
        b.shared.heal("t3");
        assert.throws(() => b.shared.built(), /^Error: the lab could not be put back before 't3': the stack's config is not the suite's: pulumi destroy exited 1$/);
        b.shared.heal("t4");
        assert.deepStrictEqual(b.costly(), ["build", "putBack", "rebuild"], "no further attempt");
    });

    it("after forget() (a test destroyed the lab) checks nothing, and the next test that needs it builds it again", () => {
        const { shared, calls, costly } = fakeLab();
        shared.built();
        shared.forget();
        const before = calls.length;
        shared.heal("t");
        assert.deepStrictEqual(calls.slice(before), []);
        shared.built();
        assert.deepStrictEqual(costly(), ["build", "build"]);
    });

    it("reads virsh list --all, and names each guest out of place", () => {
        const listed = parseVirshList(" Id   Name   State\n-----------------------\n 3    vm1    running\n -    vm2    shut off\n\n");
        assert.deepStrictEqual(listed, { vm1: "running", vm2: "shut off" });
        const homes = { vm1: "pc1", vm2: "pc3" };
        assert.deepStrictEqual(misplaced({ pc1: { guests: { vm1: "running" } }, pc3: { guests: { vm2: "running" } } }, homes), []);
        assert.deepStrictEqual(misplaced({ pc1: { guests: { vm1: "paused" } }, pc2: { guests: { vm1: "shut off" } }, pc3: { error: "ssh: connection refused" } }, homes),
            ["pc3: ssh: connection refused", "vm1 is paused on pc1, its home", "vm1 is shut off on pc2"]);
    });
});
