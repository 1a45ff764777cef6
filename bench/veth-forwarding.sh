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
NAMESPACES="epb-cl epb-gw epb-sv"
GATEWAY_PID=""

# shellcheck source=netns-common.sh
source "$ROOT/bench/netns-common.sh"

for ns in $NAMESPACES; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add epb-c1 netns epb-cl type veth peer name epb-p1 netns epb-gw
ip link add epb-s2 netns epb-sv type veth peer name epb-p2 netns epb-gw
ip -n epb-cl addr add 10.1.0.10/24 dev epb-c1
ip -n epb-sv addr add 10.2.0.20/24 dev epb-s2
ip -n epb-gw link set epb-p1 address 02:00:00:00:01:01
ip -n epb-gw link set epb-p2 address 02:00:00:00:02:01
for pair in "epb-cl epb-c1" "epb-sv epb-s2" "epb-gw epb-p1" "epb-gw epb-p2"; do
    set -- $pair
    ip -n "$1" link set "$2" up
done
ip netns exec epb-gw sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n epb-cl route add default via 10.1.0.1
ip -n epb-sv route add default via 10.2.0.1

WORK="$(mktemp -d)"
cat > "$WORK/config.json" <<JSON
{ "ports": [
    { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24", "device": "epb-p1" },
    { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24", "device": "epb-p2" } ] }
JSON
cat > "$WORK/flood.py" <<PY
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b'x' * 18
end = time.time() + $DURATION
sent = 0
while sent < $LIMIT and time.time() < end:
    for _ in range(1000):
        s.sendto(payload, ('10.2.0.20', 9))
    sent += 1000
print(sent)
PY

CLIENT_MAC=$(ip -n epb-cl -j link show epb-c1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
mac_bytes() { echo "$1" | sed 's/^/0x/; s/:/, 0x/g'; }
cat > "$WORK/flood.trafgen" <<CFG
{
  $(mac_bytes 02:00:00:00:01:01), $(mac_bytes "$CLIENT_MAC"), 0x08, 0x00,
  0x45, 0x00, const16(46), const16(1), 0x40, 0x00, 64, 17, csumip(14, 33),
  10, 1, 0, 10, 10, 2, 0, 20,
  const16(9000), const16(9), const16(26), const16(0),
  fill(0x78, 18)
}
CFG

# Offer the flood; prints the number of packets sent.
flood() {
    if command -v trafgen >/dev/null 2>&1; then
        local packets=$(( DURATION * 600000 ))
        [ "$packets" -gt "$LIMIT" ] && packets=$LIMIT
        ip netns exec epb-cl trafgen --dev epb-c1 --conf "$WORK/flood.trafgen" --num "$packets" --cpus 1 -q \
            >/dev/null 2>&1
        echo "$packets"
    else
        ip netns exec epb-cl python3 "$WORK/flood.py"
    fi
}

rx_packets() { ip -n epb-sv -s -j link show epb-s2 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'; }

measure() {
    local label="$1"
    ip netns exec epb-cl ping -c 3 -i 0.2 -W 1 10.2.0.20 >/dev/null || { echo "$label: no connectivity" >&2; return 1; }
    local before after sent start end
    before=$(rx_packets)
    start=$(date +%s.%N)
    sent=$(flood)
    end=$(date +%s.%N)
    sleep 0.5
    after=$(rx_packets)
    python3 - "$label" "$sent" "$before" "$after" "$start" "$end" "$DURATION" <<'PY'
import sys
label, sent, before, after, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
got = after - before
elapsed = end - start
print(f"{label:12s} sent {sent:9d} in {elapsed:5.2f} s ({sent/elapsed:9.0f} pps offered)  forwarded {got:9d} ({got/elapsed:9.0f} pps)  {100.0*got/max(sent,1):5.1f} %")
PY
}

# 1. Edgeplane, with each port implementation: the gateway namespace has no IP addresses, the process owns the ports.
for io in afpacket pcap; do
    ip netns exec epb-gw "$ROOT/edgeplane" gateway --config "$WORK/config.json" --state "$WORK/state-$io" \
        --api 127.0.0.1:0 --io "$io" > "$WORK/gateway-$io.log" 2>&1 &
    GATEWAY_PID=$!
    for _ in $(seq 1 120); do grep -q "api http" "$WORK/gateway-$io.log" 2>/dev/null && break; sleep 0.5; done
    grep -q "api http" "$WORK/gateway-$io.log" || { cat "$WORK/gateway-$io.log" >&2; exit 1; }
    measure "ep-$io"
    kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true; GATEWAY_PID=""
done

# 2. The kernel: same namespace, same veths and MACs, addresses on the ports and ip_forward on.
ip -n epb-gw addr add 10.1.0.1/24 dev epb-p1
ip -n epb-gw addr add 10.2.0.1/24 dev epb-p2
ip netns exec epb-gw sysctl -qw net.ipv4.ip_forward=1
measure kernel
