// How a Pulumi program that measured fails its update while keeping what it measured.
//
// A failed leg, or a leg or drain that broke its SLA, is logged with pulumi.log.error on its
// resource and stays in the stack's outputs (`failed`, `sla.passed: false`), which the next
// `pulumi up` reads to measure it again. The update must fail too. In @pulumi/pulumi 3.248 a
// logged error does not do that by itself: log.error only counts it (log/index.js, read by
// log.hasErrors()); the runner (cmd/run/index.js) exits non-zero only for uncaught errors;
// and the engine (pkg/v3 host_server.go Log) only shows the diagnostic. Throwing instead
// would reject the outputs that record the verdict (or, thrown on a side chain, be an
// unhandled rejection racing them). So the exit code is decided here, in one place, once the
// program is done: the runner's own "error already reported" code when anything was logged as
// an error. It is set from `beforeExit`, the moment the runner itself waits for; the stack's
// outputs have been sent by then (the event loop is empty only once their RPCs returned), and
// the runner, seeing the code, skips its success-only shutdown signal exactly as it does for
// any program that ends with an error.
import * as pulumi from "@pulumi/pulumi";

/** @pulumi/pulumi's exit code for "the error was already reported to the user" (the language host then adds nothing). */
export const ERROR_REPORTED_EXIT = 32;

/** What failOnLoggedErrors needs of a process (the real one, or a test's). */
export interface ExitingProcess { on(event: "beforeExit", listener: () => void): unknown; exitCode?: number | string | null }

const hooked = new WeakSet<ExitingProcess>();

/**
 * Makes the program end with ERROR_REPORTED_EXIT when it logged an error (pulumi.log.error), so a
 * failed leg or a broken SLA fails `pulumi up` with its own lines while the outputs keep it.
 * Every measured leg calls it (a program using Migration or Drain needs to do nothing); a
 * process is hooked once however often it is called.
 */
export function failOnLoggedErrors(proc: ExitingProcess = process, logged: () => boolean = pulumi.log.hasErrors): void {
    if (hooked.has(proc)) { return; }
    hooked.add(proc);
    proc.on("beforeExit", () => {
        if (logged() && (proc.exitCode === undefined || proc.exitCode === null || proc.exitCode === 0)) { proc.exitCode = ERROR_REPORTED_EXIT; }
    });
}
