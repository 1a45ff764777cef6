# shellcheck shell=bash
# Sourced by the bench scripts that build namespaces: removes $NAMESPACES (by name, with their processes) and the
# gateway ($GATEWAY_PID) on exit and before starting, and insists on root.
cleanup() {
    if [ -n "$GATEWAY_PID" ]; then kill "$GATEWAY_PID" 2>/dev/null || true; fi
    for ns in $NAMESPACES; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
cleanup
