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

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "paper_venue.h"
#include "rate_limit.h"
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
  // Cumulative fee the venue charged for filled_qty_e8, when it says (fee_known; live venues):
  // the engine records the difference with the order's fee_e8 on the fill it derives.
  int64_t fee_e8 = 0;
  std::string fee_asset;
  bool fee_known = false;
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

  // Rate limits of query requests (remote venues; see venue_worker.h). A gate charges one REST
  // request of a query class (RequestClass::kQueryOrder .. kBalances) to the venue's limits before
  // it is sent: OK, or RESOURCE_EXHAUSTED "rate_limit:<bucket>" — then the request must not be
  // sent and the call answers that status. A venue that charges every query request it sends
  // through `gate` (LiveVenue: also the requests one call makes beyond the first — myTrades for a
  // fill's fee, open orders in Query's last resort) keeps it and answers true; the default answers
  // false and the worker charges each Query / OpenOrders / Balances call as one request of its
  // class. Places and cancels are charged at admission, never through the gate.
  using RequestGate = std::function<absl::Status(RequestClass)>;
  virtual bool SetRequestGate(RequestGate /*gate*/) { return false; }

  // Batches (remote venues with batch endpoints; see venue_worker.h). How many new orders /
  // cancels one PlaceBatch / CancelBatch call may carry (1: no batching); orders whose
  // BatchKey differs never share a call (Kraken: one pair per batch).
  virtual size_t max_place_batch() const { return 1; }
  virtual size_t max_cancel_batch() const { return 1; }
  virtual std::string BatchKey(const tickmesh::v1::Order& /*order*/) const { return {}; }
  // One answer per order, in order, each as Place / Cancel would give it (a per-order refusal
  // is that order's error only; a failed request is every order's error). The defaults call
  // Place / Cancel once per order.
  virtual std::vector<absl::StatusOr<VenueOrderState>> PlaceBatch(
      const std::vector<tickmesh::v1::Order>& orders) {
    std::vector<absl::StatusOr<VenueOrderState>> out;
    out.reserve(orders.size());
    for (const auto& o : orders) out.push_back(Place(o));
    return out;
  }
  virtual std::vector<absl::StatusOr<VenueOrderState>> CancelBatch(
      const std::vector<tickmesh::v1::Order>& orders) {
    std::vector<absl::StatusOr<VenueOrderState>> out;
    out.reserve(orders.size());
    for (const auto& o : orders) out.push_back(Cancel(o));
    return out;
  }
};

}  // namespace tickmesh::execution
