#include "config.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "tickmesh/runtime/config.h"

// market-data's gRPC address (host:port). Required: signal has no other input.
ABSL_FLAG(std::string, market_data_address, "127.0.0.1:50051", "market-data gRPC host:port");
// Strategy config file (YAML; schema in services/signal/README.md). Empty = macd_cross on every
// instrument with the --fast/--slow/... flags below.
ABSL_FLAG(std::string, config, "",
          "Strategy config YAML file (empty = macd_cross on every symbol)");
// MACD fast EMA period (trades). Also the default of macd_cross/macd_rsi params in --config.
ABSL_FLAG(int32_t, fast, 12, "MACD fast EMA period, trades (> 0, < --slow)");
// MACD slow EMA period (trades).
ABSL_FLAG(int32_t, slow, 26, "MACD slow EMA period, trades");
// MACD signal-line EMA period (MACD values).
ABSL_FLAG(int32_t, signal_period, 9, "MACD signal EMA period");
// Trades per instrument before the first signal; 0 = slow + signal_period.
ABSL_FLAG(int32_t, warmup, 0, "Trades before the first signal (0 = slow + signal_period)");
// Quantity put on every signal, 1e8 scale (1000000 = 0.01).
ABSL_FLAG(int64_t, order_qty_e8, 1'000'000, "Signal target quantity, 1e8 scale");
// Minimum time between two signals of one instrument; crossings inside it are skipped.
ABSL_FLAG(int64_t, min_signal_interval_ms, 0, "Per-instrument signal throttle, ms (0 = off)");
// Batches queued per Subscribe stream before it is disconnected with RESOURCE_EXHAUSTED.
ABSL_FLAG(int64_t, subscriber_queue, 4096, "Per-subscriber queue capacity, batches");
// Most (venue, symbol) instruments tracked.
ABSL_FLAG(int64_t, max_symbols, 10000, "Maximum instruments with strategy state");
// cache's gRPC address: latest signal per symbol written there, positions read from there.
ABSL_FLAG(std::string, cache_address, "127.0.0.1:50054",
          "cache gRPC host:port (empty = no latest-signal writes, no position reads)");
// TTL of the signal:<venue>:<symbol> keys.
ABSL_FLAG(int64_t, signal_ttl_ms, 60'000, "TTL of the latest signal in the cache, ms");
// How often the conflated latest signals are written to the cache.
ABSL_FLAG(int64_t, cache_flush_ms, 50, "Latest-signal cache flush interval, ms");
// How often execution's positions are read from the cache (market_making inventory skew).
ABSL_FLAG(int64_t, position_poll_ms, 500, "Position poll interval, ms");

namespace tickmesh::signal {
namespace {

absl::Status InRange(const char* flag, int64_t v, int64_t lo, int64_t hi) {
  if (v < lo || v > hi) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " must be in [", lo, ", ", hi, "]"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServiceConfig> ConfigFromFlags() {
  ServiceConfig c;
  c.market_data_address = absl::GetFlag(FLAGS_market_data_address);
  if (c.market_data_address.empty()) {
    return absl::InvalidArgumentError("--market_data_address must not be empty");
  }
  if (auto s = runtime::ValidateHostPort("--market_data_address", c.market_data_address); !s.ok()) {
    return s;
  }
  MacdCrossParams m;
  m.fast = absl::GetFlag(FLAGS_fast);
  m.slow = absl::GetFlag(FLAGS_slow);
  m.signal_period = absl::GetFlag(FLAGS_signal_period);
  m.warmup = absl::GetFlag(FLAGS_warmup);
  m.order_qty_e8 = absl::GetFlag(FLAGS_order_qty_e8);
  const int64_t interval_ms = absl::GetFlag(FLAGS_min_signal_interval_ms);
  if (auto s = InRange("min_signal_interval_ms", interval_ms, 0, 86'400'000); !s.ok()) return s;
  m.min_interval_ns = interval_ms * 1'000'000;
  if (auto s = ValidateMacdCrossParams(m, [](const char* k) { return absl::StrCat("--", k); });
      !s.ok()) {
    return s;
  }
  const std::string path = absl::GetFlag(FLAGS_config);
  if (path.empty()) {
    c.engine.strategies = DefaultStrategyConfig(m);
  } else {
    auto yaml = runtime::LoadYamlFile(path);
    if (!yaml.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--config: ", yaml.status().message()));
    }
    auto parsed = ParseStrategyConfig(*yaml, m);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--config ", path, ": ", parsed.status().message()));
    }
    c.engine.strategies = std::move(*parsed);
  }
  const int64_t queue = absl::GetFlag(FLAGS_subscriber_queue);
  if (auto s = InRange("subscriber_queue", queue, 1, 1'000'000); !s.ok()) return s;
  c.subscriber_queue = static_cast<size_t>(queue);
  const int64_t max_symbols = absl::GetFlag(FLAGS_max_symbols);
  if (auto s = InRange("max_symbols", max_symbols, 1, 10'000'000); !s.ok()) return s;
  c.engine.max_symbols = static_cast<size_t>(max_symbols);
  c.cache.address = absl::GetFlag(FLAGS_cache_address);
  if (!c.cache.address.empty()) {
    if (auto s = runtime::ValidateHostPort("--cache_address", c.cache.address); !s.ok()) return s;
  }
  c.cache.signal_ttl_ms = absl::GetFlag(FLAGS_signal_ttl_ms);
  if (auto s = InRange("signal_ttl_ms", c.cache.signal_ttl_ms, 1, 86'400'000); !s.ok()) return s;
  const int64_t flush_ms = absl::GetFlag(FLAGS_cache_flush_ms);
  if (auto s = InRange("cache_flush_ms", flush_ms, 1, 60'000); !s.ok()) return s;
  c.cache.flush_interval = absl::Milliseconds(flush_ms);
  const int64_t poll_ms = absl::GetFlag(FLAGS_position_poll_ms);
  if (auto s = InRange("position_poll_ms", poll_ms, 10, 3'600'000); !s.ok()) return s;
  c.cache.position_poll = absl::Milliseconds(poll_ms);
  c.cache.max_pending = c.engine.max_symbols;
  return c;
}

}  // namespace tickmesh::signal
