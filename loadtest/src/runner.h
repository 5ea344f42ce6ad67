// Runs one scenario against the mesh: builds the load shape and the operation drivers, drives
// them open-loop from one generator thread, closes a timeline second every second, samples every
// service's /metrics (ResourceSampler), runs the fault plan and the integrity checks, searches for
// the breaking point of a stepped ramp, measures the order-event bursts after price jumps (every
// 10 ms, when the scenario jumps; stored as the jump-window counters of report.h), and returns
// everything as a RunResult.
//
// Example:
//   auto spec = BuiltinScenario("sustained", "quick");
//   RunResult r = RunScenario(*spec, Targets{}, RunOptions{}, [](const RunProgressInfo&) {});
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "drivers.h"
#include "run_result.h"
#include "scenario.h"

namespace tickmesh::loadtest {

struct RunOptions {
  // Fault control command prefix when the scenario does not set one (`<control> kill redis`).
  std::string control_command;
  // Sample services' /metrics during the run.
  bool sample_resources = true;
  // Set from another thread to end the run early (drain, checks and report still happen).
  const std::atomic<bool>* stop = nullptr;
};

struct RunProgressInfo {
  std::string phase;  // "starting" | "running" | "<stage label>" | "draining" | "checking"
  double elapsed_s = 0;
  double total_s = 0;
  double target_per_s = 0;
  double actual_per_s = 0;
  uint64_t sent = 0;
  uint64_t errors = 0;
  int64_t primary_p99_ns = -1;  // over the last second; -1 = no samples
};

// Blocks for the scenario's duration plus drain (and settle, for faults). `progress` is called
// about once a second from the runner's monitor thread. Never throws; a run that cannot start
// (bad spec, target unreachable) comes back with RunResult::error set.
RunResult RunScenario(const ScenarioSpec& spec, const Targets& targets, const RunOptions& options,
                      const std::function<void(const RunProgressInfo&)>& progress);

// Interleaves operations by weight (smooth weighted round-robin): pattern[i % size] is the index
// into `mix` of the i-th event. E.g. weights {2, 1} -> {0, 1, 0}.
std::vector<int> MixPattern(const std::vector<OperationWeight>& mix);

}  // namespace tickmesh::loadtest
