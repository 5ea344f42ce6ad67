// OrderManager: the book of record for orders inside one execution instance.
//
// Promises:
//  - Lifecycle NEW -> ACKED -> PARTIALLY_FILLED -> FILLED, or to CANCELLED / REJECTED / EXPIRED
//    (see CheckTransition for the exact table). Illegal transitions return FAILED_PRECONDITION and
//    change nothing.
//  - client_order_id is idempotent: creating an order whose client id is known returns the
//    existing order with duplicate = true and emits nothing (for as long as the order is retained,
//    see Options::terminal_retention).
//  - Order ids are "o-<n>", fill ids "f-<n>", n counting from 1. Every change increments
//    Order.version and appends exactly one OrderEvent (event_id "<order_id>:<version>", seq
//    increasing by one per manager) to the caller's event vector, in the order of the changes.
//  - Memory is bounded: at most Options::max_open_orders open orders (Create answers
//    RESOURCE_EXHAUSTED beyond), and at most Options::terminal_retention terminal orders (the
//    oldest terminal order is forgotten first, and with it its client id).
//
// Not thread-safe: the owner (ExecutionEngine) serialises calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tickmesh/v1/execution.pb.h"

namespace tickmesh::execution {

// One order and what execution keeps beside it.
struct OrderRecord {
  tickmesh::v1::Order order;
  // Trace of the signal or request that caused the order, with execution's "recv" stamp; empty
  // once the order is terminal (freed: terminal records are kept only for lookups).
  tickmesh::v1::Trace trace;
  // Monotonic ns when the request (or signal) arrived; used for latency histograms.
  int64_t submit_mono_ns = 0;
  // Monotonic ns when the causing signal arrived; 0 for API orders.
  int64_t signal_recv_mono_ns = 0;
  // Unix ns of the latest fill; 0 before the first.
  int64_t last_fill_unix_ns = 0;
};

// Filter and page for List().
struct OrderQuery {
  std::string venue;                                // empty = any
  std::string symbol;                               // empty = any
  std::vector<tickmesh::v1::OrderStatus> statuses;  // empty = any
  size_t limit = 100;
  // Exclusive upper bound on the order number ("o-<n>"); 0 = start from the newest.
  uint64_t before = 0;
};

struct OrderPage {
  std::vector<tickmesh::v1::Order> orders;
  // Order number to pass as OrderQuery::before for the next page; 0 = no more.
  uint64_t next_before = 0;
};

class OrderManager {
 public:
  struct Options {
    size_t max_open_orders = 10'000;
    size_t terminal_retention = 200'000;
    // First order number ("o-<n>") and fill number ("f-<n>") handed out. With persistence the
    // service seeds both from the clock (microseconds since the epoch) so that ids of a restarted
    // process never collide with ids an earlier process persisted (see README, "Restart").
    uint64_t first_order_number = 1;
    uint64_t first_fill_number = 1;
  };

  explicit OrderManager(Options options);

  // OK if `from` -> `to` is a legal lifecycle step, else FAILED_PRECONDITION naming both.
  // Legal: NEW -> ACKED | REJECTED | CANCELLED; ACKED -> PARTIALLY_FILLED | FILLED | CANCELLED |
  // EXPIRED; PARTIALLY_FILLED -> PARTIALLY_FILLED | FILLED | CANCELLED | EXPIRED. Nothing leaves
  // a terminal status.
  static absl::Status CheckTransition(tickmesh::v1::OrderStatus from, tickmesh::v1::OrderStatus to);
  static bool IsTerminal(tickmesh::v1::OrderStatus status);

  struct CreateResult {
    const OrderRecord* record = nullptr;
    bool duplicate = false;
  };
  // Creates an order in NEW from an already validated request (or returns the existing one for a
  // known client_order_id). RESOURCE_EXHAUSTED "open orders limit" when full.
  absl::StatusOr<CreateResult> Create(const tickmesh::v1::OrderRequest& request,
                                      const tickmesh::v1::Trace& trace, int64_t now_unix_ns,
                                      int64_t arrival_mid_e8, int64_t submit_mono_ns,
                                      int64_t signal_recv_mono_ns,
                                      std::vector<tickmesh::v1::OrderEvent>* events);

  // Lifecycle steps. NOT_FOUND for an unknown order id; FAILED_PRECONDITION for an illegal step.
  absl::Status Ack(absl::string_view order_id, std::string venue_order_id, int64_t now_unix_ns,
                   std::vector<tickmesh::v1::OrderEvent>* events);
  absl::Status Reject(absl::string_view order_id, std::string reason, int64_t now_unix_ns,
                      std::vector<tickmesh::v1::OrderEvent>* events);
  absl::Status Cancel(absl::string_view order_id, int64_t now_unix_ns,
                      std::vector<tickmesh::v1::OrderEvent>* events);
  absl::Status Expire(absl::string_view order_id, int64_t now_unix_ns,
                      std::vector<tickmesh::v1::OrderEvent>* events);

  // Applies one execution: qty_e8 in (0, remaining], price_e8 > 0. Moves the order to
  // PARTIALLY_FILLED or FILLED, updates filled qty, VWAP and fees, and returns the Fill (id
  // "f-<n>", trace = order trace + {execution, venue_ack, now}). INVALID_ARGUMENT for a bad
  // quantity or price.
  absl::StatusOr<tickmesh::v1::Fill> ApplyFill(absl::string_view order_id, int64_t price_e8,
                                               int64_t qty_e8, int64_t fee_e8,
                                               const std::string& fee_asset,
                                               tickmesh::v1::Liquidity liquidity,
                                               int64_t now_unix_ns,
                                               std::vector<tickmesh::v1::OrderEvent>* events);

  // Restart reconciliation: adopts an open order read back from persistence as it is (status,
  // version, fills so far), without emitting an event. Later ids are numbered past it. The open
  // orders limit does not apply (a restart must not forget an order). INVALID_ARGUMENT for an
  // order that is terminal or malformed (bad id, qty, filled qty); ALREADY_EXISTS for a known
  // order id or client id.
  absl::Status Restore(const tickmesh::v1::Order& order);

  // Lookups; nullptr when unknown (or no longer retained).
  const OrderRecord* Find(absl::string_view order_id) const;
  const OrderRecord* FindByClientId(absl::string_view client_order_id) const;

  // Orders newest first, filtered and paged.
  OrderPage List(const OrderQuery& query) const;

  // Ids of every open (non-terminal) order, oldest first.
  std::vector<std::string> OpenOrderIds() const;

  // Sum of remaining qty of open orders on one side of (venue, symbol).
  int64_t OpenRemaining(absl::string_view venue, absl::string_view symbol,
                        tickmesh::v1::Side side) const;

  // Retained orders per status.
  std::map<tickmesh::v1::OrderStatus, size_t> CountsByStatus() const;
  size_t open_count() const { return open_.size(); }
  size_t retained_count() const { return orders_.size(); }
  // Takes the next event seq for an event of an order the manager does not hold (an execution
  // algorithm's parent), so every event the engine publishes shares one seq sequence.
  uint64_t TakeSeq() { return next_seq_++; }

 private:
  OrderRecord* Mutable(absl::string_view order_id);
  // Moves `rec` to `to` (checked), bumps version/updated time, maintains the open set and the
  // retention FIFO, and appends the event.
  absl::Status Transition(OrderRecord& rec, tickmesh::v1::OrderStatus to,
                          tickmesh::v1::OrderEventType type, int64_t now_unix_ns,
                          const tickmesh::v1::Fill* fill,
                          std::vector<tickmesh::v1::OrderEvent>* events);
  void AdjustOpenRemaining(const tickmesh::v1::Order& order, int64_t delta);
  void EvictOldTerminal();

  Options options_;
  uint64_t next_order_;
  uint64_t next_fill_;
  uint64_t next_seq_ = 1;
  std::map<uint64_t, OrderRecord> orders_;  // by order number, oldest first
  std::unordered_map<std::string, uint64_t> by_client_id_;
  std::set<uint64_t> open_;  // order numbers of open orders
  std::deque<uint64_t> terminal_fifo_;
  // "<venue>\x1f<symbol>\x1f<side>" -> open remaining qty.
  std::unordered_map<std::string, int64_t> open_remaining_;
  std::map<tickmesh::v1::OrderStatus, size_t> counts_;
};

// "o-<n>" -> n; 0 when malformed.
uint64_t OrderNumber(absl::string_view order_id);

// Execution-quality figures of an order so far:
//  - slippage_bps: (avg fill price - arrival mid) / arrival mid * 1e4, sign flipped for sells, so
//    positive is worse than the mid for the order's side; 0 without fills or arrival mid;
//  - fill_rate: filled / qty;
//  - time_to_fill_ns: created -> latest fill (`last_fill_unix_ns`; 0 = use updated_unix_ns), 0
//    without fills;
//  - score: 100 * fill_rate minus one point per bp of adverse slippage, clamped to [0, 100].
tickmesh::v1::ExecutionQuality ComputeQuality(const tickmesh::v1::Order& order,
                                              int64_t last_fill_unix_ns = 0);

}  // namespace tickmesh::execution
