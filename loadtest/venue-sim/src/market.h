// A synthetic market for one simulated venue: the matching engine plus a market maker that keeps
// `levels` price levels on each side of a randomly walking mid, replaces level quantities, and
// sends small taker orders (public trades). Deterministic for a given seed. Single-threaded.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "matching_engine.h"

namespace tickmesh::venue_sim {

struct MarketOptions {
  int levels = 20;         // market-maker levels per side
  int price_decimals = 2;  // prices are multiples of 10^-price_decimals
  uint64_t seed = 1;
  // Start mid per tickmesh symbol; symbols not listed start at a price chosen from the base
  // (BTC 30000, ETH 2000, else 100).
  std::map<std::string, int64_t> start_mid_e8;
};

class Market {
 public:
  // symbols: tickmesh "BASE-QUOTE". INVALID_ARGUMENT for a malformed or duplicate symbol.
  static absl::StatusOr<std::unique_ptr<Market>> Create(const std::vector<std::string>& symbols,
                                                        MarketOptions options);

  MatchingEngine& engine() { return engine_; }
  const MatchingEngine& engine() const { return engine_; }
  const std::vector<std::string>& symbols() const { return symbols_; }
  const MarketOptions& options() const { return options_; }
  int64_t tick_e8() const { return tick_e8_; }

  // One random market-maker action on `symbol` (requote, quantity change, or a taker trade).
  void Step(const std::string& symbol, int64_t now_ms);

 private:
  struct MakerState {
    int64_t mid_e8 = 0;
    int64_t step_e8 = 0;                  // distance between levels
    std::map<int64_t, uint64_t> bid_ids;  // price -> market-maker order id
    std::map<int64_t, uint64_t> ask_ids;
  };

  Market(MarketOptions options) : options_(std::move(options)), rng_(options_.seed) {}
  void Requote(const std::string& symbol, MakerState& st, int64_t now_ms);
  void PlaceMaker(const std::string& symbol, MakerState& st, Side side, int64_t price,
                  int64_t now_ms);
  bool MakerAlive(uint64_t id) const;
  int64_t RandomQty();

  MarketOptions options_;
  MatchingEngine engine_;
  std::vector<std::string> symbols_;
  std::map<std::string, MakerState> makers_;
  int64_t tick_e8_ = 1000000;
  std::mt19937_64 rng_;
};

}  // namespace tickmesh::venue_sim
