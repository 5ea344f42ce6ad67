// The strategy configuration: which strategies run on which (venue, symbol), with which
// parameters, weights and inputs, and the ensemble that combines them. Loaded from the YAML file
// given by --config (schema and example: services/signal/README.md, config/example.yaml); without
// --config the default is one "macd_cross" strategy on every instrument, parameterised by flags.
//
// Validation is strict: an unknown key, a value of the wrong type or out of range is rejected with
// INVALID_ARGUMENT naming the key path, e.g. "strategies[1].params.fast: must be > 0".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "book_imbalance.h"
#include "macd_cross.h"
#include "market_making.h"
#include "strategy.h"
#include "yaml-cpp/yaml.h"

namespace tickmesh::signal {

enum class StrategyType { kMacdCross, kMacdRsi, kMarketMaking, kBookImbalance };
const char* StrategyTypeName(StrategyType t);

// What drives a strategy's decisions: every trade, every closed candle, or every book change.
enum class InputKind { kTrade, kCandle, kBook };

// "venue:symbol" with "*" as a wildcard for either part; "*" alone matches everything.
struct SymbolPattern {
  std::string venue = "*";
  std::string symbol = "*";
  bool Matches(const std::string& v, const std::string& s) const;
};

struct StrategySpec {
  std::string id;  // unique; the Signal's `strategy` field and metrics label
  StrategyType type = StrategyType::kMacdCross;
  std::vector<SymbolPattern> symbols = {SymbolPattern{}};
  InputKind input = InputKind::kTrade;
  // Candle length for input: candle (and for market_making's ATR); 0 = none.
  int candle_interval_s = 0;
  // Ensemble weight (>= 0; 0 = does not vote). market_making never votes.
  double weight = 1.0;
  // Quiet-market gate: decision cycles are skipped while the realised volatility of the last
  // `quiet_window` prices is below quiet_min_vol_bps (0 = gate off).
  double quiet_min_vol_bps = 0;
  int quiet_window = 50;
  MacdCrossParams macd;
  MarketMakingParams mm;
  BookImbalanceParams imbalance;

  bool Matches(const std::string& venue, const std::string& symbol) const;
  bool NeedsBook() const { return input == InputKind::kBook; }
  bool Votes() const { return weight > 0 && type != StrategyType::kMarketMaking; }
  // A fresh strategy instance for one instrument.
  std::unique_ptr<Strategy> Make() const;
};

struct EnsembleConfig {
  bool enabled = false;
  std::string id = "ensemble";  // the ensemble signals' `strategy`
  // |weighted consensus| needed to emit, (0, 1].
  double threshold = 0.5;
  // A component's vote counts for this long after its signal.
  int64_t vote_ttl_ns = 60'000'000'000;
  int64_t order_qty_e8 = 1'000'000;
  // Also stream the component strategies' own signals (false: only the ensemble's).
  bool emit_components = true;
  // Performance-based weights: each voting strategy's score is an EWMA (alpha) of the return, in
  // bps, of its previous vote measured when it votes again; its weight is
  // base * clamp(1 + score / scale_bps, min_factor, max_factor).
  bool adapt = false;
  double adapt_alpha = 0.1;
  double adapt_scale_bps = 10;
  double min_factor = 0.25;
  double max_factor = 4;
};

struct StrategyConfig {
  std::vector<StrategySpec> strategies;
  EnsembleConfig ensemble;
  // Book levels summed per side for imbalance (BookTop depth).
  int book_levels = 5;
  bool NeedsBook() const;
};

// The default: one "macd_cross" on every instrument, trade input, with `macd` (from flags).
StrategyConfig DefaultStrategyConfig(const MacdCrossParams& macd);

// Parses and validates a config document. `defaults` seeds macd_cross/macd_rsi parameters not
// given in the file (the --fast/--slow/... flags).
absl::StatusOr<StrategyConfig> ParseStrategyConfig(const YAML::Node& root,
                                                   const MacdCrossParams& defaults);

}  // namespace tickmesh::signal
