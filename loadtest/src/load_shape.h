// LoadShape: the arrival-rate schedule of an open-loop load test, as a list of stages, each either
// a constant rate or a linear ramp between two rates (k6's constant-arrival-rate and
// ramping-arrival-rate executors). It answers "how many events are due by time t" and "when is
// event k due", exactly and without drift, so a generator that falls behind catches up to the
// schedule instead of silently lowering the rate.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tickmesh::loadtest {

// One stage. Constant when from_per_s == to_per_s; otherwise the rate moves linearly from
// from_per_s at the stage's start to to_per_s at its end.
struct Stage {
  double duration_s = 0;
  double from_per_s = 0;
  double to_per_s = 0;
  std::string label;  // optional ("warmup", "peak", "step 3"), shown in reports
};

class LoadShape {
 public:
  // Validates and builds. INVALID_ARGUMENT naming the stage ("stages[2].duration_s: ...") when a
  // duration is not in (0, 86400], a rate is negative or above 10 000 000/s, or there are no
  // stages.
  static absl::StatusOr<LoadShape> Create(std::vector<Stage> stages);

  const std::vector<Stage>& stages() const { return stages_; }
  double duration_s() const { return starts_.back(); }
  // Intended rate at t seconds from the start (0 outside [0, duration)).
  double RateAt(double t_s) const;
  // Index of the stage that contains t (the last stage for t >= duration).
  int StageAt(double t_s) const;
  // Events due in [0, t): the integral of the rate.
  double CountAt(double t_s) const;
  // Number of events in the whole shape: event k exists when its time is < duration.
  uint64_t TotalEvents() const;
  // When event k (0-based) is due, in seconds from the start: the t with CountAt(t) == k. Events
  // beyond TotalEvents() return duration_s(). O(log stages).
  double TimeOfEvent(uint64_t k) const;

 private:
  std::vector<Stage> stages_;
  std::vector<double> starts_;  // starts_[i] = start of stage i; starts_.back() = duration
  std::vector<double> counts_;  // counts_[i] = CountAt(starts_[i])
};

}  // namespace tickmesh::loadtest
