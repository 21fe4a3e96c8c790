# Checks, on one node, that addresses the lab relies on and does not make answer its
# pings (e.g. the outside node behind a team's router, or the overlay through it);
# fails naming the node, the address and why it is needed. Rendered with NODE and
# REACH ("address why" lines); runs before the host check too.
set -u
# A few pings each, so a busy network is not mistaken for a missing route.
while read -r addr why; do
  [ -n "$addr" ] || continue
  ok=0; for _ in 1 2 3; do ping -c 1 -W 2 -q "$addr" >/dev/null 2>&1 && { ok=1; break; }; done
  [ $ok = 1 ] || { echo "host $NODE: $addr does not answer its pings: $why" >&2; exit 1; }
done <<REACH_END
${REACH:-}
REACH_END
