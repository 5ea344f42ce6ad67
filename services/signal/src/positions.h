// PositionTable: execution's position per (venue, symbol), as last read from the cache
// (key position:<venue>:<symbol>, a serialized tickmesh.v1.Position), shared between the cache
// poller thread (writer) and the engine thread (reader) without locks on the read side: each
// instrument gets a stable slot of atomics. Bounded by the number of registered instruments.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace tickmesh::signal {

class PositionTable {
 public:
  struct Slot {
    std::string venue, symbol;
    std::atomic<int64_t> qty_e8{0};
    std::atomic<bool> known{false};
  };

  // The slot of (venue, symbol), created on first use; the pointer stays valid for the table's
  // lifetime. Takes a lock: call when an instrument is created, not per event.
  Slot* Register(const std::string& venue, const std::string& symbol);

  // A copy of the registered (venue, symbol) pairs with their slots, for the poller.
  std::vector<Slot*> Slots() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Slot>> slots_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tickmesh::signal
