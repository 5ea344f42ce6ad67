// VenueConnector: one exchange's public market data (Binance, Kraken, Bybit, Hyperliquid — or the
// venue simulator speaking their wire formats) as a market-data Connector. It wires the venue's
// FeedCodec (libs/venues: what to subscribe, how to parse, the venue's book-sync procedure) to a
// WsClient (libs/net: one WebSocket kept alive, reconnect with jittered backoff) and, for venues
// that sync books by REST snapshot (Binance), a RestClient used by a small snapshot worker thread.
//
// Flow:
//  - Every (re)connect sends the codec's subscription frames. Every text frame is decoded on the
//    WebSocket thread; the events it yields are handed to the sink (MarketData::Ingest) in
//    batches of at most `max_batch` events, with a trace (random id, origin = frame receive time).
//  - Malformed or unexpected frames (INVALID_ARGUMENT) are counted and skipped — nothing changes;
//    the first one per connector is logged. A venue's rejection of one of our requests
//    (FAILED_PRECONDITION) is logged once and counted.
//  - A book whose venue sequence or checksum breaks (DATA_LOSS) is resynced: Binance by a fresh
//    REST snapshot (the codec queues the request; the worker fetches it), Kraken/Bybit by the
//    codec's in-band resync frames (unsubscribe + subscribe), Hyperliquid by its next full l2Book
//    message. Until then the codec withholds that book's deltas; the next event of the book is a
//    snapshot with the next seq, so market-data and subscribers never see a partial book.
//  - Connection lost: the codec is Reset (books and buffered events forgotten); the reconnect
//    resubscribes and each book starts again from a fresh snapshot (REST or in-band). Snapshot
//    answers fetched for an older connection are discarded.
//  - REST snapshots run off the WebSocket thread. A failed fetch (transport error, HTTP error,
//    body the codec rejects) is counted and retried with jittered exponential backoff
//    (250 ms .. 10 s); a stale snapshot (ABORTED: older than the buffered diffs) is fetched again
//    at once. Requests are de-duplicated per symbol, so the queue holds at most one per symbol.
//
// Ordering: codec calls and the sink calls that publish their output run under one mutex, so
// the events of a symbol reach the sink in seq order whichever thread produced them (the codec
// requires callers to publish each call's output in call order).
//
// healthy(): the WebSocket is open, a frame arrived within `stale_after`, and no book has been
// waiting for a REST snapshot for longer than `stale_after`.
//
// Metrics (tickmesh_market_data_venue_*, label venue): connected (gauge 0/1), reconnects_total,
// frames_total (rate = messages/s), parse_errors_total, gaps_total, checksum_failures_total,
// resyncs_total, request_errors_total, batches_rejected_total, snapshot_seconds (REST snapshot
// latency), snapshot_errors_total{reason=transport|http|apply}, frame_ingest_seconds (frame
// received -> its events ingested and fanned out).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "connector.h"
#include "nlohmann/json.hpp"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "tickmesh/net/rest_client.h"
#include "tickmesh/net/ws_client.h"
#include "tickmesh/venues/feed.h"
#include "tickmesh/venues/venue.h"

namespace tickmesh::market_data {

struct VenueConnectorOptions {
  venues::Venue venue = venues::Venue::kBinance;
  // WebSocket origin "ws(s)://host[:port]" without a path; the codec's ConnectTarget() (e.g.
  // "/stream?streams=…", "/v2") is appended.
  std::string ws_url;
  // REST origin "http(s)://host[:port]" for book snapshots; used only by venues that sync by
  // REST snapshot (Binance). May be empty for the others.
  std::string rest_url;
  // tickmesh symbols ("BTC-USDT"); at least one.
  std::vector<std::string> symbols;
  // Passed to the codec (book depth to subscribe, trades/tickers on, …).
  venues::FeedOptions feed;
  // Not healthy when no frame arrived for this long, or a book has waited this long for its
  // snapshot.
  absl::Duration stale_after = absl::Seconds(10);
  // The WebSocket is replaced when no frame arrived for this long (0 = never).
  absl::Duration idle_timeout = absl::Seconds(30);
  // Reconnect backoff bounds (jittered exponential).
  absl::Duration reconnect_min = absl::Milliseconds(250);
  absl::Duration reconnect_max = absl::Seconds(30);
  // REST snapshot retry backoff bounds.
  absl::Duration snapshot_retry_min = absl::Milliseconds(250);
  absl::Duration snapshot_retry_max = absl::Seconds(10);
  // wss/https: verify certificates (off only for tests against self-signed servers); PEM CA file
  // ("" = system store).
  bool tls_verify = true;
  std::string ca_file;
  // Most events per batch handed to the sink.
  int max_batch = 256;
};

// OK, or INVALID_ARGUMENT naming the field ("ws_url: …", "rest_url: …", "symbols: …",
// "feed: …") when the options cannot work: URL scheme/path, malformed or duplicate symbols,
// feed options the venue does not support, a REST URL missing for a venue that needs one.
absl::Status ValidateVenueConnectorOptions(const VenueConnectorOptions& options);

class VenueConnector final : public Connector {
 public:
  // Builds the codec and clients (no I/O yet). Errors as ValidateVenueConnectorOptions.
  static absl::StatusOr<std::unique_ptr<VenueConnector>> Create(VenueConnectorOptions options);
  ~VenueConnector() override;  // Stop()s.
  VenueConnector(const VenueConnector&) = delete;
  VenueConnector& operator=(const VenueConnector&) = delete;

  // The venue name: "binance" | "kraken" | "bybit" | "hyperliquid".
  std::string name() const override;
  // Starts the WebSocket thread (it connects at once) and the snapshot worker.
  // FAILED_PRECONDITION if already started.
  absl::Status Start(EventSink sink) override;
  // Stops the WebSocket (joined) and the snapshot worker; no sink call after it returns (an
  // in-flight REST request is abandoned within its timeout). Idempotent.
  void Stop() override;
  bool healthy() const override;

  // Counters for /status and tests (monotonic since Start).
  struct Stats {
    std::string state;  // WsStateName of the connection
    uint64_t connects = 0;
    uint64_t reconnects = 0;
    uint64_t frames = 0;
    uint64_t events = 0;  // events handed to the sink and accepted
    uint64_t parse_errors = 0;
    uint64_t gaps = 0;  // sequence breaks + checksum failures
    uint64_t resyncs = 0;
    uint64_t snapshots_fetched = 0;
    uint64_t snapshot_errors = 0;
    uint64_t request_errors = 0;    // venue rejected a request (e.g. a subscription)
    uint64_t batches_rejected = 0;  // by the sink
    size_t snapshots_pending = 0;
    int64_t last_frame_unix_ns = 0;
    std::string last_error;  // last disconnect reason ("" if none)
  };
  Stats stats() const;
  // The /status entry for this venue.
  nlohmann::json StatusJson() const;

  const VenueConnectorOptions& options() const { return options_; }

 private:
  struct Metrics;
  // A book waiting for its REST snapshot (at most one entry per symbol).
  struct PendingSnapshot {
    uint64_t epoch = 0;    // the connection it belongs to
    int64_t since_ns = 0;  // monotonic: when the book started waiting
    bool queued = false;   // in queue_ (else being fetched)
    int failures = 0;      // failed attempts so far (drives the retry backoff)
  };
  enum class FetchResult {
    kApplied,      // the book is synced
    kObsolete,     // no longer needed (connection reset, codec no longer waiting)
    kFetchFailed,  // transport or HTTP error: retry after backoff
    kApplyFailed,  // the codec refused the body; it re-queues the symbol when useful
  };

  VenueConnector(VenueConnectorOptions options, std::unique_ptr<venues::FeedCodec> codec,
                 std::unique_ptr<net::RestClient> rest);

  // WebSocket handlers (WebSocket thread).
  std::vector<std::string> OnOpen();
  void OnFrame(std::string_view frame, int64_t recv_unix_ns);
  void OnDisconnect(const absl::Status& why);

  // Hands `events` to the sink in batches, traced with origin `recv_unix_ns` (when the frame or
  // snapshot body arrived); for a WebSocket frame also observes frame -> ingest latency.
  void PublishLocked(std::vector<tickmesh::v1::MarketEvent>& events, int64_t recv_unix_ns,
                     bool from_frame) ABSL_EXCLUSIVE_LOCKS_REQUIRED(ingest_mu_);
  // Moves the codec's snapshot requests to the worker queue.
  void QueueSnapshotRequestsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ingest_mu_);
  // Exports the codec's counters that moved since the last call.
  void SyncCodecStatsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ingest_mu_);

  // Snapshot worker thread.
  void RunSnapshots();
  // One fetch (blocking REST I/O, no lock held) + apply under ingest_mu_.
  FetchResult FetchSnapshot(const std::string& symbol, uint64_t epoch);
  // Sleeps up to `d` unless stopped; false if stopped.
  bool SleepUnlessStopped(absl::Duration d);

  const VenueConnectorOptions options_;
  const std::string venue_name_;
  std::unique_ptr<venues::FeedCodec> codec_;
  std::unique_ptr<net::RestClient> rest_;  // null for venues synced in-band
  std::unique_ptr<net::WsClient> ws_;
  std::unique_ptr<Metrics> metrics_;

  // Serialises codec calls with the sink calls that publish their output.
  mutable absl::Mutex ingest_mu_ ABSL_ACQUIRED_BEFORE(queue_mu_);
  EventSink sink_ ABSL_GUARDED_BY(ingest_mu_);
  uint64_t epoch_ ABSL_GUARDED_BY(ingest_mu_) = 0;  // +1 per lost connection
  std::mt19937_64 trace_rng_ ABSL_GUARDED_BY(ingest_mu_);
  venues::FeedStats exported_ ABSL_GUARDED_BY(ingest_mu_);
  std::vector<tickmesh::v1::MarketEvent> scratch_ ABSL_GUARDED_BY(ingest_mu_);
  tickmesh::v1::MarketEventBatch batch_ ABSL_GUARDED_BY(ingest_mu_);

  // Snapshot queue: symbol -> pending request (one per symbol), FIFO order in queue_.
  mutable absl::Mutex queue_mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(queue_mu_);
  absl::flat_hash_map<std::string, PendingSnapshot> pending_ ABSL_GUARDED_BY(queue_mu_);
  bool stop_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::thread worker_;

  std::atomic<bool> started_{false}, stopped_{false};
  std::atomic<bool> open_{false};
  std::atomic<uint64_t> connects_{0}, events_{0}, request_errors_{0}, batches_rejected_{0};
  std::atomic<uint64_t> snapshots_fetched_{0}, snapshot_errors_{0};
  std::atomic<int64_t> last_frame_unix_ns_{0};
  std::atomic<bool> first_parse_error_logged_{false};
};

}  // namespace tickmesh::market_data
