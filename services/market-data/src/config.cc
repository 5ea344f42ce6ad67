#include "config.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

// Symbols the synthetic connector generates (comma-separated).
ABSL_FLAG(std::string, symbols, "BTC-USD,ETH-USD", "Synthetic symbols, comma-separated");
// Synthetic events per second per symbol; 0 = synthetic connector off.
ABSL_FLAG(double, synthetic_rate, 200, "Synthetic events per second per symbol (0 = off)");
// Seed of the synthetic random walk (same seed, same market).
ABSL_FLAG(uint64_t, seed, 1, "Synthetic feed random seed");
// Per-update standard deviation of the synthetic mid's log return, basis points.
ABSL_FLAG(double, volatility_bps, 2.0, "Synthetic volatility per book update, bps");
// Probability per book update of a +-jump_bps jump.
ABSL_FLAG(double, jump_probability, 0.001, "Synthetic jump probability per update, [0,1]");
// Size of a synthetic jump, basis points.
ABSL_FLAG(double, jump_bps, 50, "Synthetic jump size, bps");
// Probability per update of switching calm <-> volatile regime (volatile = 4x volatility).
ABSL_FLAG(double, regime_switch_probability, 0.0005,
          "Synthetic regime switch probability per update, [0,1]");
// Levels per side of the synthetic book.
ABSL_FLAG(int32_t, synthetic_levels, 20, "Synthetic book levels per side");
// Levels kept per side of every L2 book.
ABSL_FLAG(int64_t, book_depth, 1000, "Book levels kept per side");
// Batches queued per subscriber before it is disconnected with RESOURCE_EXHAUSTED.
ABSL_FLAG(int64_t, subscriber_queue, 4096, "Per-subscriber queue capacity, batches");
// Candle intervals in seconds (comma-separated).
ABSL_FLAG(std::string, candle_intervals, "1,60", "Candle intervals in seconds, comma-separated");
// Closed candles kept per (venue, symbol, interval).
ABSL_FLAG(int64_t, candle_history, 1000, "Closed candles kept per instrument and interval");
// Most (venue, symbol) books held; a batch creating more is RESOURCE_EXHAUSTED.
ABSL_FLAG(int64_t, max_instruments, 10000, "Maximum number of (venue, symbol) books");

namespace tickmesh::market_data {
namespace {
absl::Status Bad(absl::string_view flag, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", why));
}
bool Probability(double p) { return std::isfinite(p) && p >= 0 && p <= 1; }
}  // namespace

absl::StatusOr<ServiceConfig> ConfigFromFlags() {
  ServiceConfig c;
  c.synthetic.symbols.clear();
  for (absl::string_view s : absl::StrSplit(absl::GetFlag(FLAGS_symbols), ',', absl::SkipEmpty())) {
    s = absl::StripAsciiWhitespace(s);
    if (s.empty()) continue;
    if (s.size() > 64) return Bad("symbols", absl::StrCat("symbol too long: ", s));
    c.synthetic.symbols.emplace_back(s);
  }
  c.synthetic_rate = absl::GetFlag(FLAGS_synthetic_rate);
  if (!std::isfinite(c.synthetic_rate) || c.synthetic_rate < 0 || c.synthetic_rate > 1e6) {
    return Bad("synthetic_rate", "must be in [0, 1e6]");
  }
  if (c.synthetic_rate > 0 && c.synthetic.symbols.empty()) {
    return Bad("symbols", "empty while --synthetic_rate > 0");
  }
  c.synthetic.seed = absl::GetFlag(FLAGS_seed);
  c.synthetic.volatility_bps = absl::GetFlag(FLAGS_volatility_bps);
  if (!std::isfinite(c.synthetic.volatility_bps) || c.synthetic.volatility_bps < 0 ||
      c.synthetic.volatility_bps > 1000) {
    return Bad("volatility_bps", "must be in [0, 1000]");
  }
  c.synthetic.jump_probability = absl::GetFlag(FLAGS_jump_probability);
  if (!Probability(c.synthetic.jump_probability))
    return Bad("jump_probability", "must be in [0, 1]");
  c.synthetic.jump_bps = absl::GetFlag(FLAGS_jump_bps);
  if (!std::isfinite(c.synthetic.jump_bps) || c.synthetic.jump_bps < 0 ||
      c.synthetic.jump_bps > 5000) {
    return Bad("jump_bps", "must be in [0, 5000]");
  }
  c.synthetic.regime_switch_probability = absl::GetFlag(FLAGS_regime_switch_probability);
  if (!Probability(c.synthetic.regime_switch_probability)) {
    return Bad("regime_switch_probability", "must be in [0, 1]");
  }
  c.synthetic.levels = absl::GetFlag(FLAGS_synthetic_levels);
  if (c.synthetic.levels < 1 || c.synthetic.levels > 1000) {
    return Bad("synthetic_levels", "must be in [1, 1000]");
  }
  const int64_t depth = absl::GetFlag(FLAGS_book_depth);
  if (depth < 1 || depth > 100'000) return Bad("book_depth", "must be in [1, 100000]");
  c.market_data.book_depth = static_cast<size_t>(depth);
  const int64_t queue = absl::GetFlag(FLAGS_subscriber_queue);
  if (queue < 1 || queue > 1'000'000) return Bad("subscriber_queue", "must be in [1, 1000000]");
  c.market_data.subscriber_queue = static_cast<size_t>(queue);
  const int64_t history = absl::GetFlag(FLAGS_candle_history);
  if (history < 1 || history > 1'000'000) return Bad("candle_history", "must be in [1, 1000000]");
  c.market_data.candle_history = static_cast<size_t>(history);
  const int64_t max_instruments = absl::GetFlag(FLAGS_max_instruments);
  if (max_instruments < 1 || max_instruments > 10'000'000) {
    return Bad("max_instruments", "must be in [1, 10000000]");
  }
  c.market_data.max_instruments = static_cast<size_t>(max_instruments);
  c.market_data.candle_intervals_s.clear();
  for (absl::string_view s :
       absl::StrSplit(absl::GetFlag(FLAGS_candle_intervals), ',', absl::SkipEmpty())) {
    uint32_t v = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(s), &v) || v == 0 || v > 7 * 86400) {
      return Bad("candle_intervals", absl::StrCat("not a number of seconds in [1, 604800]: ", s));
    }
    c.market_data.candle_intervals_s.push_back(v);
  }
  if (absl::Status s = MarketData::ValidateOptions(c.market_data); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", s.message()));
  }
  return c;
}

nlohmann::json StatusJson(const MarketData& md, const Connector& feed) {
  const MarketData::Stats s = md.stats();
  return nlohmann::json{
      {"books", s.instruments},
      {"subscribers", s.subscribers},
      {"batches_accepted", s.batches_accepted},
      {"batches_rejected", s.batches_rejected},
      {"events_accepted", s.events_accepted},
      {"seq_gaps", s.gaps},
      {"crossed_books", s.crossed},
      {"subscribers_dropped", s.subscribers_dropped},
      {"connectors", {{feed.name(), {{"healthy", feed.healthy()}}}}},
  };
}

}  // namespace tickmesh::market_data
