// PaperVenue: a simulated venue that fills orders against the L2 books received from market-data.
//
// Matching rules:
//  - MARKET orders take liquidity immediately: a buy walks the asks from the best, a sell walks the
//    bids, one fill per level touched (price = that level). What the book cannot fill is cancelled
//    (IOC semantics). No usable book -> rejected "venue:no_market".
//  - LIMIT orders take the levels at or better than the limit the same way (TAKER); the remainder
//    rests (GTC, the default), is cancelled (IOC) or, for FOK, the whole order expires unfilled
//    unless the book can fill all of it.
//  - Resting orders fill as MAKER at their own limit price, in two ways:
//     1. Crossing: a book update whose opposite side reaches the order's price (an ask <= a resting
//        buy's price, a bid >= a resting sell's) fills it up to the crossing size — the market
//        traded through its level, so its queue is gone. Resting orders share the crossing
//        liquidity best price first, then oldest first, within one update.
//     2. Queue position (trades at its level): see below.
//  - Paper fills do not remove liquidity from the market book (the next update from the real
//    market replaces it); paper orders never match each other.
//  - Fees: taker_fee_bps / maker_fee_bps of the fill notional, charged in the quote asset,
//    rounded up.
//
// Queue position model (per resting order, all quantities e8):
//  - ahead: displayed quantity queued before the order at its price level on its own side (bids
//    for a buy). On resting it is the whole displayed size of that level (0 if the level is
//    empty): the order joins behind everything shown. An order restored at start-up before its
//    book is usable takes its `ahead` from the first usable book.
//  - level: the displayed size of that level as last accounted for.
//  - Book update (snapshot or delta) showing the level at size L:
//      L < level (a decrease not explained by trades, i.e. cancels): cancels are assumed to be
//      spread evenly over the queue, so ahead := floor(ahead * L / level) (a level that
//      disappears leaves nothing ahead);
//      L > level: the new quantity joined behind; ahead is unchanged.
//      Then level := L.
//  - Trade print (MarketEvent.trade; aggressor SELL — or unknown — hits resting buys, BUY hits
//    resting sells) of quantity q at price p:
//      at the order's price: the front of the queue trades first: ahead' = max(0, ahead - q),
//      level -= min(level, q) (so the book update that follows is not counted twice), and the
//      order fills min(remaining, q - (ahead - ahead'), what is left of the print);
//      through the order's price (p below a resting buy, above a resting sell): the level was
//      traded away: ahead = level = 0 and the order fills min(remaining, what is left of the
//      print).
//    One print fills paper orders best price first, then oldest first, and never more than its
//    quantity in total; at the print's price, the part beyond the queue goes to the older paper
//    order first (ahead is advanced for every order the print reaches).
//  - An order fills only through a trade once its queue ahead is consumed, or by crossing.
//    Without trade events (feeds that carry books only) queues advance by level decreases alone.
//  - Limits of the model: a decrease that arrives before the trade print explaining it is first
//    treated as cancels; hidden/iceberg liquidity and the venue's own priority rules are not
//    modelled.
//
// Latency model (optional, Options::ack_latency_ns / ack_jitter_ns): Send() puts an order in
// flight; it reaches the matching engine ack_latency_ns (plus a jitter drawn uniformly from
// [0, ack_jitter_ns]) later and Arrive() executes it then, against the book as it is at that time
// (book events applied meanwhile count), in the order sent (jitter never reorders: an order never
// arrives before one sent earlier). An order cancelled while in flight (CancelInFlight) never
// reaches the book. Execute() is the zero-latency path. PaperVenueAdapter drives the model for
// the engine (timer thread, paper_venue_adapter.h).
// Not thread-safe: the owner serialises calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "l2_book.h"
#include "tickmesh/v1/execution.pb.h"
#include "tickmesh/v1/market_data.pb.h"

namespace tickmesh::execution {

// Books for more instruments than this are not kept (events for new ones are ignored and
// reported as RESOURCE_EXHAUSTED), bounding memory against a hostile feed.
inline constexpr size_t kMaxInstruments = 10'000;

struct VenueFill {
  std::string order_id;
  int64_t price_e8 = 0;
  int64_t qty_e8 = 0;
  int64_t fee_e8 = 0;
  std::string fee_asset;
  tickmesh::v1::Liquidity liquidity = tickmesh::v1::LIQUIDITY_TAKER;
};

struct ExecutionReport {
  // Non-empty when the venue refused the order; then nothing else is set.
  std::string reject_reason;
  // Venue id for an accepted order ("p-<n>").
  std::string venue_order_id;
  std::vector<VenueFill> fills;
  enum class Remainder { kNone, kRest, kCancel, kExpire };
  // What happened to the unfilled part (kNone when fully filled).
  Remainder remainder = Remainder::kNone;
};

class PaperVenue {
 public:
  struct Options {
    int64_t taker_fee_bps = 10;
    int64_t maker_fee_bps = 0;
    // First venue order number ("p-<n>"); seeded from the clock by the service with persistence.
    uint64_t first_venue_id = 1;
    // Time from Send() to the order reaching the book (see the latency model); 0 = none.
    int64_t ack_latency_ns = 0;
    // Extra latency per order, uniform in [0, ack_jitter_ns]; 0 = none. Deterministic for a
    // given jitter_seed.
    int64_t ack_jitter_ns = 0;
    uint64_t jitter_seed = 1;
  };
  // Orders in flight at once (Send refuses more).
  static constexpr size_t kMaxInFlight = 100'000;
  explicit PaperVenue(Options options)
      : options_(options),
        next_venue_id_(options.first_venue_id == 0 ? 1 : options.first_venue_id),
        jitter_rng_(options.jitter_seed) {}

  const Options& options() const { return options_; }
  // True when orders take time to reach the book (ack_latency_ns or ack_jitter_ns > 0).
  bool delayed() const { return options_.ack_latency_ns > 0 || options_.ack_jitter_ns > 0; }

  // Applies one market event. Book snapshots/deltas update the (venue, symbol) book (see L2Book
  // for sequencing), advance the queue positions of resting orders of that instrument and match
  // those the book crosses; trades advance queues and fill resting orders at the front (see the
  // model above). Fills are appended to *fills. Other payloads are ignored. Returns the book's
  // status (OK, DATA_LOSS on a gap, FAILED_PRECONDITION while stale, INVALID_ARGUMENT for a
  // malformed event or a trade with a non-positive price or quantity — nothing changed,
  // RESOURCE_EXHAUSTED past kMaxInstruments).
  absl::Status ApplyMarketEvent(const tickmesh::v1::MarketEvent& event,
                                std::vector<VenueFill>* fills);

  // Executes a new order (symbol must be BASE-QUOTE; the caller validated it). See the rules
  // above.
  ExecutionReport Execute(const tickmesh::v1::Order& order);

  // Latency model: puts `order` in flight at `now_ns`; it arrives at
  // max(now_ns + ack_latency_ns + jitter, the previous arrival) so orders reach the book in the
  // order sent. RESOURCE_EXHAUSTED (nothing queued) past kMaxInFlight orders in flight.
  absl::Status Send(const tickmesh::v1::Order& order, int64_t now_ns);
  // Executes (as Execute) every in-flight order whose arrival time is <= now_ns, oldest first,
  // against the current books; returns (order, report) per order.
  std::vector<std::pair<tickmesh::v1::Order, ExecutionReport>> Arrive(int64_t now_ns);
  // Removes an in-flight order; false if it is not in flight (arrived or unknown).
  bool CancelInFlight(const std::string& order_id);
  // Arrival time of the oldest in-flight order, nullopt when none.
  std::optional<int64_t> next_arrival_ns() const;
  size_t in_flight_count() const { return in_flight_.size(); }

  // Restart reconciliation: puts an open LIMIT GTC order (restored from persistence) back on the
  // book with its remaining qty, in time priority by order number. False (nothing done) for an
  // order that would not rest (MARKET, IOC/FOK, no remaining qty) or is already resting.
  bool RestoreResting(const tickmesh::v1::Order& order);

  // Removes a resting order; false if it was not resting.
  bool CancelResting(const std::string& order_id);

  // Marks every book stale (market-data stream lost): no fills until fresh snapshots.
  void MarkAllStale();

  // Mid and Book allocate nothing when venue.size() + 1 + symbol.size() <= kInlineKeyBytes (every
  // real instrument); longer keys are still found, through a heap-allocated key.
  static constexpr size_t kInlineKeyBytes = 128;
  // Mid of a usable book, else nullopt.
  std::optional<int64_t> Mid(const std::string& venue, const std::string& symbol) const;
  // The book, or nullptr if never seen.
  const L2Book* Book(const std::string& venue, const std::string& symbol) const;

  // Displayed quantity queued ahead of a resting order at its price level; nullopt if it is not
  // resting (or its queue is not known yet: restored before its book was usable).
  std::optional<int64_t> QueueAhead(const std::string& order_id) const;

  size_t resting_count() const { return resting_index_.size(); }
  size_t book_count() const { return books_.size(); }

 private:
  struct Resting {
    std::string order_id;
    uint64_t order_number = 0;
    tickmesh::v1::Side side = tickmesh::v1::SIDE_UNSPECIFIED;
    int64_t price_e8 = 0;
    int64_t remaining_e8 = 0;
    // Queue position (see the model in the banner).
    bool queue_known = false;
    int64_t queue_ahead_e8 = 0;
    int64_t level_e8 = 0;
  };
  void MatchResting(const std::string& key, const L2Book& book, std::vector<VenueFill>* fills);
  // Advances queue positions of the instrument's resting orders after a book change.
  void UpdateQueues(const std::string& key, const L2Book& book);
  void MatchTrade(const std::string& key, const tickmesh::v1::Trade& trade,
                  std::vector<VenueFill>* fills);
  VenueFill MakerFill(const Resting& r, int64_t qty) const;
  // Starts a resting order's queue behind the displayed size of its level.
  static void JoinQueue(Resting& r, const L2Book& book);

  struct InFlight {
    int64_t arrival_ns = 0;
    tickmesh::v1::Order order;
  };

  Options options_;
  uint64_t next_venue_id_;
  std::deque<InFlight> in_flight_;
  std::mt19937_64 jitter_rng_;
  // Instrument key -> book. node_hash_map: found by string_view (Book/Mid build the key on the
  // stack — the risk check marks every position through Mid), books never move.
  absl::node_hash_map<std::string, L2Book> books_;
  // Instrument key -> order number -> resting order.
  std::unordered_map<std::string, std::map<uint64_t, Resting>> resting_;
  // Order id -> instrument key.
  std::unordered_map<std::string, std::string> resting_index_;
};

}  // namespace tickmesh::execution
