// PaperVenueAdapter: the paper venue (paper_venue.h) behind the Venue contract, so the engine
// routes every order through one interface. In-process: no I/O, called under the engine mutex.
//
// Place executes against the current books at once (fills, with liquidity and fee, in
// VenueOrderState::fills; the unfilled part rests, is cancelled or expires per the order's time
// in force). Cancel removes a resting order. Query, OpenOrders and Balances answer UNIMPLEMENTED:
// the engine itself holds the paper venue's orders and balances (nothing to reconcile).
//
// Not thread-safe (the engine serialises calls); the PaperVenue must outlive the adapter.
#pragma once

#include <string>
#include <vector>

#include "paper_venue.h"
#include "venue.h"

namespace tickmesh::execution {

class PaperVenueAdapter final : public Venue {
 public:
  explicit PaperVenueAdapter(PaperVenue* paper) : paper_(paper) {}

  const std::string& name() const override { return name_; }
  bool remote() const override { return false; }
  absl::StatusOr<VenueOrderState> Place(const tickmesh::v1::Order& order) override;
  absl::StatusOr<VenueOrderState> Cancel(const tickmesh::v1::Order& order) override;
  absl::StatusOr<VenueOrderState> Query(const tickmesh::v1::Order& order) override;
  absl::StatusOr<std::vector<VenueOrderState>> OpenOrders() override;
  absl::StatusOr<std::vector<VenueAssetBalance>> Balances() override;

  // The paper venue's report as a VenueOrderState (exposed for tests).
  static VenueOrderState ToState(const tickmesh::v1::Order& order, ExecutionReport report);

 private:
  PaperVenue* const paper_;
  const std::string name_ = "paper";
};

}  // namespace tickmesh::execution
