#include "positions.h"

namespace tickmesh::signal {

PositionTable::Slot* PositionTable::Register(const std::string& venue, const std::string& symbol) {
  absl::MutexLock lock(&mu_);
  for (auto& s : slots_) {
    if (s->venue == venue && s->symbol == symbol) return s.get();
  }
  auto slot = std::make_unique<Slot>();
  slot->venue = venue;
  slot->symbol = symbol;
  slots_.push_back(std::move(slot));
  return slots_.back().get();
}

std::vector<PositionTable::Slot*> PositionTable::Slots() const {
  absl::MutexLock lock(&mu_);
  std::vector<Slot*> out;
  out.reserve(slots_.size());
  for (const auto& s : slots_) out.push_back(s.get());
  return out;
}

}  // namespace tickmesh::signal
