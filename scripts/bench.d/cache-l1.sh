# scripts/bench cache-l1: L1 gets/s on one thread (and 2 threads, sets) vs a plain flat_hash_map under one mutex, same keys, same run
# shellcheck shell=bash
#
# CACHE_L1_KEYS (10000: a hot set that stays in the CPU caches, like the mesh's tickers, balances
# and positions) sets the key count of the headline run; a second run with CACHE_L1_COLD_KEYS
# (1000000) shows the memory-bound case first. Values are 128 bytes.
bench_main() {
  build_targets tickmesh_bench_cache_l1 >/dev/null
  local bin="$BUILD_DIR/services/cache/tickmesh_bench_cache_l1"
  "$bin" --keys "${CACHE_L1_COLD_KEYS:-1000000}" --seconds 1 --reps 3 | sed 's/^cache-l1:/cold (memory-bound) L1 get:/'
  "$bin" --keys "${CACHE_L1_KEYS:-10000}" --seconds 1 --reps 5
}
