#!/usr/bin/env bash
# Replay speed and memory beside tcprewrite, same machine, same run (issue: replay at the speed of the file).
#   [ROUNDS=5] bench/replay-vs-tcprewrite.sh [FRAMES] [SIZES...]     default: 1000000 frames of 64 and 1000 bytes
# For each size: generate the trace (UDP, Port1 -> 192.168.20.0/24, routed out of Port2 by pcaps/demo/config.json),
# run 'edgeplane replay' and 'tcprewrite' (rewriting MACs and fixing checksums) on it ROUNDS times, alternating, and
# report wall time and peak RSS of each run (GNU time), then the medians and in how many rounds Edgeplane took at
# most tcprewrite's time: on a shared host one run of each says more about the neighbours than about either
# program. Edgeplane runs two ways each round: in a JVM of its own ("cold": start, config, JIT warm-up) and handed
# to a replay server started by this script ("served": 'edgeplane replay-server', warmed by one replay of the trace
# before the rounds; the RSS shown is the client's, the server's peak is printed at the end).
# Needs tcpreplay and time (apt-get install -y tcpreplay time).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FRAMES="${1:-1000000}"
ROUNDS="${ROUNDS:-5}"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive integer" >&2; exit 1; }
shift || true
if [ "$#" -gt 0 ]; then SIZES=("$@"); else SIZES=(64 1000); fi
command -v tcprewrite >/dev/null || { echo "tcprewrite not found: apt-get install -y tcpreplay" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time not found: apt-get install -y time" >&2; exit 1; }
WORK="$(mktemp -d /tmp/edgeplane-replay-bench.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
EDGEPLANE_REPLAY_SERVER=off "$ROOT/edgeplane" replay --config "$ROOT/pcaps/demo/config.json" \
    --in "$ROOT/pcaps/demo/trace.pcap" --out "$WORK/warm" >/dev/null   # builds the jars if needed
SOCKET="$WORK/server/replay.sock"
"$ROOT/edgeplane" replay-server --socket "$SOCKET" --idle-timeout 30 >/dev/null 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 300); do [ -S "$SOCKET" ] && break; sleep 0.1; done
[ -S "$SOCKET" ] || { cat "$WORK/server.log" >&2; echo "the replay server did not start" >&2; exit 1; }
FLAGS="--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED"
measure() { # label, command...
    local label="$1"; shift
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
    read -r wall rss < "$WORK/time"
    WALL="$wall"
    printf "%-28s %8.2f s wall %9.1f MB peak RSS\n" "$label" "$wall" "$(echo "$rss / 1024" | bc -l)"
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for size in "${SIZES[@]}"; do
    trace="$WORK/trace-$size.pcap"
    # shellcheck disable=SC2086 # the JVM flags, split on purpose
    java $FLAGS -cp "$ROOT/bench/target/benchmarks.jar" io.edgeplane.bench.TraceGenerator "$trace" "$FRAMES" "$size"
    echo "trace: $FRAMES frames of $size bytes, $(du -m "$trace" | cut -f1) MB"
    EDGEPLANE_REPLAY_SERVER="$SOCKET" "$ROOT/edgeplane" replay --config "$ROOT/pcaps/demo/config.json" \
        --in "$trace" --out "$WORK/out-$size" >/dev/null   # the server's warm-up
    ours=(); served=(); theirs=(); kept=0; servedKept=0
    for round in $(seq 1 "$ROUNDS"); do
        measure "edgeplane replay (cold)" env EDGEPLANE_REPLAY_SERVER=off "$ROOT/edgeplane" replay \
            --config "$ROOT/pcaps/demo/config.json" --in "$trace" --out "$WORK/out-$size"
        ours+=("$WALL")
        [ "$round" = 1 ] && { grep -h "^replayed" "$WORK/out" 2>/dev/null || true; }
        measure "edgeplane replay (served)" env EDGEPLANE_REPLAY_SERVER="$SOCKET" "$ROOT/edgeplane" replay \
            --config "$ROOT/pcaps/demo/config.json" --in "$trace" --out "$WORK/out-$size"
        served+=("$WALL")
        grep -q "^replayed $FRAMES packets" "$WORK/out" || { echo "the served replay did not replay" >&2; exit 1; }
        measure "tcprewrite" tcprewrite --infile="$trace" --outfile="$WORK/tcprewrite-$size.pcap" \
            --enet-dmac=02:00:00:00:02:fe --enet-smac=02:00:00:00:02:01 --fixcsum
        theirs+=("$WALL")
        if awk -v a="${ours[-1]}" -v b="$WALL" 'BEGIN {exit !(a <= b)}'; then kept=$((kept + 1)); fi
        if awk -v a="${served[-1]}" -v b="$WALL" 'BEGIN {exit !(a <= b)}'; then servedKept=$((servedKept + 1)); fi
        rm -rf "$WORK/out-$size" "$WORK/tcprewrite-$size.pcap"
    done
    echo "median of $ROUNDS: edgeplane replay cold $(median "${ours[@]}") s, served $(median "${served[@]}") s," \
        "tcprewrite $(median "${theirs[@]}") s; at or below tcprewrite: cold in $kept, served in $servedKept" \
        "of $ROUNDS"
    rm -f "$trace"
done
echo "replay server's peak RSS: $(awk '/^VmHWM/ {printf "%.1f MB", $2 / 1024}' "/proc/$SERVER_PID/status")"
