// The program's exit code after a failed leg or a broken SLA (components/resources/exit.ts):
// decided once the program is done, from what it logged as an error.
import * as assert from "assert";
import { EventEmitter } from "events";
import { ERROR_REPORTED_EXIT, ExitingProcess, failOnLoggedErrors } from "../../components/resources/exit";

/** A process that only emits beforeExit, with the exit code it would end with. */
function fakeProcess(exitCode?: number): ExitingProcess & EventEmitter & { end(): number | string | null | undefined } {
    const e = new EventEmitter() as EventEmitter & ExitingProcess;
    e.exitCode = exitCode;
    return Object.assign(e, { end() { e.emit("beforeExit"); return e.exitCode; } });
}

describe("the program's exit after logged errors", () => {
    it("ends with the runner's 'error already reported' code once done, when an error was logged", () => {
        let logged = false;
        const p = fakeProcess();
        failOnLoggedErrors(p, () => logged);
        assert.strictEqual(p.exitCode, undefined, "nothing is decided while the program runs");
        logged = true;
        assert.strictEqual(p.end(), ERROR_REPORTED_EXIT);
    });

    it("leaves a program that logged no error, and an exit code already set, as they are", () => {
        const clean = fakeProcess();
        failOnLoggedErrors(clean, () => false);
        assert.strictEqual(clean.end(), undefined);
        const crashed = fakeProcess(1);
        failOnLoggedErrors(crashed, () => true);
        assert.strictEqual(crashed.end(), 1);
    });

    it("hooks a process once, however many legs install it", () => {
        const p = fakeProcess();
        for (let i = 0; i < 5; i++) { failOnLoggedErrors(p, () => true); }
        assert.strictEqual(p.listenerCount("beforeExit"), 1);
    });
});
