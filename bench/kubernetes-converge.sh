#!/usr/bin/env bash
# Kubernetes sync at scale (issue: Kubernetes as the source of truth).
#   bench/kubernetes-converge.sh [SERVICES] [ENDPOINTS_PER_SERVICE] [CHANGES]    default: 10000 10 200
# Fills fabric8's mock API server (CRUD mode, on loopback) with SERVICES Services and their EndpointSlices, starts a
# gateway process (--io none --kubernetes) against it and reports: the time until every service is applied, the
# delay from an EndpointSlice change to the dataplane choosing the new endpoint (p50/p99/max, polled every
# millisecond through GET /v1/services/backend, which reads the worker's tables), the gateway's last pass split into
# translating and applying, and its peak RSS. Maglev tables of 4,099 entries (serviceNetwork.maglevTableSize).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mvn -q -o install -DskipTests 2>/dev/null || mvn -q install -DskipTests
mvn -q -o -pl control test -Dtest=KubernetesConvergeMeasure -Dedgeplane.measure=true \
    -Dedgeplane.measure.services="${1:-10000}" -Dedgeplane.measure.endpoints="${2:-10}" \
    -Dedgeplane.measure.changes="${3:-200}" -Dsurefire.failIfNoSpecifiedTests=false 2>&1 | grep '^measure:'
