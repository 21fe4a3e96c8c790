// The counter a silent guest's test reads from its disk, beside QEMU: qemu-io on a real qcow2.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { diskCounterOf } from "../../scripts/lab-stack";

describe("the counter a guest keeps on its disk", () => {
    let dir = "";
    before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "miglab-disk-")); });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const image = (sector0: string | null) => {
        const f = path.join(dir, `${Math.random().toString(36).slice(2)}.qcow2`);
        assert.strictEqual(spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", f, "1M"]).status, 0);
        if (sector0 !== null) {
            const src = `${f}.in`;
            fs.writeFileSync(src, sector0);
            const w = spawnSync("qemu-io", ["-f", "qcow2", "-c", `write -s ${src} 0 ${sector0.length}`, f], { encoding: "utf8" });
            assert.strictEqual(w.status, 0, w.stderr);
        }
        return f;
    };

    it("is read from the qcow2 image as the guest wrote it", () => {
        assert.strictEqual(diskCounterOf(image("650\n")), 650);
        assert.strictEqual(diskCounterOf(image("123456789012\n")), 123456789012);
    });
    it("is NaN for an image without one, and for no image", () => {
        assert.ok(Number.isNaN(diskCounterOf(image(null))));
        assert.ok(Number.isNaN(diskCounterOf(image("not a counter\n"))));
        assert.ok(Number.isNaN(diskCounterOf(path.join(dir, "none.qcow2"))));
    });
});
