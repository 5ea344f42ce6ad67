// Time helpers shared by every service. Wall-clock unix nanoseconds are what Trace stamps carry.
#pragma once

#include <chrono>
#include <cstdint>

namespace tickmesh::runtime {

// Wall-clock time, unix nanoseconds. No allocation; ~20 ns (vDSO).
inline int64_t NowUnixNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Monotonic time in nanoseconds, for durations.
inline int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace tickmesh::runtime
