#include "runner.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "fault.h"
#include "open_loop.h"
#include "report.h"
#include "resources.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"

namespace tickmesh::loadtest {

using runtime::NowUnixNs;

std::vector<int> MixPattern(const std::vector<OperationWeight>& mix) {
  int total = 0;
  for (const auto& m : mix) total += std::max(1, m.weight);
  std::vector<int> pattern;
  std::vector<int> current(mix.size(), 0);
  for (int i = 0; i < total; ++i) {
    int best = 0;
    for (size_t j = 0; j < mix.size(); ++j) {
      current[j] += std::max(1, mix[j].weight);
      if (current[j] > current[best]) best = int(j);
    }
    current[best] -= total;
    pattern.push_back(best);
  }
  return pattern;
}

namespace {

// Volatility: the signal (signal_orders) and jump counters are sampled this often, and signals
// within kJumpWindowS after a jump count as the jump's burst. The window covers the tick -> order
// path (p99 a few ms on the dev VM) and strategies that react over a few more ticks (macd_cross:
// 14 trades per symbol, 56 ms in the quick scenario); it stays well under the quick scenario's
// jump period (jump_every / (rate / symbols) = 1 s), so the time between jumps is measured too.
// Signals per kBurstBinS bin give the index of dispersion.
constexpr int64_t kBurstSampleNs = 10'000'000;
constexpr double kJumpWindowS = 0.2;
constexpr double kBurstBinS = 0.1;

// Breaking-point bookkeeping for a stepped ramp, driven by the monitor thread.
struct StepJudge {
  StepJudge(const BreakingPointSpec& spec, const LoadShape& shape) : spec(spec), shape(shape) {}
  const BreakingPointSpec& spec;
  const LoadShape& shape;
  int current = -1;
  uint64_t sent_at_start = 0;
  uint64_t errors_at_start = 0;
  LatencyHistogram window;  // primary latency within the current step
  double last_passed_rate = 0;
  bool broke = false;
  std::string reason;
};

}  // namespace

RunResult RunScenario(const ScenarioSpec& spec, const Targets& targets, const RunOptions& options,
                      const std::function<void(const RunProgressInfo&)>& progress) {
  RunResult result;
  result.started_unix_ns = NowUnixNs();
  if (auto s = ValidateScenario(spec); !s.ok()) {
    result.error = std::string(s.message());
    result.finished_unix_ns = NowUnixNs();
    return result;
  }
  const LoadShape shape = *LoadShape::Create(spec.stages);
  auto report = [&](RunProgressInfo p) {
    if (progress) progress(p);
  };
  report({"starting", 0, shape.duration_s()});

  Recorder recorder(spec.primary);
  if (spec.breaking.enabled) recorder.SetWindowOperation(spec.breaking.operation);
  std::random_device rd;
  DriverContext dctx;
  dctx.spec = &spec;
  dctx.targets = targets;
  dctx.recorder = &recorder;
  dctx.run_tag = uint32_t((rd() & 0x7fffffffU) | 1U);
  std::vector<std::unique_ptr<Driver>> drivers;
  for (const auto& m : spec.mix) {
    auto d = MakeDriver(m.operation, dctx);
    if (auto s = d->Start(); !s.ok()) {
      result.error = absl::StrCat(m.operation, ": ", s.message());
      for (auto& started : drivers) started->Finish(0);
      d->Finish(0);
      result.finished_unix_ns = NowUnixNs();
      return result;
    }
    drivers.push_back(std::move(d));
  }

  // Resource sampling of every service's admin /metrics.
  std::unique_ptr<ResourceSampler> sampler;
  if (options.sample_resources && !targets.admin.empty()) {
    std::map<std::string, std::string> urls;
    for (const auto& [svc, hostport] : targets.admin) urls[svc] = "http://" + hostport;
    sampler = std::make_unique<ResourceSampler>(urls);
    if (auto s = sampler->Start(); !s.ok()) {
      runtime::LogWarn("resource sampling disabled", {{"error", std::string(s.message())}});
      sampler.reset();
    }
  }

  std::map<std::string, uint64_t> burst_counters;  // jump-window counters (volatility)
  std::atomic<bool> stop{false};
  const int64_t start_ns = NowUnixNs() + 20'000'000;  // a moment for the threads to settle
  std::unique_ptr<FaultInjector> faults;
  if (!spec.fault.steps.empty()) {
    const std::string control =
        spec.fault.control.empty() ? options.control_command : spec.fault.control;
    faults = std::make_unique<FaultInjector>(spec.fault, control, start_ns, &stop);
    faults->Start();
  }

  // Monitor: one timeline point per second, progress, breaking-point steps, external stop.
  StepJudge judge{spec.breaking, shape};
  std::mutex monitor_mu;
  std::condition_variable monitor_cv;
  bool load_done = false;
  std::thread monitor([&] {
    int64_t next_close = start_ns + 1'000'000'000;
    uint64_t last_sent = 0;
    std::unique_lock<std::mutex> lock(monitor_mu);
    while (!load_done) {
      monitor_cv.wait_for(lock,
                          std::chrono::nanoseconds(std::max<int64_t>(1, next_close - NowUnixNs())));
      if (options.stop && options.stop->load()) stop.store(true);
      if (load_done || NowUnixNs() < next_close) continue;
      const double t = double(next_close - start_ns) / 1e9;
      next_close += 1'000'000'000;
      recorder.CloseSecond(t, shape.RateAt(t - 0.5));
      const uint64_t sent = recorder.sent();
      RunProgressInfo p;
      const int stage = shape.StageAt(t - 0.5);
      p.phase = spec.stages[stage].label.empty() ? "running" : spec.stages[stage].label;
      p.elapsed_s = t;
      p.total_s = shape.duration_s();
      p.target_per_s = shape.RateAt(t - 0.5);
      p.actual_per_s = double(sent - last_sent);
      p.sent = sent;
      p.errors = recorder.errors();
      p.primary_p99_ns = recorder.last_second_p99_ns();
      last_sent = sent;
      lock.unlock();
      report(p);
      lock.lock();
    }
  });

  // Volatility: the price-jump and signal counters sampled every kBurstSampleNs during the
  // load (not the drain: no jumps happen then), split into jump windows and the time between.
  const bool measure_bursts =
      spec.jump_every > 0 && std::any_of(spec.mix.begin(), spec.mix.end(),
                                         [](const auto& m) { return m.operation == "tick"; });
  std::vector<CounterSample> burst_samples;
  std::thread burst_sampler;
  if (measure_bursts) {
    burst_sampler = std::thread([&] {
      std::unique_lock<std::mutex> lock(monitor_mu);
      while (!load_done) {
        const int64_t now = NowUnixNs();
        if (now >= start_ns) {
          lock.unlock();
          CounterSample sample{double(now - start_ns) / 1e9, recorder.counter("price_jumps"),
                               recorder.counter("signal_orders")};
          lock.lock();
          burst_samples.push_back(sample);
        }
        monitor_cv.wait_for(lock, std::chrono::nanoseconds(kBurstSampleNs));
      }
    });
  }

  // Breaking point: evaluated by the generator thread at each step boundary (it owns timing).
  const bool searching = spec.breaking.enabled;
  // `final` judges the last step once the load has ended.
  auto judge_step = [&](double t_s, bool final = false) {
    if (!searching) return;
    const int stage = final ? int(spec.stages.size()) : shape.StageAt(t_s);
    if (stage == judge.current) return;
    const int finished = judge.current;
    const uint64_t sent = recorder.sent();
    const uint64_t errors = recorder.errors();
    LatencyHistogram window = recorder.TakeWindow();
    if (finished >= spec.breaking.first_step && finished >= 0) {
      const Stage& st = spec.stages[finished];
      const double rate = st.to_per_s;
      const double expected = (st.from_per_s + st.to_per_s) / 2 * st.duration_s;
      const double ratio = expected > 0 ? double(sent - judge.sent_at_start) / expected : 1;
      const double p99_us = double(window.Percentile(99)) / 1000.0;
      if (ratio < spec.breaking.min_sent_ratio) {
        judge.broke = true;
        judge.reason = absl::StrCat("at ", rate, "/s the generator sent only ", int(ratio * 100),
                                    "% of the target (the mesh pushed back)");
      } else if (double(errors - judge.errors_at_start) >
                 0.01 * double(std::max<uint64_t>(1, sent - judge.sent_at_start))) {
        judge.broke = true;
        judge.reason = absl::StrCat("at ", rate, "/s more than 1% of the step's requests failed (",
                                    errors - judge.errors_at_start, ")");
      } else if (window.count() == 0) {
        judge.broke = true;
        judge.reason = absl::StrCat("at ", rate, "/s no ", spec.breaking.operation, " completed");
      } else if (p99_us > spec.breaking.p99_us) {
        judge.broke = true;
        judge.reason = absl::StrCat("at ", rate, "/s ", spec.breaking.operation, " p99 ",
                                    int64_t(p99_us), " us > ", spec.breaking.p99_us, " us");
      } else {
        judge.last_passed_rate = rate;
      }
      if (judge.broke) stop.store(true);
    }
    judge.current = stage;
    judge.sent_at_start = sent;
    judge.errors_at_start = errors;
  };

  // Generator: split every due batch over the drivers by the mix pattern.
  const std::vector<int> pattern = MixPattern(spec.mix);
  std::vector<std::vector<int64_t>> per_driver(drivers.size());
  std::vector<uint64_t> driver_count(drivers.size(), 0);
  GeneratorOptions gopts;
  gopts.stop = &stop;
  gopts.max_batch = 256;
  gopts.min_interval_ns = int64_t(spec.send_interval_us) * 1000;
  if (searching) judge_step(0);
  GeneratorStats gstats =
      RunOpenLoop(shape, start_ns, gopts, [&](const int64_t* intended, size_t n, uint64_t first) {
        if (searching) judge_step(double(intended[0] - start_ns) / 1e9);
        if (stop.load()) return;
        for (auto& v : per_driver) v.clear();
        for (size_t i = 0; i < n; ++i) {
          per_driver[pattern[(first + i) % pattern.size()]].push_back(intended[i]);
        }
        for (size_t d = 0; d < drivers.size(); ++d) {
          if (per_driver[d].empty()) continue;
          drivers[d]->Send(per_driver[d].data(), per_driver[d].size(), driver_count[d]);
          driver_count[d] += per_driver[d].size();
        }
        recorder.Sent(n);
      });
  const int64_t sent_end = NowUnixNs();
  if (searching && !judge.broke && !stop.load()) judge_step(shape.duration_s(), true);

  {
    std::lock_guard<std::mutex> lock(monitor_mu);
    load_done = true;
    monitor_cv.notify_all();
  }
  monitor.join();
  if (burst_sampler.joinable()) {
    burst_sampler.join();
    StoreBurstiness(MeasureBurstiness(burst_samples, kJumpWindowS, kBurstBinS), &burst_counters);
  }
  // The last, partial second.
  const double load_s = double(sent_end - start_ns) / 1e9;
  recorder.CloseSecond(load_s, shape.RateAt(load_s - 0.5));
  report({"draining", load_s, shape.duration_s(), 0, 0, recorder.sent(), recorder.errors()});

  // Drain every driver in parallel (each waits up to drain_s for its responses).
  {
    std::vector<std::thread> finishing;
    for (auto& d : drivers) finishing.emplace_back([&d, &spec] { d->Finish(spec.drain_s); });
    for (auto& t : finishing) t.join();
  }
  if (faults) {
    faults->Join();
    result.faults = faults->steps();
  }
  if (sampler) result.resources = sampler->Finish();

  // Integrity checks after faults: nothing acknowledged may be lost.
  if (!spec.fault.steps.empty()) {
    report({"checking", load_s, shape.duration_s(), 0, 0, recorder.sent(), recorder.errors()});
    AckLedger ledger;
    for (auto& d : drivers) d->CollectAcks(&ledger);
    const int64_t deadline = NowUnixNs() + int64_t(spec.fault.settle_s * 1e9);
    bool has_tick = false, has_cache = false;
    for (const auto& m : spec.mix) {
      has_tick |= m.operation == "tick";
      has_cache |= m.operation == "cache_set";
    }
    if (has_tick) {
      result.integrity.push_back(
          CheckFillsDurableOnce(targets.persistence, ledger, result.started_unix_ns, deadline));
    }
    if (has_cache) {
      if (targets.redis_url.empty()) {
        IntegrityCheck c;
        c.name = "cache_writes_in_redis";
        c.expected = ledger.cache_writes.size();
        c.detail = "no --redis_url given: cannot read Redis directly";
        result.integrity.push_back(c);
      } else {
        result.integrity.push_back(CheckCacheWritesInRedis(targets.redis_url, ledger, deadline));
      }
    }
  }
  drivers.clear();

  recorder.MoveInto(&result, load_s);
  if (searching) {
    result.breaking_point_per_s = judge.last_passed_rate;
    result.breaking_reason =
        judge.broke ? judge.reason : "not reached: every step met the objective";
  }
  result.counters["generator_max_lag_us"] = uint64_t(gstats.max_lag_ns / 1000);
  for (const auto& [name, v] : burst_counters) result.counters[name] = v;
  if (gstats.stopped && options.stop && options.stop->load()) result.error = "stopped";
  result.finished_unix_ns = NowUnixNs();
  return result;
}

}  // namespace tickmesh::loadtest
