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

// Burstiness of signals around price jumps (the volatility scenario). The runner samples two
// cumulative counters (price jumps made by the tick source; signals, counted as the orders they
// caused: an order event of version 1 for this run's ticks) every few milliseconds during the
// load. MeasureBurstiness derives two measures from them:
//  - jump windows: the sampled time is split into windows right after jumps and the time
//    between them, and the signals in each are counted (rate in windows / rate between: > 1
//    when signals follow jumps);
//  - index of dispersion: signals are counted per bin of bin_s (100 ms) and the sample variance
//    of those counts is divided by their mean. A Poisson stream (signals at random, at any rate)
//    gives 1; signals arriving in bursts give >> 1 (a burst of k signals per bin raises it to
//    about k); evenly spaced signals give < 1. It needs no jumps, so it also tells whether the
//    bursts are really tied to the jumps (both high) or not.
struct CounterSample {
  double t_s = 0;       // seconds since the load started (non-decreasing)
  uint64_t jumps = 0;   // cumulative price jumps
  uint64_t events = 0;  // cumulative signals
};

struct Burstiness {
  uint64_t jumps = 0;      // jumps seen between the first and the last sample
  double window_s = 0;     // the window length used
  double in_window_s = 0;  // sampled time inside jump windows
  uint64_t in_window_events = 0;
  double between_s = 0;  // sampled time outside them
  uint64_t between_events = 0;
  // Counts per bin: whole bins of bin_s from the first sample on (a trailing partial bin is left
  // out); the sum and the sum of squares of the per-bin counts.
  double bin_s = 0;
  uint64_t bins = 0;
  uint64_t bin_events = 0;
  uint64_t bin_events_sq = 0;
};

// An interval (samples[i-1], samples[i]] in which the jump counter rose holds a jump; its jump
// window runs from samples[i-1].t_s for window_s seconds, and every interval that starts inside
// a window counts as in the window (so a window is at least one sampling interval long and
// rounded up to whole intervals). Other intervals count as between jumps. An interval's events
// go to the bin its start falls in. Intervals of zero or negative length are skipped; a counter
// that goes backwards counts as no change. Fewer than two samples give all zeros.
Burstiness MeasureBurstiness(const std::vector<CounterSample>& samples, double window_s,
                             double bin_s = 0.1);

// Sample variance / mean of the per-bin counts; 0 with fewer than two bins or no events.
double IndexOfDispersion(uint64_t bins, uint64_t sum, uint64_t sum_sq);

// RunResult::counters names under which the runner stores a Burstiness (times in µs, window and
// bin in ms), and from which BuildReportJson derives the `volatility` section.
struct JumpWindowCounterNames {
  const char* jumps = "jump_window_jumps";
  const char* window_ms = "jump_window_ms";
  const char* in_window_us = "jump_window_us";
  const char* in_window_events = "jump_window_signals";
  const char* between_us = "between_jumps_us";
  const char* between_events = "between_jumps_signals";
  const char* bin_ms = "signal_bin_ms";
  const char* bins = "signal_bins";
  const char* bin_events = "signal_bin_signals";
  const char* bin_events_sq = "signal_bin_signals_sq";
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
