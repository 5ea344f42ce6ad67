#include "baseline.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "report_util.h"

namespace tickmesh::loadtest {
namespace {

using report_util::Get;
using report_util::Num;
using report_util::Str;

// Latency metrics regress when they grow, throughput when it shrinks.
MetricDelta Compare(double baseline, double current, double threshold, bool higher_is_worse) {
  MetricDelta d;
  d.baseline = baseline;
  d.current = current;
  if (baseline > 0) {
    d.change = (current - baseline) / baseline;
    d.regressed = higher_is_worse ? d.change > threshold : -d.change > threshold;
  }
  return d;
}

nlohmann::json DeltaJson(const MetricDelta& d) {
  return {{"baseline", d.baseline},
          {"current", d.current},
          {"change", d.change},
          {"regressed", d.regressed}};
}

}  // namespace

bool BaselineComparison::regressed() const {
  for (const auto& op : operations) {
    if (op.regressed()) return true;
  }
  return false;
}

std::vector<std::string> BaselineComparison::regressions() const {
  std::vector<std::string> out;
  for (const auto& op : operations)
    out.insert(out.end(), op.regressions.begin(), op.regressions.end());
  return out;
}

absl::Status ValidateBaselineReport(const nlohmann::json& report) {
  if (!report.is_object()) return absl::InvalidArgumentError("not a JSON object");
  const auto& version = Get(report, "schema_version");
  if (!version.is_number_integer() ||
      (version.get<int64_t>() != 1 && version.get<int64_t>() != 2)) {
    return absl::InvalidArgumentError(
        absl::StrCat("schema_version must be 1 or 2, got ", version.dump()));
  }
  const auto& ops = Get(report, "operations");
  if (!ops.is_object()) return absl::InvalidArgumentError("\"operations\" is not an object");
  for (const auto& [name, op] : ops.items()) {
    const auto& lat = Get(op, "latency_us");
    for (const char* p : {"p50", "p99"}) {
      if (!Get(lat, p).is_number()) {
        return absl::InvalidArgumentError(
            absl::StrCat("operations.", name, ".latency_us.", p, " is not a number"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> LoadBaselineReport(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("baseline ", path, ": cannot be read"));
  std::stringstream buf;
  buf << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(buf.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat("baseline ", path, ": not valid JSON"));
  }
  if (absl::Status s = ValidateBaselineReport(j); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("baseline ", path, ": ", s.message()));
  }
  return j;
}

BaselineComparison CompareWithBaseline(const nlohmann::json& current,
                                       const nlohmann::json& baseline, double threshold) {
  BaselineComparison c;
  c.baseline_run_id = Str(baseline, "run_id");
  c.baseline_scenario = Str(baseline, "scenario");
  c.threshold = threshold;
  const auto& cur_ops = Get(current, "operations");
  const auto& base_ops = Get(baseline, "operations");
  if (base_ops.is_object()) {
    for (const auto& [name, base] : base_ops.items()) {
      if (!cur_ops.is_object() || !cur_ops.contains(name)) {
        c.only_in_baseline.push_back(name);
        continue;
      }
      const auto& cur = cur_ops[name];
      OperationDelta d;
      d.operation = name;
      const auto& bl = Get(base, "latency_us");
      const auto& cl = Get(cur, "latency_us");
      d.p50_us = Compare(Num(bl, "p50"), Num(cl, "p50"), threshold, true);
      d.p99_us = Compare(Num(bl, "p99"), Num(cl, "p99"), threshold, true);
      d.rate_per_s = Compare(Num(base, "rate_per_s"), Num(cur, "rate_per_s"), threshold, false);
      auto note = [&](const char* what, const MetricDelta& m, const char* unit) {
        if (!m.regressed) return;
        d.regressions.push_back(absl::StrFormat("%s %s %+.1f%% (%.1f -> %.1f %s)", name, what,
                                                100.0 * m.change, m.baseline, m.current, unit));
      };
      note("p50", d.p50_us, "us");
      note("p99", d.p99_us, "us");
      note("throughput", d.rate_per_s, "/s");
      c.operations.push_back(std::move(d));
    }
  }
  if (cur_ops.is_object()) {
    for (const auto& [name, op] : cur_ops.items()) {
      if (!base_ops.is_object() || !base_ops.contains(name)) c.only_in_current.push_back(name);
    }
  }
  return c;
}

nlohmann::json ToJson(const BaselineComparison& c) {
  nlohmann::json ops = nlohmann::json::object();
  for (const auto& d : c.operations) {
    ops[d.operation] = {{"p50_us", DeltaJson(d.p50_us)},
                        {"p99_us", DeltaJson(d.p99_us)},
                        {"rate_per_s", DeltaJson(d.rate_per_s)},
                        {"regressed", d.regressed()}};
  }
  return {{"run_id", c.baseline_run_id},
          {"scenario", c.baseline_scenario},
          {"threshold", c.threshold},
          {"regressed", c.regressed()},
          {"regressions", c.regressions()},
          {"only_in_baseline", c.only_in_baseline},
          {"only_in_current", c.only_in_current},
          {"operations", ops}};
}

}  // namespace tickmesh::loadtest
