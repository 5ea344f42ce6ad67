#include "order_manager.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "fixed_point.h"

namespace tickmesh::execution {

using tickmesh::v1::Fill;
using tickmesh::v1::Order;
using tickmesh::v1::OrderEvent;
using tickmesh::v1::OrderEventType;
using tickmesh::v1::OrderStatus;

namespace {

std::string OpenKey(absl::string_view venue, absl::string_view symbol, tickmesh::v1::Side side) {
  return absl::StrCat(venue, "\x1f", symbol, "\x1f", static_cast<int>(side));
}

}  // namespace

uint64_t OrderNumber(absl::string_view order_id) {
  if (order_id.size() < 3 || order_id.substr(0, 2) != "o-") return 0;
  uint64_t n = 0;
  if (!absl::SimpleAtoi(order_id.substr(2), &n)) return 0;
  return n;
}

OrderManager::OrderManager(Options options)
    : options_(options),
      next_order_(std::max<uint64_t>(1, options.first_order_number)),
      next_fill_(std::max<uint64_t>(1, options.first_fill_number)) {}

absl::Status OrderManager::Restore(const Order& o) {
  const uint64_t n = OrderNumber(o.order_id());
  if (n == 0) return absl::InvalidArgumentError("restore: order_id is not o-<n>");
  if (o.client_order_id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("restore ", o.order_id(), ": no client id"));
  }
  if (IsTerminal(o.status()) || o.status() == tickmesh::v1::ORDER_STATUS_UNSPECIFIED ||
      !tickmesh::v1::OrderStatus_IsValid(o.status())) {
    return absl::InvalidArgumentError(
        absl::StrCat("restore ", o.order_id(), ": status is not open"));
  }
  if (o.qty_e8() <= 0 || o.filled_qty_e8() < 0 || o.filled_qty_e8() >= o.qty_e8()) {
    return absl::InvalidArgumentError(
        absl::StrCat("restore ", o.order_id(), ": qty/filled qty inconsistent with open"));
  }
  if (orders_.count(n) != 0 || by_client_id_.count(o.client_order_id()) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("restore ", o.order_id(), ": already known"));
  }
  OrderRecord& rec = orders_[n];
  rec.order = o;
  by_client_id_[o.client_order_id()] = n;
  open_.insert(n);
  ++counts_[o.status()];
  AdjustOpenRemaining(o, o.qty_e8() - o.filled_qty_e8());
  if (n >= next_order_) next_order_ = n + 1;
  return absl::OkStatus();
}

bool OrderManager::IsTerminal(OrderStatus s) {
  return s == tickmesh::v1::ORDER_STATUS_FILLED || s == tickmesh::v1::ORDER_STATUS_CANCELLED ||
         s == tickmesh::v1::ORDER_STATUS_REJECTED || s == tickmesh::v1::ORDER_STATUS_EXPIRED;
}

absl::Status OrderManager::CheckTransition(OrderStatus from, OrderStatus to) {
  using namespace tickmesh::v1;  // NOLINT: enum values only
  bool ok = false;
  switch (from) {
    case ORDER_STATUS_NEW:
      ok = to == ORDER_STATUS_ACKED || to == ORDER_STATUS_REJECTED || to == ORDER_STATUS_CANCELLED;
      break;
    case ORDER_STATUS_ACKED:
    case ORDER_STATUS_PARTIALLY_FILLED:
      ok = to == ORDER_STATUS_PARTIALLY_FILLED || to == ORDER_STATUS_FILLED ||
           to == ORDER_STATUS_CANCELLED || to == ORDER_STATUS_EXPIRED;
      break;
    default:
      ok = false;  // terminal or unspecified: nothing leaves
  }
  if (ok) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "illegal order transition ", OrderStatus_Name(from), " -> ", OrderStatus_Name(to)));
}

absl::StatusOr<OrderManager::CreateResult> OrderManager::Create(
    const tickmesh::v1::OrderRequest& request, const tickmesh::v1::Trace& trace,
    int64_t now_unix_ns, int64_t arrival_mid_e8, int64_t submit_mono_ns,
    int64_t signal_recv_mono_ns, std::vector<OrderEvent>* events) {
  if (auto it = by_client_id_.find(request.client_order_id()); it != by_client_id_.end()) {
    return CreateResult{&orders_.at(it->second), true};
  }
  if (open_.size() >= options_.max_open_orders) {
    return absl::ResourceExhaustedError(
        absl::StrCat("open orders limit (", options_.max_open_orders, ") reached"));
  }
  const uint64_t n = next_order_++;
  OrderRecord& rec = orders_[n];
  Order& o = rec.order;
  o.set_order_id(absl::StrCat("o-", n));
  o.set_client_order_id(request.client_order_id());
  o.set_venue(request.venue());
  o.set_symbol(request.symbol());
  o.set_side(request.side());
  o.set_type(request.type());
  o.set_time_in_force(request.time_in_force());
  o.set_price_e8(request.type() == tickmesh::v1::ORDER_TYPE_LIMIT ? request.price_e8() : 0);
  o.set_qty_e8(request.qty_e8());
  o.set_status(tickmesh::v1::ORDER_STATUS_NEW);
  o.set_strategy(request.strategy());
  o.set_created_unix_ns(now_unix_ns);
  o.set_updated_unix_ns(now_unix_ns);
  o.set_version(1);
  o.set_algo(request.algo() == tickmesh::v1::EXEC_ALGO_UNSPECIFIED
                 ? tickmesh::v1::EXEC_ALGO_IMMEDIATE
                 : request.algo());
  o.set_arrival_mid_e8(arrival_mid_e8);
  o.set_parent_order_id(request.parent_order_id());
  rec.trace = trace;
  rec.submit_mono_ns = submit_mono_ns;
  rec.signal_recv_mono_ns = signal_recv_mono_ns;
  by_client_id_[o.client_order_id()] = n;
  open_.insert(n);
  ++counts_[o.status()];
  AdjustOpenRemaining(o, o.qty_e8());

  OrderEvent& ev = events->emplace_back();
  ev.set_event_id(absl::StrCat(o.order_id(), ":", o.version()));
  ev.set_seq(next_seq_++);
  ev.set_type(tickmesh::v1::ORDER_EVENT_TYPE_NEW);
  *ev.mutable_order() = o;
  ev.set_unix_ns(now_unix_ns);
  *ev.mutable_trace() = rec.trace;
  return CreateResult{&rec, false};
}

OrderRecord* OrderManager::Mutable(absl::string_view order_id) {
  auto it = orders_.find(OrderNumber(order_id));
  if (it == orders_.end()) return nullptr;
  return &it->second;
}

const OrderRecord* OrderManager::Find(absl::string_view order_id) const {
  auto it = orders_.find(OrderNumber(order_id));
  return it == orders_.end() ? nullptr : &it->second;
}

const OrderRecord* OrderManager::FindByClientId(absl::string_view client_order_id) const {
  auto it = by_client_id_.find(std::string(client_order_id));
  if (it == by_client_id_.end()) return nullptr;
  return &orders_.at(it->second);
}

void OrderManager::AdjustOpenRemaining(const Order& order, int64_t delta) {
  auto key = OpenKey(order.venue(), order.symbol(), order.side());
  int64_t& v = open_remaining_[key];
  v += delta;
  if (v <= 0) open_remaining_.erase(key);
}

int64_t OrderManager::OpenRemaining(absl::string_view venue, absl::string_view symbol,
                                    tickmesh::v1::Side side) const {
  auto it = open_remaining_.find(OpenKey(venue, symbol, side));
  return it == open_remaining_.end() ? 0 : it->second;
}

absl::Status OrderManager::Transition(OrderRecord& rec, OrderStatus to, OrderEventType type,
                                      int64_t now_unix_ns, const Fill* fill,
                                      std::vector<OrderEvent>* events) {
  Order& o = rec.order;
  if (auto s = CheckTransition(o.status(), to); !s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(o.order_id(), ": ", s.message()));
  }
  const uint64_t n = OrderNumber(o.order_id());
  if (--counts_[o.status()] == 0) counts_.erase(o.status());
  ++counts_[to];
  o.set_status(to);
  o.set_version(o.version() + 1);
  o.set_updated_unix_ns(now_unix_ns);
  if (IsTerminal(to)) {
    AdjustOpenRemaining(o, -(o.qty_e8() - o.filled_qty_e8()));
    open_.erase(n);
    terminal_fifo_.push_back(n);
  }

  OrderEvent& ev = events->emplace_back();
  ev.set_event_id(absl::StrCat(o.order_id(), ":", o.version()));
  ev.set_seq(next_seq_++);
  ev.set_type(type);
  *ev.mutable_order() = o;
  ev.set_unix_ns(now_unix_ns);
  if (fill != nullptr) {
    *ev.mutable_fill() = *fill;
    *ev.mutable_trace() = fill->trace();
  } else {
    *ev.mutable_trace() = rec.trace;
  }
  if (type == tickmesh::v1::ORDER_EVENT_TYPE_FILL || IsTerminal(to)) {
    *ev.mutable_quality() = ComputeQuality(o, rec.last_fill_unix_ns);
  }
  if (IsTerminal(to)) {
    // A terminal order makes no more events: its trace (about half of a retained record) is
    // freed, not just cleared (Clear keeps the hops' capacity).
    tickmesh::v1::Trace().Swap(&rec.trace);
    EvictOldTerminal();
  }
  return absl::OkStatus();
}

void OrderManager::EvictOldTerminal() {
  while (terminal_fifo_.size() > options_.terminal_retention) {
    const uint64_t n = terminal_fifo_.front();
    terminal_fifo_.pop_front();
    auto it = orders_.find(n);
    if (it == orders_.end()) continue;
    by_client_id_.erase(it->second.order.client_order_id());
    if (--counts_[it->second.order.status()] == 0) counts_.erase(it->second.order.status());
    orders_.erase(it);
  }
}

absl::Status OrderManager::Ack(absl::string_view order_id, std::string venue_order_id,
                               int64_t now_unix_ns, std::vector<OrderEvent>* events) {
  OrderRecord* rec = Mutable(order_id);
  if (rec == nullptr) return absl::NotFoundError(absl::StrCat("order ", order_id, " not found"));
  if (auto s = CheckTransition(rec->order.status(), tickmesh::v1::ORDER_STATUS_ACKED); !s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(order_id, ": ", s.message()));
  }
  rec->order.set_venue_order_id(std::move(venue_order_id));
  return Transition(*rec, tickmesh::v1::ORDER_STATUS_ACKED, tickmesh::v1::ORDER_EVENT_TYPE_ACKED,
                    now_unix_ns, nullptr, events);
}

absl::Status OrderManager::Reject(absl::string_view order_id, std::string reason,
                                  int64_t now_unix_ns, std::vector<OrderEvent>* events) {
  OrderRecord* rec = Mutable(order_id);
  if (rec == nullptr) return absl::NotFoundError(absl::StrCat("order ", order_id, " not found"));
  if (auto s = CheckTransition(rec->order.status(), tickmesh::v1::ORDER_STATUS_REJECTED); !s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(order_id, ": ", s.message()));
  }
  rec->order.set_reject_reason(std::move(reason));
  return Transition(*rec, tickmesh::v1::ORDER_STATUS_REJECTED,
                    tickmesh::v1::ORDER_EVENT_TYPE_REJECTED, now_unix_ns, nullptr, events);
}

absl::Status OrderManager::Cancel(absl::string_view order_id, int64_t now_unix_ns,
                                  std::vector<OrderEvent>* events) {
  OrderRecord* rec = Mutable(order_id);
  if (rec == nullptr) return absl::NotFoundError(absl::StrCat("order ", order_id, " not found"));
  return Transition(*rec, tickmesh::v1::ORDER_STATUS_CANCELLED,
                    tickmesh::v1::ORDER_EVENT_TYPE_CANCELLED, now_unix_ns, nullptr, events);
}

absl::Status OrderManager::Expire(absl::string_view order_id, int64_t now_unix_ns,
                                  std::vector<OrderEvent>* events) {
  OrderRecord* rec = Mutable(order_id);
  if (rec == nullptr) return absl::NotFoundError(absl::StrCat("order ", order_id, " not found"));
  return Transition(*rec, tickmesh::v1::ORDER_STATUS_EXPIRED,
                    tickmesh::v1::ORDER_EVENT_TYPE_EXPIRED, now_unix_ns, nullptr, events);
}

absl::StatusOr<Fill> OrderManager::ApplyFill(absl::string_view order_id, int64_t price_e8,
                                             int64_t qty_e8, int64_t fee_e8,
                                             const std::string& fee_asset,
                                             tickmesh::v1::Liquidity liquidity, int64_t now_unix_ns,
                                             std::vector<OrderEvent>* events) {
  OrderRecord* rec = Mutable(order_id);
  if (rec == nullptr) return absl::NotFoundError(absl::StrCat("order ", order_id, " not found"));
  Order& o = rec->order;
  const int64_t remaining = o.qty_e8() - o.filled_qty_e8();
  if (qty_e8 <= 0 || qty_e8 > remaining) {
    return absl::InvalidArgumentError(
        absl::StrCat("fill qty_e8 ", qty_e8, " outside (0, ", remaining, "]"));
  }
  if (price_e8 <= 0) return absl::InvalidArgumentError("fill price_e8 must be > 0");
  if (fee_e8 < 0) return absl::InvalidArgumentError("fill fee_e8 must be >= 0");
  const OrderStatus to = qty_e8 == remaining ? tickmesh::v1::ORDER_STATUS_FILLED
                                             : tickmesh::v1::ORDER_STATUS_PARTIALLY_FILLED;
  if (auto s = CheckTransition(o.status(), to); !s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(order_id, ": ", s.message()));
  }
  const int64_t new_filled = o.filled_qty_e8() + qty_e8;
  const __int128 cost = static_cast<__int128>(o.avg_fill_price_e8()) * o.filled_qty_e8() +
                        static_cast<__int128>(price_e8) * qty_e8;
  auto vwap = FitInt64((cost + new_filled / 2) / new_filled);
  if (!vwap) return absl::OutOfRangeError("fill overflows the average price");
  o.set_filled_qty_e8(new_filled);
  o.set_avg_fill_price_e8(*vwap);
  o.set_fee_e8(o.fee_e8() + fee_e8);
  // The fill's remaining qty leaves the open exposure now; Transition removes the rest if the
  // order becomes terminal (it computes from the updated filled qty).
  AdjustOpenRemaining(o, -qty_e8);
  rec->last_fill_unix_ns = now_unix_ns;

  Fill fill;
  fill.set_fill_id(absl::StrCat("f-", next_fill_++));
  fill.set_order_id(o.order_id());
  fill.set_client_order_id(o.client_order_id());
  fill.set_venue(o.venue());
  fill.set_symbol(o.symbol());
  fill.set_side(o.side());
  fill.set_price_e8(price_e8);
  fill.set_qty_e8(qty_e8);
  fill.set_fee_e8(fee_e8);
  fill.set_fee_asset(fee_asset);
  fill.set_liquidity(liquidity);
  fill.set_unix_ns(now_unix_ns);
  *fill.mutable_trace() = rec->trace;
  auto* hop = fill.mutable_trace()->add_hops();
  hop->set_service("execution");
  hop->set_stage("venue_ack");
  hop->set_unix_ns(now_unix_ns);
  if (auto s =
          Transition(*rec, to, tickmesh::v1::ORDER_EVENT_TYPE_FILL, now_unix_ns, &fill, events);
      !s.ok()) {
    return s;  // cannot happen: checked above
  }
  return fill;
}

OrderPage OrderManager::List(const OrderQuery& query) const {
  OrderPage page;
  auto it = query.before == 0 ? orders_.end() : orders_.lower_bound(query.before);
  while (it != orders_.begin()) {
    --it;
    const Order& o = it->second.order;
    if (!query.venue.empty() && o.venue() != query.venue) continue;
    if (!query.symbol.empty() && o.symbol() != query.symbol) continue;
    if (!query.statuses.empty() && std::find(query.statuses.begin(), query.statuses.end(),
                                             o.status()) == query.statuses.end()) {
      continue;
    }
    if (page.orders.size() == query.limit) {
      page.next_before = it->first + 1;  // this order starts the next page
      return page;
    }
    page.orders.push_back(o);
  }
  return page;
}

std::vector<std::string> OrderManager::OpenOrderIds() const {
  std::vector<std::string> ids;
  ids.reserve(open_.size());
  for (uint64_t n : open_) ids.push_back(orders_.at(n).order.order_id());
  return ids;
}

std::map<OrderStatus, size_t> OrderManager::CountsByStatus() const { return counts_; }

tickmesh::v1::ExecutionQuality ComputeQuality(const Order& o, int64_t last_fill_unix_ns) {
  tickmesh::v1::ExecutionQuality q;
  q.set_fill_rate(o.qty_e8() > 0 ? static_cast<double>(o.filled_qty_e8()) / o.qty_e8() : 0.0);
  if (o.filled_qty_e8() > 0) {
    const int64_t filled_at = last_fill_unix_ns != 0 ? last_fill_unix_ns : o.updated_unix_ns();
    q.set_time_to_fill_ns(std::max<int64_t>(0, filled_at - o.created_unix_ns()));
  }
  double slippage = 0;
  if (o.arrival_mid_e8() > 0 && o.avg_fill_price_e8() > 0) {
    const double diff = static_cast<double>(o.avg_fill_price_e8() - o.arrival_mid_e8());
    slippage = diff / static_cast<double>(o.arrival_mid_e8()) * 10'000.0;
    if (o.side() == tickmesh::v1::SIDE_SELL) slippage = -slippage;
  }
  q.set_slippage_bps(slippage);
  // Score: the filled share out of 100, minus one point per bp of adverse slippage.
  const double score = 100.0 * q.fill_rate() - std::max(0.0, slippage);
  q.set_score(std::clamp(score, 0.0, 100.0));
  return q;
}

}  // namespace tickmesh::execution
