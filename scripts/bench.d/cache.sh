# scripts/bench cache: cache-service Set/Get ops/s over gRPC (Redis tier on) vs redis-benchmark on the same Redis, same concurrency, same run; p99 per op; memory for 1 M keys
# shellcheck shell=bash
#
# One Redis (loopback, free port) and one tickmesh-cache --redis_url in front of it. Keys are
# key:<12 digits> (redis-benchmark -r's format), values 64 bytes (-d 64), N concurrent clients:
#   unary:   N Set / N Get calls in flight        vs  redis-benchmark -c N          (1 cmd/round trip)
#   batched: N MSet / N MGet of B keys in flight  vs  redis-benchmark -c N -P B     (B cmds/round trip)
# "ops" are keys written or read. set+get = 2 / (1/set + 1/get): the rate of a workload doing as
# many sets as gets. The last line compares the batched set+get figures.
# Where the CPU goes, same run: user+system CPU per key of Redis, the cache and the driver during
# the cache's MSet runs, and of Redis during redis-benchmark -P (all three share the 2 cores).
# Ceiling, same run: the same driver against a second cache without a Redis tier (gRPC + L1
# only): what gRPC alone allows on this machine before Redis takes its share of the cores.
# The cache runs and the redis-benchmark runs alternate for CACHE_BENCH_ROUNDS rounds (each round:
# cache Set, Get, MSet, MGet, then redis-benchmark unary and -P), and every figure is the median
# over the rounds, so both sides see the same load on a shared machine.
# Knobs: CACHE_BENCH_CLIENTS (50), CACHE_BENCH_BATCH (16), CACHE_BENCH_SECONDS (5),
# CACHE_BENCH_ROUNDS (3), CACHE_BENCH_KEYS (1000000), CACHE_BENCH_CHANNELS (4: gRPC connections
# the driver spreads its clients over; the mesh's services use one each), extra flags for the cache in
# CACHE_BENCH_FLAGS (e.g. --redis_pool_size=4). L1 is sized to hold
# every key (--l1_max_entries = 1.25 x keys: the bound is per shard, so exactly `keys` would evict
# a few from the fullest shards).
bench_main() {
  build_targets tickmesh-cache tickmesh_bench_cache_grpc tickmesh-probe >/dev/null
  local clients=${CACHE_BENCH_CLIENTS:-50} batch=${CACHE_BENCH_BATCH:-16}
  local secs=${CACHE_BENCH_SECONDS:-5} keys=${CACHE_BENCH_KEYS:-1000000}
  local drv="$BUILD_DIR/services/cache/tickmesh_bench_cache_grpc"
  local rport gport aport gport0 aport0
  read -r rport gport aport gport0 aport0 < <(python3 -c 'import socket
ss=[socket.socket() for _ in range(5)]
[s.bind(("127.0.0.1",0)) for s in ss]
print(*[s.getsockname()[1] for s in ss])')
  redis_start "$BENCH_DIR/redis" "$rport"
  PIDS+=("$(cat "$BENCH_DIR/redis/redis.pid")")
  # shellcheck disable=SC2086
  start_bg cache "127.0.0.1:$gport" "$BUILD_DIR/services/cache/tickmesh-cache" \
    --grpc_address="127.0.0.1:$gport" --admin_address="127.0.0.1:$aport" \
    --redis_url="redis://127.0.0.1:$rport" --log_level=warn \
    --l1_max_entries=$((keys + keys / 4)) ${CACHE_BENCH_FLAGS:-}
  local cache_pid=${PIDS[-1]} redis_pid=${PIDS[-2]}
  # shellcheck disable=SC2086
  start_bg cache-l1 "127.0.0.1:$gport0" "$BUILD_DIR/services/cache/tickmesh-cache" \
    --grpc_address="127.0.0.1:$gport0" --admin_address="127.0.0.1:$aport0" --log_level=warn \
    --l1_max_entries=$((keys + keys / 4)) ${CACHE_BENCH_FLAGS:-}
  local hz
  hz=$(getconf CLK_TCK)
  cpu_s() { awk -v hz="$hz" '{printf "%.2f", ($14+$15)/hz}' "/proc/$1/stat"; }
  rss_mb() { awk '/^VmRSS/{printf "%.0f", $2/1024}' "/proc/$1/status"; }
  metric() { curl -fsS "http://127.0.0.1:$aport/metrics" | awk -v m="$1" '$1==m{printf "%.0f", $2}'; }

  # Memory: RSS before and after loading `keys` keys of 64-byte values (through gRPC MSet).
  local rss0 load rss1 l1b l1n redis_mb
  rss0=$(rss_mb "$cache_pid")
  load=($("$drv" load --target "127.0.0.1:$gport" --keys "$keys" --value_bytes 64)) ||
    die "loading keys failed"
  sleep 1  # the L1 gauges are published every 250 ms
  rss1=$(rss_mb "$cache_pid")
  "$drv" load --target "127.0.0.1:$gport0" --keys "$keys" --value_bytes 64 >/dev/null ||
    die "loading keys into the Redis-less cache failed"
  l1b=$(metric tickmesh_cache_l1_memory_bytes)
  l1n=$(metric tickmesh_cache_l1_entries)
  redis_mb=$(redis-cli -p "$rport" info memory | awk -F: '/^used_memory:/{printf "%.0f", $2/1048576}')
  printf 'memory, %s keys x 64 B loaded in %s s: cache RSS %s MB -> %s MB (+%s MB, %s B/key); L1 %s entries, l1_memory_bytes %s MB; redis used_memory %s MB\n' \
    "${load[0]}" "${load[1]}" "$rss0" "$rss1" "$((rss1 - rss0))" \
    "$(awk -v a="$rss1" -v b="$rss0" -v n="$keys" 'BEGIN{printf "%.0f", (a-b)*1048576/n}')" \
    "$l1n" "$(awk -v b="$l1b" 'BEGIN{printf "%.0f", b/1048576}')" "$redis_mb"

  # The cache over gRPC.
  local run=("$drv" run --target "127.0.0.1:$gport" --clients "$clients" --keys "$keys"
    --value_bytes 64 --seconds "$secs" --channels "${CACHE_BENCH_CHANNELS:-4}")
  local run0=("${run[@]}")
  run0[3]=127.0.0.1:$gport0
  # redis-benchmark against the same Redis, same clients (CSV: test, rps, avg, min, p50, p95, p99,
  # max), alternating with the cache runs; "<cache figures>" and "<csv>" per round, medians after.
  local rounds=${CACHE_BENCH_ROUNDS:-3} n1 np r
  n1=$((secs * 60000)) np=$((secs * 60000 * batch / 4))
  local -a r_set r_get r_mset r_mget r_rb1 r_rbp r_l1set r_l1mset r_cpu
  local x c0 c1 q0 q1
  for ((r = 0; r < rounds; r++)); do
    x=$("${run[@]}" --op set) || die "cache Set run failed"
    r_set+=("$x")
    x=$("${run[@]}" --op get) || die "cache Get run failed"
    r_get+=("$x")
    c0=$(cpu_s "$cache_pid") q0=$(cpu_s "$redis_pid")
    x=$("${run[@]}" --op mset --batch "$batch") || die "cache MSet run failed"
    c1=$(cpu_s "$cache_pid") q1=$(cpu_s "$redis_pid")
    r_mset+=("$x")
    # "<redis> <cache> <driver>" CPU us per key written by the MSet run.
    r_cpu+=("$(echo "$x" | awk -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN{print b-a}')" \
      -v q="$(awk -v a="$q0" -v b="$q1" 'BEGIN{print b-a}')" -v s="$secs" \
      '{n=$1*s; printf "%.2f %.2f %.2f", q*1e6/n, c*1e6/n, $6*1e6/n}')")
    x=$("${run0[@]}" --op set) || die "Redis-less cache Set run failed"
    r_l1set+=("$x")
    x=$("${run0[@]}" --op mset --batch "$batch") || die "Redis-less cache MSet failed"
    r_l1mset+=("$x")
    x=$("${run[@]}" --op mget --batch "$batch") || die "cache MGet run failed"
    r_mget+=("$x")
    x=$(redis-benchmark -h 127.0.0.1 -p "$rport" -c "$clients" -n "$n1" -d 64 -r "$keys" \
      -t set,get --csv) || die "redis-benchmark failed"
    r_rb1+=("$(echo "$x" | tr -d '"' | tr '\n' ';')")
    q0=$(cpu_s "$redis_pid")
    x=$(redis-benchmark -h 127.0.0.1 -p "$rport" -c "$clients" -n "$np" -d 64 -r "$keys" \
      -P "$batch" -t set --csv) || die "redis-benchmark -P failed"
    q1=$(cpu_s "$redis_pid")
    r_cpu[-1]+=" $(awk -v a="$q0" -v b="$q1" -v n="$np" 'BEGIN{printf "%.2f", (b-a)*1e6/n}')"
    x+=$'\n'$(redis-benchmark -h 127.0.0.1 -p "$rport" -c "$clients" -n "$np" -d 64 -r "$keys" \
      -P "$batch" -t get --csv) || die "redis-benchmark -P failed"
    r_rbp+=("$(echo "$x" | tr -d '"' | tr '\n' ';')")
  done
  # med COLUMN LINE...: median of the COLUMN-th field (1-based, space-separated) over the lines.
  med() {
    local c=$1
    shift
    printf '%s\n' "$@" | awk -v c="$c" '{print $c}' | sort -g |
      awk '{v[NR]=$1} END{printf "%s", v[int((NR+1)/2)]}'
  }
  # Median cache figures: "<ops/s> <requests/s> <p50 us> <p99 us>".
  local set1 get1 msetb mgetb
  set1=("$(med 1 "${r_set[@]}")" "$(med 2 "${r_set[@]}")" "$(med 3 "${r_set[@]}")" "$(med 4 "${r_set[@]}")")
  get1=("$(med 1 "${r_get[@]}")" "$(med 2 "${r_get[@]}")" "$(med 3 "${r_get[@]}")" "$(med 4 "${r_get[@]}")")
  msetb=("$(med 1 "${r_mset[@]}")" "$(med 2 "${r_mset[@]}")" "$(med 3 "${r_mset[@]}")" "$(med 4 "${r_mset[@]}")")
  mgetb=("$(med 1 "${r_mget[@]}")" "$(med 2 "${r_mget[@]}")" "$(med 3 "${r_mget[@]}")" "$(med 4 "${r_mget[@]}")")
  # rb_med TEST COLUMN ROUND_CSV...: median over the rounds of one redis-benchmark CSV column;
  # rb rb1|rbp TEST COLUMN: the same for the unary or the pipelined runs.
  rb_med() {
    local t=$1 c=$2
    shift 2
    printf '%s\n' "$@" | tr ';' '\n' | awk -F, -v t="$t" -v c="$c" '$1==t{print $c}' | sort -g |
      awk '{v[NR]=$1} END{printf "%s", v[int((NR+1)/2)]}'
  }
  rb() {
    if [[ $1 == rb1 ]]; then rb_med "$2" "$3" "${r_rb1[@]}"; else rb_med "$2" "$3" "${r_rbp[@]}"; fi
  }
  us() { awk -v ms="$1" 'BEGIN{printf "%.0f", ms*1000}'; }
  hm() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.0f", 2/(1/a+1/b)}'; }
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

  printf '%s clients, 64-byte values, %s keys, %s s per cache run; batch B=%s; medians of %s alternating rounds\n' \
    "$clients" "$keys" "$secs" "$batch" "$rounds"
  printf '  %-34s %10s %10s %10s\n' "" "ops/s" "p50 us" "p99 us"
  printf '  %-34s %10s %10s %10s\n' \
    "cache Set (unary)" "${set1[0]}" "${set1[2]}" "${set1[3]}" \
    "redis-benchmark SET -c $clients" "$(rb rb1 SET 2)" "$(us "$(rb rb1 SET 5)")" "$(us "$(rb rb1 SET 7)")" \
    "cache Get (unary)" "${get1[0]}" "${get1[2]}" "${get1[3]}" \
    "redis-benchmark GET -c $clients" "$(rb rb1 GET 2)" "$(us "$(rb rb1 GET 5)")" "$(us "$(rb rb1 GET 7)")" \
    "cache MSet x$batch (per request)" "${msetb[0]}" "${msetb[2]}" "${msetb[3]}" \
    "redis-benchmark SET -P $batch" "$(rb rbp SET 2)" "$(us "$(rb rbp SET 5)")" "$(us "$(rb rbp SET 7)")" \
    "cache MGet x$batch (per request)" "${mgetb[0]}" "${mgetb[2]}" "${mgetb[3]}" \
    "redis-benchmark GET -P $batch" "$(rb rbp GET 2)" "$(us "$(rb rbp GET 5)")" "$(us "$(rb rbp GET 7)")"
  local u_cache u_redis b_cache b_redis
  u_cache=$(hm "${set1[0]}" "${get1[0]}")
  u_redis=$(hm "$(rb rb1 SET 2)" "$(rb rb1 GET 2)")
  b_cache=$(hm "${msetb[0]}" "${mgetb[0]}")
  b_redis=$(hm "$(rb rbp SET 2)" "$(rb rbp GET 2)")
  printf 'cache unary set+get: %s ops/s (baseline redis-benchmark -c %s: %s ops/s, ratio %s)\n' \
    "$u_cache" "$clients" "$u_redis" "$(ratio "$u_cache" "$u_redis")"
  printf 'CPU per key written, us (redis / cache / driver): cache MSet x%s %s / %s / %s; redis-benchmark SET -P %s: redis %s\n' \
    "$batch" "$(med 1 "${r_cpu[@]}")" "$(med 2 "${r_cpu[@]}")" "$(med 3 "${r_cpu[@]}")" \
    "$batch" "$(med 4 "${r_cpu[@]}")"
  printf 'ceiling without Redis (a second cache, L1 only, same driver): Set %s ops/s, MSet x%s %s ops/s (%s x redis-benchmark SET -P %s)\n' \
    "$(med 1 "${r_l1set[@]}")" "$batch" "$(med 1 "${r_l1mset[@]}")" \
    "$(ratio "$(med 1 "${r_l1mset[@]}")" "$(rb rbp SET 2)")" "$batch"
  printf 'cache: %s ops/s (baseline %s ops/s, ratio %s)\n' "$b_cache" "$b_redis" \
    "$(ratio "$b_cache" "$b_redis")"
}
