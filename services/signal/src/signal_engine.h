// SignalEngine: signal's logic without gRPC. Consumes market-data batches, keeps per-(venue,
// symbol) state — the configured strategies of that instrument, its top of book (when a strategy
// needs it), its candle builders and its ensemble state — and turns decisions into
// tickmesh.v1.Signal messages.
//
// Inputs per instrument: trades feed input=trade strategies and the candle builders (bars are
// aggregated locally from trade times, epoch-aligned, and delivered when the first trade of a
// later bar arrives); book snapshots/deltas (and tickers until a snapshot is seen) maintain an L2
// book whose top and depth feed input=book strategies on every change of the top.
//
// Sequence handling: market events carry per-(venue, symbol) seq numbers. The engine checks them
// on every event (all kinds, so it can tell a gap from a filtered-out event): a forward gap resets
// that instrument explicitly — strategies, indicators, candles, ensemble, and the book (invalid
// until the next snapshot) — logged and counted; an event whose seq is not after the last one is
// ignored and counted. ResetAll() forgets every instrument (after an upstream reconnect).
//
// Signals: copy the triggering event's trace and append {signal, recv}; MarkEmitted() appends
// {signal, emit}, sets unix_ns, records the latest per (symbol, strategy) and hands the latest
// per (venue, symbol) to the latest-signal sink (the cache writer).
//
// Threading: OnBatch/ResetAll/MarkEmitted are called by the upstream stream one at a time (from
// gRPC callback threads, each call finished before the next starts, so never concurrently);
// Latest() and stats() are safe from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "ensemble.h"
#include "positions.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "strategy.h"
#include "strategy_config.h"
#include "tickmesh/indicators/volatility.h"
#include "tickmesh/v1/market_data.pb.h"
#include "tickmesh/v1/signal.pb.h"

namespace tickmesh::signal {

struct SignalEngineOptions {
  StrategyConfig strategies = DefaultStrategyConfig(MacdCrossParams{});
  // Most (venue, symbol) instruments tracked; events of further instruments are ignored and
  // counted (bounds memory against an unbounded symbol universe).
  size_t max_symbols = 10'000;
  // Most price levels kept per book side (the farthest are dropped beyond it).
  size_t max_book_levels = 5'000;
};

class SignalEngine {
 public:
  // `positions` (may be null: inventory unknown, 0) must outlive the engine.
  explicit SignalEngine(SignalEngineOptions options, PositionTable* positions = nullptr);
  ~SignalEngine();

  // Processes one batch received at `recv_ns`, appending the signals it caused to `out`.
  // O(1) per event and strategy (O(book_levels) per book change); allocates only for new
  // instruments, new book levels and emitted signals.
  void OnBatch(const tickmesh::v1::MarketEventBatch& batch, int64_t recv_ns,
               std::vector<tickmesh::v1::Signal>* out);

  // Forgets every instrument's state; `reason` is logged and used as the metrics label.
  void ResetAll(absl::string_view reason);

  // Appends the {signal, emit} stamp at `emit_ns`, sets unix_ns, counts, records each signal as
  // the latest of its (symbol, strategy) and offers it to the latest-signal sink.
  void MarkEmitted(std::vector<tickmesh::v1::Signal>& signals, int64_t emit_ns);

  // Called from MarkEmitted with the latest signal of a (venue, symbol): the ensemble's when the
  // ensemble is on, otherwise any strategy's. Must not block.
  void SetLatestSink(std::function<void(const tickmesh::v1::Signal&)> sink) {
    latest_sink_ = std::move(sink);
  }

  // The latest signal per (symbol, strategy) for `symbols` (empty = all), ordered by symbol.
  std::vector<tickmesh::v1::Signal> Latest(const std::vector<std::string>& symbols) const;

  struct Stats {
    uint64_t trades = 0;
    uint64_t book_updates = 0;
    uint64_t signals = 0;
    uint64_t gap_resets = 0;
    uint64_t stale_events = 0;
    uint64_t ignored_symbols = 0;
    uint64_t skipped = 0;  // decision cycles skipped, all reasons
    size_t symbols = 0;
  };
  Stats stats() const;
  const SignalEngineOptions& options() const { return options_; }

 private:
  struct SpecMetrics;
  struct Instrument;

  Instrument* GetOrCreate(const tickmesh::v1::MarketEvent& e);
  void ResetInstrument(Instrument& inst);
  void CountReset(absl::string_view reason);
  void OnTrade(Instrument& inst, const tickmesh::v1::MarketEvent& e, int64_t recv_ns,
               std::vector<tickmesh::v1::Signal>* out);
  void OnBookEvent(Instrument& inst, const tickmesh::v1::MarketEvent& e, int64_t recv_ns,
                   std::vector<tickmesh::v1::Signal>* out);
  // Turns the decisions in scratch_ made by slot `slot` into signals (and ensemble votes).
  void Collect(Instrument& inst, size_t slot, const tickmesh::v1::MarketEvent& e, int64_t now_ns,
               std::vector<tickmesh::v1::Signal>* out);
  void AppendSignal(const Instrument& inst, const std::string& strategy, const Decision& d,
                    const tickmesh::v1::MarketEvent& e, int64_t recv_ns,
                    std::vector<tickmesh::v1::Signal>* out);

  const SignalEngineOptions options_;
  PositionTable* positions_;
  Ensemble ensemble_;
  std::vector<std::unique_ptr<SpecMetrics>> spec_metrics_;  // by spec index
  // venue -> symbol -> state; only touched by the stream thread.
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, std::unique_ptr<Instrument>>>
      instruments_;
  size_t instrument_count_ = 0;
  uint64_t next_signal_id_ = 0;
  std::vector<Decision> scratch_;  // reused per strategy call
  std::function<void(const tickmesh::v1::Signal&)> latest_sink_;

  mutable absl::Mutex mu_;
  // (symbol, strategy) -> latest emitted signal.
  std::map<std::pair<std::string, std::string>, tickmesh::v1::Signal> latest_ ABSL_GUARDED_BY(mu_);

  std::atomic<uint64_t> trades_{0}, book_updates_{0}, signals_{0}, gap_resets_{0}, stale_events_{0},
      ignored_symbols_{0}, skipped_{0};
  std::atomic<size_t> symbols_{0};

  prometheus::Counter& trades_counter_;
  prometheus::Counter& stale_counter_;
  prometheus::Gauge& symbols_gauge_;
  prometheus::Histogram& update_latency_;
};

}  // namespace tickmesh::signal
