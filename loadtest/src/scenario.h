// Scenarios: what a load test does — a load shape (stages of constant or ramping arrival rates),
// an operations mix, SLO thresholds, and optionally a breaking-point search or a fault plan.
// Built-in scenarios come in three modes (quick for CI, full, stress); custom scenarios are read
// from YAML (schema in loadtest/README.md). ScenarioToJson is what reports show as `config`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "load_shape.h"
#include "nlohmann/json.hpp"

namespace tickmesh::loadtest {

// Operations a scenario can drive (the mix's keys):
//   tick            trades (+ a book snapshot every book_every) published to market-data; measures
//                   publish, tick_to_order, tick_to_fill and the per-hop breakdown
//   market_event    book deltas / trades over many symbols published to market-data and read back
//                   on Subscribe; measures publish and md_delivery
//   cache_set       CacheService.Set of balance-like values; measures cache_set
//   persist_append  Balance records over PersistenceService.Append; measures persist_append (ack =
//                   durable)
//   order_submit    ExecutionService.Submit of small market orders; measures order_submit
inline constexpr const char* kOperations[] = {"tick", "market_event", "cache_set", "persist_append",
                                              "order_submit"};

struct OperationWeight {
  std::string operation;
  int weight = 1;  // share of the arrival rate: weight / sum of weights
};

// A component the fault plan kills with SIGKILL and restarts through the control command.
struct FaultStepSpec {
  double at_s = 0;  // seconds after the load started
  std::string
      component;      // redis | postgres | market-data | signal | execution | cache | persistence
  double down_s = 2;  // how long it stays down before the restart
};

struct FaultSpec {
  std::vector<FaultStepSpec> steps;
  // Command prefix: `<control> kill <component>` and `<control> start <component>` are run through
  // /bin/sh. Default: scripts/mesh of the source tree (overridden by --control_command).
  std::string control;
  // After the load, how long integrity checks may wait for outboxes and replay queues to drain.
  double settle_s = 20;
};

// Ramp to the breaking point: each stage of the shape is a step; a step breaks when the generator
// sent less than min_sent_ratio of its target or `operation`'s p99 within the step exceeds p99_us.
// The run stops at the first broken step.
struct BreakingPointSpec {
  bool enabled = false;
  std::string operation;
  double p99_us = 0;
  double min_sent_ratio = 0.95;
  int first_step = 0;  // stages before this index are warm-up/peak, not part of the search
};

struct ScenarioSpec {
  std::string name;
  std::string description;
  std::string mode;  // quick | full | stress | custom
  std::vector<Stage> stages;
  std::vector<OperationWeight> mix;
  std::vector<std::string> symbols = {"LT-USD"};
  double drain_s = 3;      // after sending stops, time for the last responses
  int book_every = 20;     // tick: one book snapshot per this many trades
  int flood_symbols = 64;  // market_event: symbols spread over
  // tick: every jump_every trades the price jumps by jump_bps (alternating sign); 0 = no jumps.
  int jump_every = 0;
  int jump_bps = 0;
  // tick: the random walk between jumps, standard deviation per trade in basis points; 0 = the
  // price holds between jumps (a calm market that only the jumps move).
  double walk_bps = 2;
  // cache_set: number of distinct keys (0 = a new key per write, needed for integrity checks).
  uint32_t cache_keys = 10000;
  int64_t cache_ttl_ms = 3600000;
  int max_in_flight = 4096;  // unary operations outstanding before the generator waits
  // Shortest time between two hand-offs of due events to the drivers, in µs (0 = hand over as
  // soon as an event is due). Events that fall due meanwhile go out together, e.g. in one
  // Publish batch: fewer, larger messages, each event still timed from its intended send time.
  int send_interval_us = 0;
  std::vector<std::string> slos;  // "tick_to_order.p99<=5000" (µs); see ParseSlo
  // Memory-growth objective for every sampled service (soak), MB/min; 0 = none.
  double max_mem_growth_mb_per_min = 0;
  std::string primary;  // the operation the timeline follows
  BreakingPointSpec breaking;
  FaultSpec fault;
};

// Names of the built-in scenarios.
std::vector<std::string> BuiltinScenarioNames();

// A built-in scenario in mode quick | full | stress. INVALID_ARGUMENT naming the scenario or mode
// (and listing the valid ones) otherwise.
absl::StatusOr<ScenarioSpec> BuiltinScenario(const std::string& name, const std::string& mode);

// Parses a custom scenario (mode "custom"). INVALID_ARGUMENT whose message starts with the path of
// the offending field ("stages[1].to_per_s: ...", "operations.cach_set: unknown operation ...")
// for malformed YAML, unknown keys, wrong types, out-of-range values and invalid SLOs.
absl::StatusOr<ScenarioSpec> ParseScenarioYaml(const std::string& yaml_text);

// Reads and parses a file; NOT_FOUND / INVALID_ARGUMENT with the path prefixed.
absl::StatusOr<ScenarioSpec> LoadScenarioFile(const std::string& path);

// Checks a spec built in code (same rules as the YAML parser).
absl::Status ValidateScenario(const ScenarioSpec& spec);

// Run-time overrides (CLI flags, RunRequest fields); 0 / empty = keep the scenario's value.
// rate_per_s scales every stage's rates so the highest becomes rate_per_s; duration_s scales every
// stage's duration (and fault step times) so the total becomes duration_s. INVALID_ARGUMENT
// naming the override when the result is invalid.
absl::StatusOr<ScenarioSpec> ApplyOverrides(ScenarioSpec spec, double rate_per_s, double duration_s,
                                            const std::vector<std::string>& symbols);

// The scenario as JSON (report.json's `config`): name, mode, stages, mix, slos, fault, ...
nlohmann::json ScenarioToJson(const ScenarioSpec& spec);

}  // namespace tickmesh::loadtest
