#!/usr/bin/env bash
# Pipeline job (issue 9): brings the mesh up as processes with real Redis and PostgreSQL
# (scripts/mesh up --redis --postgres), then runs tickmesh-loadtest's quick `sustained` and quick
# `fault` scenarios against it. Fails when either run misses an SLO, loses an acknowledged fill or
# cache write, or cannot inject a fault; reports go to $LOADTEST_REPORT_DIR (default
# $BUILD_DIR/loadtest-reports/{sustained,fault}/report.{json,html}).
# Runs as ctest `e2e_loadtest_quick` (label e2e), so `scripts/test` runs it. About 2.5 minutes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$ROOT/build}
source "$ROOT/scripts/lib/common.sh"
export MESH_DIR
MESH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tickmesh-loadtest-XXXXXX")
export TICKMESH_MESH_PORT_OFFSET=${TICKMESH_MESH_PORT_OFFSET:-2000}
MESH="$ROOT/scripts/mesh"
LT="$BUILD_DIR/loadtest/tickmesh-loadtest"
REPORTS=${LOADTEST_REPORT_DIR:-$BUILD_DIR/loadtest-reports}

cleanup() {
  "$MESH" down >/dev/null 2>&1 || true
  rm -rf "$MESH_DIR"
}
trap cleanup EXIT

"$MESH" up --no-build --redis --postgres
source "$MESH_DIR/env"

rc=0
log "quick sustained"
if "$LT" run --scenario sustained --mode quick --report-dir "$REPORTS/sustained"; then
  log "ok: sustained met its SLOs"
else
  log "FAIL: sustained (report: $REPORTS/sustained/report.json)"
  rc=1
fi
log "quick fault (SIGKILL Redis, PostgreSQL, persistence; restart each; integrity checks)"
if "$LT" run --scenario fault --mode quick --report-dir "$REPORTS/fault" \
    --redis_url "$REDIS_URL" --control_command "$MESH"; then
  log "ok: fault: SLOs met, nothing acknowledged lost"
else
  log "FAIL: fault (report: $REPORTS/fault/report.json)"
  rc=1
fi
"$MESH" status >/dev/null || { log "FAIL: the mesh is not fully SERVING after the run"; rc=1; }
exit $rc
