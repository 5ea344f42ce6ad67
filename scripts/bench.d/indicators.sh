# scripts/bench indicators: ns per streaming indicator update, batch MACD over 1 000 candles vs a pure-Python batch MACD (the seeds' way), strategy step per tick
# shellcheck shell=bash
# Google Benchmark binaries libs/indicators/bench (tickmesh-bench-indicators) and
# services/signal/bench (tickmesh-bench-signal); figures are CPU time per iteration. The baseline
# is the same MACD(12, 26, 9) over the same kind of 1 000-close series computed in pure Python
# (lists, as the seed bots did), timed in this run with timeit (best of 5).
bench_main() {
  build_targets tickmesh-bench-indicators tickmesh-bench-signal >/dev/null
  local ind="$BUILD_DIR/libs/indicators/tickmesh-bench-indicators"
  local sig="$BUILD_DIR/services/signal/tickmesh-bench-signal"
  local min_time=${INDICATORS_MIN_TIME:-0.5}
  "$ind" --benchmark_format=csv --benchmark_min_time="$min_time" 2>/dev/null >"$BENCH_DIR/ind.csv"
  "$sig" --benchmark_format=csv --benchmark_min_time="$min_time" 2>/dev/null >"$BENCH_DIR/sig.csv"
  # csv: name,iterations,real_time,cpu_time,time_unit,...
  echo "streaming update (target <= 20 ns), CPU ns per update:"
  awk -F, '/^"BM_/ && $1 !~ /1000/ {gsub(/"|BM_/, "", $1); printf "  %-16s %8.2f ns\n", $1, $4}' \
    "$BENCH_DIR/ind.csv"
  echo "strategy step per tick through SignalEngine::OnBatch (target <= 1 us):"
  awk -F, '/^"BM_/ {gsub(/"|BM_Step/, "", $1); printf "  %-32s %8.1f ns\n", $1, $4}' \
    "$BENCH_DIR/sig.csv"
  local batch stream
  batch=$(awk -F, '/^"BM_MacdBatch1000"/ {print $4}' "$BENCH_DIR/ind.csv")
  stream=$(awk -F, '/^"BM_MacdStreaming1000"/ {print $4}' "$BENCH_DIR/ind.csv")
  local py
  py=$(python3 - <<'PY'
import random, timeit
random.seed(7)
closes, x = [], 30000.0
for _ in range(1000):
    x = max(1.0, x + random.gauss(0, 10)); closes.append(x)
def ema(v, n):
    out, k = [None] * len(v), 2 / (n + 1)
    first = next(i for i, a in enumerate(v) if a is not None)
    if first + n > len(v): return out
    e = sum(v[first:first + n]) / n; out[first + n - 1] = e
    for i in range(first + n, len(v)):
        e += k * (v[i] - e); out[i] = e
    return out
def macd(c):
    f, s = ema(c, 12), ema(c, 26)
    line = [a - b if a is not None and b is not None else None for a, b in zip(f, s)]
    sig = ema(line, 9)
    return [l - g if l is not None and g is not None else None for l, g in zip(line, sig)]
print("%.1f" % (min(timeit.repeat(lambda: macd(closes), number=20, repeat=5)) / 20 * 1e6))
PY
)
  printf 'batch MACD(12,26,9) over 1000 candles: %s us (streaming from fresh state: %s us); pure Python: %s us; seeds quoted 15000-30000 us\n' \
    "$batch" "$stream" "$py"
  printf 'indicators: %s us (baseline %s us, ratio %s)\n' "$batch" "$py" \
    "$(awk -v a="$batch" -v b="$py" 'BEGIN{printf "%.4f", a/b}')"
}
