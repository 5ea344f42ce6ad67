# scripts/bench hop: one gRPC hop of the mesh (Publish -> market-data -> Subscribe) vs a plain gRPC
# relay of the same two RPCs (no logic), same load, same run. HOP_RATE sets the paced rate.
# shellcheck shell=bash
bench_main() {
  build_targets tickmesh-bench-hop tickmesh-market-data tickmesh-probe >/dev/null
  local relay=127.0.0.1:51151 md=127.0.0.1:51051 rate=${HOP_RATE:-10000}
  start_bg relay $relay "$BUILD_DIR/loadtest/tickmesh-bench-hop" relay \
    --grpc_address=$relay --admin_address=127.0.0.1:0
  start_bg market-data $md "$BUILD_DIR/services/market-data/tickmesh-market-data" \
    --grpc_address=$md --admin_address=127.0.0.1:0 --synthetic_rate=0
  local base mesh
  base=($("$BUILD_DIR/loadtest/tickmesh-bench-hop" measure --target $relay --rate "$rate"))
  mesh=($("$BUILD_DIR/loadtest/tickmesh-bench-hop" measure --target $md --rate "$rate"))
  printf 'at %s events/s (batches of 10):\n' "$rate"
  printf '  %-12s p50 %8s us  p99 %8s us  delivered %8s/s  max %8s/s\n' \
    relay "${base[0]}" "${base[1]}" "${base[2]}" "${base[3]}" \
    market-data "${mesh[0]}" "${mesh[1]}" "${mesh[2]}" "${mesh[3]}"
  printf 'hop max throughput: %s events/s (baseline %s events/s, ratio %s)\n' "${mesh[3]}" \
    "${base[3]}" "$(awk -v a="${mesh[3]}" -v b="${base[3]}" 'BEGIN{printf "%.2f", a/b}')"
  printf 'hop: %s us p50 (baseline %s us, ratio %s)\n' "${mesh[0]}" "${base[0]}" \
    "$(awk -v a="${mesh[0]}" -v b="${base[0]}" 'BEGIN{printf "%.2f", a/b}')"
}

