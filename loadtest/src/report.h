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
//   - every integrity check passed, and every fault step that was attempted succeeded.
// Baseline regressions do not change `passed`; use HasRegressions() to fail on them.
// The grade, bottlenecks and recommendations sections come from grade.h.
nlohmann::json BuildReportJson(const RunInfo& info, const RunResult& result);

// True when report["baseline"]["regressed"] is true (a baseline was given and at least one
// operation regressed by more than the threshold).
bool HasRegressions(const nlohmann::json& report);

// The same report as the proto message (score, grade and report_json = the JSON text filled).
tickmesh::v1::Report ToReportProto(const nlohmann::json& report);

// A few human-readable lines for the terminal: operations, hops, SLOs, grade, bottlenecks,
// regressions and the verdict.
std::string SummaryText(const nlohmann::json& report);

}  // namespace tickmesh::loadtest
