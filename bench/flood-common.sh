# shellcheck shell=bash
# Sourced by the veth flood benchmarks (veth-forwarding.sh, nat-forwarding.sh, service-forwarding.sh), after
# netns-common.sh. The caller sets P (namespace and device prefix), TARGET (the address the flood is sent to),
# DURATION and LIMIT; this builds the namespaces $P-cl (client 10.1.0.10 on $P-c1), $P-gw (ports $P-p1, $P-p2 with
# the gateway's MACs) and $P-sv (server 10.2.0.20 on $P-s2), writes the flood (trafgen, or a Python loop), and
# defines flood, rx_packets, measure LABEL, start_gateway IO CONFIG and stop_gateway. SOURCE_BYTE (a trafgen byte,
# e.g. "dinc(10, 249)") varies the last byte of the flood's source address (spread over workers or CPUs).
for ns in $NAMESPACES; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add "$P-c1" netns "$P-cl" type veth peer name "$P-p1" netns "$P-gw"
ip link add "$P-s2" netns "$P-sv" type veth peer name "$P-p2" netns "$P-gw"
ip -n "$P-cl" addr add 10.1.0.10/24 dev "$P-c1"
ip -n "$P-sv" addr add 10.2.0.20/24 dev "$P-s2"
ip -n "$P-gw" link set "$P-p1" address 02:00:00:00:01:01
ip -n "$P-gw" link set "$P-p2" address 02:00:00:00:02:01
for pair in "$P-cl $P-c1" "$P-sv $P-s2" "$P-gw $P-p1" "$P-gw $P-p2"; do
    # shellcheck disable=SC2086 # "namespace device", split on purpose
    set -- $pair
    ip -n "$1" link set "$2" up
done
ip netns exec "$P-gw" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$P-cl" route add default via 10.1.0.1

WORK="$(mktemp -d)"
cat > "$WORK/flood.py" <<PY
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b'x' * 18
end = time.time() + $DURATION
sent = 0
while sent < $LIMIT and time.time() < end:
    for _ in range(1000):
        s.sendto(payload, ('$TARGET', 9))
    sent += 1000
print(sent)
PY

CLIENT_MAC=$(ip -n "$P-cl" -j link show "$P-c1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
mac_bytes() { echo "$1" | sed 's/^/0x/; s/:/, 0x/g'; }
cat > "$WORK/flood.trafgen" <<CFG
{
  $(mac_bytes 02:00:00:00:01:01), $(mac_bytes "$CLIENT_MAC"), 0x08, 0x00,
  0x45, 0x00, const16(46), const16(1), 0x40, 0x00, 64, 17, csumip(14, 33),
  10, 1, 0, ${SOURCE_BYTE:-10}, $(echo "$TARGET" | tr '.' ','),
  const16(9000), const16(9), const16(26), const16(0),
  fill(0x78, 18)
}
CFG

# Offer the flood; prints the number of packets sent.
flood() {
    if command -v trafgen >/dev/null 2>&1; then
        local packets=$(( DURATION * 600000 ))
        [ "$packets" -gt "$LIMIT" ] && packets=$LIMIT
        ip netns exec "$P-cl" trafgen --dev "$P-c1" --conf "$WORK/flood.trafgen" --num "$packets" --cpus 1 -q \
            >/dev/null 2>&1
        echo "$packets"
    else
        ip netns exec "$P-cl" python3 "$WORK/flood.py"
    fi
}

rx_packets() { ip -n "$P-sv" -s -j link show "$P-s2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'; }

measure() {
    local label="$1"
    ip netns exec "$P-cl" ping -c 3 -i 0.2 -W 1 "$TARGET" >/dev/null || { echo "$label: no connectivity" >&2; return 1; }
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

# Run the gateway in $P-gw with port implementation $1 and config $2; sets GATEWAY_PID and API.
start_gateway() {
    ip netns exec "$P-gw" "$ROOT/edgeplane" gateway --config "$2" --state "$WORK/state-$1" \
        --api 127.0.0.1:0 --io "$1" > "$WORK/gateway-$1.log" 2>&1 &
    GATEWAY_PID=$!
    for _ in $(seq 1 120); do grep -q "api http" "$WORK/gateway-$1.log" 2>/dev/null && break; sleep 0.5; done
    grep -q "api http" "$WORK/gateway-$1.log" || { cat "$WORK/gateway-$1.log" >&2; exit 1; }
    API=$(grep -o 'api http://[0-9.:]*' "$WORK/gateway-$1.log" | head -1 | cut -d' ' -f2)
}

stop_gateway() {
    kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true; GATEWAY_PID=""
}

# The gateway's NAT/service session figures (checks that the translation happened).
gateway_sessions() {
    ip netns exec "$P-gw" curl -s "$API/v1/nat" | python3 -c 'import json,sys; s=json.load(sys.stdin)["statistics"]; print("  gateway sessions:", s["sessions"], "created:", s["created"])'
}
