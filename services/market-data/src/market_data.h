// MarketData: the market-data service's logic, without gRPC wiring. It validates and ingests
// batches of normalised market events (from connectors and from the Publish RPC), keeps one L2
// book and one set of candles per (venue, symbol), and fans accepted events out to subscribers.
//
// Ingest contract (also what Publish callers see):
//  - A batch is validated whole before anything is applied: venue and symbol non-empty (at most
//    64 bytes), a payload set, prices > 0, quantities >= 0 (trade qty > 0), snapshots ordered
//    best first, seq > 0 and after the last accepted seq of its (venue, symbol) (including
//    earlier events of the same batch). The first bad event rejects the batch with
//    INVALID_ARGUMENT "event <i>: <reason>" (i from 0) and nothing of it is applied.
//  - A forward seq jump is a gap: counted, logged once per instrument, the book marked stale
//    until the next snapshot, and the event accepted.
//  - A batch that would create more than max_instruments books is RESOURCE_EXHAUSTED.
//  - Accepted events get trace stamps {market-data, recv} (when Ingest began) and
//    {market-data, emit} (when fanned out), then go to every matching subscriber.
//
// Subscriber queues (see subscriber_stream.h for the full policy): each subscriber has a bounded
// queue of `subscriber_queue` batches. From half full, its book events are conflated to the
// latest state per (venue, symbol), later sent as a fresh snapshot of the current book; trades,
// tickers and candles are never conflated, and when one does not fit the subscriber is ended
// with RESOURCE_EXHAUSTED and counted as dropped. The producer never waits and other subscribers
// are unaffected. A new subscriber first receives a snapshot of every matching book (if it asked
// for book events), then live events; no live event can precede its snapshot (both happen under
// the ingest lock). A subscriber with SubscribeRequest.coalesce_ms > 0 gets its live events
// merged into fewer messages, each event held at most that long (see subscriber_stream.h).
//
// Threading: all methods are thread-safe. Ingest runs validation, book/candle updates and the
// fan-out push under one mutex; it does no I/O and never waits on a subscriber, so it is safe to
// call from gRPC callback threads. Queries take the mutex shared.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "candles.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "subscriber_stream.h"
#include "tickmesh/book/order_book.h"
#include "tickmesh/v1/market_data.pb.h"

namespace tickmesh::market_data {

struct MarketDataOptions {
  // Levels kept per book side.
  size_t book_depth = book::OrderBook::kDefaultMaxDepth;
  // Candle intervals in seconds (each > 0, distinct).
  std::vector<uint32_t> candle_intervals_s = {1, 60};
  // Closed candles kept per (venue, symbol, interval).
  size_t candle_history = 1000;
  // Batches queued per subscriber: book state is conflated from half of it, a trade, ticker or
  // candle that does not fit disconnects the subscriber.
  size_t subscriber_queue = 4096;
  // Distinct subscriber names used as metric labels; later names share the label "other".
  size_t max_subscriber_labels = 32;
  // Most (venue, symbol) books held; bounds memory against arbitrary injected symbols.
  size_t max_instruments = 10'000;
};

// Payload kind of an event (EVENT_KIND_UNSPECIFIED when no payload is set).
tickmesh::v1::EventKind KindOf(const tickmesh::v1::MarketEvent& event);

// What one subscriber asked for. Empty lists mean "all".
struct SubscriberFilter {
  std::vector<std::string> symbols;
  std::vector<std::string> venues;
  uint32_t kinds_mask = 0;   // bit (1 << kind); 0 = all kinds
  std::string name;          // sanitised subscriber name (metrics label)
  uint32_t coalesce_ms = 0;  // SubscribeRequest.coalesce_ms (0 = no coalescing)

  // INVALID_ARGUMENT naming the field for an unknown or unspecified kind, or a coalesce_ms above
  // kMaxCoalesceMs.
  static absl::StatusOr<SubscriberFilter> FromRequest(const tickmesh::v1::SubscribeRequest& req);
  bool WantsInstrument(absl::string_view venue, absl::string_view symbol) const;
  bool WantsKind(tickmesh::v1::EventKind kind) const;
  bool Matches(const tickmesh::v1::MarketEvent& event) const {
    return WantsKind(KindOf(event)) && WantsInstrument(event.venue(), event.symbol());
  }
};

// Receives state derived by Ingest, called with the ingest lock held: an implementation copies
// what it needs and returns (no I/O, no blocking, no call back into MarketData). This is how the
// cache and persistence writers stay off the ingest path.
class IngestObserver {
 public:
  virtual ~IngestObserver() = default;
  // The latest ticker of book `book_id` (dense, stable ids) after a batch touched it: best
  // bid/ask from the book (or the venue's own ticker event) and the last trade price.
  virtual void OnTicker(uint32_t book_id, const std::string& venue, const std::string& symbol,
                        const tickmesh::v1::Ticker& ticker) {}
  // A candle closed (a trade of a later interval arrived).
  virtual void OnCandleClosed(const tickmesh::v1::Candle& candle) {}
};

class MarketData final : public SnapshotSource {
 public:
  using Writer = grpc::ServerWriteReactor<tickmesh::v1::MarketEventBatch>;

  // INVALID_ARGUMENT naming the option when it is out of range.
  static absl::Status ValidateOptions(const MarketDataOptions& options);

  // `options` must pass ValidateOptions (out-of-range values are clamped).
  explicit MarketData(MarketDataOptions options);
  ~MarketData() override;  // Closes subscribers with UNAVAILABLE.
  MarketData(const MarketData&) = delete;
  MarketData& operator=(const MarketData&) = delete;

  // Validates, applies and fans out `batch` (see the contract above). Appends the trace stamps to
  // `batch` in place. `source` is a low-cardinality metrics label ("publish", "synthetic").
  absl::Status Ingest(tickmesh::v1::MarketEventBatch& batch, absl::string_view source);

  // Creates the stream for a new subscriber (return it from the RPC handler): snapshots of the
  // matching books first, then live events.
  Writer* Subscribe(SubscriberFilter filter);

  // Registers an observer (not owned; must outlive this object). Call before events flow.
  void AddObserver(IngestObserver* observer);

  // Ends every subscriber stream with `status` after its queued batches; later Subscribe calls
  // end at once with UNAVAILABLE. For drain.
  void CloseSubscribers(grpc::Status status);

  // The book of (venue, symbol). INVALID_ARGUMENT for an empty symbol (or an empty venue when
  // the symbol trades on several venues; an empty venue picks the only one otherwise);
  // NOT_FOUND if no event was ever accepted for it.
  absl::StatusOr<tickmesh::v1::GetBookResponse> GetBook(
      const tickmesh::v1::GetBookRequest& request) const;

  // Candles of (venue, symbol, interval), ascending by open time. INVALID_ARGUMENT for an empty
  // symbol, an interval that is not configured, from > to, or limit > 10 000; NOT_FOUND for an
  // unknown instrument.
  absl::StatusOr<tickmesh::v1::GetCandlesResponse> GetCandles(
      const tickmesh::v1::GetCandlesRequest& request) const;

  // Counters for tests and /status.
  struct Stats {
    uint64_t batches_accepted = 0;
    uint64_t batches_rejected = 0;
    uint64_t events_accepted = 0;
    uint64_t gaps = 0;
    uint64_t crossed = 0;
    uint64_t subscribers_dropped = 0;
    uint64_t conflations = 0;  // book events absorbed for slow subscribers
    size_t instruments = 0;
    size_t subscribers = 0;
  };
  Stats stats() const;

  const MarketDataOptions& options() const { return options_; }

  // SnapshotSource (called by SubscriberStream from gRPC threads).
  void FlushConflated(SubscriberStream* stream) override;
  void StreamDone(SubscriberStream* stream) override;

 private:
  struct Instrument;
  struct VenueMetrics;

  Instrument* FindLocked(absl::string_view venue, absl::string_view symbol) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<const Instrument*> ResolveLocked(const std::string& venue,
                                                  const std::string& symbol) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status ValidateBatchLocked(const tickmesh::v1::MarketEventBatch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Instrument* GetOrCreateLocked(const std::string& venue, const std::string& symbol)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyLocked(tickmesh::v1::MarketEvent& event, Instrument& inst, int64_t recv_ns)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  VenueMetrics& VenueMetricsFor(const std::string& venue) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateQueueGaugesLocked(int64_t now_ns) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FillSnapshotLocked(const Instrument& inst, int64_t now_ns,
                          tickmesh::v1::MarketEvent* out) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The metrics label for a subscriber name (bounded by max_subscriber_labels).
  std::string LabelLocked(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FanOutLocked(const tickmesh::v1::MarketEventBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const MarketDataOptions options_;

  mutable absl::Mutex mu_;
  // venue -> symbol -> instrument. Heterogeneous lookup by string_view, no allocation.
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, std::unique_ptr<Instrument>>>
      books_ ABSL_GUARDED_BY(mu_);
  size_t instrument_count_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, std::unique_ptr<VenueMetrics>> venue_metrics_
      ABSL_GUARDED_BY(mu_);
  // Per-batch scratch: the seq each (venue, symbol) would reach, for validation.
  absl::flat_hash_map<std::pair<absl::string_view, absl::string_view>, uint64_t> pending_seq_
      ABSL_GUARDED_BY(mu_);
  std::vector<Instrument*> scratch_targets_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> scratch_ids_ ABSL_GUARDED_BY(mu_);
  std::vector<const CandleSeries*> scratch_closed_ ABSL_GUARDED_BY(mu_);
  std::vector<IngestObserver*> observers_ ABSL_GUARDED_BY(mu_);
  uint64_t batch_epoch_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<bool> scratch_wanted_ ABSL_GUARDED_BY(mu_);
  // Instruments by id (ids are dense, never reused; instruments are never removed).
  std::vector<Instrument*> by_id_ ABSL_GUARDED_BY(mu_);
  // Live subscriber streams (a stream removes itself in StreamDone; an overflowing one is
  // removed by the fan-out at once).
  struct Subscriber {
    SubscriberStream* stream;
    SubscriberFilter filter;
    std::string label;
  };
  std::vector<Subscriber> streams_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, prometheus::Gauge*> depth_gauges_ ABSL_GUARDED_BY(mu_);
  int64_t last_gauge_update_ns_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;

  std::atomic<uint64_t> batches_accepted_{0}, batches_rejected_{0}, events_accepted_{0};
  std::atomic<uint64_t> gaps_{0}, crossed_{0}, subscribers_dropped_{0}, conflations_{0};

  // Metrics (families live in the process registry).
  prometheus::Family<prometheus::Counter>& rejected_family_;
  prometheus::Family<prometheus::Counter>& drops_family_;
  prometheus::Family<prometheus::Counter>& conflations_family_;
  prometheus::Family<prometheus::Counter>& coalesced_family_;
  prometheus::Family<prometheus::Gauge>& depth_family_;
  prometheus::Counter& resyncs_;
  prometheus::Histogram& apply_seconds_;
  prometheus::Gauge& subscribers_gauge_;
  prometheus::Gauge& instruments_gauge_;
};

}  // namespace tickmesh::market_data
