// The value rules the config's schema states, as named checks for the components'
// args: each runs the schema's own definition (the same ajv code parseLabConfig runs)
// and says the schema's own words, so the two paths accept the same values and give
// the same reason when they refuse one.
import { definitionRule, fieldRule } from "./schema";

const ipv4 = definitionRule("ipv4");
const cidr = definitionRule("cidr");
const absPath = definitionRule("absPath");
const name = definitionRule("name");
const mac = definitionRule("mac");
const ifname = definitionRule("ifname");
/** A NAT network's bridge: an interface name, not libvirt's own virbr0. */
export const natBridge = fieldRule("nat.bridge");

/** The ranges of the guest's and the overlay's numbers, as the config takes them. */
export const guestMemory = fieldRule("guests.memoryMiB");
export const guestVcpus = fieldRule("guests.vcpus");
export const guestDisk = fieldRule("guests.image.diskMiB");
/** The guest's counter port: the next one streams its progress, so it is at most 65534. */
export const counterPort = fieldRule("guests.counterPort");
export const dirtyRate = fieldRule("guests.workload.dirtyMiBs");
/** A guest's CPU: host-model, host-passthrough or a named model with +/- features. */
export const guestCpu = fieldRule("guests.cpu");
export const vni = fieldRule("overlay.vni");

/** An IPv4 address in dotted decimal, as ajv-formats' ipv4 (no leading zeros). */
export const isIpv4 = ipv4.test;
export const ipMsg = ipv4.message;

/** An IPv4 address or network with a prefix: 10.10.10.0/24 (host bits may be set, e.g. an interface's address). */
export const isCidr = cidr.test;
export const cidrMsg = cidr.message;

/** Names that go into shell words, libvirt names and interface names. */
export const isName = name.test;
export const nameMsg = name.message;

export const isMac = mac.test;
export const macMsg = mac.message;

/** A Linux interface name (at most 15 characters: IFNAMSIZ). */
export const isIfname = ifname.test;
export const ifnameMsg = ifname.message;

/**
 * A '.' or '..' segment: the schema's absPath pattern allows them (they are letters it
 * takes), but a path through one is not the directory it names, so both the config's
 * rules and the components refuse it.
 */
export const hasDotSegment = (p: string): boolean => p.split("/").some((s) => s === "." || s === "..");

/** An absolute path the hosts' shells and libvirt's XML take as written: the schema's absPath, without '.' or '..' segments. */
export const isAbsPath = (v: unknown): boolean => absPath.test(v) && !hasDotSegment(v as string);
export const pathMsg = `${absPath.message}, and no '.' or '..' segment`;
