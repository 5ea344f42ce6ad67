# scripts/bench risk: ns per order for pre-trade risk (all rules, account + strategy scope, daily
# loss marking 8 positions) + rate-limit check + breaker vs a bare qty > 0 check, same run. The
# headline is the worst case (the first order after a book change re-marks every position); the
# usual case (PnL cached between market updates) is printed beside it.
# Google Benchmark (tickmesh_bench_risk), median of 3 repetitions; RISK_MIN_TIME sets the seconds
# per repetition (default 0.5). Target <= 1 000 ns.
# shellcheck shell=bash
bench_main() {
  build_targets tickmesh_bench_risk >/dev/null
  local csv="$BENCH_DIR/risk.csv"
  "$BUILD_DIR/services/execution/tickmesh_bench_risk" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_min_time="${RISK_MIN_TIME:-0.5}" \
    --benchmark_format=csv >"$csv" 2>/dev/null
  median() { awk -F, -v n="\"$1_median\"" '$1 == n { printf "%.1f", $3 }' "$csv"; }
  local ours base cached
  ours=$(median BM_RiskAndRateLimit/1)
  cached=$(median BM_RiskAndRateLimit/0)
  base=$(median BM_TrivialQtyCheck)
  [[ -n $ours && -n $cached && -n $base ]] ||
    die "benchmark output not understood: $(head -c 400 "$csv")"
  printf 'risk: %s ns after a book change, %s ns between (baseline %s ns, ratio %s)\n' "$ours" \
    "$cached" "$base" "$(awk -v a="$ours" -v b="$base" 'BEGIN{printf "%.1f", a/b}')"
}
