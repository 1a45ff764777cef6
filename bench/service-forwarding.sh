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
P=epd
TARGET=10.1.0.100
NAMESPACES="$P-cl $P-gw $P-sv"
GATEWAY_PID=""

# shellcheck source=netns-common.sh
source "$ROOT/bench/netns-common.sh"
command -v nft >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q nftables >/dev/null
# shellcheck source=flood-common.sh
source "$ROOT/bench/flood-common.sh"
ip -n "$P-sv" route add default via 10.2.0.1
cat > "$WORK/config.json" <<JSON
{ "ports": [
    { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24", "device": "$P-p1" },
    { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24", "device": "$P-p2" } ],
  "serviceNetwork": { "externalServiceIPs": "10.1.0.100-10.1.0.100" },
  "services": [ { "name": "sink", "type": "LoadBalancer", "clusterIP": "10.96.0.9", "loadBalancerIP": "10.1.0.100",
                  "ports": [ { "protocol": "UDP", "port": 9 } ], "backends": [ { "ip": "10.2.0.20" } ] } ] }
JSON

# 1. Edgeplane, with each port implementation: the gateway namespace has no IP addresses, the process owns the ports.
for io in afpacket pcap; do
    start_gateway "$io" "$WORK/config.json"
    measure "ep-lb-$io"
    gateway_sessions
    stop_gateway
done

# 2. The kernel: same namespace, same veths and MACs, addresses on the ports (the VIP on the client's side), ip_forward
# on, and an nftables dnat rule as kube-proxy's iptables mode has.
ip -n "$P-gw" addr add 10.1.0.1/24 dev "$P-p1"
ip -n "$P-gw" addr add 10.2.0.1/24 dev "$P-p2"
ip -n "$P-gw" addr add 10.1.0.100/32 dev "$P-p1"
ip netns exec "$P-gw" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$P-gw" nft -f - <<NFT
table ip nat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        ip daddr 10.1.0.100 udp dport 9 counter dnat to 10.2.0.20:9
    }
}
NFT
measure kernel-dnat
ip netns exec "$P-gw" nft list chain ip nat prerouting | grep -o 'counter packets [0-9]*' | sed 's/^/  kernel dnat: new flows /'
