# scripts/bench orders: paper orders/s sustained through tickmesh-execution over gRPC vs a plain unary RPC (Health/Check) on the same server, same clients, same run.
# The server runs with a fixed book (--paper_static_book, no market-data), no persistence, cache or
# signal peers; ORDERS_CLIENTS requests in flight (default 64) over 4 channels for
# ORDERS_DURATION_S seconds (default 5). Also prints the server's submit->ack p99 (request
# arrival to paper ack, from tickmesh_execution_submit_to_ack_seconds).
# shellcheck shell=bash
bench_main() {
  build_targets tickmesh-execution tickmesh-bench-orders tickmesh-probe >/dev/null
  local addr=127.0.0.1:51153 admin=127.0.0.1:51163
  local clients=${ORDERS_CLIENTS:-64} dur=${ORDERS_DURATION_S:-5}
  start_bg execution $addr "$BUILD_DIR/services/execution/tickmesh-execution" \
    --grpc_address=$addr --admin_address=$admin --signal_address= --market_data_address= \
    --persistence_address= --cache_address= --log_level=warn \
    --paper_static_book=sim:BTC-USD:10000000000000:10001000000000:100000000000000 \
    --max_order_notional_e8=0 --max_position_e8=0 --order_retention=100000
  local drv="$BUILD_DIR/services/execution/tickmesh-bench-orders"
  local base ours
  base=($("$drv" --target=$addr --mode=health --clients="$clients" --duration_s="$dur"))
  ours=($("$drv" --target=$addr --mode=submit --clients="$clients" --duration_s="$dur"))
  # p99 of the server-side submit->ack histogram (upper bucket edge reaching 99 %).
  local p99
  p99=$(curl -s "http://$admin/metrics" | awk '
    /^tickmesh_execution_submit_to_ack_seconds_bucket/ {
      match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); n++; les[n] = le; cnt[n] = $NF }
    /^tickmesh_execution_submit_to_ack_seconds_count/ { total = $NF }
    END { for (i = 1; i <= n; i++) if (cnt[i] >= 0.99 * total) { print (les[i] == "+Inf" ? "inf" : les[i] * 1e6); exit } }')
  printf '%-8s %9s req/s  p50 %6s us  p99 %6s us  errors %s\n' \
    health "${base[0]}" "${base[1]}" "${base[2]}" "${base[3]}" submit "${ours[0]}" "${ours[1]}" \
    "${ours[2]}" "${ours[3]}"
  printf 'server submit->ack p99 <= %s us (histogram bucket edge)\n' "$p99"
  printf 'orders: %s orders/s (baseline %s rpc/s, ratio %s)\n' "${ours[0]}" "${base[0]}" \
    "$(awk -v a="${ours[0]}" -v b="${base[0]}" 'BEGIN{printf "%.2f", a/b}')"
}
