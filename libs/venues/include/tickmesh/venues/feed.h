// FeedCodec: one venue's public market-data protocol for one WebSocket connection and a set of
// symbols — what to connect to, what to send, and how to turn every received text frame into
// normalised tickmesh MarketEvents while running the venue's own book-sync procedure. Pure: no
// I/O, no threads, no clocks; the caller (market-data's connector) owns the WebSocket and the
// REST client and feeds frames / snapshot bodies in.
//
// Per venue (see libs/venues/README.md for the full procedures):
//   binance      combined streams "<sym>@depth@100ms" / "<sym>@trade" / "<sym>@bookTicker" in the
//                URL; diff-depth synced against a REST snapshot (GET /api/v3/depth) with U/u
//                sequencing; every gap -> DATA_LOSS and a new snapshot request.
//   kraken       WS v2 "/v2": book (snapshot + updates, CRC32 checksum verified after every
//                message, book kept to the subscribed depth), trade, ticker; resync in-band.
//   bybit        v5 public "/v5/public/<category>": orderbook.<depth>.<SYM> snapshot/delta with
//                u continuity (a snapshot always resets), publicTrade, tickers; resync in-band.
//   hyperliquid  "/ws": l2Book (every message a full snapshot), trades, bbo; no resync needed.
//
// Events: venue = VenueName(venue), symbol = the tickmesh symbol, prices/quantities at 1e8,
// exchange_unix_ns from the venue's timestamp (0 when the message has none), receive_unix_ns as
// passed in. `seq` is per (venue, symbol) and +1 for every event emitted for that symbol, across
// resyncs (a resync emits a fresh snapshot, never a seq jump). Trace is left empty.
//
// Thread-safety: all methods are safe to call from several threads (one internal mutex), so the
// WebSocket thread may Decode while another thread applies a REST snapshot. Events for one symbol
// are appended in seq order within one call; callers that Decode and ApplySnapshot concurrently
// must publish each call's output in call order to keep seqs in order (e.g. run both on the
// WebSocket thread, which is the simplest).
//
// Memory: bounded. Buffered Binance diff events per symbol are capped (FeedOptions), Kraken
// books are kept to the subscribed depth, frames larger than FeedOptions::max_frame_bytes are
// rejected; hostile input never grows state.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tickmesh/net/http.h"
#include "tickmesh/v1/market_data.pb.h"
#include "tickmesh/venues/venue.h"

namespace tickmesh::venues {

struct FeedOptions {
  // Book depth to subscribe. 0 = the venue default used here: Binance full diff depth with a
  // 1000-level snapshot, Kraken 10, Bybit 50, Hyperliquid whatever l2Book sends (20 a side).
  // Must be one the venue documents (Kraken 10|25|100|500|1000; Bybit spot 1|50|200|1000,
  // Binance snapshot limit 1..5000); MakeFeedCodec rejects others.
  int book_depth = 0;
  // Subscribe to public trades / best bid-ask (Binance bookTicker, Kraken ticker, Bybit tickers,
  // Hyperliquid bbo).
  bool trades = true;
  bool tickers = true;
  // Binance diff-depth update speed: 100 or 1000 ms.
  int binance_update_ms = 100;
  // Bybit category, which selects the public endpoint "/v5/public/<category>": spot | linear.
  std::string bybit_category = "spot";
  // Binance: diff events buffered per symbol while its REST snapshot is awaited; beyond this the
  // oldest are dropped (counted in FeedStats::buffer_dropped; the sync procedure then asks for a
  // newer snapshot if needed).
  size_t max_buffered_events = 2000;
  // Frames above this size are rejected with INVALID_ARGUMENT before parsing.
  size_t max_frame_bytes = 4 << 20;
  // Application heartbeat interval for venues that need one (Bybit documents 20 s).
  int64_t ping_interval_ms = 20'000;
};

// Monotonic counters since construction (Reset does not clear them); export as metrics.
struct FeedStats {
  uint64_t frames = 0;             // frames passed to Decode
  uint64_t events = 0;             // MarketEvents emitted (Decode + ApplySnapshot)
  uint64_t parse_errors = 0;       // Decode/ApplySnapshot answers INVALID_ARGUMENT
  uint64_t gaps = 0;               // venue sequence breaks (DATA_LOSS from a sequence check)
  uint64_t checksum_failures = 0;  // Kraken CRC32 mismatches (DATA_LOSS)
  uint64_t resyncs = 0;            // books re-established after a gap/checksum failure
  uint64_t snapshots = 0;          // snapshot events emitted
  uint64_t buffer_dropped = 0;     // Binance buffered diff events dropped (buffer full)
  uint64_t stale_dropped = 0;      // deltas ignored as already covered by the book (u <= id)
};

class FeedCodec {
 public:
  virtual ~FeedCodec() = default;

  virtual Venue venue() const = 0;

  // Path + query to open on the venue's WebSocket host: Binance
  // "/stream?streams=btcusdt@depth@100ms/btcusdt@trade/btcusdt@bookTicker", Kraken "/v2",
  // Bybit "/v5/public/spot", Hyperliquid "/ws".
  virtual std::string ConnectTarget() const = 0;

  // Text frames to send right after every (re)connect: subscriptions (empty for Binance).
  virtual std::vector<std::string> SubscribeFrames() const = 0;

  // Application-level ping frame and its interval (Kraken {"method":"ping"}, Bybit
  // {"op":"ping"}, Hyperliquid {"method":"ping"}); empty / 0 when WebSocket control pings are
  // enough (Binance).
  virtual std::string PingFrame() const = 0;
  virtual int64_t ping_interval_ms() const = 0;

  // Parses one text frame and appends the events it yields to *out. Returns:
  //  - OK, including frames with nothing to emit (acks, heartbeats, pongs, status, buffered
  //    Binance diffs waiting for a snapshot, deltas of a book awaiting resync);
  //  - INVALID_ARGUMENT for a malformed or unexpected frame: nothing appended, no state changed;
  //  - DATA_LOSS "<symbol>: <why>" when a book's venue sequence or checksum check fails: that
  //    book is dropped, its deltas are withheld until resynced (Binance: a snapshot request is
  //    queued, see TakeSnapshotRequests; Kraken/Bybit: send ResyncFrames(symbol)). Events for
  //    other symbols in the same frame are still appended;
  //  - FAILED_PRECONDITION when the venue rejected one of our requests (a subscription error
  //    reply), with the venue's message — log it; nothing changed.
  // Never crashes and never grows state without bound on hostile input.
  virtual absl::Status Decode(std::string_view frame, int64_t recv_unix_ns,
                              std::vector<tickmesh::v1::MarketEvent>* out) = 0;

  // Symbols (tickmesh spelling) whose book needs a REST snapshot now, each returned once per
  // need (Binance: after the first diff event of a sync cycle is buffered, after a gap, after a
  // snapshot turned out older than the buffered events). Always empty for other venues. If the
  // REST fetch fails, the caller retries it (with backoff): the symbol is not queued again until
  // ApplySnapshot runs or Reset is called.
  virtual std::vector<std::string> TakeSnapshotRequests() = 0;

  // The REST request for a symbol's snapshot (Binance GET /api/v3/depth?symbol=BTCUSDT&limit=N,
  // endpoint "depth"). UNIMPLEMENTED for venues synced in-band; NOT_FOUND for unknown symbols.
  virtual absl::StatusOr<net::HttpRequest> SnapshotRequest(std::string_view symbol) const = 0;

  // Runs the venue's documented procedure with a snapshot body (Binance: drop buffered events
  // with u <= lastUpdateId; the first applied event must satisfy U <= lastUpdateId+1 <= u; then
  // each U == previous u + 1) and appends the snapshot event plus the buffered deltas that
  // follow it. Returns INVALID_ARGUMENT for a malformed body (symbol re-queued for a snapshot),
  // FAILED_PRECONDITION if no snapshot was requested for that symbol (ignored), ABORTED if the
  // snapshot is older than the first buffered event (re-queued: fetch again), DATA_LOSS if the
  // buffered events have a gap after the snapshot (re-queued). UNIMPLEMENTED for other venues.
  virtual absl::Status ApplySnapshot(std::string_view symbol, std::string_view body,
                                     int64_t recv_unix_ns,
                                     std::vector<tickmesh::v1::MarketEvent>* out) = 0;

  // Frames that resync one book in-band after DATA_LOSS (Kraken/Bybit: unsubscribe + subscribe
  // that symbol's book). Empty for Binance (REST snapshot) and Hyperliquid (every l2Book message
  // is a full snapshot).
  virtual std::vector<std::string> ResyncFrames(std::string_view symbol) const = 0;

  // The connection was lost: forget every book, buffered event and pending snapshot request.
  // Sequence numbers continue (the next event per symbol is a snapshot with seq + 1).
  virtual void Reset() = 0;

  virtual FeedStats stats() const = 0;
};

// The codec for `venue` over the configured symbols of `symbols`. INVALID_ARGUMENT for options
// the venue does not support (see FeedOptions) or an empty symbol list.
absl::StatusOr<std::unique_ptr<FeedCodec>> MakeFeedCodec(Venue venue, const SymbolMap& symbols,
                                                         FeedOptions options = {});

}  // namespace tickmesh::venues
