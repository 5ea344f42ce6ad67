// SignalEngine: signal's logic without gRPC. Consumes market-data batches, keeps per-(venue,
// symbol) strategy state (macd_cross), and turns crossovers into tickmesh.v1.Signal messages.
//
// Sequence handling: market events carry per-(venue, symbol) seq numbers. The engine checks them
// on every event it sees (all kinds, so it can tell a gap from a filtered-out event): a forward
// gap resets that instrument's indicator state (logged and counted, warm-up starts again); an
// event whose seq is not after the last one is ignored and counted. ResetAll() forgets every
// instrument (after an upstream reconnect, where continuity cannot be checked).
//
// Signals: copy the triggering trade's trace and append {signal, recv} (the batch receive time);
// MarkEmitted() appends {signal, emit}, sets unix_ns and records the signal as the latest for its
// (symbol, strategy).
//
// Threading: OnBatch/ResetAll/MarkEmitted are called from one thread (the upstream stream);
// Latest() and stats() are safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "macd_cross.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "tickmesh/v1/market_data.pb.h"
#include "tickmesh/v1/signal.pb.h"

namespace tickmesh::signal {

struct SignalEngineOptions {
  MacdCrossConfig macd;
  // Most (venue, symbol) instruments tracked; events of further instruments are ignored and
  // counted (bounds memory against an unbounded symbol universe).
  size_t max_symbols = 10'000;
};

class SignalEngine {
 public:
  explicit SignalEngine(SignalEngineOptions options);

  // Processes one batch received at `recv_ns`, appending the signals it caused to `out`.
  // O(1) per event; allocates only for new instruments and emitted signals.
  void OnBatch(const tickmesh::v1::MarketEventBatch& batch, int64_t recv_ns,
               std::vector<tickmesh::v1::Signal>* out);

  // Forgets every instrument's state; `reason` is logged and used as the metrics label.
  void ResetAll(absl::string_view reason);

  // Appends the {signal, emit} stamp at `emit_ns`, sets unix_ns, counts, and records each signal
  // as the latest of its (symbol, strategy).
  void MarkEmitted(std::vector<tickmesh::v1::Signal>& signals, int64_t emit_ns);

  // The latest signal per (symbol, strategy) for `symbols` (empty = all), ordered by symbol.
  std::vector<tickmesh::v1::Signal> Latest(const std::vector<std::string>& symbols) const;

  struct Stats {
    uint64_t trades = 0;
    uint64_t signals = 0;
    uint64_t gap_resets = 0;
    uint64_t stale_events = 0;
    uint64_t ignored_symbols = 0;
    size_t symbols = 0;
  };
  Stats stats() const;

 private:
  struct Instrument {
    uint64_t last_seq = 0;
    MacdCross strategy;
    explicit Instrument(const MacdCrossConfig& c) : strategy(c) {}
  };

  Instrument* GetOrCreate(const std::string& venue, const std::string& symbol);
  void CountReset(absl::string_view reason);

  const SignalEngineOptions options_;
  // venue -> symbol -> state; only touched by the stream thread.
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, std::unique_ptr<Instrument>>>
      instruments_;
  size_t instrument_count_ = 0;
  uint64_t next_signal_id_ = 0;

  mutable absl::Mutex mu_;
  // (symbol, strategy) -> latest emitted signal.
  std::map<std::pair<std::string, std::string>, tickmesh::v1::Signal> latest_ ABSL_GUARDED_BY(mu_);

  std::atomic<uint64_t> trades_{0}, signals_{0}, gap_resets_{0}, stale_events_{0};
  std::atomic<uint64_t> ignored_symbols_{0};
  std::atomic<size_t> symbols_{0};

  prometheus::Counter& trades_counter_;
  prometheus::Counter& stale_counter_;
  prometheus::Gauge& symbols_gauge_;
};

}  // namespace tickmesh::signal
