#include "report.h"

#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tickmesh::loadtest {
namespace {

nlohmann::json LatencyJson(const LatencyHistogram& h) {
  auto us = [](int64_t ns) { return double(ns) / 1000.0; };
  return {{"p50", us(h.Percentile(50))},   {"p90", us(h.Percentile(90))},
          {"p99", us(h.Percentile(99))},   {"p999", us(h.Percentile(99.9))},
          {"max", us(h.max())},            {"mean", h.mean() / 1000.0}};
}

void FillLatency(const nlohmann::json& j, tickmesh::v1::LatencySummary* out) {
  out->set_p50(j.value("p50", 0.0));
  out->set_p90(j.value("p90", 0.0));
  out->set_p99(j.value("p99", 0.0));
  out->set_p999(j.value("p999", 0.0));
  out->set_max(j.value("max", 0.0));
  out->set_mean(j.value("mean", 0.0));
}

}  // namespace

bool ParseSlo(const std::string& text, Slo* slo, std::string* error) {
  static const std::regex re(R"(^([a-z_]+)\.(p50|p90|p99|p999|max)\s*<=\s*([0-9]+(\.[0-9]+)?)$)");
  std::smatch m;
  if (!std::regex_match(text, m, re)) {
    *error = absl::StrCat("SLO '", text,
                          "' is not <operation>.<p50|p90|p99|p999|max><=<microseconds>, e.g. "
                          "tick_to_order.p99<=1000");
    return false;
  }
  slo->operation = m[1];
  slo->percentile = m[2];
  slo->max_us = std::stod(m[3]);
  return true;
}

nlohmann::json BuildReportJson(const RunInfo& info, const TickLoadResult& result) {
  nlohmann::json j;
  j["schema_version"] = 1;
  j["run_id"] = info.run_id;
  j["scenario"] = info.scenario;
  j["mode"] = info.mode;
  j["started_unix_ns"] = result.started_unix_ns;
  j["finished_unix_ns"] = result.finished_unix_ns;
  j["config"] = {{"rate_per_s", info.config.rate_per_s},
                 {"duration_s", info.config.duration_s},
                 {"symbols", info.config.symbols}};
  j["totals"] = {{"ticks_sent", result.ticks_sent},
                 {"order_events", result.order_events},
                 {"fills", result.fills},
                 {"rejects", result.rejects}};
  nlohmann::json ops = nlohmann::json::object();
  for (const auto& [name, op] : result.operations) {
    ops[name] = {{"count", op.latency_ns.count()},
                 {"errors", op.errors},
                 {"rate_per_s", op.duration_s > 0 ? double(op.latency_ns.count()) / op.duration_s
                                                  : 0.0},
                 {"latency_us", LatencyJson(op.latency_ns)}};
  }
  j["operations"] = ops;
  nlohmann::json hops = nlohmann::json::array();
  std::string slowest;
  double slowest_p99 = -1;
  for (const auto& name : result.hop_order) {
    const auto& h = result.hops.at(name);
    nlohmann::json lat = LatencyJson(h);
    hops.push_back({{"hop", name}, {"latency_us", lat}});
    if (lat["p99"].get<double>() > slowest_p99) {
      slowest_p99 = lat["p99"].get<double>();
      slowest = name;
    }
  }
  j["hops"] = hops;
  j["critical_path"] = {{"slowest_hop", slowest}, {"p99_us", std::max(0.0, slowest_p99)}};
  nlohmann::json slos = nlohmann::json::array();
  bool passed = result.error.empty() && result.ticks_sent > 0;
  for (const Slo& slo : info.slos) {
    double observed = -1;
    if (ops.contains(slo.operation)) observed = ops[slo.operation]["latency_us"][slo.percentile];
    // An operation with no samples fails its SLO: no evidence is not a pass.
    bool ok = observed >= 0 && ops[slo.operation]["count"].get<uint64_t>() > 0 &&
              observed <= slo.max_us;
    passed = passed && ok;
    slos.push_back({{"name", absl::StrCat(slo.operation, ".", slo.percentile)},
                    {"objective", absl::StrFormat("%s.%s <= %gus", slo.operation, slo.percentile,
                                                  slo.max_us)},
                    {"observed", observed},
                    {"passed", ok}});
  }
  j["slos"] = slos;
  j["passed"] = passed;
  j["error"] = result.error;
  return j;
}

tickmesh::v1::Report ToReportProto(const nlohmann::json& report) {
  tickmesh::v1::Report r;
  r.set_run_id(report.value("run_id", ""));
  r.set_scenario(report.value("scenario", ""));
  r.set_mode(report.value("mode", ""));
  r.set_started_unix_ns(report.value("started_unix_ns", int64_t{0}));
  r.set_finished_unix_ns(report.value("finished_unix_ns", int64_t{0}));
  for (const auto& [name, op] : report["operations"].items()) {
    auto* o = r.add_operations();
    o->set_name(name);
    o->set_count(op.value("count", uint64_t{0}));
    o->set_errors(op.value("errors", uint64_t{0}));
    o->set_rate_per_s(op.value("rate_per_s", 0.0));
    FillLatency(op["latency_us"], o->mutable_latency_us());
  }
  for (const auto& hop : report["hops"]) {
    auto* h = r.add_hops();
    h->set_hop(hop.value("hop", ""));
    FillLatency(hop["latency_us"], h->mutable_latency_us());
  }
  for (const auto& slo : report["slos"]) {
    auto* s = r.add_slos();
    s->set_name(slo.value("name", ""));
    s->set_objective(slo.value("objective", ""));
    s->set_observed(slo.value("observed", 0.0));
    s->set_passed(slo.value("passed", false));
  }
  r.set_passed(report.value("passed", false));
  r.set_report_json(report.dump(2));
  return r;
}

std::string SummaryText(const nlohmann::json& report) {
  std::string out = absl::StrFormat("run %s: %s, %.0f ticks/s for %.0f s\n",
                                    report.value("run_id", ""), report.value("scenario", ""),
                                    report["config"].value("rate_per_s", 0.0),
                                    report["config"].value("duration_s", 0.0));
  const auto& t = report["totals"];
  absl::StrAppendFormat(&out, "  ticks sent %llu, order events %llu, fills %llu, rejects %llu\n",
                        t.value("ticks_sent", 0ULL), t.value("order_events", 0ULL),
                        t.value("fills", 0ULL), t.value("rejects", 0ULL));
  absl::StrAppendFormat(&out, "  %-14s %9s %9s %9s %9s %9s %9s\n", "operation", "count", "p50_us",
                        "p90_us", "p99_us", "p999_us", "max_us");
  for (const auto& [name, op] : report["operations"].items()) {
    const auto& l = op["latency_us"];
    absl::StrAppendFormat(&out, "  %-14s %9llu %9.1f %9.1f %9.1f %9.1f %9.1f\n", name,
                          op.value("count", 0ULL), l.value("p50", 0.0), l.value("p90", 0.0),
                          l.value("p99", 0.0), l.value("p999", 0.0), l.value("max", 0.0));
  }
  for (const auto& hop : report["hops"]) {
    absl::StrAppendFormat(&out, "  hop %-44s p50 %8.1f us  p99 %8.1f us\n",
                          hop.value("hop", ""), hop["latency_us"].value("p50", 0.0),
                          hop["latency_us"].value("p99", 0.0));
  }
  for (const auto& slo : report["slos"]) {
    absl::StrAppendFormat(&out, "  SLO %-36s observed %9.1f  %s\n", slo.value("objective", ""),
                          slo.value("observed", 0.0), slo.value("passed", false) ? "PASS" : "FAIL");
  }
  if (!report.value("error", "").empty()) {
    absl::StrAppendFormat(&out, "  error: %s\n", report.value("error", ""));
  }
  absl::StrAppendFormat(&out, "  verdict: %s\n", report.value("passed", false) ? "PASS" : "FAIL");
  return out;
}

}  // namespace tickmesh::loadtest
