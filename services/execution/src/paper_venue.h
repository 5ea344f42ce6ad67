// PaperVenue: a simulated venue that fills orders against the L2 books received from market-data.
//
// Matching rules:
//  - MARKET orders take liquidity immediately: a buy walks the asks from the best, a sell walks the
//    bids, one fill per level touched (price = that level). What the book cannot fill is cancelled
//    (IOC semantics). No usable book -> rejected "venue:no_market".
//  - LIMIT orders take the levels at or better than the limit the same way (TAKER); the remainder
//    rests (GTC, the default), is cancelled (IOC) or, for FOK, the whole order expires unfilled
//    unless the book can fill all of it.
//  - A resting order fills (MAKER, at its limit price) when a later book update crosses it, up to
//    the crossing size. Resting orders are matched best price first, then oldest first, sharing
//    the crossing liquidity within one update. Queue position is not modelled.
//  - Paper fills do not remove liquidity from the market book (the next update from the real
//    market replaces it); paper orders never match each other.
//  - Fees: taker_fee_bps / maker_fee_bps of the fill notional, charged in the quote asset,
//    rounded up.
// Not thread-safe: the owner serialises calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

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
  };
  explicit PaperVenue(Options options)
      : options_(options),
        next_venue_id_(options.first_venue_id == 0 ? 1 : options.first_venue_id) {}

  // Applies one market event. Book snapshots/deltas update the (venue, symbol) book (see L2Book
  // for sequencing) and then match resting orders of that instrument, appending their fills to
  // *fills. Other payloads are ignored. Returns the book's status (OK, DATA_LOSS on a gap,
  // FAILED_PRECONDITION while stale, INVALID_ARGUMENT for a malformed event, RESOURCE_EXHAUSTED
  // past kMaxInstruments).
  absl::Status ApplyMarketEvent(const tickmesh::v1::MarketEvent& event,
                                std::vector<VenueFill>* fills);

  // Executes a new order (symbol must be BASE-QUOTE; the caller validated it). See the rules
  // above.
  ExecutionReport Execute(const tickmesh::v1::Order& order);

  // Restart reconciliation: puts an open LIMIT GTC order (restored from persistence) back on the
  // book with its remaining qty, in time priority by order number. False (nothing done) for an
  // order that would not rest (MARKET, IOC/FOK, no remaining qty) or is already resting.
  bool RestoreResting(const tickmesh::v1::Order& order);

  // Removes a resting order; false if it was not resting.
  bool CancelResting(const std::string& order_id);

  // Marks every book stale (market-data stream lost): no fills until fresh snapshots.
  void MarkAllStale();

  // Mid of a usable book, else nullopt.
  std::optional<int64_t> Mid(const std::string& venue, const std::string& symbol) const;
  // The book, or nullptr if never seen.
  const L2Book* Book(const std::string& venue, const std::string& symbol) const;

  size_t resting_count() const { return resting_index_.size(); }
  size_t book_count() const { return books_.size(); }

 private:
  struct Resting {
    std::string order_id;
    uint64_t order_number = 0;
    tickmesh::v1::Side side = tickmesh::v1::SIDE_UNSPECIFIED;
    int64_t price_e8 = 0;
    int64_t remaining_e8 = 0;
  };
  void MatchResting(const std::string& key, const L2Book& book, std::vector<VenueFill>* fills);

  Options options_;
  uint64_t next_venue_id_;
  std::unordered_map<std::string, L2Book> books_;
  // Instrument key -> order number -> resting order.
  std::unordered_map<std::string, std::map<uint64_t, Resting>> resting_;
  // Order id -> instrument key.
  std::unordered_map<std::string, std::string> resting_index_;
};

}  // namespace tickmesh::execution
