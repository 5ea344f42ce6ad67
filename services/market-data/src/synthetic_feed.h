// Synthetic market data: a seeded random-walk mid per symbol with configurable volatility, jumps
// and volatility-regime changes, rendered as an L2 book (a snapshot first, then deltas) and
// trades. Deterministic for a given seed and symbol list (timestamps and trace origins aside), so
// tests and benchmarks can replay the same market.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "connector.h"
#include "tickmesh/book/order_book.h"
#include "tickmesh/v1/market_data.pb.h"

namespace tickmesh::market_data {

struct SyntheticOptions {
  // Symbols to generate; each gets its own random stream derived from `seed`.
  std::vector<std::string> symbols = {"BTC-USD", "ETH-USD"};
  std::string venue = "sim";
  uint64_t seed = 1;
  // Standard deviation of the mid's log return per book update, in basis points.
  double volatility_bps = 2.0;
  // Probability per book update of a jump of +-jump_bps.
  double jump_probability = 0.001;
  double jump_bps = 50.0;
  // Probability per book update of switching between the calm and the volatile regime; the
  // volatile regime multiplies volatility by `volatile_multiplier`.
  double regime_switch_probability = 0.0005;
  double volatile_multiplier = 4.0;
  // Share of events that are trades (the rest are book deltas), in [0, 1].
  double trade_probability = 0.3;
  // Levels per side of the generated book.
  int levels = 20;
  // Tick size (1e8 scale); 0 = automatic: the power of ten nearest below 1 bp of the starting
  // price (BTC ~60 000 -> 1, ETH ~3 000 -> 0.1, 100 -> 0.01), so a typical update moves the
  // touch by a few ticks as on a real venue.
  int64_t tick_e8 = 0;
};

// Pure generator: no threads, no clock. Each symbol's first event is a BookSnapshot; later events
// are BookDeltas (the book recentred on the new mid plus a random size change) or Trades at the
// best bid/ask. Sequence numbers start at 1 per symbol.
class SyntheticGenerator {
 public:
  explicit SyntheticGenerator(SyntheticOptions options);

  // Fills `out` (cleared first) with the next event of symbol `index` (< symbols()), stamping
  // exchange/receive time and the trace origin with `now_unix_ns` and a random non-zero trace id.
  void Next(size_t index, int64_t now_unix_ns, tickmesh::v1::MarketEvent* out);

  size_t symbols() const { return symbols_.size(); }
  const SyntheticOptions& options() const { return options_; }

 private:
  struct SymbolState {
    std::string symbol;
    std::mt19937_64 rng;
    int64_t tick_e8 = 1;
    double mid_ticks = 0;  // mid in ticks (a double: analytics only, quantised to ticks on output)
    bool volatile_regime = false;
    bool snapshot_sent = false;
    uint64_t seq = 0;
    uint64_t trade_id = 0;
    book::OrderBook book;
    SymbolState(std::string s, uint64_t seed, int64_t tick, double mid, size_t depth)
        : symbol(std::move(s)), rng(seed), tick_e8(tick), mid_ticks(mid), book(depth) {}
  };
  void StepMid(SymbolState& s);
  void MakeSnapshot(SymbolState& s, tickmesh::v1::BookSnapshot* out);
  void MakeDelta(SymbolState& s, tickmesh::v1::BookDelta* out);
  void MakeTrade(SymbolState& s, tickmesh::v1::Trade* out);
  int64_t RandomQty(SymbolState& s);

  SyntheticOptions options_;
  std::vector<SymbolState> symbols_;
};

// The synthetic connector: runs a SyntheticGenerator on its own thread at `rate_per_symbol`
// events per second per symbol, in batches every `batch_interval` (10 ms), each batch holding the
// events due for every symbol. After a stall it catches up by at most one second of events.
class SyntheticFeed : public Connector {
 public:
  SyntheticFeed(SyntheticOptions options, double rate_per_symbol);
  ~SyntheticFeed() override;  // Stop()s.

  std::string name() const override { return "synthetic"; }
  absl::Status Start(EventSink sink) override;
  void Stop() override;
  bool healthy() const override { return running_.load(); }

  uint64_t batches_rejected() const { return batches_rejected_.load(); }

 private:
  void Run(EventSink sink);

  SyntheticGenerator generator_;
  double rate_per_symbol_;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> batches_rejected_{0};
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tickmesh::market_data
