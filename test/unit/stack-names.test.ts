// The stack names test labs and benchmarks get: a local lab's id, namespaces and ports follow from
// its stack name, so names decide whether two runs on one machine share a lab.
import * as assert from "assert";
import { benchStack, testPrefix } from "../../scripts/pulumi-cli";

function withPrefix<T>(value: string | undefined, f: () => T): T {
    const saved = process.env.MIGLAB_TEST_PREFIX;
    if (value === undefined) { delete process.env.MIGLAB_TEST_PREFIX; } else { process.env.MIGLAB_TEST_PREFIX = value; }
    try { return f(); } finally {
        if (saved === undefined) { delete process.env.MIGLAB_TEST_PREFIX; } else { process.env.MIGLAB_TEST_PREFIX = saved; }
    }
}

describe("stack names of test labs and benchmarks", () => {
    it("test labs: ci- and a tag of this checkout unless MIGLAB_TEST_PREFIX names them", () => {
        const tagged = withPrefix(undefined, testPrefix);
        assert.match(tagged, /^ci-[0-9a-z]{1,4}$/);
        assert.strictEqual(withPrefix(undefined, testPrefix), tagged, "the tag must not change between calls");
        assert.strictEqual(withPrefix("alice", testPrefix), "alice");
    });

    it("benchmarks: the documented names unless MIGLAB_TEST_PREFIX is set", () => {
        assert.strictEqual(withPrefix(undefined, () => benchStack("bench")), "bench");
        assert.strictEqual(withPrefix(undefined, () => benchStack("repro-nat")), "repro-nat");
        assert.strictEqual(withPrefix("alice", () => benchStack("bench")), "alice-bench");
    });
});
