#include "paper_venue_adapter.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tickmesh::execution {

ArrivalTimer::ArrivalTimer(ClockFn clock) : clock_(clock ? std::move(clock) : SteadyClock()) {}

ArrivalTimer::~ArrivalTimer() { Stop(); }

void ArrivalTimer::Start(std::function<void()> on_due) {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stop_) return;
  on_due_ = std::move(on_due);
  thread_ = std::thread([this] { Loop(); });
}

void ArrivalTimer::ArmAt(int64_t due_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  if (due_ns >= due_ns_) return;
  due_ns_ = due_ns;
  cv_.notify_one();
}

void ArrivalTimer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void ArrivalTimer::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (due_ns_ == INT64_MAX) {
      cv_.wait(lock);
      continue;
    }
    const int64_t wait = due_ns_ - clock_();
    if (wait > 0) {
      cv_.wait_for(lock, std::chrono::nanoseconds(std::min(wait, kMaxWaitNs)));
      continue;
    }
    due_ns_ = INT64_MAX;
    lock.unlock();
    on_due_();
    lock.lock();
  }
}

PaperVenueAdapter::PaperVenueAdapter(PaperVenue* paper, ClockFn clock)
    : paper_(paper), timer_(std::move(clock)) {}

PaperVenueAdapter::~PaperVenueAdapter() { StopArrivals(); }

absl::Status PaperVenueAdapter::Send(const tickmesh::v1::Order& order) {
  if (auto s = paper_->Send(order, timer_.now()); !s.ok()) return s;
  if (auto next = paper_->next_arrival_ns()) timer_.ArmAt(*next);
  return absl::OkStatus();
}

std::vector<std::pair<tickmesh::v1::Order, VenueOrderState>> PaperVenueAdapter::TakeArrivals() {
  std::vector<std::pair<tickmesh::v1::Order, VenueOrderState>> out;
  for (auto& [order, report] : paper_->Arrive(timer_.now())) {
    VenueOrderState st = ToState(order, std::move(report));
    out.emplace_back(std::move(order), std::move(st));
  }
  if (auto next = paper_->next_arrival_ns()) timer_.ArmAt(*next);
  return out;
}

const char* VenueOrderStatusName(VenueOrderStatus status) {
  switch (status) {
    case VenueOrderStatus::kOpen:
      return "open";
    case VenueOrderStatus::kFilled:
      return "filled";
    case VenueOrderStatus::kCancelled:
      return "cancelled";
    case VenueOrderStatus::kExpired:
      return "expired";
    case VenueOrderStatus::kRejected:
      return "rejected";
  }
  return "unknown";
}

VenueOrderState PaperVenueAdapter::ToState(const tickmesh::v1::Order& order,
                                           ExecutionReport report) {
  VenueOrderState st;
  st.client_order_id = order.client_order_id();
  st.symbol = order.symbol();
  st.side = order.side();
  st.qty_e8 = order.qty_e8();
  st.price_e8 = order.price_e8();
  if (!report.reject_reason.empty()) {
    st.status = VenueOrderStatus::kRejected;
    st.reason = std::move(report.reject_reason);
    return st;
  }
  st.venue_order_id = std::move(report.venue_order_id);
  switch (report.remainder) {
    case ExecutionReport::Remainder::kNone:
      st.status = VenueOrderStatus::kFilled;
      break;
    case ExecutionReport::Remainder::kRest:
      st.status = VenueOrderStatus::kOpen;
      break;
    case ExecutionReport::Remainder::kCancel:
      st.status = VenueOrderStatus::kCancelled;
      break;
    case ExecutionReport::Remainder::kExpire:
      st.status = VenueOrderStatus::kExpired;
      break;
  }
  st.fills = std::move(report.fills);
  return st;
}

absl::StatusOr<VenueOrderState> PaperVenueAdapter::Place(const tickmesh::v1::Order& order) {
  return ToState(order, paper_->Execute(order));
}

absl::StatusOr<VenueOrderState> PaperVenueAdapter::Cancel(const tickmesh::v1::Order& order) {
  // In flight: it never reaches the book. Otherwise, a paper order that is not resting has no
  // venue-side state left (its immediate part is over): cancelling it is a local step, the same
  // answer.
  if (!paper_->CancelInFlight(order.order_id())) (void)paper_->CancelResting(order.order_id());
  VenueOrderState st;
  st.client_order_id = order.client_order_id();
  st.venue_order_id = order.venue_order_id();
  st.status = VenueOrderStatus::kCancelled;
  return st;
}

absl::StatusOr<VenueOrderState> PaperVenueAdapter::Query(const tickmesh::v1::Order&) {
  return absl::UnimplementedError("paper venue: orders are held by the engine");
}

absl::StatusOr<std::vector<VenueOrderState>> PaperVenueAdapter::OpenOrders() {
  return absl::UnimplementedError("paper venue: orders are held by the engine");
}

absl::StatusOr<std::vector<VenueAssetBalance>> PaperVenueAdapter::Balances() {
  return absl::UnimplementedError("paper venue: balances are held by the engine");
}

}  // namespace tickmesh::execution
