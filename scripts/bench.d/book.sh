# scripts/bench book: ns per L2 level update applied to the OrderBook of libs/book (tickmesh_book)
# vs a std::map book, same updates, same run.
# Updates land uniformly in the top 20 levels (the headline), 200 and 1000 (shown too); each figure
# is the median of 3 repetitions of Google Benchmark (tickmesh_bench_book). BOOK_MIN_TIME sets the
# seconds per repetition (default 0.5).
# shellcheck shell=bash
bench_main() {
  build_targets tickmesh_bench_book >/dev/null
  local csv="$BENCH_DIR/book.csv"
  "$BUILD_DIR/libs/book/tickmesh_bench_book" \
    --benchmark_filter='LevelUpdate' --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_min_time="${BOOK_MIN_TIME:-0.5}" \
    --benchmark_format=csv >"$csv" 2>/dev/null
  # name,iterations,real_time,cpu_time,time_unit,... ; rows like "BM_ApplyLevelUpdate/20_median"
  median() { awk -F, -v n="\"$1_median\"" '$1 == n { printf "%.1f", $3 }' "$csv"; }
  local depth ours base
  for depth in 20 200 1000; do
    ours=$(median "BM_ApplyLevelUpdate/$depth")
    base=$(median "BM_MapBookLevelUpdate/$depth")
    [[ -n $ours && -n $base ]] || die "benchmark output not understood: $(head -c 400 "$csv")"
    printf '  top %-5s OrderBook %7s ns/update   std::map book %7s ns/update   ratio %s\n' \
      "$depth" "$ours" "$base" "$(awk -v a="$ours" -v b="$base" 'BEGIN{printf "%.2f", a/b}')"
  done
  ours=$(median "BM_ApplyLevelUpdate/20")
  base=$(median "BM_MapBookLevelUpdate/20")
  printf 'book: %s ns/update (baseline %s ns/update, ratio %s)\n' "$ours" "$base" \
    "$(awk -v a="$ours" -v b="$base" 'BEGIN{printf "%.2f", a/b}')"
}
