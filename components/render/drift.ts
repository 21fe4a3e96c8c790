// What "as declared" means for the parts of a lab a drift watch looks at: shell probes that
// exit 0 while the thing is there and print what they found otherwise. Text only (the
// local site's probe includes the host scripts' prelude, for its alive and pidof_file).
import { scriptText } from "./files";

/**
 * On one hypervisor host: exit 0 when the guest runs there and its counter service answers,
 * asked from there (the one place every topology reaches it from). A guest libvirt calls
 * running can be dead to the network: under TCG its kernel now and then finds its state corrupt
 * after a migration (a virtio ring: "input.0:id N is not a head!"; an oops; a panic), and only a
 * restart mends it.
 */
export function guestAnsweringProbe(guest: { name: string; address: string; counterPort: number }): string {
    return `state=$(virsh -c qemu:///system domstate ${guest.name} 2>&1 | head -n1); ` +
        `[ "$state" = running ] || { echo "${guest.name}: \${state:-not defined}"; exit 1; }; ` +
        `${counterAnswers(guest.address, guest.counterPort)}; ` +
        `echo "${guest.name}: running, but its counter service at ${guest.address}:${guest.counterPort} does not answer"; exit 1`;
}

/**
 * Asks a guest's counter service three times, 5 s each: exits 0 at the first answer, else
 * goes on. The drift probe and domain.sh (before it would restart a silent guest) ask alike.
 */
export function counterAnswers(address: string, port: number): string {
    return `for _ in 1 2 3; do ` +
        `out=$(timeout 5 bash -c 'exec 3<>/dev/tcp/${address}/${port}; head -n1 <&3' 2>/dev/null) && [ -n "$out" ] && exit 0; ` +
        `sleep 1; done`;
}

/**
 * On this machine: every node of a local site has its namespace, sshd, port forwarder and
 * (hypervisor hosts) libvirtd, each alive by the PID file the site script keeps.
 */
export function localSiteProbe(site: { labId: string; stateDir: string; nodes: { name: string; role: string }[] }): string {
    // The host scripts' prelude gives alive and pidof_file (a zombie is not alive).
    const lines = [scriptText("prelude.sh"), `S=${site.stateDir}/nodes; missing=""`, `alive_in() { alive "$(pidof_file "$1")"; }`];
    for (const n of site.nodes) {
        lines.push(`[ -e /run/netns/${site.labId}-${n.name} ] && alive_in "$S/${n.name}/anchor.pid" || missing="$missing ${n.name}:namespace"`);
        lines.push(`alive_in "$S/${n.name}/sshd.pid" || missing="$missing ${n.name}:sshd"`);
        lines.push(`alive_in "$S/${n.name}/forward.pid" || missing="$missing ${n.name}:ssh-port"`);
        if (n.role === "host") { lines.push(`alive_in "$S/${n.name}/root/run/libvirtd.pid" || missing="$missing ${n.name}:libvirtd"`); }
    }
    lines.push(`[ -z "$missing" ] || { echo "gone:$missing"; exit 1; }`);
    return lines.join("\n");
}
