#include "paper_venue_adapter.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace tickmesh::execution {

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
  // A paper order that is not resting has no venue-side state left (its immediate part is over):
  // cancelling it is a local step, the same answer.
  (void)paper_->CancelResting(order.order_id());
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
