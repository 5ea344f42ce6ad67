#!/usr/bin/env bash
# E2E: brings the whole mesh up as processes with real Redis and PostgreSQL, drives 10 s of ticks
# through it with the load tester, and checks from outside:
#  - grpc.health.v1 SERVING on all six gRPC ports; reflection lists each tickmesh.v1 service;
#  - fills reached PostgreSQL and the balance reached Redis;
#  - every /metrics passes `promtool check metrics` and has request-latency histograms; /healthz;
#  - malformed requests get INVALID_ARGUMENT and services keep serving (mesh_checks_test);
#  - an unknown flag or a bad flag value fails start-up naming the flag;
#  - SIGTERM: every service drains and exits 0 within 5 s.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$ROOT/build}
source "$ROOT/scripts/lib/common.sh"
export MESH_DIR
MESH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tickmesh-e2e-XXXXXX")
export TICKMESH_MESH_PORT_OFFSET=${TICKMESH_MESH_PORT_OFFSET:-1000}
MESH="$ROOT/scripts/mesh"
PROBE="$BUILD_DIR/tools/probe/tickmesh-probe"
FAILURES=0
fail() { log "FAIL: $*"; FAILURES=$((FAILURES + 1)); }
pass() { log "ok: $*"; }

cleanup() {
  "$MESH" down >/dev/null 2>&1 || true
  rm -rf "$MESH_DIR"
}
trap cleanup EXIT

"$MESH" up --no-build --redis --postgres
source "$MESH_DIR/env"

declare -A PROTO_SERVICE=([market-data]=MarketDataService [signal]=SignalService
  [execution]=ExecutionService [cache]=CacheService [persistence]=PersistenceService
  [loadtest]=LoadTestService)
for svc in market-data signal execution cache persistence loadtest; do
  addr=$("$MESH" addr "$svc")
  if [[ $("$PROBE" health "$addr" "tickmesh.v1.${PROTO_SERVICE[$svc]}") == SERVING ]]; then
    pass "$svc health SERVING"
  else
    fail "$svc health not SERVING"
  fi
  if "$PROBE" services "$addr" | grep -qx "tickmesh.v1.${PROTO_SERVICE[$svc]}"; then
    pass "$svc reflection lists tickmesh.v1.${PROTO_SERVICE[$svc]}"
  else
    fail "$svc reflection does not list tickmesh.v1.${PROTO_SERVICE[$svc]}"
  fi
done

log "driving 10 s of ticks"
if "$BUILD_DIR/loadtest/tickmesh-loadtest" run --scenario sustained --mode quick --duration_s 10 \
    --market_data_address "$("$MESH" addr market-data)" \
    --execution_address "$("$MESH" addr execution)" --report_dir "$MESH_DIR/report"; then
  pass "load test ran"
else
  fail "load test failed"
fi
fills=$(jq '.counters.fills // 0' "$MESH_DIR/report/report.json" 2>/dev/null || echo 0)
((fills > 0)) && pass "load test saw $fills fills" || fail "load test saw no fills"

# Give the outbox a moment to flush the last fills.
pg_port=${POSTGRES_URL##*:}
pg_port=${pg_port%%/*}
pg_fills=0
for _ in $(seq 50); do
  pg_fills=$(as_pg psql -h 127.0.0.1 -p "$pg_port" -U postgres -d tickmesh -Atc \
    "SELECT count(*) FROM fills" 2>/dev/null | tr -d '[:space:]' || echo 0)
  ((${pg_fills:-0} > 0)) && break
  sleep 0.2
done
((pg_fills > 0)) && pass "$pg_fills fills in PostgreSQL" || fail "no fills in PostgreSQL"
redis_port=${REDIS_URL##*:}
redis_port=${redis_port%%/*}
balances=$(redis-cli -p "$redis_port" --scan --pattern 'balance:*' | wc -l)
((balances > 0)) && pass "$balances balance keys in Redis" || fail "no balance keys in Redis"

for svc in market-data signal execution cache persistence loadtest; do
  admin=$("$MESH" admin "$svc")
  curl -sf "http://$admin/metrics" >"$MESH_DIR/$svc.metrics" || fail "$svc /metrics unreachable"
  if promtool check metrics <"$MESH_DIR/$svc.metrics" >"$MESH_DIR/$svc.promtool" 2>&1; then
    pass "$svc /metrics passes promtool check metrics"
  else
    fail "$svc /metrics: $(head -5 "$MESH_DIR/$svc.promtool")"
  fi
  grep -q "_grpc_request_duration_seconds_bucket" "$MESH_DIR/$svc.metrics" ||
    fail "$svc /metrics has no request-latency histogram"
  curl -sf "http://$admin/healthz" >/dev/null && pass "$svc /healthz" || fail "$svc /healthz"
done

if "$ROOT/scripts/check-metrics-coverage" "$MESH_DIR"; then
  pass "every metric used by a dashboard or rule is exported by the mesh"
else
  fail "dashboards/rules use metrics the mesh does not export"
fi

if TICKMESH_E2E_MARKET_DATA_ADDRESS=$("$MESH" addr market-data) \
   TICKMESH_E2E_EXECUTION_ADDRESS=$("$MESH" addr execution) \
   TICKMESH_E2E_CACHE_ADDRESS=$("$MESH" addr cache) \
   TICKMESH_E2E_PERSISTENCE_ADDRESS=$("$MESH" addr persistence) \
   TICKMESH_E2E_LOADTEST_ADDRESS=$("$MESH" addr loadtest) \
   "$BUILD_DIR/tests/mesh_checks_test"; then
  pass "bad input rejected, services keep serving, results queryable"
else
  fail "mesh_checks_test"
fi

for svc in market-data signal execution cache persistence; do
  bin="$BUILD_DIR/services/$svc/tickmesh-$svc"
  if out=$("$bin" --no_such_flag=1 2>&1); then
    fail "$svc started with an unknown flag"
  elif grep -q "no_such_flag" <<<"$out"; then
    pass "$svc: unknown flag fails start-up naming it"
  else
    fail "$svc: unknown flag error does not name it: $out"
  fi
  if out=$(timeout 10 "$bin" --grpc_address=not-an-address --admin_address=127.0.0.1:0 2>&1); then
    fail "$svc started with a bad --grpc_address"
  elif grep -q -- "--grpc_address" <<<"$out"; then
    pass "$svc: bad --grpc_address fails start-up naming it"
  else
    fail "$svc: bad --grpc_address error does not name it: $out"
  fi
done

if "$MESH" down; then
  pass "SIGTERM: every service drained and exited 0 within 5 s"
else
  fail "a service did not exit 0 within 5 s of SIGTERM"
fi
trap 'rm -rf "$MESH_DIR"' EXIT

if ((FAILURES)); then
  log "$FAILURES e2e check(s) failed"
  exit 1
fi
log "all e2e checks passed"
