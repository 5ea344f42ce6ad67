# scripts/bench cache: cache-service Set/Get ops/s over gRPC (Redis tier on) vs redis-benchmark on the same Redis, same concurrency, same run; p99 per op; memory for 1 M keys
# shellcheck shell=bash
#
# One Redis (loopback, free port) and one tickmesh-cache --redis_url in front of it. Keys are
# key:<12 digits> (redis-benchmark -r's format), values 64 bytes (-d 64), N concurrent clients:
#   unary:   N Set / N Get calls in flight        vs  redis-benchmark -c N          (1 cmd/round trip)
#   batched: N MSet / N MGet of B keys in flight  vs  redis-benchmark -c N -P B     (B cmds/round trip)
# "ops" are keys written or read. set+get = 2 / (1/set + 1/get): the rate of a workload doing as
# many sets as gets. The last line compares the batched set+get figures.
# Knobs: CACHE_BENCH_CLIENTS (50), CACHE_BENCH_BATCH (16), CACHE_BENCH_SECONDS (5),
# CACHE_BENCH_KEYS (1000000), extra flags for the cache in CACHE_BENCH_FLAGS. L1 is sized to hold
# every key (--l1_max_entries = 1.25 x keys: the bound is per shard, so exactly `keys` would evict
# a few from the fullest shards).
bench_main() {
  build_targets tickmesh-cache tickmesh_bench_cache_grpc tickmesh-probe >/dev/null
  local clients=${CACHE_BENCH_CLIENTS:-50} batch=${CACHE_BENCH_BATCH:-16}
  local secs=${CACHE_BENCH_SECONDS:-5} keys=${CACHE_BENCH_KEYS:-1000000}
  local drv="$BUILD_DIR/services/cache/tickmesh_bench_cache_grpc"
  local rport gport aport
  read -r rport gport aport < <(python3 -c 'import socket
ss=[socket.socket() for _ in range(3)]
[s.bind(("127.0.0.1",0)) for s in ss]
print(*[s.getsockname()[1] for s in ss])')
  redis_start "$BENCH_DIR/redis" "$rport"
  PIDS+=("$(cat "$BENCH_DIR/redis/redis.pid")")
  # shellcheck disable=SC2086
  start_bg cache "127.0.0.1:$gport" "$BUILD_DIR/services/cache/tickmesh-cache" \
    --grpc_address="127.0.0.1:$gport" --admin_address="127.0.0.1:$aport" \
    --redis_url="redis://127.0.0.1:$rport" --log_level=warn \
    --l1_max_entries=$((keys + keys / 4)) ${CACHE_BENCH_FLAGS:-}
  local cache_pid=${PIDS[-1]}
  rss_mb() { awk '/^VmRSS/{printf "%.0f", $2/1024}' "/proc/$1/status"; }
  metric() { curl -fsS "http://127.0.0.1:$aport/metrics" | awk -v m="$1" '$1==m{printf "%.0f", $2}'; }

  # Memory: RSS before and after loading `keys` keys of 64-byte values (through gRPC MSet).
  local rss0 load rss1 l1b l1n redis_mb
  rss0=$(rss_mb "$cache_pid")
  load=($("$drv" load --target "127.0.0.1:$gport" --keys "$keys" --value_bytes 64)) ||
    die "loading keys failed"
  sleep 1  # the L1 gauges are published every 250 ms
  rss1=$(rss_mb "$cache_pid")
  l1b=$(metric tickmesh_cache_l1_memory_bytes)
  l1n=$(metric tickmesh_cache_l1_entries)
  redis_mb=$(redis-cli -p "$rport" info memory | awk -F: '/^used_memory:/{printf "%.0f", $2/1048576}')
  printf 'memory, %s keys x 64 B loaded in %s s: cache RSS %s MB -> %s MB (+%s MB, %s B/key); L1 %s entries, l1_memory_bytes %s MB; redis used_memory %s MB\n' \
    "${load[0]}" "${load[1]}" "$rss0" "$rss1" "$((rss1 - rss0))" \
    "$(awk -v a="$rss1" -v b="$rss0" -v n="$keys" 'BEGIN{printf "%.0f", (a-b)*1048576/n}')" \
    "$l1n" "$(awk -v b="$l1b" 'BEGIN{printf "%.0f", b/1048576}')" "$redis_mb"

  # The cache over gRPC.
  local run=("$drv" run --target "127.0.0.1:$gport" --clients "$clients" --keys "$keys"
    --value_bytes 64 --seconds "$secs")
  local set1 get1 msetb mgetb
  set1=($("${run[@]}" --op set)) || die "cache Set run failed"
  get1=($("${run[@]}" --op get)) || die "cache Get run failed"
  msetb=($("${run[@]}" --op mset --batch "$batch")) || die "cache MSet run failed"
  mgetb=($("${run[@]}" --op mget --batch "$batch")) || die "cache MGet run failed"

  # redis-benchmark against the same Redis, same clients (CSV: test, rps, avg, min, p50, p95, p99, max).
  local rb1 rbp n1 np
  n1=$((secs * 60000)) np=$((secs * 60000 * batch / 4))
  rb1=$(redis-benchmark -h 127.0.0.1 -p "$rport" -c "$clients" -n "$n1" -d 64 -r "$keys" \
    -t set,get --csv) || die "redis-benchmark failed"
  rbp=$(redis-benchmark -h 127.0.0.1 -p "$rport" -c "$clients" -n "$np" -d 64 -r "$keys" \
    -P "$batch" -t set,get --csv) || die "redis-benchmark -P failed"
  rb() { echo "$1" | tr -d '"' | awk -F, -v t="$2" -v c="$3" '$1==t{print $c}'; }
  us() { awk -v ms="$1" 'BEGIN{printf "%.0f", ms*1000}'; }
  hm() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.0f", 2/(1/a+1/b)}'; }
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

  printf '%s clients, 64-byte values, %s keys, %s s per cache run; batch B=%s\n' \
    "$clients" "$keys" "$secs" "$batch"
  printf '  %-34s %10s %10s %10s\n' "" "ops/s" "p50 us" "p99 us"
  printf '  %-34s %10s %10s %10s\n' \
    "cache Set (unary)" "${set1[0]}" "${set1[2]}" "${set1[3]}" \
    "redis-benchmark SET -c $clients" "$(rb "$rb1" SET 2)" "$(us "$(rb "$rb1" SET 5)")" "$(us "$(rb "$rb1" SET 7)")" \
    "cache Get (unary)" "${get1[0]}" "${get1[2]}" "${get1[3]}" \
    "redis-benchmark GET -c $clients" "$(rb "$rb1" GET 2)" "$(us "$(rb "$rb1" GET 5)")" "$(us "$(rb "$rb1" GET 7)")" \
    "cache MSet x$batch (per request)" "${msetb[0]}" "${msetb[2]}" "${msetb[3]}" \
    "redis-benchmark SET -P $batch" "$(rb "$rbp" SET 2)" "$(us "$(rb "$rbp" SET 5)")" "$(us "$(rb "$rbp" SET 7)")" \
    "cache MGet x$batch (per request)" "${mgetb[0]}" "${mgetb[2]}" "${mgetb[3]}" \
    "redis-benchmark GET -P $batch" "$(rb "$rbp" GET 2)" "$(us "$(rb "$rbp" GET 5)")" "$(us "$(rb "$rbp" GET 7)")"
  local u_cache u_redis b_cache b_redis
  u_cache=$(hm "${set1[0]}" "${get1[0]}")
  u_redis=$(hm "$(rb "$rb1" SET 2)" "$(rb "$rb1" GET 2)")
  b_cache=$(hm "${msetb[0]}" "${mgetb[0]}")
  b_redis=$(hm "$(rb "$rbp" SET 2)" "$(rb "$rbp" GET 2)")
  printf 'cache unary set+get: %s ops/s (baseline redis-benchmark -c %s: %s ops/s, ratio %s)\n' \
    "$u_cache" "$clients" "$u_redis" "$(ratio "$u_cache" "$u_redis")"
  printf 'cache: %s ops/s (baseline %s ops/s, ratio %s)\n' "$b_cache" "$b_redis" \
    "$(ratio "$b_cache" "$b_redis")"
}
