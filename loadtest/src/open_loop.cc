#include "open_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "tickmesh/runtime/clock.h"

namespace tickmesh::loadtest {

GeneratorStats RunOpenLoop(const LoadShape& shape, int64_t start_unix_ns,
                           const GeneratorOptions& options, const BatchSink& sink) {
  GeneratorStats stats;
  const uint64_t total = shape.TotalEvents();
  const size_t max_batch = size_t(std::max(1, options.max_batch));
  std::vector<int64_t> batch(max_batch);
  auto due_of = [&](uint64_t k) {
    return start_unix_ns + int64_t(std::llround(shape.TimeOfEvent(k) * 1e9));
  };
  uint64_t next = 0;
  int64_t next_due = total > 0 ? due_of(0) : 0;
  int64_t last_handoff = 0;
  while (next < total) {
    if (options.stop && options.stop->load(std::memory_order_relaxed)) {
      stats.stopped = true;
      break;
    }
    int64_t now = runtime::NowUnixNs();
    const int64_t wake = std::max(next_due, last_handoff + options.min_interval_ns);
    if (wake > now) {
      // Sleep towards the next due time, at most 5 ms at a time so `stop` is seen promptly.
      std::this_thread::sleep_for(
          std::chrono::nanoseconds(std::min<int64_t>(wake - now, 5'000'000)));
      continue;
    }
    last_handoff = now;
    size_t n = 0;
    while (n < max_batch && next < total && next_due <= now) {
      batch[n++] = next_due;
      ++next;
      if (next < total) next_due = due_of(next);
    }
    stats.max_lag_ns = std::max(stats.max_lag_ns, now - batch[0]);
    sink(batch.data(), n, next - n);
    stats.sent += n;
  }
  return stats;
}

Recorder::Recorder(std::string primary) : primary_(std::move(primary)) {}

void Recorder::Record(std::string_view op, int64_t latency_ns) { RecordMany(op, &latency_ns, 1); }

void Recorder::RecordMany(std::string_view op, const int64_t* latency_ns, size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ops_.find(op);
  if (it == ops_.end()) it = ops_.emplace(std::string(op), OperationResult{}).first;
  for (size_t i = 0; i < n; ++i) it->second.latency_ns.Record(latency_ns[i]);
  if (op == primary_) {
    for (size_t i = 0; i < n; ++i) second_.Record(latency_ns[i]);
  }
  if (!window_op_.empty() && op == window_op_) {
    for (size_t i = 0; i < n; ++i) window_.Record(latency_ns[i]);
  }
}

void Recorder::SetWindowOperation(std::string op) {
  std::lock_guard<std::mutex> lock(mu_);
  window_op_ = std::move(op);
}

LatencyHistogram Recorder::TakeWindow() {
  std::lock_guard<std::mutex> lock(mu_);
  LatencyHistogram out = window_;
  window_.Reset();
  return out;
}

void Recorder::Error(std::string_view op, uint64_t n) {
  errors_.fetch_add(n, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ops_.find(op);
  if (it == ops_.end()) it = ops_.emplace(std::string(op), OperationResult{}).first;
  it->second.errors += n;
  second_errors_ += n;
}

void Recorder::Hop(std::string_view hop, int64_t ns) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = hops_.find(hop);
  if (it == hops_.end()) {
    it = hops_.emplace(std::string(hop), LatencyHistogram{}).first;
    hop_order_.emplace_back(hop);
  }
  it->second.Record(ns);
}

void Recorder::Count(std::string_view counter, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counters_.find(counter);
  if (it == counters_.end()) it = counters_.emplace(std::string(counter), 0).first;
  it->second += n;
}

uint64_t Recorder::counter(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counters_.find(name);
  return it == counters_.end() ? 0 : it->second;
}

int64_t Recorder::last_second_p99_ns() const {
  std::lock_guard<std::mutex> lock(mu_);
  return timeline_.empty() ? 0 : timeline_.back().p99_ns;
}

void Recorder::CloseSecond(double t_s, double target_per_s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (t_s < last_close_s_ + 0.05) return;
  const double span = std::max(1e-3, t_s - last_close_s_);
  const uint64_t sent = sent_.load(std::memory_order_relaxed);
  TimelinePoint p;
  p.t_s = t_s;
  p.target_per_s = target_per_s;
  p.sent_per_s = double(sent - sent_at_last_close_) / span;
  p.completed_per_s = double(second_.count()) / span;
  p.errors = second_errors_;
  p.p50_ns = second_.Percentile(50);
  p.p99_ns = second_.Percentile(99);
  timeline_.push_back(p);
  second_.Reset();
  second_errors_ = 0;
  sent_at_last_close_ = sent;
  last_close_s_ = t_s;
}

void Recorder::MoveInto(RunResult* out, double duration_s) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, op] : ops_) {
    op.duration_s = duration_s;
    out->operations[name] = std::move(op);
  }
  for (auto& [name, h] : hops_) out->hops[name] = std::move(h);
  for (auto& name : hop_order_) out->hop_order.push_back(name);
  for (auto& [name, n] : counters_) out->counters[name] += n;
  out->counters["sent"] += sent_.load();
  out->timeline = std::move(timeline_);
  out->primary_operation = primary_;
  ops_.clear();
  hops_.clear();
  hop_order_.clear();
  counters_.clear();
  timeline_.clear();
}

}  // namespace tickmesh::loadtest
