#!/usr/bin/env bash
# Masquerade rate of the Edgeplane gateway and of the Linux kernel (nftables masquerade with conntrack), measured in
# the same run, in the same namespaces, with the same flow: a bounded UDP flood of 64-byte frames (60 + FCS) from an
# inside namespace (the internal switch) to a server namespace through a gateway namespace, source-translated to the
# gateway's outside address. Needs root, iproute2, python3 and nft (installed with apt-get when missing); uses
# trafgen (Debian's netsniff-ng) as the sender when installed, a Python socket loop otherwise.
#   bench/nat-forwarding.sh [SECONDS]    (default 5; at most 5,000,000 packets per run)
# Creates namespaces epn-cl, epn-gw, epn-sv and removes them (by name) on exit. After each run the script checks
# that the translation happened (the gateway's session table, the kernel's conntrack counters).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${1:-5}"
LIMIT=5000000
P=epn
TARGET=10.2.0.20
NAMESPACES="$P-cl $P-gw $P-sv"
GATEWAY_PID=""

# shellcheck source=netns-common.sh
source "$ROOT/bench/netns-common.sh"
command -v nft >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q nftables >/dev/null
# shellcheck source=flood-common.sh
source "$ROOT/bench/flood-common.sh"
# The server knows no way back to 10.1.0.0/24: only translated traffic could be answered.
cat > "$WORK/config.json" <<JSON
{ "ports": [
    { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.1.0.1/24", "device": "$P-p1" },
    { "name": "Port2", "mac": "02:00:00:00:02:01", "ipv4": "10.2.0.1/24", "device": "$P-p2" } ],
  "nat": { "inside": ["Port1"], "outside": "Port2", "maxSessions": 65536 } }
JSON

# 1. Edgeplane, with each port implementation: the gateway namespace has no IP addresses, the process owns the ports.
for io in afpacket pcap; do
    start_gateway "$io" "$WORK/config.json"
    measure "ep-nat-$io"
    gateway_sessions
    stop_gateway
done

# 2. The kernel: same namespace, same veths and MACs, addresses on the ports, ip_forward on, nftables masquerade.
ip -n "$P-gw" addr add 10.1.0.1/24 dev "$P-p1"
ip -n "$P-gw" addr add 10.2.0.1/24 dev "$P-p2"
ip netns exec "$P-gw" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$P-gw" nft -f - <<NFT
table ip nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "$P-p2" ip saddr 10.1.0.0/24 counter masquerade
    }
}
NFT
measure kernel-nat
ip netns exec "$P-gw" nft list chain ip nat postrouting | grep -o 'counter packets [0-9]*' | sed 's/^/  kernel masquerade: new flows /'
