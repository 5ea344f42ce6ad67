# scripts/bench persistence: durable fills/s through tickmesh-persistence (PostgreSQL) vs psql \copy of the same rows, same table, same run; ack latency at 10 k fills/s; SQLite rows/s
#
# Starts a throw-away PostgreSQL on loopback (free port, temp dir), runs tickmesh-persistence
# against it, and drives it with tickmesh-bench-persistence:
#   1. throughput: PERSIST_FILLS fills (300 000) on PERSIST_STREAMS streams (4), batches of
#      PERSIST_BATCH (500), each acked only once committed; clock from first write to last ack;
#   2. latency: one stream paced at PERSIST_RATE fills/s (10 000) in batches of
#      PERSIST_LATENCY_BATCH (20) for 10 s, latency from each batch's intended send time to its ack;
#   3. baseline: the same rows as CSV (same ids, columns and body bytes), timed
#      `psql \copy fills(...) FROM file (FORMAT csv)` into the same table with the same indexes;
#      1 and 3 alternate PERSIST_ROUNDS (3) times and each side's median is reported;
#   4. the same throughput run against the service on SQLite (--sqlite_path).
# The table is TRUNCATEd and CHECKPOINTed before each timed phase.
# shellcheck shell=bash

median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

bench_main() {
  build_targets tickmesh-persistence tickmesh-bench-persistence tickmesh-probe >/dev/null
  local svc=$BUILD_DIR/services/persistence/tickmesh-persistence
  local drv=$BUILD_DIR/services/persistence/tickmesh-bench-persistence
  local fills=${PERSIST_FILLS:-300000} streams=${PERSIST_STREAMS:-4} batch=${PERSIST_BATCH:-500}
  local rate=${PERSIST_RATE:-10000} lbatch=${PERSIST_LATENCY_BATCH:-20}
  local pgdir pgport port
  chmod 755 "$BENCH_DIR"  # the postgres user reads the CSV and owns the data dir below it
  pgport=$(free_port)
  PERSIST_PG_DIR=$BENCH_DIR/pg
  pgdir=$PERSIST_PG_DIR
  trap 'pg_stop "$PERSIST_PG_DIR"; cleanup' EXIT
  pg_start "$pgdir" "$pgport"
  local url="postgresql://postgres@127.0.0.1:$pgport/tickmesh"
  sql() { as_pg psql -h 127.0.0.1 -p "$pgport" -U postgres -d tickmesh -v ON_ERROR_STOP=1 -Atqc "$1"; }

  # --- the service on PostgreSQL ---
  port=$(free_port)
  start_bg persistence-pg "127.0.0.1:$port" "$svc" --grpc_address="127.0.0.1:$port" \
    --admin_address=127.0.0.1:0 --postgres_url="$url" --spool_dir="$BENCH_DIR/spool-pg" \
    --log_level=warn
  local svc_pid=${PIDS[-1]}
  "$drv" throughput --target "127.0.0.1:$port" --fills 20000 --batch "$batch" \
    --streams "$streams" --id_prefix w >/dev/null || die "warm-up run failed"
  local csv=$BENCH_DIR/fills.csv cols
  cols=$("$drv" csv --fills "$fills" --id_prefix t --out "$csv") || die "csv generation failed"
  chmod 644 "$csv"

  # Alternating rounds (the machine is shared): the service, then the baseline, PERSIST_ROUNDS
  # times; each side's median is reported.
  local rounds=${PERSIST_ROUNDS:-3} r tp stored t0 t1 svc_rates=() copy_rates=()
  for ((r = 0; r < rounds; r++)); do
    sql "TRUNCATE fills; CHECKPOINT" >/dev/null
    tp=($("$drv" throughput --target "127.0.0.1:$port" --fills "$fills" --batch "$batch" \
      --streams "$streams" --id_prefix t)) || die "throughput run failed"
    stored=$(sql "SELECT count(*) FROM fills")
    [[ $stored == "$fills" && ${tp[0]} == "$fills" ]] ||
      die "throughput run stored $stored rows, acked ${tp[0]} durable, expected $fills"
    svc_rates+=("${tp[2]}")
    # Baseline: psql \copy of the same rows into the same table.
    sql "TRUNCATE fills; CHECKPOINT" >/dev/null
    t0=$(date +%s%N)
    sql "\\copy fills($cols) FROM '$csv' WITH (FORMAT csv)" >/dev/null || die "psql \\copy failed"
    t1=$(date +%s%N)
    stored=$(sql "SELECT count(*) FROM fills")
    [[ $stored == "$fills" ]] || die "\\copy stored $stored rows, expected $fills"
    copy_rates+=("$(awk -v n="$fills" -v ns=$((t1 - t0)) 'BEGIN{printf "%.0f", n / (ns / 1e9)}')")
    log "round $((r + 1))/$rounds: service ${tp[2]} fills/s, psql \\copy ${copy_rates[-1]} rows/s"
  done
  local svc_rate copy_rate
  svc_rate=$(median "${svc_rates[@]}")
  copy_rate=$(median "${copy_rates[@]}")

  sql "TRUNCATE fills; CHECKPOINT" >/dev/null
  local lat
  lat=($("$drv" latency --target "127.0.0.1:$port" --rate "$rate" --batch "$lbatch" \
    --seconds 10 --id_prefix l)) || die "latency run failed"
  kill "$svc_pid"
  wait "$svc_pid" 2>/dev/null || true

  # --- the service on SQLite ---
  port=$(free_port)
  start_bg persistence-sqlite "127.0.0.1:$port" "$svc" --grpc_address="127.0.0.1:$port" \
    --admin_address=127.0.0.1:0 --sqlite_path="$BENCH_DIR/bench.db" \
    --spool_dir="$BENCH_DIR/spool-sqlite" --log_level=warn
  local lite
  lite=($("$drv" throughput --target "127.0.0.1:$port" --fills "$fills" --batch "$batch" \
    --streams "$streams" --id_prefix t)) || die "sqlite throughput run failed"

  printf '%s fills, %s streams x batches of %s; PostgreSQL %s on loopback (fsync on), same table and indexes\n' \
    "$fills" "$streams" "$batch" "$(sql 'SHOW server_version' | cut -d' ' -f1)"
  printf '  service -> PostgreSQL: %s fills/s (median of %s rounds: %s)\n' "$svc_rate" "$rounds" \
    "${svc_rates[*]}"
  printf '  psql \\copy baseline:   %s rows/s (median of %s rounds: %s)\n' "$copy_rate" "$rounds" \
    "${copy_rates[*]}"
  printf '  ack latency at %s fills/s (batches of %s, from intended send time): p50 %s us  p99 %s us  p99.9 %s us  max %s us\n' \
    "$rate" "$lbatch" "${lat[0]}" "${lat[1]}" "${lat[2]}" "${lat[3]}"
  printf '  service -> SQLite: %s rows/s (%s s)\n' "${lite[2]}" "${lite[1]}"
  printf 'persistence: %s fills/s (baseline %s rows/s, ratio %s)\n' "$svc_rate" "$copy_rate" \
    "$(awk -v a="$svc_rate" -v b="$copy_rate" 'BEGIN{printf "%.2f", a/b}')"
}
