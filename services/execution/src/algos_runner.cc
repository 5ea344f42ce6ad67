#include "algos_runner.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "algos.h"

namespace tickmesh::execution {

using tickmesh::v1::Order;
using tickmesh::v1::OrderEventType;
using tickmesh::v1::OrderRequest;
using tickmesh::v1::OrderStatus;

namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr int64_t kNsPerMs = 1'000'000;
// Parent events waiting for the timer thread; beyond, the oldest are dropped (only when nobody
// runs the runner, since the thread drains them on every pass).
constexpr size_t kMaxPendingEvents = 100'000;

bool IsTerminal(OrderStatus s) {
  return s == tickmesh::v1::ORDER_STATUS_FILLED || s == tickmesh::v1::ORDER_STATUS_CANCELLED ||
         s == tickmesh::v1::ORDER_STATUS_REJECTED || s == tickmesh::v1::ORDER_STATUS_EXPIRED;
}

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t SystemNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A refusal that no later attempt can fix: the parent stops.
bool IsFatalRefusal(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kUnimplemented:
      return true;
    case absl::StatusCode::kFailedPrecondition:
      return absl::StartsWith(s.message(), "risk:");
    default:
      return false;
  }
}

// n of a parent order id "a-<n>" (n > 0), or 0.
uint64_t ParentNumber(const std::string& order_id) {
  uint64_t n = 0;
  if (!absl::StartsWith(order_id, "a-") || !absl::SimpleAtoi(order_id.substr(2), &n)) return 0;
  return n;
}

// n of a child client id "<parent client id>/<n>", or 0.
int ChildNumber(const std::string& parent_cid, const std::string& child_cid) {
  int n = 0;
  if (child_cid.size() <= parent_cid.size() + 1 || !absl::StartsWith(child_cid, parent_cid) ||
      child_cid[parent_cid.size()] != '/' ||
      !absl::SimpleAtoi(child_cid.substr(parent_cid.size() + 1), &n) || n < 0) {
    return 0;
  }
  return n;
}

// The request a persisted parent was accepted with (what Submit keeps of it).
OrderRequest RequestFromParent(const Order& o) {
  OrderRequest r;
  r.set_client_order_id(o.client_order_id());
  r.set_venue(o.venue());
  r.set_symbol(o.symbol());
  r.set_side(o.side());
  r.set_type(o.type());
  r.set_time_in_force(o.time_in_force());
  r.set_price_e8(o.price_e8());
  r.set_qty_e8(o.qty_e8());
  r.set_strategy(o.strategy().empty() ? "manual" : o.strategy());
  r.set_algo(o.algo());
  r.set_algo_duration_ms(o.algo_duration_ms());
  r.set_display_qty_e8(o.display_qty_e8());
  r.set_max_impact_bps(o.max_impact_bps());
  return r;
}

}  // namespace

AlgoRunner::AlgoRunner(Options options, Hooks hooks)
    : options_(options), hooks_(std::move(hooks)), next_parent_(options.first_parent_id) {
  if (next_parent_ == 0) next_parent_ = 1;
}

AlgoRunner::~AlgoRunner() { Stop(); }

bool AlgoRunner::IsAlgo(const OrderRequest& r) {
  return r.algo() == tickmesh::v1::EXEC_ALGO_TWAP || r.algo() == tickmesh::v1::EXEC_ALGO_ICEBERG ||
         r.algo() == tickmesh::v1::EXEC_ALGO_LIQUIDITY_AWARE;
}

absl::StatusOr<tickmesh::v1::SubmitOrderResponse> AlgoRunner::Submit(const OrderRequest& r) {
  if (!IsAlgo(r)) {
    return absl::InvalidArgumentError("order.algo: not an execution algorithm parent");
  }
  tickmesh::v1::SubmitOrderResponse resp;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = parents_.find(r.client_order_id()); it != parents_.end()) {
    *resp.mutable_order() = it->second.order;
    resp.set_duplicate(true);
    return resp;
  }
  if (active_ >= options_.max_active_parents) {
    return absl::ResourceExhaustedError("algo parents limit");
  }
  const int64_t now = hooks_.mono_now_ns ? hooks_.mono_now_ns() : SteadyNs();
  const int64_t unix_now = hooks_.unix_now_ns ? hooks_.unix_now_ns() : SystemNs();
  const uint64_t number = next_parent_++;
  Parent p;
  p.number = number;
  p.request = r;
  if (p.request.strategy().empty()) p.request.set_strategy("manual");
  Order& o = p.order;
  o.set_order_id(absl::StrCat("a-", number));
  o.set_client_order_id(r.client_order_id());
  o.set_venue(r.venue());
  o.set_symbol(r.symbol());
  o.set_side(r.side());
  o.set_type(r.type());
  o.set_time_in_force(r.time_in_force());
  o.set_price_e8(r.type() == tickmesh::v1::ORDER_TYPE_LIMIT ? r.price_e8() : 0);
  o.set_qty_e8(r.qty_e8());
  o.set_strategy(p.request.strategy());
  o.set_algo(r.algo());
  o.set_algo_duration_ms(r.algo_duration_ms());
  o.set_display_qty_e8(r.display_qty_e8());
  o.set_max_impact_bps(r.max_impact_bps());
  o.set_status(tickmesh::v1::ORDER_STATUS_ACKED);
  o.set_created_unix_ns(unix_now);
  p.start_mono = now;
  p.next_due = now;
  if (r.algo_duration_ms() > 0) {
    p.end_mono = now + static_cast<int64_t>(r.algo_duration_ms()) * kNsPerMs;
  }
  if (r.algo() == tickmesh::v1::EXEC_ALGO_TWAP) {
    p.twap_qty = r.qty_e8();
    p.twap_duration_ns = static_cast<int64_t>(r.algo_duration_ms()) * kNsPerMs;
    p.twap_slices = PlanTwap(p.twap_qty, p.twap_duration_ns, options_.twap_slice_interval_ns,
                             options_.max_twap_slices)
                        .slices;
  }
  const std::string cid = r.client_order_id();
  by_order_id_[o.order_id()] = cid;
  by_number_[number] = cid;
  Parent& stored = parents_.emplace(cid, std::move(p)).first->second;
  active_ids_.insert(cid);
  ++active_;
  ChangedLocked(stored, tickmesh::v1::ORDER_EVENT_TYPE_ACKED);
  *resp.mutable_order() = stored.order;
  WakeLocked();
  return resp;
}

AlgoRunner::Parent* AlgoRunner::FindLocked(const tickmesh::v1::OrderRef& ref) {
  std::string cid;
  switch (ref.ref_case()) {
    case tickmesh::v1::OrderRef::kClientOrderId:
      cid = ref.client_order_id();
      break;
    case tickmesh::v1::OrderRef::kOrderId: {
      auto it = by_order_id_.find(ref.order_id());
      if (it == by_order_id_.end()) return nullptr;
      cid = it->second;
      break;
    }
    default:
      return nullptr;
  }
  auto it = parents_.find(cid);
  return it == parents_.end() ? nullptr : &it->second;
}

const AlgoRunner::Parent* AlgoRunner::FindLocked(const tickmesh::v1::OrderRef& ref) const {
  return const_cast<AlgoRunner*>(this)->FindLocked(ref);
}

std::optional<Order> AlgoRunner::Get(const tickmesh::v1::OrderRef& ref) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Parent* p = FindLocked(ref);
  if (p == nullptr) return std::nullopt;
  return p->order;
}

std::vector<Order> AlgoRunner::List(size_t limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Order> out;
  for (auto it = by_number_.rbegin(); it != by_number_.rend() && out.size() < limit; ++it) {
    auto pit = parents_.find(it->second);
    if (pit != parents_.end()) out.push_back(pit->second.order);
  }
  return out;
}

std::vector<Order> AlgoRunner::List(const ParentQuery& q) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Order> out;
  auto it = q.before == 0 ? by_number_.end() : by_number_.lower_bound(q.before);
  while (it != by_number_.begin() && out.size() < q.limit) {
    --it;
    auto pit = parents_.find(it->second);
    if (pit == parents_.end()) continue;
    const Order& o = pit->second.order;
    if (!q.venue.empty() && o.venue() != q.venue) continue;
    if (!q.symbol.empty() && o.symbol() != q.symbol) continue;
    if (!q.statuses.empty() &&
        std::find(q.statuses.begin(), q.statuses.end(), o.status()) == q.statuses.end()) {
      continue;
    }
    out.push_back(o);
  }
  return out;
}

AlgoRunner::RestoreSummary AlgoRunner::Restore(std::vector<RestoredParent> parents,
                                               const std::vector<Order>& orphans) {
  RestoreSummary sum;
  std::vector<std::string> cancels;  // child client ids, cancelled outside the mutex
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = hooks_.mono_now_ns ? hooks_.mono_now_ns() : SteadyNs();
    const int64_t unix_now = hooks_.unix_now_ns ? hooks_.unix_now_ns() : SystemNs();
    for (RestoredParent& rp : parents) {
      const Order& po = rp.parent;
      const uint64_t number = ParentNumber(po.order_id());
      if (number == 0 || IsTerminal(po.status())) {
        for (const Order& c : rp.children) {
          if (!IsTerminal(c.status())) cancels.push_back(c.client_order_id());
        }
        ++sum.skipped;
        continue;
      }
      if (parents_.count(po.client_order_id()) != 0 || by_order_id_.count(po.order_id()) != 0) {
        continue;
      }
      Parent p;
      p.number = number;
      p.order = po;
      p.request = RequestFromParent(po);
      std::string why;
      if (!IsAlgo(p.request)) {
        why = "not an execution algorithm parent";
      } else if (auto st = ValidateAlgoFields(p.request); !st.ok()) {
        why = std::string(st.message());
      } else if (!rp.children_complete) {
        why = "children not all found";
      } else if (active_ >= options_.max_active_parents) {
        why = "algo parents limit";
      }
      // The children are the truth for what the parent has done.
      int max_child = 0;
      __int128 notional = 0;
      int64_t filled = 0;
      int64_t fee = 0;
      std::vector<std::string> open;
      for (const Order& c : rp.children) {
        Child& ch = p.children[c.client_order_id()];
        ch.qty_e8 = c.qty_e8();
        ch.version = c.version();
        ch.status = c.status();
        ch.filled_e8 = c.filled_qty_e8();
        ch.avg_price_e8 = c.avg_fill_price_e8();
        ch.fee_e8 = c.fee_e8();
        ch.reject_reason = c.reject_reason();
        ch.done_seen = true;
        ch.closed = IsTerminal(c.status());
        if (!ch.closed) open.push_back(c.client_order_id());
        max_child = std::max(max_child, ChildNumber(po.client_order_id(), c.client_order_id()));
        filled += ch.filled_e8;
        fee += ch.fee_e8;
        notional += static_cast<__int128>(ch.filled_e8) * ch.avg_price_e8;
      }
      if (why.empty() && filled < po.filled_qty_e8()) {
        why = "children fills below the parent's";
      }
      if (filled >= po.filled_qty_e8()) {
        p.order.set_filled_qty_e8(filled);
        p.order.set_fee_e8(fee);
        p.order.set_avg_fill_price_e8(
            filled > 0 ? static_cast<int64_t>((notional + filled / 2) / filled) : 0);
      }
      p.next_child = max_child + 1;
      // One open child is followed as if the runner had just sent it; a second one (never
      // expected) is cancelled, and the parent is not resumed.
      const std::string pcid = po.client_order_id();
      for (size_t i = 0; i < open.size(); ++i) {
        child_index_[open[i]] = pcid;
        if (i == 0) {
          p.open_child = open[i];
        } else {
          p.children[open[i]].runner_cancel = true;
          cancels.push_back(open[i]);
          if (why.empty()) why = "more than one open child";
        }
      }
      if (p.order.status() != tickmesh::v1::ORDER_STATUS_PARTIALLY_FILLED &&
          p.order.filled_qty_e8() > 0 && p.order.filled_qty_e8() < p.order.qty_e8()) {
        p.order.set_status(tickmesh::v1::ORDER_STATUS_PARTIALLY_FILLED);
      }
      // Schedule from now: the deadline stays where the parent's start put it.
      const int64_t duration_ns = static_cast<int64_t>(po.algo_duration_ms()) * kNsPerMs;
      const int64_t left_ns = duration_ns > 0 ? po.created_unix_ns() + duration_ns - unix_now : 0;
      p.start_mono = now;
      p.next_due = now;
      if (p.order.algo() == tickmesh::v1::EXEC_ALGO_TWAP) {
        p.twap_base_filled = p.order.filled_qty_e8();
        p.twap_qty = std::max<int64_t>(p.order.qty_e8() - p.order.filled_qty_e8(), 0);
        p.twap_duration_ns = std::max<int64_t>(left_ns, 0);
        p.twap_slices = PlanTwap(p.twap_qty, p.twap_duration_ns, options_.twap_slice_interval_ns,
                                 options_.max_twap_slices)
                            .slices;
      } else if (duration_ns > 0) {
        p.end_mono = now + std::max<int64_t>(left_ns, 0);
      }
      by_order_id_[p.order.order_id()] = pcid;
      by_number_[number] = pcid;
      next_parent_ = std::max(next_parent_, number + 1);
      const bool changed =
          p.order.filled_qty_e8() != po.filled_qty_e8() || p.order.status() != po.status();
      Parent& stored = parents_.emplace(pcid, std::move(p)).first->second;
      active_ids_.insert(pcid);
      ++active_;
      if (changed) ChangedLocked(stored, tickmesh::v1::ORDER_EVENT_TYPE_FILL);
      if (!why.empty()) {
        StopLocked(stored, tickmesh::v1::ORDER_STATUS_CANCELLED,
                   absl::StrCat("algo:not_resumable: ", why));
      } else if (stored.order.filled_qty_e8() < stored.order.qty_e8() && duration_ns > 0 &&
                 left_ns <= 0) {
        StopLocked(stored, tickmesh::v1::ORDER_STATUS_EXPIRED, "algo:deadline_passed_at_restart");
      }
      // A stopping parent's open child is cancelled by the timer thread (cancel_child_due).
      MaybeFinishLocked(stored);
      if (stored.stopping || IsTerminal(stored.order.status()) ||
          stored.order.filled_qty_e8() >= stored.order.qty_e8()) {
        ++sum.ended;
      } else {
        ++sum.resumed;
      }
    }
    for (const Order& c : orphans) {
      if (IsTerminal(c.status()) || child_index_.count(c.client_order_id()) != 0) continue;
      cancels.push_back(c.client_order_id());
      sum.cancelled_orphans.push_back(c.client_order_id());
    }
    WakeLocked();
  }
  for (const std::string& cid : cancels) (void)hooks_.cancel(cid);
  return sum;
}

size_t AlgoRunner::active_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

uint64_t AlgoRunner::children_submitted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return children_submitted_;
}

absl::StatusOr<Order> AlgoRunner::Cancel(const tickmesh::v1::OrderRef& ref) {
  std::string child_to_cancel;
  std::string cid;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Parent* p = FindLocked(ref);
    if (p == nullptr) return absl::NotFoundError("algo parent not found");
    if (IsTerminal(p->order.status())) {
      return absl::FailedPreconditionError(
          absl::StrCat("order ", p->order.order_id(), " has already ended"));
    }
    cid = p->order.client_order_id();
    StopLocked(*p, tickmesh::v1::ORDER_STATUS_CANCELLED, "");
    if (!p->open_child.empty() && p->children[p->open_child].done_seen) {
      child_to_cancel = p->open_child;
      p->children[child_to_cancel].runner_cancel = true;
      p->cancel_child_due = false;
    }
    // A child still in flight is cancelled when its submission is answered (OnSubmitDone).
    MaybeFinishLocked(*p);
  }
  if (!child_to_cancel.empty()) (void)hooks_.cancel(child_to_cancel);
  std::lock_guard<std::mutex> lock(mu_);
  WakeLocked();
  auto it = parents_.find(cid);
  if (it == parents_.end()) return absl::NotFoundError("algo parent not found");  // retention
  return it->second.order;
}

void AlgoRunner::OnOrderEvents(const tickmesh::v1::OrderEventBatch& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  if (child_index_.empty()) return;
  for (const auto& ev : batch.events()) {
    auto it = child_index_.find(ev.order().client_order_id());
    if (it == child_index_.end()) continue;
    auto pit = parents_.find(it->second);
    if (pit == parents_.end()) continue;
    ApplyChildOrderLocked(pit->second, ev.order());
    MaybeCloseChildLocked(pit->second, ev.order().client_order_id(), absl::OkStatus());
  }
}

void AlgoRunner::ApplyChildOrderLocked(Parent& p, const Order& o) {
  auto it = p.children.find(o.client_order_id());
  if (it == p.children.end()) return;
  Child& c = it->second;
  if (o.version() < c.version) return;  // older than what we have
  c.version = o.version();
  c.status = o.status();
  c.reject_reason = o.reject_reason();
  if (o.filled_qty_e8() == c.filled_e8 && o.fee_e8() == c.fee_e8) return;
  c.filled_e8 = o.filled_qty_e8();
  c.avg_price_e8 = o.avg_fill_price_e8();
  c.fee_e8 = o.fee_e8();
  __int128 notional = 0;
  int64_t filled = 0;
  int64_t fee = 0;
  for (const auto& [id, ch] : p.children) {
    filled += ch.filled_e8;
    fee += ch.fee_e8;
    notional += static_cast<__int128>(ch.filled_e8) * ch.avg_price_e8;
  }
  const int64_t before = p.order.filled_qty_e8();
  p.order.set_filled_qty_e8(filled);
  p.order.set_fee_e8(fee);
  p.order.set_avg_fill_price_e8(filled > 0 ? static_cast<int64_t>((notional + filled / 2) / filled)
                                           : 0);
  if (filled != before && !IsTerminal(p.order.status()) && filled < p.order.qty_e8()) {
    p.order.set_status(tickmesh::v1::ORDER_STATUS_PARTIALLY_FILLED);
  }
  ChangedLocked(p, tickmesh::v1::ORDER_EVENT_TYPE_FILL);
}

void AlgoRunner::OnSubmitDone(const std::string& parent_cid, const std::string& child_cid,
                              const absl::StatusOr<tickmesh::v1::SubmitOrderResponse>& result) {
  std::lock_guard<std::mutex> lock(mu_);
  auto pit = parents_.find(parent_cid);
  if (pit == parents_.end()) return;
  Parent& p = pit->second;
  auto cit = p.children.find(child_cid);
  if (cit == p.children.end()) return;
  cit->second.done_seen = true;
  if (!result.ok()) {
    MaybeCloseChildLocked(p, child_cid, result.status());
  } else {
    ApplyChildOrderLocked(p, result->order());
    MaybeCloseChildLocked(p, child_cid, absl::OkStatus());
    Child& c = p.children[child_cid];
    if (!c.closed && p.stopping && !c.runner_cancel) {
      p.cancel_child_due = true;  // cancel asked while the child was in flight
    }
  }
  WakeLocked();
}

void AlgoRunner::MaybeCloseChildLocked(Parent& p, const std::string& child_cid,
                                       const absl::Status& refusal) {
  auto it = p.children.find(child_cid);
  if (it == p.children.end()) return;
  Child& c = it->second;
  if (c.closed) return;
  absl::Status refused = refusal;
  if (refused.ok()) {
    if (!c.done_seen || !IsTerminal(c.status)) return;
    if (c.status == tickmesh::v1::ORDER_STATUS_REJECTED) {
      refused = absl::FailedPreconditionError(c.reject_reason);
    }
  }
  c.closed = true;
  child_index_.erase(child_cid);
  if (p.open_child == child_cid) p.open_child.clear();
  p.cancel_child_due = false;
  const int64_t now = hooks_.mono_now_ns ? hooks_.mono_now_ns() : SteadyNs();
  const tickmesh::v1::ExecAlgo algo = p.order.algo();
  bool schedule = !p.stopping;
  if (!refused.ok()) {
    if (IsFatalRefusal(refused) || ++p.refusals > options_.max_consecutive_refusals) {
      StopLocked(p, tickmesh::v1::ORDER_STATUS_CANCELLED, std::string(refused.message()));
      schedule = false;
    }
  } else {
    p.refusals = 0;
    if (algo == tickmesh::v1::EXEC_ALGO_ICEBERG && !c.runner_cancel && !p.stopping &&
        (c.status == tickmesh::v1::ORDER_STATUS_CANCELLED ||
         c.status == tickmesh::v1::ORDER_STATUS_EXPIRED)) {
      StopLocked(p, tickmesh::v1::ORDER_STATUS_CANCELLED, "child_cancelled");
      schedule = false;
    }
  }
  if (schedule && p.order.filled_qty_e8() < p.order.qty_e8()) {
    switch (algo) {
      case tickmesh::v1::EXEC_ALGO_TWAP:
        if (p.twap_next < p.twap_slices) {
          p.next_due =
              p.start_mono + TwapSliceOffsetNs(p.twap_duration_ns, p.twap_slices, p.twap_next);
        } else {
          StopLocked(p, tickmesh::v1::ORDER_STATUS_EXPIRED,
                     refused.ok() ? "" : std::string(refused.message()));
        }
        break;
      case tickmesh::v1::EXEC_ALGO_ICEBERG:
        p.next_due = refused.ok() ? now : now + options_.retry_interval_ns;
        break;
      default:
        p.next_due =
            now + (refused.ok() ? options_.liquidity_interval_ns : options_.retry_interval_ns);
        break;
    }
  }
  MaybeFinishLocked(p);
  WakeLocked();
}

void AlgoRunner::StopLocked(Parent& p, OrderStatus status, std::string reason) {
  if (p.stopping || IsTerminal(p.order.status())) return;
  p.stopping = true;
  p.stop_status = status;
  p.stop_reason = std::move(reason);
  if (!p.open_child.empty()) p.cancel_child_due = true;
  p.next_due = 0;
}

void AlgoRunner::MaybeFinishLocked(Parent& p) {
  if (IsTerminal(p.order.status()) || !p.open_child.empty()) return;
  OrderStatus status;
  if (p.order.filled_qty_e8() >= p.order.qty_e8()) {
    status = tickmesh::v1::ORDER_STATUS_FILLED;
  } else if (p.stopping) {
    status = p.stop_status;
    if (!p.stop_reason.empty()) p.order.set_reject_reason(p.stop_reason);
  } else {
    return;
  }
  p.order.set_status(status);
  p.next_due = kNever;
  OrderEventType type = tickmesh::v1::ORDER_EVENT_TYPE_CANCELLED;
  if (status == tickmesh::v1::ORDER_STATUS_FILLED) type = tickmesh::v1::ORDER_EVENT_TYPE_FILL;
  if (status == tickmesh::v1::ORDER_STATUS_EXPIRED) type = tickmesh::v1::ORDER_EVENT_TYPE_EXPIRED;
  ChangedLocked(p, type);
  active_ids_.erase(p.order.client_order_id());
  --active_;
  RetainLocked(p.order.client_order_id());
}

void AlgoRunner::RetainLocked(const std::string& client_id) {
  finished_.push_back(client_id);
  while (finished_.size() > options_.retained_parents) {
    const std::string old = finished_.front();
    finished_.pop_front();
    auto it = parents_.find(old);
    if (it == parents_.end()) continue;
    by_order_id_.erase(it->second.order.order_id());
    by_number_.erase(it->second.number);
    for (const auto& [child, c] : it->second.children) child_index_.erase(child);
    parents_.erase(it);
  }
}

void AlgoRunner::ChangedLocked(Parent& p, OrderEventType type) {
  p.order.set_version(p.order.version() + 1);
  p.order.set_updated_unix_ns(hooks_.unix_now_ns ? hooks_.unix_now_ns() : SystemNs());
  if (!hooks_.parent_event) return;
  tickmesh::v1::OrderEvent ev;
  ev.set_event_id(absl::StrCat(p.order.order_id(), ":", p.order.version()));
  ev.set_seq(++event_seq_);
  ev.set_type(type);
  *ev.mutable_order() = p.order;
  ev.set_unix_ns(p.order.updated_unix_ns());
  *ev.mutable_trace() = p.request.trace();
  if (pending_events_.size() >= kMaxPendingEvents) pending_events_.pop_front();
  pending_events_.push_back(std::move(ev));
}

void AlgoRunner::WakeLocked() {
  wake_ = true;
  cv_.notify_one();
}

int64_t AlgoRunner::DueLocked(const Parent& p) const {
  if (IsTerminal(p.order.status())) return kNever;
  if (p.cancel_child_due && !p.open_child.empty()) {
    // A child still in flight is cancelled once its submission is answered.
    return p.children.at(p.open_child).done_seen ? 0 : kNever;
  }
  int64_t due = p.open_child.empty() ? p.next_due : kNever;
  if (p.stopping && p.open_child.empty()) return 0;
  if (p.end_mono != 0 && !p.stopping && p.order.algo() != tickmesh::v1::EXEC_ALGO_TWAP) {
    due = std::min(due, p.end_mono);
  }
  return due;
}

std::optional<OrderRequest> AlgoRunner::NextChildLocked(Parent& p, int64_t now,
                                                        const BookMap& books) {
  const OrderRequest& r = p.request;
  const int64_t remaining = p.order.qty_e8() - p.order.filled_qty_e8();
  if (remaining <= 0) return std::nullopt;
  if (p.next_child > options_.max_children) {
    StopLocked(p, tickmesh::v1::ORDER_STATUS_CANCELLED, "algo:max_children");
    return std::nullopt;
  }
  OrderRequest child;
  child.set_venue(r.venue());
  child.set_symbol(r.symbol());
  child.set_side(r.side());
  child.set_strategy(r.strategy());
  child.set_algo(tickmesh::v1::EXEC_ALGO_IMMEDIATE);
  child.set_parent_order_id(p.order.order_id());
  *child.mutable_trace() = r.trace();
  switch (r.algo()) {
    case tickmesh::v1::EXEC_ALGO_TWAP: {
      // Slices already overdue (the runner or a refused child fell behind) merge into one child:
      // the cumulative target of the latest one due covers them.
      const int64_t duration_ns = p.twap_duration_ns;
      while (p.twap_next + 1 < p.twap_slices &&
             p.start_mono + TwapSliceOffsetNs(duration_ns, p.twap_slices, p.twap_next + 1) <= now) {
        ++p.twap_next;
      }
      // Skip slices whose target is already met (earlier children filled ahead of schedule).
      int64_t qty = 0;
      while (p.twap_next < p.twap_slices && qty <= 0) {
        qty = p.twap_base_filled + TwapCumulativeTarget(p.twap_qty, p.twap_slices, p.twap_next) -
              p.order.filled_qty_e8();
        ++p.twap_next;
      }
      if (qty <= 0) return std::nullopt;
      child.set_type(r.type());
      if (r.type() == tickmesh::v1::ORDER_TYPE_LIMIT) {
        child.set_price_e8(r.price_e8());
        child.set_time_in_force(tickmesh::v1::TIME_IN_FORCE_IOC);
      }
      child.set_qty_e8(qty);
      break;
    }
    case tickmesh::v1::EXEC_ALGO_ICEBERG:
      child.set_type(tickmesh::v1::ORDER_TYPE_LIMIT);
      child.set_time_in_force(tickmesh::v1::TIME_IN_FORCE_GTC);
      child.set_price_e8(r.price_e8());
      child.set_qty_e8(IcebergChildQty(remaining, r.display_qty_e8()));
      break;
    case tickmesh::v1::EXEC_ALGO_LIQUIDITY_AWARE: {
      auto it = books.find(p.order.client_order_id());
      std::optional<ImpactSizing> size;
      if (it != books.end() && it->second.has_value()) {
        size =
            SizeForImpact(r.side(), *it->second, r.max_impact_bps(),
                          r.type() == tickmesh::v1::ORDER_TYPE_LIMIT ? r.price_e8() : 0, remaining);
      }
      if (!size) {
        p.next_due = now + options_.liquidity_interval_ns;  // wait for liquidity
        return std::nullopt;
      }
      child.set_type(tickmesh::v1::ORDER_TYPE_LIMIT);
      child.set_time_in_force(tickmesh::v1::TIME_IN_FORCE_IOC);
      child.set_price_e8(size->worst_price_e8);
      child.set_qty_e8(size->qty_e8);
      break;
    }
    default:
      return std::nullopt;
  }
  child.set_client_order_id(absl::StrCat(p.order.client_order_id(), "/", p.next_child++));
  return child;
}

void AlgoRunner::PlanLocked(Parent& p, int64_t now, const BookMap& books,
                            std::vector<Action>* actions) {
  if (IsTerminal(p.order.status())) return;
  if (p.cancel_child_due && !p.open_child.empty()) {
    Child& c = p.children[p.open_child];
    if (c.done_seen) {
      p.cancel_child_due = false;
      c.runner_cancel = true;
      actions->push_back({Action::Kind::kCancel, p.order.client_order_id(), {}, p.open_child});
    }
    return;
  }
  // Deadline of ICEBERG / LIQUIDITY_AWARE (a TWAP ends after its last slice).
  if (p.end_mono != 0 && now >= p.end_mono && p.order.algo() != tickmesh::v1::EXEC_ALGO_TWAP &&
      !p.stopping) {
    StopLocked(p, tickmesh::v1::ORDER_STATUS_EXPIRED, "");
    if (!p.open_child.empty()) {
      PlanLocked(p, now, books, actions);  // cancels the open child
      return;
    }
  }
  if (!p.open_child.empty()) return;
  MaybeFinishLocked(p);
  if (IsTerminal(p.order.status()) || p.stopping || p.next_due > now) return;
  std::optional<OrderRequest> child = NextChildLocked(p, now, books);
  if (!child) {
    if (p.order.algo() == tickmesh::v1::EXEC_ALGO_TWAP && p.twap_next >= p.twap_slices) {
      StopLocked(p, tickmesh::v1::ORDER_STATUS_EXPIRED, "");
    }
    MaybeFinishLocked(p);
    return;
  }
  const std::string id = child->client_order_id();
  Child& c = p.children[id];
  c.qty_e8 = child->qty_e8();
  p.open_child = id;
  p.next_due = kNever;
  child_index_[id] = p.order.client_order_id();
  ++children_submitted_;
  actions->push_back({Action::Kind::kSubmit, p.order.client_order_id(), std::move(*child), id});
}

int64_t AlgoRunner::RunDue() {
  const int64_t now = hooks_.mono_now_ns ? hooks_.mono_now_ns() : SteadyNs();
  // Books are read outside the runner's mutex (the hook takes the engine's).
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> want_books;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& cid : active_ids_) {
      const Parent& p = parents_.at(cid);
      if (p.order.algo() == tickmesh::v1::EXEC_ALGO_LIQUIDITY_AWARE && p.open_child.empty() &&
          !p.stopping && DueLocked(p) <= now) {
        want_books.push_back({cid, {p.order.venue(), p.order.symbol()}});
      }
    }
  }
  BookMap books;
  for (const auto& [cid, instrument] : want_books) {
    books[cid] = hooks_.book ? hooks_.book(instrument.first, instrument.second) : std::nullopt;
  }
  std::vector<Action> actions;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Copy: planning may finish parents (erasing from active_ids_).
    const std::vector<std::string> ids(active_ids_.begin(), active_ids_.end());
    for (const std::string& cid : ids) {
      Parent& p = parents_.at(cid);
      if (DueLocked(p) <= now) PlanLocked(p, now, books, &actions);
    }
  }
  for (Action& a : actions) {
    if (a.kind == Action::Kind::kCancel) {
      (void)hooks_.cancel(a.child_client_id);
      continue;
    }
    hooks_.submit(std::move(a.child),
                  [this, pcid = a.parent_client_id, ccid = a.child_client_id](
                      absl::StatusOr<tickmesh::v1::SubmitOrderResponse> result) {
                    OnSubmitDone(pcid, ccid, result);
                  });
  }
  std::deque<tickmesh::v1::OrderEvent> events;
  int64_t next = kNever;
  {
    std::lock_guard<std::mutex> lock(mu_);
    events.swap(pending_events_);
    for (const std::string& cid : active_ids_) next = std::min(next, DueLocked(parents_.at(cid)));
  }
  if (hooks_.parent_event) {
    for (auto& ev : events) hooks_.parent_event(std::move(ev));
  }
  return next;
}

void AlgoRunner::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { ThreadMain(); });
}

void AlgoRunner::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    stop_ = true;
    cv_.notify_all();
  }
  thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  thread_ = std::thread();
}

void AlgoRunner::ThreadMain() {
  for (;;) {
    const int64_t next = RunDue();
    std::unique_lock<std::mutex> lock(mu_);
    if (stop_) return;
    if (wake_) {
      wake_ = false;
      continue;
    }
    // Bounded waits keep an injected clock that jumps from stalling the loop for long.
    constexpr int64_t kMaxWaitNs = 100'000'000;
    const int64_t now = hooks_.mono_now_ns ? hooks_.mono_now_ns() : SteadyNs();
    const int64_t wait =
        next == kNever ? kMaxWaitNs : std::clamp<int64_t>(next - now, 0, kMaxWaitNs);
    if (wait > 0) {
      cv_.wait_for(lock, std::chrono::nanoseconds(wait), [this] { return stop_ || wake_; });
    }
    if (stop_) return;
    wake_ = false;
  }
}

}  // namespace tickmesh::execution
