#include "config.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "tickmesh/runtime/config.h"

// market-data's gRPC address (host:port). Required: signal has no other input.
ABSL_FLAG(std::string, market_data_address, "127.0.0.1:50051", "market-data gRPC host:port");
// MACD fast EMA period (trades).
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

namespace tickmesh::signal {

absl::StatusOr<ServiceConfig> ConfigFromFlags() {
  ServiceConfig c;
  c.market_data_address = absl::GetFlag(FLAGS_market_data_address);
  if (c.market_data_address.empty()) {
    return absl::InvalidArgumentError("--market_data_address must not be empty");
  }
  if (auto s = runtime::ValidateHostPort("--market_data_address", c.market_data_address); !s.ok()) {
    return s;
  }
  MacdCrossConfig& m = c.engine.macd;
  m.fast = absl::GetFlag(FLAGS_fast);
  m.slow = absl::GetFlag(FLAGS_slow);
  m.signal_period = absl::GetFlag(FLAGS_signal_period);
  m.warmup = absl::GetFlag(FLAGS_warmup);
  m.order_qty_e8 = absl::GetFlag(FLAGS_order_qty_e8);
  const int64_t interval_ms = absl::GetFlag(FLAGS_min_signal_interval_ms);
  if (interval_ms < 0 || interval_ms > 86'400'000) {
    return absl::InvalidArgumentError("--min_signal_interval_ms must be in [0, 86400000]");
  }
  m.min_interval_ns = interval_ms * 1'000'000;
  if (auto s = ValidateMacdCrossConfig(m); !s.ok()) return s;
  const int64_t queue = absl::GetFlag(FLAGS_subscriber_queue);
  if (queue < 1 || queue > 1'000'000) {
    return absl::InvalidArgumentError("--subscriber_queue must be in [1, 1000000]");
  }
  c.subscriber_queue = static_cast<size_t>(queue);
  const int64_t max_symbols = absl::GetFlag(FLAGS_max_symbols);
  if (max_symbols < 1 || max_symbols > 10'000'000) {
    return absl::InvalidArgumentError("--max_symbols must be in [1, 10000000]");
  }
  c.engine.max_symbols = static_cast<size_t>(max_symbols);
  return c;
}

}  // namespace tickmesh::signal
