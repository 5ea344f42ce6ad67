#include "load_shape.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace tickmesh::loadtest {

absl::StatusOr<LoadShape> LoadShape::Create(std::vector<Stage> stages) {
  if (stages.empty()) return absl::InvalidArgumentError("stages: at least one stage is required");
  for (size_t i = 0; i < stages.size(); ++i) {
    const Stage& s = stages[i];
    if (!(s.duration_s > 0 && s.duration_s <= 86400)) {
      return absl::InvalidArgumentError(
          absl::StrCat("stages[", i, "].duration_s: must be in (0, 86400], got ", s.duration_s));
    }
    for (auto [field, rate] : {std::pair{"from_per_s", s.from_per_s}, {"to_per_s", s.to_per_s}}) {
      if (!(rate >= 0 && rate <= 1e7)) {
        return absl::InvalidArgumentError(
            absl::StrCat("stages[", i, "].", field, ": must be in [0, 10000000], got ", rate));
      }
    }
  }
  LoadShape shape;
  shape.stages_ = std::move(stages);
  double t = 0, n = 0;
  for (const Stage& s : shape.stages_) {
    shape.starts_.push_back(t);
    shape.counts_.push_back(n);
    t += s.duration_s;
    n += (s.from_per_s + s.to_per_s) / 2 * s.duration_s;
  }
  shape.starts_.push_back(t);
  shape.counts_.push_back(n);
  return shape;
}

int LoadShape::StageAt(double t_s) const {
  // The last start <= t.
  auto it = std::upper_bound(starts_.begin(), starts_.end() - 1, t_s);
  if (it == starts_.begin()) return 0;
  return int(std::min<ptrdiff_t>(it - starts_.begin() - 1, ptrdiff_t(stages_.size()) - 1));
}

double LoadShape::RateAt(double t_s) const {
  if (t_s < 0 || t_s >= duration_s()) return 0;
  const int i = StageAt(t_s);
  const Stage& s = stages_[i];
  const double tau = t_s - starts_[i];
  return s.from_per_s + (s.to_per_s - s.from_per_s) * tau / s.duration_s;
}

double LoadShape::CountAt(double t_s) const {
  if (t_s <= 0) return 0;
  if (t_s >= duration_s()) return counts_.back();
  const int i = StageAt(t_s);
  const Stage& s = stages_[i];
  const double tau = t_s - starts_[i];
  return counts_[i] + s.from_per_s * tau +
         (s.to_per_s - s.from_per_s) * tau * tau / (2 * s.duration_s);
}

uint64_t LoadShape::TotalEvents() const {
  // Event k exists when k < CountAt(duration); the epsilon absorbs rounding in whole counts.
  const double n = counts_.back();
  return uint64_t(std::max(0.0, std::ceil(n - 1e-9)));
}

double LoadShape::TimeOfEvent(uint64_t k) const {
  const double n = double(k);
  if (k >= TotalEvents()) return duration_s();
  // The stage whose cumulative range [counts_[i], counts_[i+1]) holds n.
  auto it = std::upper_bound(counts_.begin(), counts_.end(), n);
  int i = int(it - counts_.begin()) - 1;
  i = std::clamp(i, 0, int(stages_.size()) - 1);
  // Skip zero-rate stages that hold no events (counts_[i] == counts_[i+1]).
  while (i + 1 < int(stages_.size()) && counts_[i + 1] <= n) ++i;
  const Stage& s = stages_[i];
  const double m = n - counts_[i];  // events into this stage
  const double a = s.from_per_s;
  const double slope = (s.to_per_s - s.from_per_s) / s.duration_s;  // rate change per second
  // Solve a*tau + slope*tau^2/2 = m for tau >= 0 in the cancellation-free form
  // tau = 2m / (a + sqrt(a^2 + 2*slope*m)); for slope == 0 it is m / a.
  double tau;
  if (slope == 0) {
    tau = a > 0 ? m / a : 0;
  } else {
    const double disc = std::max(0.0, a * a + 2 * slope * m);
    const double denom = a + std::sqrt(disc);
    tau = denom > 0 ? 2 * m / denom : 0;
  }
  return std::min(starts_[i] + std::min(tau, s.duration_s), duration_s());
}

}  // namespace tickmesh::loadtest
