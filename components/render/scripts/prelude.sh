# --- miglab prelude: put by the renderer (components/render/scripts.ts) between a
# script's variables and its body, so every host script shares one PATH, one way
# to reach libvirt and the peer hosts, and the same helpers.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
VIRSH_URI=qemu:///system
# shellcheck disable=SC2034  # (the prelude's variables: not every script uses each)
V="virsh -c $VIRSH_URI"
# ssh to a peer host (with -i "$KEY" where the script has one): never prompt, fail fast.
# With KNOWN_HOSTS (real hosts: the peers' recorded keys) a peer must show its recorded key;
# without (the local site, whose nodes get new keys each time) keys are not checked.
# PEER_URI_PARAMS is the same choice for virsh's qemu+ssh URIs (whose ssh takes no -o options:
# on real hosts the lab's ssh_config.d file names the known hosts).
# shellcheck disable=SC2034
if [ -n "${KNOWN_HOSTS:-}" ]; then
  SSH_OPTS="-o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$KNOWN_HOSTS -o IdentitiesOnly=yes -o LogLevel=ERROR -o ConnectTimeout=10"
  PEER_URI_PARAMS=""
else
  SSH_OPTS="-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10"
  PEER_URI_PARAMS="&no_verify=1"
fi
# alive PID: the process runs (a zombie, dead and not yet reaped, does not: kill -0 succeeds on
# one); pidof_file FILE: the PID a daemon wrote there, or nothing.
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null && [ "$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
pidof_file() { if [ -s "$1" ]; then cat "$1"; fi; }
# --- end of prelude
