#!/usr/bin/env bash
# One worker against two, beside the kernel with RPS off and on, in the same run and the same namespaces: a bounded
# flood of 64-byte UDP frames whose source address walks over 240 hosts (so a spread by source has something to
# spread), client namespace -> gateway namespace -> server namespace. Needs root, iproute2, python3 and trafgen.
#   bench/workers-forwarding.sh [SECONDS]    (default 5; at most 5,000,000 packets per run)
# Creates namespaces epw-cl, epw-gw, epw-sv and removes them (by name) on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${1:-5}"
LIMIT=5000000
P=epw
TARGET=10.2.0.20
NAMESPACES="$P-cl $P-gw $P-sv"
GATEWAY_PID=""
SOURCE_BYTE="dinc(10, 249)"
command -v trafgen >/dev/null 2>&1 || { echo "needs trafgen (apt-get install -y netsniff-ng)" >&2; exit 1; }

# shellcheck source=netns-common.sh
source "$ROOT/bench/netns-common.sh"
# shellcheck source=flood-common.sh
source "$ROOT/bench/flood-common.sh"
ip -n "$P-sv" route add default via 10.2.0.1
echo "machine: $(nproc) cores; flood: trafgen on one core, sources 10.1.0.10-249"

for workers in 1 2; do
    cat > "$WORK/config.json" <<JSON
{ "workers": $workers, "ports": [
    { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24", "device": "$P-p1" },
    { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24", "device": "$P-p2" } ] }
JSON
    start_gateway afpacket "$WORK/config.json"
    measure "ep-${workers}w"
    ip netns exec "$P-gw" curl -s "$API/v1/counters" | python3 -c '
import json, sys
c = json.load(sys.stdin)
print("  per worker rx:", [sum(p["rx-packets"] for p in w["ports"].values()) for w in c["workers"]],
      " handed over:", c["events"].get("handoff-out", 0), " ring full:", c["events"].get("handoff-ring-full", 0))'
    stop_gateway
done

ip -n "$P-gw" addr add 10.1.0.1/24 dev "$P-p1"
ip -n "$P-gw" addr add 10.2.0.1/24 dev "$P-p2"
ip netns exec "$P-gw" sysctl -qw net.ipv4.ip_forward=1
for rps in 0 3; do
    for dev in "$P-p1" "$P-p2"; do
        ip netns exec "$P-gw" sh -c "echo $rps > /sys/class/net/$dev/queues/rx-0/rps_cpus"
    done
    measure "kernel-rps$rps"
done
