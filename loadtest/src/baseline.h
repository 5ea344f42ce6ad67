// Baseline comparison: compares this run's report.json with a previous one (`--baseline FILE`)
// per operation — p50, p99 and throughput (rate_per_s) — and flags regressions: latency up by
// more than the threshold (default 20 %) or throughput down by more than the threshold. Exactly
// at the threshold is not a regression; a baseline value of 0 cannot regress (no ratio).
// Operations present on only one side are listed, never flagged.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace tickmesh::loadtest {

// One compared figure.
struct MetricDelta {
  double baseline = 0;
  double current = 0;
  // (current - baseline) / baseline; 0 when baseline is 0.
  double change = 0;
  bool regressed = false;
};

struct OperationDelta {
  std::string operation;
  MetricDelta p50_us;
  MetricDelta p99_us;
  MetricDelta rate_per_s;
  // Human-readable, one per regressed metric: "tick_to_order p99 +35.0% (800 -> 1080 us)".
  std::vector<std::string> regressions;
  bool regressed() const { return !regressions.empty(); }
};

struct BaselineComparison {
  std::string baseline_run_id;
  std::string baseline_scenario;
  double threshold = 0.20;
  std::vector<OperationDelta> operations;     // in both reports, sorted by name
  std::vector<std::string> only_in_baseline;  // operations this run did not measure
  std::vector<std::string> only_in_current;
  bool regressed() const;
  // All OperationDelta::regressions, in operation order.
  std::vector<std::string> regressions() const;
};

// Reads and validates a previous report.json: must parse as JSON, be an object with
// schema_version 1 or 2 and an "operations" object whose entries have latency_us.{p50,p99}
// numbers. NOT_FOUND when the file cannot be read, INVALID_ARGUMENT (naming the file and the
// problem) otherwise.
absl::StatusOr<nlohmann::json> LoadBaselineReport(const std::string& path);

// Same validation for an already parsed report (used by LoadBaselineReport).
absl::Status ValidateBaselineReport(const nlohmann::json& report);

// Compares `current` (a report being built: needs "operations") with `baseline`.
// `threshold` is a fraction (0.20 = 20 %); regressions are changes strictly above it.
BaselineComparison CompareWithBaseline(const nlohmann::json& current,
                                       const nlohmann::json& baseline, double threshold = 0.20);

// report.json "baseline" section: {run_id, scenario, threshold, regressed, regressions[],
// only_in_baseline[], only_in_current[], operations{<name>{p50_us, p99_us, rate_per_s: {baseline,
// current, change, regressed}, regressed}}}.
nlohmann::json ToJson(const BaselineComparison& comparison);

}  // namespace tickmesh::loadtest
