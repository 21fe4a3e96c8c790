// Argument checks shared by the components: each component lists every problem
// with its args at once, naming itself and the field, and what to do.
import * as pulumi from "@pulumi/pulumi";
import { inSubnet, ipToInt } from "../model/net";

/** Collects "field: problem; fix" lines and throws them as one ResourceError. */
export class ArgChecks {
    private readonly problems: string[] = [];
    /** The values `later` checks once they resolve. */
    private readonly pending: pulumi.Output<unknown>[] = [];

    constructor(private readonly kind: string, private readonly name: string) { }

    /** Records `problem` for `field` unless `ok`. */
    check(ok: boolean, field: string, problem: string): this {
        if (!ok) { this.problems.push(`${field}: ${problem}`); }
        return this;
    }

    /**
     * Checks a value that may still be unknown: now if it is plain (said with the other problems
     * by `done`), else once it resolves. Returns the value as an Output that fails with this
     * component's message, naming the field, when the check does: the component gives it (or
     * `gate`) to its children, so none of them is made with the bad value, and Pulumi reports the
     * failure on `resource` (the runner logs a ResourceError on its resource and fails the run).
     */
    later<T>(value: pulumi.Input<T>, field: string, test: (v: T) => string | undefined, resource: pulumi.Resource): pulumi.Output<T>;
    later<T>(value: pulumi.Input<T> | undefined, field: string, test: (v: T) => string | undefined, resource: pulumi.Resource): pulumi.Output<T | undefined>;
    later<T>(value: pulumi.Input<T> | undefined, field: string, test: (v: T) => string | undefined, resource: pulumi.Resource): pulumi.Output<T | undefined> {
        if (value === undefined || (!pulumi.Output.isInstance(value) && !(value instanceof Promise))) {
            const why = value === undefined ? undefined : test(value as T);
            if (why) { this.problems.push(`${field}: ${why}`); }
            return pulumi.output(value) as pulumi.Output<T | undefined>;
        }
        const checked = pulumi.output(value).apply((v) => {
            const why = v === undefined ? undefined : test(v as T);
            if (why) { throw new pulumi.ResourceError(this.message([`${field}: ${why}`]), resource, true); }
            return v;
        }) as pulumi.Output<T | undefined>;
        this.pending.push(checked);
        return checked;
    }

    /** `input` once every value given to `later` has passed its check: a child given it waits for them, and is not made if one fails. */
    gate<T>(input: pulumi.Input<T>): pulumi.Input<T> {
        if (this.pending.length === 0) { return input; }
        return pulumi.all([input, ...this.pending]).apply(([v]) => v) as unknown as pulumi.Output<T>;
    }

    private message(problems: string[]): string {
        return `${this.kind} '${this.name}' has ${problems.length === 1 ? "a bad argument" : `${problems.length} bad arguments`}:\n` +
            problems.map((p) => `  - ${p}`).join("\n");
    }

    /** Throws every recorded problem, if any. */
    done(resource: pulumi.Resource): void {
        if (this.problems.length > 0) { throw new pulumi.ResourceError(this.message(this.problems), resource); }
    }
}

// The value rules are the schema's (model/checks): the config and the components share them.
export {
    cidrMsg, counterPort, dirtyRate, guestCpu, guestDisk, guestMemory, guestVcpus, ifnameMsg, ipMsg, isAbsPath, isCidr, isIfname, isIpv4, isMac, isName,
    macMsg, nameMsg, natBridge, pathMsg, vni,
} from "../model/checks";

export const isCount = (v: unknown, min: number, max: number): boolean =>
    typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;

/** ip lies in the CIDR subnet. */
export function inCidr(ip: string, cidr: string): boolean {
    const [net, bits] = cidr.split("/");
    return inSubnet(ip, net, Number(bits)) && ipToInt(ip) >= 0;
}
