# scripts/bench fanout: events/s delivered from one Publish client to 4 subscribers (loopback gRPC, batches of 100) by market-data vs the plain gRPC relay, same driver, same run.
# tickmesh-bench-fanout ramps the publish rate in 2 s steps (FANOUT_STEP_S) and reports the best
# step every subscriber kept up with (no loss, no disconnect); delivered = events received summed
# over the 4 subscribers per second. The server's peak RSS during that step is shown too.
# shellcheck shell=bash
bench_main() {
  build_targets tickmesh-bench-fanout tickmesh-bench-hop tickmesh-market-data tickmesh-probe \
    >/dev/null
  local relay=127.0.0.1:51152 md=127.0.0.1:51052 step=${FANOUT_STEP_S:-2}
  start_bg relay $relay "$BUILD_DIR/loadtest/tickmesh-bench-hop" relay \
    --grpc_address=$relay --admin_address=127.0.0.1:0
  local relay_pid=${PIDS[-1]}
  start_bg market-data $md "$BUILD_DIR/services/market-data/tickmesh-market-data" \
    --grpc_address=$md --admin_address=127.0.0.1:0 --synthetic_rate=0
  local md_pid=${PIDS[-1]}
  local base mesh
  echo "relay (baseline):" >&2
  base=($("$BUILD_DIR/services/market-data/tickmesh-bench-fanout" --target $relay \
    --server_pid "$relay_pid" --step_s "$step"))
  echo "market-data:" >&2
  mesh=($("$BUILD_DIR/services/market-data/tickmesh-bench-fanout" --target $md \
    --server_pid "$md_pid" --step_s "$step"))
  printf '  %-12s published %9s/s  delivered (4 subscribers) %9s/s  server RSS %7s KiB\n' \
    relay "${base[0]}" "${base[1]}" "${base[2]}" market-data "${mesh[0]}" "${mesh[1]}" "${mesh[2]}"
  printf 'fanout: %s events/s (baseline %s events/s, ratio %s)\n' "${mesh[1]}" "${base[1]}" \
    "$(awk -v a="${mesh[1]}" -v b="${base[1]}" 'BEGIN{printf "%.2f", a/b}')"
}
