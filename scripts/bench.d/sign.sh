# scripts/bench sign: ns per signed order request (PlaceOrder, HMAC) per venue vs a one-shot OpenSSL HMAC of the same query, same run. Target <= 2 000 ns.
# shellcheck shell=bash
# Google Benchmark libs/venues/bench (tickmesh-bench-venues), CPU time per iteration, median of 3
# repetitions of SIGN_MIN_TIME seconds each (default 0.3). "Signed request" = the full request
# build: params -> query / form / JSON body, timestamp or nonce, HMAC, headers. The last line is
# the slowest venue (Kraken: HMAC-SHA512 over SHA-256 plus base64) against the baseline.
bench_main() {
  build_targets tickmesh-bench-venues >/dev/null
  local csv="$BENCH_DIR/sign.csv"
  "$BUILD_DIR/libs/venues/tickmesh-bench-venues" --benchmark_filter='BM_Sign' \
    --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
    --benchmark_min_time="${SIGN_MIN_TIME:-0.3}" --benchmark_format=csv >"$csv" 2>/dev/null
  median() { awk -F, -v n="\"$1_median\"" '$1 == n { printf "%.0f", $4 }' "$csv"; }
  local binance kraken bybit base
  binance=$(median BM_SignBinance)
  kraken=$(median BM_SignKraken)
  bybit=$(median BM_SignBybit)
  base=$(median BM_SignBaselineOneShotHmac)
  [[ -n $binance && -n $kraken && -n $bybit && -n $base ]] ||
    die "benchmark output not understood: $(head -c 400 "$csv")"
  printf '  binance (HMAC-SHA256 query)        %6s ns\n' "$binance"
  printf '  kraken  (HMAC-SHA512, API-Sign)    %6s ns\n' "$kraken"
  printf '  bybit   (HMAC-SHA256, X-BAPI-*)    %6s ns\n' "$bybit"
  printf '  baseline one-shot OpenSSL HMAC     %6s ns\n' "$base"
  local worst
  worst=$(printf '%s\n' "$binance" "$kraken" "$bybit" | sort -n | tail -1)
  printf 'sign: %s ns (baseline %s ns, ratio %s)\n' "$worst" "$base" \
    "$(awk -v a="$worst" -v b="$base" 'BEGIN{printf "%.2f", a/b}')"
}
