# scripts/bench chain: tick -> order through the mesh vs a chain of 3 no-op gRPC relays (same 4 streams), same run
#
# Baseline: tickmesh-bench-chain (loadtest/bench/chain_bench.cc) — three relay processes with the
# mesh's stream directions (driver --Publish--> relay-a <--Subscribe-- relay-b <--Subscribe--
# relay-c <--StreamOrderEvents-- driver) that forward every message with one trace stamp, driven
# open loop like tickmesh-loadtest's tick driver. Then the real mesh (scripts/mesh up --no-build
# on an offset port set) with the perf-20k scenario, same rates, same send interval. Prints both
# rows per rate and the ratios mesh/chain for p50 and p99.
#
# Environment:
#   CHAIN_RATES="20000 5000"     steady rates (ticks/s), each after a 2 s warm-up at 2 000/s
#   CHAIN_SECONDS=12             steady-stage length
#   CHAIN_SEND_INTERVAL_US=250   batching (scenario send_interval_us; 0 = every due tick at once)
#   CHAIN_MESH_OFFSET=400        TICKMESH_MESH_PORT_OFFSET of the mesh started here
#   CHAIN_RT=1                   run relays, driver, mesh and load tester in SCHED_RR priority 1
#   CHAIN_SKIP_MESH=1            baseline only
#   CHAIN_NO_BUILD=1             use what is built
# Exits non-zero when the chain did not return every tick exactly once and in order.
# shellcheck shell=bash

chain_cleanup() {
  local p _
  for p in "${CHAIN_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  # A relay drains within its 3 s drain timeout; one that does not is killed.
  for p in "${CHAIN_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  CHAIN_PIDS=()
  if [[ -n ${CHAIN_MESH_DIR:-} && -d $CHAIN_MESH_DIR ]]; then
    TICKMESH_MESH_PORT_OFFSET=$CHAIN_OFFSET MESH_DIR=$CHAIN_MESH_DIR \
      "$TICKMESH_ROOT/scripts/mesh" down >"$BENCH_DIR/mesh-down.log" 2>&1 ||
      log "scripts/mesh down reported a problem (log: $BENCH_DIR/mesh-down.log)"
    rm -rf "$CHAIN_MESH_DIR"
    CHAIN_MESH_DIR=""
  fi
}

# chain_rt PID...: every thread of the processes into SCHED_RR 1 when CHAIN_RT=1.
chain_rt() {
  [[ ${CHAIN_RT:-0} == 1 ]] || return 0
  local p
  for p in "$@"; do chrt -a -r -p 1 "$p" >/dev/null || die "chrt failed for pid $p"; done
}

# chain_start_relay NAME ARGS...: starts a relay on a free port; sets CHAIN_PORT.
chain_start_relay() {
  local name=$1
  shift
  "$BUILD_DIR/loadtest/tickmesh-bench-chain" "$name" --grpc_address=127.0.0.1:0 \
    --admin_address=127.0.0.1:0 "$@" >"$BENCH_DIR/$name.log" 2>&1 &
  CHAIN_PIDS+=($!)
  CHAIN_PORT=""
  local _
  for _ in $(seq 100); do
    CHAIN_PORT=$(sed -n 's/.*msg=serving grpc_port=\([0-9]*\).*/\1/p' "$BENCH_DIR/$name.log" \
      2>/dev/null || true)
    [[ -n $CHAIN_PORT ]] && break
    kill -0 "${CHAIN_PIDS[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n $CHAIN_PORT ]] || { cat "$BENCH_DIR/$name.log" >&2; die "$name did not start"; }
  "$BUILD_DIR/tools/probe/tickmesh-probe" wait "127.0.0.1:$CHAIN_PORT" --timeout_ms 15000 \
    >/dev/null || { cat "$BENCH_DIR/$name.log" >&2; die "$name did not become SERVING"; }
}

# chain_cpu_ticks PID...: utime+stime of the processes, in clock ticks.
chain_cpu_ticks() {
  local p sum=0 f
  for p in "$@"; do
    f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    # shellcheck disable=SC2086
    set -- $f
    sum=$((sum + ${12} + ${13}))
  done
  echo "$sum"
}

# chain_cores TICKS0 TICKS1 NS0 NS1: cores used between two samples.
chain_cores() {
  awk -v t0="$1" -v t1="$2" -v n0="$3" -v n1="$4" -v hz="$(getconf CLK_TCK)" \
    'BEGIN{printf "%.2f", (t1 - t0) / hz / ((n1 - n0) / 1e9)}'
}

# chain_row LABEL P50 P90 P99 P999 MAX EXTRA
chain_row() {
  printf '  %-6s %-6s p50 %8s us  p90 %8s us  p99 %8s us  p99.9 %8s us  max %8s us  %s\n' "$@"
}

bench_main() {
  local rates=${CHAIN_RATES:-20000 5000} seconds=${CHAIN_SECONDS:-12}
  local interval=${CHAIN_SEND_INTERVAL_US:-250}
  CHAIN_OFFSET=${CHAIN_MESH_OFFSET:-400}
  CHAIN_PIDS=()
  CHAIN_MESH_DIR=""
  trap 'chain_cleanup; cleanup' EXIT
  trap 'exit 130' INT TERM
  [[ ${CHAIN_RT:-0} != 1 || $(id -u) == 0 ]] || die "CHAIN_RT=1 needs root (chrt -r)"
  local rt=()
  [[ ${CHAIN_RT:-0} == 1 ]] && rt=(chrt -r 1)

  if [[ ${CHAIN_NO_BUILD:-0} != 1 ]]; then
    local targets=(tickmesh-bench-chain tickmesh-probe)
    [[ ${CHAIN_SKIP_MESH:-0} == 1 ]] || targets+=(tickmesh-market-data tickmesh-signal
      tickmesh-execution tickmesh-cache tickmesh-persistence tickmesh-loadtest)
    # The build dir is shared: one build at a time.
    local lockfd
    exec {lockfd}>"${TICKMESH_BUILD_LOCK:-/tmp/tickmesh-build.lock}"
    flock "$lockfd"
    build_targets "${targets[@]}" >/dev/null
    exec {lockfd}>&-
  fi

  log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  # ---- baseline: the relay chain
  chain_start_relay relay-a
  local pa=$CHAIN_PORT
  chain_start_relay relay-b --upstream="127.0.0.1:$pa"
  local pb=$CHAIN_PORT
  chain_start_relay relay-c --upstream="127.0.0.1:$pb"
  local pc=$CHAIN_PORT
  chain_rt "${CHAIN_PIDS[@]}"
  declare -A chain mesh
  local rate incomplete=0
  for rate in $rates; do
    local out rc=0 t0 t1 n0 n1
    t0=$(chain_cpu_ticks "${CHAIN_PIDS[@]}")
    n0=$(date +%s%N)
    out=$("${rt[@]}" "$BUILD_DIR/loadtest/tickmesh-bench-chain" drive \
      --publish_target="127.0.0.1:$pa" --events_target="127.0.0.1:$pc" --rate="$rate" \
      --seconds="$seconds" --warmup_rate=2000 --warmup_s=2 --send_interval_us="$interval" \
      --log_level=warn 2>"$BENCH_DIR/drive-$rate.log") || rc=$?
    sed 's/^/  chain: /' "$BENCH_DIR/drive-$rate.log" >&2
    [[ -n $out ]] || die "chain driver failed at $rate/s (exit $rc)"
    if ((rc != 0)); then
      log "chain at $rate/s: not every tick came back once and in order (exit $rc)"
      incomplete=1
    fi
    t1=$(chain_cpu_ticks "${CHAIN_PIDS[@]}")
    n1=$(date +%s%N)
    chain[$rate]="$out $(chain_cores "$t0" "$t1" "$n0" "$n1")"
    log "chain $rate/s done (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  done
  chain_cleanup

  # ---- the mesh, perf-20k with the same shape
  if [[ ${CHAIN_SKIP_MESH:-0} != 1 ]]; then
    CHAIN_MESH_DIR=$BENCH_DIR/mesh
    mkdir -p "$CHAIN_MESH_DIR"
    TICKMESH_MESH_PORT_OFFSET=$CHAIN_OFFSET MESH_DIR=$CHAIN_MESH_DIR \
      "$TICKMESH_ROOT/scripts/mesh" up --no-build >"$BENCH_DIR/mesh-up.log" 2>&1 ||
      {
        tail -n 20 "$BENCH_DIR/mesh-up.log" >&2
        die "scripts/mesh up failed (offset $CHAIN_OFFSET in use?)"
      }
    local f mesh_pids=()
    for f in "$CHAIN_MESH_DIR"/*.pid; do mesh_pids+=("$(cat "$f")"); done
    chain_rt "${mesh_pids[@]}"
    for rate in $rates; do
      local yaml=$BENCH_DIR/perf-$rate.yaml rc=0 t0 t1 n0 n1
      sed -e "s/rate_per_s: 20000/rate_per_s: $rate/" \
        -e "s/duration_s: 12, rate_per_s/duration_s: $seconds, rate_per_s/" \
        "$TICKMESH_ROOT/loadtest/scenarios/perf-20k.yaml" >"$yaml"
      echo "send_interval_us: $interval" >>"$yaml"
      t0=$(chain_cpu_ticks "${mesh_pids[@]}")
      n0=$(date +%s%N)
      TICKMESH_MESH_PORT_OFFSET=$CHAIN_OFFSET \
        "${rt[@]}" "$BUILD_DIR/loadtest/tickmesh-loadtest" run \
        --scenario perf-20k --mode custom --config "$yaml" --report-dir "$BENCH_DIR/report-$rate" \
        >"$BENCH_DIR/loadtest-$rate.log" 2>&1 || rc=$?
      t1=$(chain_cpu_ticks "${mesh_pids[@]}")
      n1=$(date +%s%N)
      local report=$BENCH_DIR/report-$rate/report.json
      [[ -f $report ]] || {
        tail -n 20 "$BENCH_DIR/loadtest-$rate.log" >&2
        die "no report at $rate/s (exit $rc)"
      }
      mesh[$rate]="$(jq -r '.operations.tick_to_order.latency_us as $l
        | [$l.p50, $l.p90, $l.p99, $l.p999, $l.max, .operations.tick_to_order.count]
        | map(. * 10 | round / 10 | tostring) | join(" ")' "$report")"
      mesh[$rate]+=" $(chain_cores "$t0" "$t1" "$n0" "$n1")"
      log "mesh $rate/s done, loadtest exit $rc (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    done
    chain_cleanup
  fi

  local prio='normal priority'
  [[ ${CHAIN_RT:-0} == 1 ]] && prio=SCHED_RR
  printf 'tick -> order from intended send time (send_interval_us %s, %s s + 2 s warm-up, %s):\n' \
    "$interval" "$seconds" "$prio"
  local last=""
  for rate in $rates; do
    local c m
    read -r -a c <<<"${chain[$rate]}"
    chain_row "$rate/s" chain "${c[0]}" "${c[1]}" "${c[2]}" "${c[3]}" "${c[4]}" \
      "ticks ${c[5]} returned ${c[6]}, relays ${c[7]} cores"
    if [[ -n ${mesh[$rate]:-} ]]; then
      read -r -a m <<<"${mesh[$rate]}"
      chain_row "" mesh "${m[0]}" "${m[1]}" "${m[2]}" "${m[3]}" "${m[4]}" \
        "orders ${m[5]}, services ${m[6]} cores"
      local r50 r99
      r50=$(awk -v a="${m[0]}" -v b="${c[0]}" 'BEGIN{printf "%.2f", a/b}')
      r99=$(awk -v a="${m[2]}" -v b="${c[2]}" 'BEGIN{printf "%.2f", a/b}')
      printf '  %-6s ratio  mesh/chain p50 %s  p99 %s\n' "" "$r50" "$r99"
      [[ -n $last ]] ||
        last="chain: $rate/s tick->order p99 ${m[2]} us (baseline ${c[2]} us, ratio $r99)"
    fi
  done
  log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  # A baseline that lost or reordered ticks measured something else: fail (the smoke test
  # e2e_bench_chain relies on this).
  ((incomplete == 0)) || die "the relay chain lost or reordered ticks (logs above)"
  [[ -z $last ]] || echo "$last"
}
