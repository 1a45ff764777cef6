#!/usr/bin/env bash
# VXLAN encapsulation and decapsulation rates of the Edgeplane gateway and of the Linux kernel's vxlan device, in the
# same run, same namespaces, same flows (64-byte inner frames):
#   encap: a pod floods UDP to a pod on the other node; counted as decapsulated by the other node's kernel vxlan.
#   decap: the other node's underlay link floods ready-made VXLAN frames (VNI 42) to the gateway; counted at the pod.
# Needs root, iproute2, python3; trafgen (Debian's netsniff-ng) as the sender.
#   bench/vxlan-forwarding.sh [SECONDS]   (default 5; at most 3,000,000 packets per measurement)
# Creates namespaces epx-pod, epx-gw, epx-n2 and removes them (by name) on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${1:-5}"
LIMIT=3000000
NAMESPACES="epx-pod epx-gw epx-n2"
GATEWAY_PID=""

command -v trafgen >/dev/null || { echo "trafgen not found: apt-get install -y netsniff-ng" >&2; exit 1; }
# shellcheck source=netns-common.sh
source "$ROOT/bench/netns-common.sh"

for ns in $NAMESPACES; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add epx-pc netns epx-pod type veth peer name epx-p1 netns epx-gw
ip link add epx-nu netns epx-n2 type veth peer name epx-p3 netns epx-gw
ip -n epx-pod addr add 10.244.1.5/24 dev epx-pc
ip -n epx-n2 addr add 10.3.0.2/24 dev epx-nu
ip -n epx-gw link set epx-p1 address 02:00:00:00:01:01
ip -n epx-gw link set epx-p3 address 02:00:00:00:03:01
for pair in "epx-pod epx-pc" "epx-n2 epx-nu" "epx-gw epx-p1" "epx-gw epx-p3"; do
    # shellcheck disable=SC2086 # "namespace device", split on purpose
    set -- $pair
    ip -n "$1" link set "$2" up
done
ip netns exec epx-gw sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n epx-pod route add default via 10.244.1.1
ip -n epx-pod neigh replace 10.244.1.1 lladdr 02:00:00:00:01:01 dev epx-pc
# The other node: a kernel vxlan device as Flannel programs it, the remote pod on its loopback.
ip -n epx-n2 link add vxlan42 type vxlan id 42 dstport 4789 dev epx-nu local 10.3.0.2 nolearning
ip -n epx-n2 link set vxlan42 address 02:00:00:00:42:02
ip -n epx-n2 addr add 192.168.42.2/24 dev vxlan42
ip -n epx-n2 link set vxlan42 up
ip netns exec epx-n2 bridge fdb append 02:00:00:00:42:01 dev vxlan42 dst 10.3.0.1
ip -n epx-n2 neigh add 192.168.42.1 lladdr 02:00:00:00:42:01 dev vxlan42 nud permanent
ip -n epx-n2 route add 10.244.1.0/24 via 192.168.42.1 dev vxlan42 onlink
ip -n epx-n2 addr add 10.244.2.5/32 dev lo
ip netns exec epx-n2 sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.vxlan42.rp_filter=0

WORK="$(mktemp -d)"
cat > "$WORK/config.json" <<JSON
{ "ports": [
    { "name": "Port1", "mac": "02:00:00:00:01:01", "ipv4": "10.244.1.1/24", "device": "epx-p1" },
    { "name": "Port3", "mac": "02:00:00:00:03:01", "ipv4": "10.3.0.1/24", "device": "epx-p3" },
    { "name": "vxlan0", "type": "vxlan", "vni": 42, "underlay": "Port3", "mac": "02:00:00:00:42:01",
      "ipv4": "192.168.42.1/24" } ],
  "neighbors": [ { "interface": "vxlan0", "ip": "192.168.42.2", "mac": "02:00:00:00:42:02", "vtep": "10.3.0.2" } ],
  "routes": [ { "interface": "vxlan0", "prefix": "10.244.2.0/24", "nextHop": "192.168.42.2" } ] }
JSON
mac() { ip -n "$1" -j link show "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])'; }
bytes() { echo "$1" | sed 's/^/0x/; s/:/, 0x/g'; }
POD_MAC=$(mac epx-pod epx-pc)
NODE_MAC=$(mac epx-n2 epx-nu)
cat > "$WORK/encap.trafgen" <<CFG
{
  $(bytes 02:00:00:00:01:01), $(bytes "$POD_MAC"), 0x08, 0x00,
  0x45, 0x00, const16(46), const16(1), 0x40, 0x00, 64, 17, csumip(14, 33),
  10, 244, 1, 5, 10, 244, 2, 5,
  const16(9000), const16(9), const16(26), const16(0),
  fill(0x78, 18)
}
CFG
cat > "$WORK/decap.trafgen" <<CFG
{
  $(bytes 02:00:00:00:03:01), $(bytes "$NODE_MAC"), 0x08, 0x00,
  0x45, 0x00, const16(96), const16(1), 0x40, 0x00, 64, 17, csumip(14, 33),
  10, 3, 0, 2, 10, 3, 0, 1,
  const16(50000), const16(4789), const16(76), const16(0),
  0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 42, 0x00,
  $(bytes 02:00:00:00:42:01), $(bytes 02:00:00:00:42:02), 0x08, 0x00,
  0x45, 0x00, const16(46), const16(1), 0x40, 0x00, 64, 17, csumip(64, 83),
  10, 244, 2, 5, 10, 244, 1, 5,
  const16(9000), const16(9), const16(26), const16(0),
  fill(0x78, 18)
}
CFG

rx() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/rx_packets"; }

# measure LABEL SENDER_NS SENDER_DEV TRAFGEN_CONF COUNT_NS COUNT_DEV
measure() {
    local label="$1" sns="$2" sdev="$3" conf="$4" cns="$5" cdev="$6"
    local packets=$(( DURATION * 600000 ))
    [ "$packets" -gt "$LIMIT" ] && packets=$LIMIT
    local before after start end
    before=$(rx "$cns" "$cdev")
    start=$(date +%s.%N)
    ip netns exec "$sns" trafgen --dev "$sdev" --conf "$conf" --num "$packets" --cpus 1 -q >/dev/null 2>&1
    end=$(date +%s.%N)
    sleep 0.5
    after=$(rx "$cns" "$cdev")
    python3 - "$label" "$packets" "$before" "$after" "$start" "$end" <<'PY'
import sys
label, sent, before, after, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
got = after - before
elapsed = end - start
print(f"{label:16s} sent {sent:9d} in {elapsed:5.2f} s ({sent/elapsed:9.0f} pps offered)  delivered {got:9d} ({got/elapsed:9.0f} pps)  {100.0*got/max(sent,1):5.1f} %")
PY
}

# 1. Edgeplane: the gateway namespace has no addresses; the process owns the ports and the tunnel.
ip netns exec epx-gw "$ROOT/edgeplane" gateway --config "$WORK/config.json" --state "$WORK/state" \
    --api 127.0.0.1:0 --io afpacket > "$WORK/gateway.log" 2>&1 &
GATEWAY_PID=$!
for _ in $(seq 1 120); do grep -q "api http" "$WORK/gateway.log" 2>/dev/null && break; sleep 0.5; done
grep -q "api http" "$WORK/gateway.log" || { cat "$WORK/gateway.log" >&2; exit 1; }
ip netns exec epx-pod ping -c 3 -i 0.2 -W 1 10.244.2.5 >/dev/null || { echo "edgeplane: no connectivity" >&2; exit 1; }
API=$(grep -o "api http://[0-9.:]*" "$WORK/gateway.log" | cut -d' ' -f2)
ports() { # where the gateway lost what it did not deliver: kernel ring drops and failed sends per port
    ip netns exec epx-gw curl -s "$API/v1/ports" | python3 -c 'import json,sys
for p in json.load(sys.stdin):
    if p["name"] != "vxlan0":
        print("  %-6s rx %9d  tx %9d  ring drops %9d  send errors %9d" % (p["name"], p["rxPackets"], p["txPackets"], p["captureDrops"], p["ioErrors"]))'
}
measure "ep-encap" epx-pod epx-pc "$WORK/encap.trafgen" epx-n2 vxlan42
ports
measure "ep-decap" epx-n2 epx-nu "$WORK/decap.trafgen" epx-pod epx-pc
ports
kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true; GATEWAY_PID=""

# 2. The kernel: the same namespace, veths and MACs, with addresses, ip_forward and its own vxlan device.
ip -n epx-gw addr add 10.244.1.1/24 dev epx-p1
ip -n epx-gw addr add 10.3.0.1/24 dev epx-p3
ip -n epx-gw link add vx0 type vxlan id 42 dstport 4789 dev epx-p3 local 10.3.0.1 nolearning
ip -n epx-gw link set vx0 address 02:00:00:00:42:01
ip -n epx-gw addr add 192.168.42.1/24 dev vx0
ip -n epx-gw link set vx0 up
ip netns exec epx-gw bridge fdb append 02:00:00:00:42:02 dev vx0 dst 10.3.0.2
ip -n epx-gw neigh add 192.168.42.2 lladdr 02:00:00:00:42:02 dev vx0 nud permanent
ip -n epx-gw route add 10.244.2.0/24 via 192.168.42.2 dev vx0 onlink
ip netns exec epx-gw sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.vx0.rp_filter=0
ip netns exec epx-pod ping -c 3 -i 0.2 -W 1 10.244.2.5 >/dev/null || { echo "kernel: no connectivity" >&2; exit 1; }
measure "kernel-encap" epx-pod epx-pc "$WORK/encap.trafgen" epx-n2 vxlan42
measure "kernel-decap" epx-n2 epx-nu "$WORK/decap.trafgen" epx-pod epx-pc
