// Open-loop load generation (wrk2 / k6 arrival-rate style): events fall due on the LoadShape's
// schedule whatever the target does, and each event carries its *intended* send time, so latency
// is measured from when the request should have gone out. A target that stalls for 200 ms is
// charged 200 ms on every request that fell due during the stall (coordinated omission
// corrected), not just on the one that was in flight.
//
// Recorder collects what the drivers measure — per-operation latency histograms, errors,
// per-hop histograms, counters — and the per-second timeline, from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "load_shape.h"
#include "run_result.h"

namespace tickmesh::loadtest {

struct GeneratorOptions {
  // Largest number of due events handed to the sink in one call.
  int max_batch = 256;
  // Shortest time between two calls of the sink (0 = call it as soon as an event is due): events
  // falling due meanwhile are handed over together (each keeps its intended time).
  int64_t min_interval_ns = 0;
  // Set from another thread to stop early.
  const std::atomic<bool>* stop = nullptr;
};

struct GeneratorStats {
  uint64_t sent = 0;       // events handed to the sink
  int64_t max_lag_ns = 0;  // worst (hand-off time - intended time) seen
  bool stopped = false;    // ended by `stop` before the shape finished
};

// Receives due events: `intended_unix_ns[0..n)` are the intended send times (non-decreasing) of
// events first_index .. first_index+n-1. May block; events that fall due meanwhile are handed
// over on the next call, with their original intended times.
using BatchSink =
    std::function<void(const int64_t* intended_unix_ns, size_t n, uint64_t first_index)>;

// Runs `shape` from `start_unix_ns` (wall clock, so intended times compare with other services'
// trace stamps) on the calling thread until the shape ends or `options.stop` is set. Allocates
// one batch buffer up front and nothing per event.
GeneratorStats RunOpenLoop(const LoadShape& shape, int64_t start_unix_ns,
                           const GeneratorOptions& options, const BatchSink& sink);

// Thread-safe collector of one run's measurements.
class Recorder {
 public:
  // `primary` is the operation the timeline's latency columns follow.
  explicit Recorder(std::string primary);

  // One latency sample of `op`, in ns (measured from the intended send time).
  void Record(std::string_view op, int64_t latency_ns);
  // Many samples of one op under one lock.
  void RecordMany(std::string_view op, const int64_t* latency_ns, size_t n);
  void Error(std::string_view op, uint64_t n = 1);
  void Hop(std::string_view hop, int64_t ns);
  void Count(std::string_view counter, uint64_t n = 1);
  void Sent(uint64_t n) { sent_.fetch_add(n, std::memory_order_relaxed); }

  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  uint64_t counter(std::string_view name) const;
  // p99 of the primary operation over the last closed second (0 when none).
  int64_t last_second_p99_ns() const;

  // Also collects `op` into a window histogram that TakeWindow() hands out and resets (the
  // breaking-point search judges each ramp step by it). Call before recording starts.
  void SetWindowOperation(std::string op);
  LatencyHistogram TakeWindow();

  // Ends the current second of the timeline at `t_s` seconds since the run started, with the
  // load shape's intended rate `target_per_s`. Called once a second by the runner; a call less
  // than 50 ms after the previous one is ignored.
  void CloseSecond(double t_s, double target_per_s);

  // Moves everything recorded into `out` (operations, hops, timeline, counters); `duration_s`
  // is what rates are computed over. The recorder is empty afterwards.
  void MoveInto(RunResult* out, double duration_s);

 private:
  std::string primary_;
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> errors_{0};
  mutable std::mutex mu_;
  std::map<std::string, OperationResult, std::less<>> ops_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, LatencyHistogram, std::less<>> hops_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> hop_order_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t, std::less<>> counters_ ABSL_GUARDED_BY(mu_);
  std::vector<TimelinePoint> timeline_ ABSL_GUARDED_BY(mu_);
  std::string window_op_ ABSL_GUARDED_BY(mu_);
  LatencyHistogram window_ ABSL_GUARDED_BY(mu_);
  LatencyHistogram second_ ABSL_GUARDED_BY(mu_);  // primary op within the open second
  uint64_t second_errors_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t sent_at_last_close_ ABSL_GUARDED_BY(mu_) = 0;
  double last_close_s_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tickmesh::loadtest
