#!/usr/bin/env bash
# Forwarding rate of the Edgeplane gateway and of the Linux kernel, measured in the same run, in the same
# namespaces, with the same flow: a bounded UDP flood of 64-byte frames (60 + FCS) from a client namespace to a
# server namespace through a gateway namespace. Needs root, iproute2, python3; uses trafgen (Debian's
# netsniff-ng) as the sender when installed, a Python socket loop otherwise (which saturates far earlier).
#   bench/veth-forwarding.sh [SECONDS]    (default 5; at most 5,000,000 packets per run)
# Creates namespaces epb-cl, epb-gw, epb-sv and removes them (by name) on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${1:-5}"
LIMIT=5000000
P=epb
TARGET=10.2.0.20
NAMESPACES="$P-cl $P-gw $P-sv"
GATEWAY_PID=""

# shellcheck source=netns-common.sh
source "$ROOT/bench/netns-common.sh"
# shellcheck source=flood-common.sh
source "$ROOT/bench/flood-common.sh"
ip -n "$P-sv" route add default via 10.2.0.1
cat > "$WORK/config.json" <<JSON
{ "ports": [
    { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24", "device": "$P-p1" },
    { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24", "device": "$P-p2" } ] }
JSON

# 1. Edgeplane, with each port implementation: the gateway namespace has no IP addresses, the process owns the ports.
#    PERF=1: also profile the AF_PACKET gateway during its flood (perf record -e cpu-clock -g on its process) and
#    print where its threads' time goes: per thread and object (kernel, JIT-compiled Java, libjvm), then per symbol.
for io in afpacket pcap; do
    start_gateway "$io" "$WORK/config.json"
    PERF_PID=""
    if [ -n "${PERF:-}" ] && [ "$io" = afpacket ]; then
        perf record -q -e cpu-clock -g -p "$GATEWAY_PID" -o "$WORK/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
        PERF_PID=$!
    fi
    measure "ep-$io"
    if [ -n "$PERF_PID" ]; then
        wait "$PERF_PID" || true
        echo "perf, gateway process during the flood (share of samples by thread and object, then by symbol):"
        # (head closes the pipe early: not a failure of the benchmark)
        perf report -i "$WORK/perf.data" --stdio --no-children --sort comm,dso -q -g none 2>/dev/null |
            grep -v '^$' | head -8 || true
        perf report -i "$WORK/perf.data" --stdio --no-children --sort sym -q -g none 2>/dev/null | grep -v '^$' |
            head -25 || true
    fi
    stop_gateway
done

# 2. The kernel: same namespace, same veths and MACs, addresses on the ports and ip_forward on.
ip -n "$P-gw" addr add 10.1.0.1/24 dev "$P-p1"
ip -n "$P-gw" addr add 10.2.0.1/24 dev "$P-p2"
ip netns exec "$P-gw" sysctl -qw net.ipv4.ip_forward=1
measure kernel
