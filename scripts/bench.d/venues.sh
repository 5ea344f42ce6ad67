# scripts/bench venues: ns to parse + normalise one book-delta frame into MarketEvents per venue vs a plain simdjson DOM parse of the same frame, same run.
# shellcheck shell=bash
# Google Benchmark libs/venues/bench (tickmesh-bench-venues), CPU time per iteration, median of 3
# repetitions of VENUES_MIN_TIME seconds (default 0.3). Frames (see the bench source): Binance
# depthUpdate 10+10 levels (U/u checked), Kraken v2 1-level update on a 10-level book (CRC32
# verified), Bybit orderbook.50 delta 3+3 levels (u checked), Hyperliquid l2Book 20+20 levels.
# The baseline parses the same bytes with simdjson's DOM API and builds nothing. The last line is
# the slowest venue relative to its baseline.
bench_main() {
  build_targets tickmesh-bench-venues >/dev/null
  local csv="$BENCH_DIR/venues.csv"
  "$BUILD_DIR/libs/venues/tickmesh-bench-venues" --benchmark_filter='BM_Parse|BM_DomParse' \
    --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
    --benchmark_min_time="${VENUES_MIN_TIME:-0.3}" --benchmark_format=csv >"$csv" 2>/dev/null
  median() { awk -F, -v n="\"$1_median\"" '$1 == n { printf "%.0f", $4 }' "$csv"; }
  local worst_ratio=0 worst_line=""
  for pair in Binance:BM_ParseBinanceDelta Kraken:BM_ParseKrakenDelta Bybit:BM_ParseBybitDelta \
    Hyperliquid:BM_ParseHyperliquidBook; do
    local venue=${pair%%:*} ours base ratio
    ours=$(median "${pair#*:}")
    base=$(median "BM_DomParse$venue")
    [[ -n $ours && -n $base ]] || die "benchmark output not understood: $(head -c 400 "$csv")"
    ratio=$(awk -v a="$ours" -v b="$base" 'BEGIN{printf "%.2f", a/b}')
    printf '  %-12s parse+normalise %6s ns   DOM parse %6s ns   ratio %s\n' "$venue" "$ours" \
      "$base" "$ratio"
    if awk -v r="$ratio" -v w="$worst_ratio" 'BEGIN{exit !(r > w)}'; then
      worst_ratio=$ratio
      worst_line=$(printf 'venues: %s ns (baseline %s ns, ratio %s)' "$ours" "$base" "$ratio")
    fi
  done
  echo "$worst_line"
}
