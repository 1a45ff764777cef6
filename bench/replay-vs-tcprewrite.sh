#!/usr/bin/env bash
# Replay speed and memory beside tcprewrite, same machine, same run (issue: replay at the speed of the file).
#   bench/replay-vs-tcprewrite.sh [FRAMES] [SIZES...]     default: 1000000 frames of 64 and 1000 bytes
# For each size: generate the trace (UDP, Port1 -> 192.168.20.0/24, routed out of Port2 by pcaps/demo/config.json),
# run 'edgeplane replay' and 'tcprewrite' (rewriting MACs and fixing checksums) on it, and report wall time and
# peak RSS of each (GNU time). Needs tcpreplay and time (apt-get install -y tcpreplay time).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FRAMES="${1:-1000000}"
shift || true
SIZES=("${@:-64 1000}")
command -v tcprewrite >/dev/null || { echo "tcprewrite not found: apt-get install -y tcpreplay" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time not found: apt-get install -y time" >&2; exit 1; }
WORK="$(mktemp -d /tmp/edgeplane-replay-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
"$ROOT/edgeplane" replay --config "$ROOT/pcaps/demo/config.json" --in "$ROOT/pcaps/demo/trace.pcap" \
    --out "$WORK/warm" >/dev/null   # builds the jars if needed
FLAGS="--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED"
measure() { # label, command...
    local label="$1"; shift
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
    read -r wall rss < "$WORK/time"
    printf "%-28s %8.2f s wall %9.1f MB peak RSS\n" "$label" "$wall" "$(echo "$rss / 1024" | bc -l)"
}
for size in ${SIZES[*]}; do
    trace="$WORK/trace-$size.pcap"
    java $FLAGS -cp "$ROOT/bench/target/benchmarks.jar" io.edgeplane.bench.TraceGenerator "$trace" "$FRAMES" "$size"
    echo "trace: $FRAMES frames of $size bytes, $(du -m "$trace" | cut -f1) MB"
    measure "edgeplane replay" "$ROOT/edgeplane" replay --config "$ROOT/pcaps/demo/config.json" --in "$trace" \
        --out "$WORK/out-$size"
    grep -h "replayed" "$WORK/err" 2>/dev/null || true
    measure "tcprewrite" tcprewrite --infile="$trace" --outfile="$WORK/tcprewrite-$size.pcap" \
        --enet-dmac=02:00:00:00:02:fe --enet-smac=02:00:00:00:02:01 --fixcsum
    rm -rf "$WORK/out-$size" "$WORK/tcprewrite-$size.pcap" "$trace"
done
