#!/usr/bin/env bash
# Service DNAT rate of the Edgeplane gateway and of the Linux kernel (an nftables dnat rule with conntrack, as
# kube-proxy's iptables mode does), measured in the same run, in the same namespaces, with the same flow: a bounded
# UDP flood of 64-byte frames (60 + FCS) from a client namespace to a LoadBalancer VIP (10.1.0.100:9), translated to
# the backend in the server namespace (10.2.0.20:9). Needs root, iproute2, python3 and nft (installed with apt-get
# when missing); uses trafgen (Debian's netsniff-ng) as the sender when installed, a Python socket loop otherwise.
#   bench/service-forwarding.sh [SECONDS]    (default 5; at most 5,000,000 packets per run)
# Creates namespaces epd-cl, epd-gw, epd-sv and removes them (by name) on exit. After each run the script checks
# that the translation happened (the gateway's session table, the kernel's rule counter).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${1:-5}"
LIMIT=5000000
NAMESPACES="epd-cl epd-gw epd-sv"
GATEWAY_PID=""

# shellcheck source=netns-common.sh
source "$ROOT/bench/netns-common.sh"
command -v nft >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q nftables >/dev/null

for ns in $NAMESPACES; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add epd-c1 netns epd-cl type veth peer name epd-p1 netns epd-gw
ip link add epd-s2 netns epd-sv type veth peer name epd-p2 netns epd-gw
ip -n epd-cl addr add 10.1.0.10/24 dev epd-c1
ip -n epd-sv addr add 10.2.0.20/24 dev epd-s2
ip -n epd-gw link set epd-p1 address 02:00:00:00:01:01
ip -n epd-gw link set epd-p2 address 02:00:00:00:02:01
for pair in "epd-cl epd-c1" "epd-sv epd-s2" "epd-gw epd-p1" "epd-gw epd-p2"; do
    set -- $pair
    ip -n "$1" link set "$2" up
done
ip netns exec epd-gw sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n epd-cl route add default via 10.1.0.1
ip -n epd-sv route add default via 10.2.0.1

WORK="$(mktemp -d)"
cat > "$WORK/config.json" <<JSON
{ "ports": [
    { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24", "device": "epd-p1" },
    { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24", "device": "epd-p2" } ],
  "serviceNetwork": { "externalServiceIPs": "10.1.0.100-10.1.0.100" },
  "services": [ { "name": "sink", "type": "LoadBalancer", "clusterIP": "10.96.0.9", "loadBalancerIP": "10.1.0.100",
                  "ports": [ { "protocol": "UDP", "port": 9 } ], "backends": [ { "ip": "10.2.0.20" } ] } ] }
JSON
cat > "$WORK/flood.py" <<PY
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b'x' * 18
end = time.time() + $DURATION
sent = 0
while sent < $LIMIT and time.time() < end:
    for _ in range(1000):
        s.sendto(payload, ('10.1.0.100', 9))
    sent += 1000
print(sent)
PY

CLIENT_MAC=$(ip -n epd-cl -j link show epd-c1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
mac_bytes() { echo "$1" | sed 's/^/0x/; s/:/, 0x/g'; }
cat > "$WORK/flood.trafgen" <<CFG
{
  $(mac_bytes 02:00:00:00:01:01), $(mac_bytes "$CLIENT_MAC"), 0x08, 0x00,
  0x45, 0x00, const16(46), const16(1), 0x40, 0x00, 64, 17, csumip(14, 33),
  10, 1, 0, 10, 10, 1, 0, 100,
  const16(9000), const16(9), const16(26), const16(0),
  fill(0x78, 18)
}
CFG

# Offer the flood; prints the number of packets sent.
flood() {
    if command -v trafgen >/dev/null 2>&1; then
        local packets=$(( DURATION * 600000 ))
        [ "$packets" -gt "$LIMIT" ] && packets=$LIMIT
        ip netns exec epd-cl trafgen --dev epd-c1 --conf "$WORK/flood.trafgen" --num "$packets" --cpus 1 -q \
            >/dev/null 2>&1
        echo "$packets"
    else
        ip netns exec epd-cl python3 "$WORK/flood.py"
    fi
}

rx_packets() { ip -n epd-sv -s -j link show epd-s2 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'; }

measure() {
    local label="$1"
    ip netns exec epd-cl ping -c 3 -i 0.2 -W 1 10.2.0.20 >/dev/null || { echo "$label: no connectivity" >&2; return 1; }
    ip netns exec epd-cl ping -c 1 -W 1 10.1.0.100 >/dev/null || true   # the client learns the VIP's MAC
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
    ip netns exec epd-gw "$ROOT/edgeplane" gateway --config "$WORK/config.json" --state "$WORK/state-$io" \
        --api 127.0.0.1:0 --io "$io" > "$WORK/gateway-$io.log" 2>&1 &
    GATEWAY_PID=$!
    for _ in $(seq 1 120); do grep -q "api http" "$WORK/gateway-$io.log" 2>/dev/null && break; sleep 0.5; done
    grep -q "api http" "$WORK/gateway-$io.log" || { cat "$WORK/gateway-$io.log" >&2; exit 1; }
    measure "ep-lb-$io"
    API=$(grep -o 'api http://[0-9.:]*' "$WORK/gateway-$io.log" | head -1 | cut -d' ' -f2)
    ip netns exec epd-gw curl -s "$API/v1/nat" | python3 -c 'import json,sys; s=json.load(sys.stdin)["statistics"]; print("  gateway sessions:", s["sessions"], "created:", s["created"])'
    kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true; GATEWAY_PID=""
done

# 2. The kernel: same namespace, same veths and MACs, addresses on the ports, ip_forward on, nftables masquerade.
ip -n epd-gw addr add 10.1.0.1/24 dev epd-p1
ip -n epd-gw addr add 10.2.0.1/24 dev epd-p2
ip -n epd-gw addr add 10.1.0.100/32 dev epd-p1
ip netns exec epd-gw sysctl -qw net.ipv4.ip_forward=1
ip netns exec epd-gw nft -f - <<NFT
table ip nat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        ip daddr 10.1.0.100 udp dport 9 counter dnat to 10.2.0.20:9
    }
}
NFT
measure kernel-dnat
ip netns exec epd-gw nft list chain ip nat prerouting | grep -o 'counter packets [0-9]*' | sed 's/^/  kernel dnat: new flows /'

