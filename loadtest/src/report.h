// Load-test reports: turns one scenario's RunResult into report.json (schema_version 2, every
// field documented in loadtest/README.md "report.json schema"), the LoadTestService Report
// message, and the terminal summary. The HTML report is built from the same JSON
// (report_html.h), so a report.json on disk is enough to regenerate report.html.
//
// Example:
//   RunInfo info{.run_id = "run-1", .scenario = "sustained", .mode = "quick",
//                .config = {{"rate_per_s", 2000}}, .slos = slos};
//   info.baseline = *LoadBaselineReport("old/report.json");  // optional (baseline.h)
//   nlohmann::json report = BuildReportJson(info, result);
//   WriteReportFiles(dir, report);                              // report_html.h
//   exit(report["passed"] ? 0 : 1);   // and HasRegressions(report) if --fail_on_regression
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "run_result.h"
#include "tickmesh/v1/loadtest.pb.h"

namespace tickmesh::loadtest {

// The report.json schema version written by BuildReportJson. Version 1 (the skeleton) had
// `totals` instead of `counters` and no timeline/resources/grade/baseline sections; readers of
// baselines (baseline.h) accept both.
inline constexpr int kReportSchemaVersion = 2;

// One objective: operations.<operation>.latency_us.<percentile> <= max_us.
struct Slo {
  std::string operation;   // e.g. "tick_to_order"
  std::string percentile;  // "p50" | "p90" | "p99" | "p999" | "max"
  double max_us = 0;
};

// Parses "tick_to_order.p99<=1000" (µs). Returns false and sets `error` to a message naming the
// text and the expected form when it does not parse; `slo` is then unchanged.
bool ParseSlo(const std::string& text, Slo* slo, std::string* error);

// What the run was (as opposed to what it measured, which is RunResult).
struct RunInfo {
  std::string run_id;
  std::string scenario;
  std::string mode;  // quick | full | stress | custom
  // The scenario's effective configuration (load shape, addresses, ...), copied verbatim into
  // report.json "config". Must be a JSON object (anything else is recorded as {}).
  nlohmann::json config = nlohmann::json::object();
  std::vector<Slo> slos;
  // Optional: a previous report.json (as parsed by LoadBaselineReport). When it is an object, the
  // report gets a "baseline" section (per-operation p50/p99/throughput deltas, regressions over
  // `regression_threshold` flagged); when null, "baseline" is null.
  nlohmann::json baseline = nullptr;
  double regression_threshold = 0.20;
};

// Builds report.json from a finished (or aborted) run. Never fails: missing data shows up as
// zeros/empty sections, and `passed` is true only when all of these hold:
//   - result.error is empty;
//   - at least one operation completed at least once (a run that measured nothing is no pass);
//   - every SLO passed (an SLO whose operation has no samples fails: no evidence is not a pass);
//   - when info.config["max_mem_growth_mb_per_min"] is a number > 0 (the soak's objective, as
//     ScenarioToJson writes it): the worst sampled service's RSS growth after warm-up is at most
//     that many MB/min. It is reported as the slos[] entry of kind "memory_growth" naming the
//     service and the figure, and fails without evidence: no service sampled, or a service with
//     fewer than kMinMemoryGrowthSamples RSS samples after warm-up;
//   - every integrity check passed, and every fault step that was attempted succeeded.
// Baseline regressions do not change `passed`; use HasRegressions() to fail on them.
// The grade, bottlenecks and recommendations sections come from grade.h; the `volatility`
// section from the jump-window counters (kJumpWindowCounters, see MeasureBurstiness).
nlohmann::json BuildReportJson(const RunInfo& info, const RunResult& result);

// RSS samples after warm-up a service needs before its memory growth is evidence (the least-
// squares slope of resources.h needs at least this many; fewer gives a growth of 0).
inline constexpr int kMinMemoryGrowthSamples = 3;

// Burstiness of order events around price jumps (the volatility scenario). The runner samples
// two cumulative counters (price jumps made by the tick source, order events received) every
// few milliseconds during the load; MeasureBurstiness splits the sampled time into jump windows
// and the time between them and counts the order events in each.
struct CounterSample {
  double t_s = 0;       // seconds since the load started (non-decreasing)
  uint64_t jumps = 0;   // cumulative price jumps
  uint64_t events = 0;  // cumulative order events
};

struct Burstiness {
  uint64_t jumps = 0;      // jumps seen between the first and the last sample
  double window_s = 0;     // the window length used
  double in_window_s = 0;  // sampled time inside jump windows
  uint64_t in_window_events = 0;
  double between_s = 0;  // sampled time outside them
  uint64_t between_events = 0;
};

// An interval (samples[i-1], samples[i]] in which the jump counter rose holds a jump; its jump
// window runs from samples[i-1].t_s for window_s seconds, and every interval that starts inside
// a window counts as in the window (so a window is at least one sampling interval long and
// rounded up to whole intervals). Other intervals count as between jumps. Intervals of zero or
// negative length are skipped; a counter that goes backwards counts as no change. Fewer than two
// samples give all zeros.
Burstiness MeasureBurstiness(const std::vector<CounterSample>& samples, double window_s);

// RunResult::counters names under which the runner stores a Burstiness (times in µs, window in
// ms), and from which BuildReportJson derives the `volatility` section.
struct JumpWindowCounterNames {
  const char* jumps = "jump_window_jumps";
  const char* window_ms = "jump_window_ms";
  const char* in_window_us = "jump_window_us";
  const char* in_window_events = "jump_window_order_events";
  const char* between_us = "between_jumps_us";
  const char* between_events = "between_jumps_order_events";
};
inline constexpr JumpWindowCounterNames kJumpWindowCounters{};

// Stores `b` in `counters` under kJumpWindowCounters' names.
void StoreBurstiness(const Burstiness& b, std::map<std::string, uint64_t>* counters);

// True when report["baseline"]["regressed"] is true (a baseline was given and at least one
// operation regressed by more than the threshold).
bool HasRegressions(const nlohmann::json& report);

// The same report as the proto message (score, grade and report_json = the JSON text filled).
tickmesh::v1::Report ToReportProto(const nlohmann::json& report);

// A few human-readable lines for the terminal: operations, hops, SLOs, grade, bottlenecks,
// regressions and the verdict.
std::string SummaryText(const nlohmann::json& report);

}  // namespace tickmesh::loadtest
