// Venue: where execution sends orders — the contract shared by the paper venue (through
// PaperVenueAdapter) and the live venue adapters (LiveVenue over libs/venues + libs/net).
//
// Two kinds of venue, told apart by remote():
//  - in-process (paper): calls do no I/O, are cheap, and are made by the engine under its mutex;
//    Submit answers with the venue's verdict at once.
//  - remote (live): calls do network I/O and may take seconds. The engine never calls them under
//    its mutex nor on a gRPC callback thread: it records the order NEW (event + outbox) and hands
//    the call to the venue's VenueWorker thread, which applies the answer back through the
//    engine. See venue_worker.h.
//
// Errors of remote calls (absl codes) and what the engine makes of them:
//  - FAILED_PRECONDITION / INVALID_ARGUMENT / OUT_OF_RANGE: the venue refused the request (a
//    business answer such as "binance -2010: Account has insufficient balance"); the order is
//    REJECTED "venue:rejected:<message>". Not a breaker failure.
//  - UNAUTHENTICATED / PERMISSION_DENIED: bad credentials or signature; REJECTED
//    "venue:error:<message>"; a breaker failure.
//  - RESOURCE_EXHAUSTED: the venue's rate limit; REJECTED "venue:error:<message>"; a breaker
//    failure.
//  - NOT_FOUND (cancel/query only): the venue does not know the order.
//  - UNAVAILABLE / DEADLINE_EXCEEDED / anything else: transport failure, the outcome is unknown
//    (the venue may have the order). A breaker failure; a place stays NEW ("unconfirmed") and is
//    resolved by querying the venue by client order id.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "paper_venue.h"
#include "tickmesh/v1/execution.pb.h"

namespace tickmesh::execution {

// An order's state at the venue.
enum class VenueOrderStatus {
  kOpen,       // accepted, working (resting or partially filled)
  kFilled,     // completely filled
  kCancelled,  // cancelled (possibly after partial fills)
  kExpired,    // expired by the venue (IOC/FOK remainder, FOK not fillable, ...)
  kRejected,   // refused; `reason` says why
};

const char* VenueOrderStatusName(VenueOrderStatus status);

struct VenueOrderState {
  std::string client_order_id;
  std::string venue_order_id;
  VenueOrderStatus status = VenueOrderStatus::kOpen;
  std::string reason;  // for kRejected: "venue:<...>" (engine's reject reason)
  // Cumulative execution at the venue: filled quantity and its average price (e8). The engine
  // derives a fill from the difference with what it has applied already (remote venues).
  int64_t filled_qty_e8 = 0;
  int64_t avg_price_e8 = 0;
  // Executions not reported before (in-process venues report each one, with liquidity and fee);
  // when non-empty they are applied as they are and filled_qty_e8 / avg_price_e8 are ignored.
  std::vector<VenueFill> fills;
  // True when the venue could not tell and the adapter inferred the state (see live_venue.h).
  bool inferred = false;
  // The order's terms as the venue holds them (filled by OpenOrders, for reporting orders
  // execution does not know).
  std::string symbol;  // tickmesh symbol
  tickmesh::v1::Side side = tickmesh::v1::SIDE_UNSPECIFIED;
  int64_t qty_e8 = 0;
  int64_t price_e8 = 0;
};

struct VenueAssetBalance {
  std::string asset;
  int64_t total_e8 = 0;
  int64_t available_e8 = 0;
};

class Venue {
 public:
  virtual ~Venue() = default;

  // Low-cardinality venue name as used in orders ("paper" venues answer for any name).
  virtual const std::string& name() const = 0;
  // True when calls do network I/O (see the banner): only ever called from a VenueWorker.
  virtual bool remote() const = 0;

  // Places a new order (validated, risk-checked, recorded NEW). The answer is the order's state
  // after the venue processed it.
  virtual absl::StatusOr<VenueOrderState> Place(const tickmesh::v1::Order& order) = 0;
  // Cancels an open order. The answer is the order's state after the cancel (kCancelled, or
  // kFilled if it filled first). NOT_FOUND when the venue does not know it as open.
  virtual absl::StatusOr<VenueOrderState> Cancel(const tickmesh::v1::Order& order) = 0;
  // The order's current state, found by client order id. NOT_FOUND when the venue never had it.
  virtual absl::StatusOr<VenueOrderState> Query(const tickmesh::v1::Order& order) = 0;
  // Every order open at the venue for this account (those of other systems too).
  virtual absl::StatusOr<std::vector<VenueOrderState>> OpenOrders() = 0;
  // The account's balances at the venue (the source of truth for a live venue).
  virtual absl::StatusOr<std::vector<VenueAssetBalance>> Balances() = 0;
};

}  // namespace tickmesh::execution
