#include "report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "baseline.h"
#include "grade.h"
#include "report_util.h"
#include "resources.h"

namespace tickmesh::loadtest {
namespace {

// Percentiles sampled for the percentile-curve chart (denser towards the tail).
constexpr double kCurvePercentiles[] = {0,  10,   25,   50,    75,    90, 95,
                                        99, 99.5, 99.9, 99.95, 99.99, 100};

double Us(int64_t ns) { return double(ns) / 1000.0; }

double Round3(double v) { return std::round(v * 1000.0) / 1000.0; }

nlohmann::json LatencyJson(const LatencyHistogram& h) {
  return {{"p50", Us(h.Percentile(50))},
          {"p90", Us(h.Percentile(90))},
          {"p99", Us(h.Percentile(99))},
          {"p999", Us(h.Percentile(99.9))},
          {"max", Us(h.max())},
          {"min", Us(h.min())},
          {"mean", Round3(h.mean() / 1000.0)}};
}

nlohmann::json CurveJson(const LatencyHistogram& h) {
  nlohmann::json curve = nlohmann::json::array();
  if (h.count() == 0) return curve;
  for (double p : kCurvePercentiles) curve.push_back({{"p", p}, {"us", Us(h.Percentile(p))}});
  return curve;
}

nlohmann::json OperationsJson(const RunResult& r) {
  nlohmann::json ops = nlohmann::json::object();
  for (const auto& [name, op] : r.operations) {
    const uint64_t count = op.latency_ns.count();
    const double attempts = double(count) + double(op.errors);
    ops[name] = {{"count", count},
                 {"errors", op.errors},
                 {"error_rate", attempts > 0 ? double(op.errors) / attempts : 0.0},
                 {"duration_s", op.duration_s},
                 {"rate_per_s", op.duration_s > 0 ? double(count) / op.duration_s : 0.0},
                 {"latency_us", LatencyJson(op.latency_ns)},
                 {"percentile_curve", CurveJson(op.latency_ns)}};
  }
  return ops;
}

// Hops in path order (hop_order first, then any hop it does not name, alphabetically), and the
// critical path: the hops of that path with their summed latencies and the slowest one by p99.
void HopsJson(const RunResult& r, nlohmann::json* out) {
  std::vector<std::string> order;
  for (const auto& name : r.hop_order) {
    if (r.hops.count(name) && std::find(order.begin(), order.end(), name) == order.end()) {
      order.push_back(name);
    }
  }
  for (const auto& [name, h] : r.hops) {
    if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
  }
  nlohmann::json hops = nlohmann::json::array();
  std::string slowest;
  double slowest_p99 = -1, slowest_p50 = 0, sum_p50 = 0, sum_p99 = 0;
  nlohmann::json path = nlohmann::json::array();
  for (const auto& name : order) {
    const LatencyHistogram& h = r.hops.at(name);
    nlohmann::json lat = LatencyJson(h);
    hops.push_back({{"hop", name}, {"count", h.count()}, {"latency_us", lat}});
    if (h.count() == 0) continue;
    path.push_back(name);
    const double p99 = lat["p99"].get<double>();
    sum_p50 += lat["p50"].get<double>();
    sum_p99 += p99;
    if (p99 > slowest_p99) {
      slowest_p99 = p99;
      slowest_p50 = lat["p50"].get<double>();
      slowest = name;
    }
  }
  (*out)["hops"] = hops;
  (*out)["critical_path"] = {{"hops", path},
                             {"sum_p50_us", sum_p50},
                             {"sum_p99_us", sum_p99},
                             {"slowest_hop", slowest},
                             {"p50_us", slowest_p50},
                             {"p99_us", std::max(0.0, slowest_p99)},
                             {"share_of_p99", sum_p99 > 0 ? slowest_p99 / sum_p99 : 0.0}};
}

nlohmann::json TimelineJson(const RunResult& r) {
  nlohmann::json t = nlohmann::json::array();
  for (const TimelinePoint& p : r.timeline) {
    t.push_back({{"t_s", p.t_s},
                 {"target_per_s", p.target_per_s},
                 {"sent_per_s", p.sent_per_s},
                 {"completed_per_s", p.completed_per_s},
                 {"errors", p.errors},
                 {"p50_us", Us(p.p50_ns)},
                 {"p99_us", Us(p.p99_ns)}});
  }
  return t;
}

nlohmann::json ServiceResourcesJson(const ServiceResources& res) {
  const auto& s = res.samples;
  const double span = s.size() >= 2 ? s.back().t_s - s.front().t_s : 0.0;
  const double warmup = WarmupSeconds(span);
  nlohmann::json series = nlohmann::json::array();
  double cpu_max = 0;
  std::map<std::string, std::vector<double>> qx, qy;
  std::map<std::string, double> qmax, qlast;
  for (size_t i = 0; i < s.size(); ++i) {
    double cores = 0;
    if (i > 0 && s[i].t_s > s[i - 1].t_s) {
      double used = s[i].cpu_seconds >= s[i - 1].cpu_seconds
                        ? s[i].cpu_seconds - s[i - 1].cpu_seconds
                        : s[i].cpu_seconds;  // counter reset: the process restarted
      cores = used / (s[i].t_s - s[i - 1].t_s);
      cpu_max = std::max(cpu_max, cores);
    }
    double queued = 0;
    for (const auto& [g, v] : s[i].gauges) {
      if (!std::isfinite(v)) continue;
      queued += v;
      qmax[g] = std::max(qmax.count(g) ? qmax[g] : v, v);
      qlast[g] = v;
      if (s[i].t_s - s.front().t_s >= warmup) {
        qx[g].push_back(s[i].t_s);
        qy[g].push_back(v);
      }
    }
    series.push_back({{"t_s", s[i].t_s},
                      {"rss_mb", Round3(s[i].rss_bytes / 1e6)},
                      {"cpu_cores", Round3(cores)},
                      {"queue_depth", queued}});
  }
  nlohmann::json retention = nlohmann::json::object();
  bool filling = false;
  for (const auto& [base, r] : res.retention) {
    filling = filling || r.filling;
    retention[base] = {{"retained", r.retained_last},
                       {"limit", r.limit},
                       {"full_at_s", Round3(r.full_at_s)},
                       {"filling", r.filling},
                       {"bytes_per_item", Round3(r.bytes_per_item)},
                       {"projected_rss_at_limit_mb", Round3(r.projected_rss_at_limit_bytes / 1e6)}};
  }
  nlohmann::json queues = nlohmann::json::object();
  for (const auto& [g, v] : qmax) {
    queues[g] = {{"max", v},
                 {"last", qlast[g]},
                 {"growth_per_s", qx.count(g) ? LeastSquaresSlope(qx[g], qy[g]) : 0.0}};
  }
  return {{"admin_url", res.admin_url},
          {"sample_count", s.size()},
          {"span_s", span},
          {"warmup_s", warmup},
          {"rss_max_mb", Round3(res.rss_max_bytes / 1e6)},
          {"cpu_avg_cores", Round3(res.cpu_avg_cores)},
          {"cpu_max_cores", Round3(cpu_max)},
          {"mem_growth_mb_per_min", Round3(res.mem_growth_mb_per_min)},
          {"growth_from_s", Round3(res.growth_from_s)},
          {"growth_window_s", Round3(res.growth_window_s)},
          {"growth_samples", res.growth_samples},
          {"retention", retention},
          {"retention_filling", filling},
          {"queues", queues},
          {"error", res.error},
          {"series", series}};
}

nlohmann::json ResourcesJson(const RunResult& r) {
  nlohmann::json services = nlohmann::json::object();
  for (const auto& [name, res] : r.resources) {
    // The samples are authoritative: summaries are recomputed from them when there are any.
    ServiceResources summarized = res;
    if (!summarized.samples.empty()) SummarizeResources(&summarized);
    services[name] = ServiceResourcesJson(summarized);
  }
  return {{"host_cores", std::max(1u, std::thread::hardware_concurrency())},
          {"services", services}};
}

// The memory-growth objective as a slos[] entry: the worst service's growth against `limit`,
// judged only over each service's growth window (after warm-up and after its retention
// structures filled, see AnalyzeMemoryGrowth).
nlohmann::json MemoryGrowthSlo(double limit, const RunResult& r, const nlohmann::json& resources) {
  std::string worst;
  double worst_growth = -1;
  int min_samples = -1;
  std::vector<std::string> over, unjudged;
  for (const auto& [svc, raw] : r.resources) {
    ServiceResources res = raw;
    SummarizeResources(&res);
    const int n = res.growth_samples;
    const double span =
        res.samples.size() >= 2 ? res.samples.back().t_s - res.samples.front().t_s : 0.0;
    std::vector<std::string> still_filling;
    for (const auto& [base, st] : res.retention) {
      if (!st.filling) continue;
      still_filling.push_back(absl::StrFormat(
          "%s %.0f of %.0f, %.0f bytes per item, RSS about %.0f MB when full", base,
          st.retained_last, st.limit, st.bytes_per_item, st.projected_rss_at_limit_bytes / 1e6));
    }
    // A window that measures a fill is no evidence: it counts as no samples.
    min_samples = std::min(min_samples < 0 ? n : min_samples, still_filling.empty() ? n : 0);
    if (!still_filling.empty()) {
      unjudged.push_back(absl::StrFormat(
          "%s (bounded retention still filling: %s; its %.2f MB/min is the fill, which a leak "
          "would look the same as — soak until the caps are reached, or with smaller caps)",
          svc, absl::StrJoin(still_filling, "; "), res.mem_growth_mb_per_min));
      continue;
    }
    if (n < kMinMemoryGrowthSamples || res.growth_window_s < MinGrowthWindowSeconds(span)) {
      unjudged.push_back(absl::StrFormat(
          "%s (%d RSS sample(s) over %.1f s after warm-up%s; %d samples and %.1f s needed%s)", svc,
          n, res.growth_window_s, res.retention.empty() ? "" : " and full retention",
          kMinMemoryGrowthSamples, MinGrowthWindowSeconds(span),
          res.error.empty() ? "" : "; " + res.error));
      continue;
    }
    // The figure the report shows for the service (recomputed from its samples).
    const double growth =
        report_util::Num(report_util::Get(report_util::Get(resources, "services"), svc.c_str()),
                         "mem_growth_mb_per_min");
    if (growth > limit) over.push_back(absl::StrFormat("%s %.2f MB/min", svc, growth));
    if (growth > worst_growth) {
      worst_growth = growth;
      worst = svc;
    }
  }
  const uint64_t samples = min_samples > 0 ? uint64_t(min_samples) : 0;
  const bool judged = !r.resources.empty() && unjudged.empty();
  const bool ok = judged && worst_growth <= limit;
  std::string reason;
  if (r.resources.empty()) {
    reason = "no service was sampled (admin /metrics): memory growth cannot be judged";
  } else if (!unjudged.empty()) {
    reason = absl::StrCat("no evidence for ", absl::StrJoin(unjudged, ", "));
  } else if (!ok) {
    reason =
        absl::StrFormat("RSS grew faster than %g MB/min: %s", limit, absl::StrJoin(over, ", "));
  }
  return {{"name", "memory_growth"},
          {"kind", "memory_growth"},
          {"unit", "mb_per_min"},
          {"subject", worst},
          {"operation", ""},
          {"percentile", ""},
          {"threshold", limit},
          {"threshold_us", 0.0},
          {"objective", absl::StrFormat("memory_growth <= %g MB/min (worst service)", limit)},
          {"observed", worst_growth >= 0 ? worst_growth : -1.0},
          {"samples", samples},
          {"margin",
           worst_growth >= 0 ? nlohmann::json(worst_growth / limit) : nlohmann::json(nullptr)},
          {"passed", ok},
          {"reason", reason}};
}

// The `volatility` section from the jump-window counters (see MeasureBurstiness).
nlohmann::json VolatilityJson(const std::map<std::string, uint64_t>& counters) {
  auto get = [&](const char* name) -> uint64_t {
    auto it = counters.find(name);
    return it == counters.end() ? 0 : it->second;
  };
  const auto& k = kJumpWindowCounters;
  const double in_s = double(get(k.in_window_us)) / 1e6;
  const double between_s = double(get(k.between_us)) / 1e6;
  const uint64_t in_events = get(k.in_window_events);
  const uint64_t between_events = get(k.between_events);
  const double in_rate = in_s > 0 ? double(in_events) / in_s : 0.0;
  const double between_rate = between_s > 0 ? double(between_events) / between_s : 0.0;
  const uint64_t all_events = in_events + between_events;
  // No signal between jumps: the ratio is at least the one with a single signal between.
  const bool lower_bound = between_events == 0 && in_events > 0 && between_s > 0;
  const double ratio = between_rate > 0 ? in_rate / between_rate
                       : lower_bound    ? in_rate / (1.0 / between_s)
                                        : 0.0;
  const uint64_t bins = get(k.bins);
  return {
      {"measured", get(k.jumps) > 0 && in_s > 0},
      {"jumps", get(k.jumps)},
      {"window_ms", get(k.window_ms)},
      {"in_jump_windows",
       {{"seconds", Round3(in_s)}, {"signals", in_events}, {"per_s", Round3(in_rate)}}},
      {"between_jumps",
       {{"seconds", Round3(between_s)},
        {"signals", between_events},
        {"per_s", Round3(between_rate)}}},
      {"burst_ratio", Round3(ratio)},
      {"burst_ratio_is_lower_bound", lower_bound},
      {"bin_ms", get(k.bin_ms)},
      {"bins", bins},
      {"signals_per_bin", bins > 0 ? Round3(double(get(k.bin_events)) / double(bins)) : 0.0},
      {"index_of_dispersion",
       Round3(IndexOfDispersion(bins, get(k.bin_events), get(k.bin_events_sq)))},
      {"share_of_signals_in_windows",
       all_events > 0 ? Round3(double(in_events) / double(all_events)) : 0.0},
      {"share_of_time_in_windows", in_s + between_s > 0 ? Round3(in_s / (in_s + between_s)) : 0.0}};
}

bool IsKnownPercentile(const std::string& p) {
  return p == "p50" || p == "p90" || p == "p99" || p == "p999" || p == "max";
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

Burstiness MeasureBurstiness(const std::vector<CounterSample>& samples, double window_s,
                             double bin_s) {
  Burstiness b;
  b.window_s = window_s;
  b.bin_s = bin_s;
  std::vector<uint64_t> bins;
  if (samples.size() >= 2 && bin_s > 0 && samples.back().t_s > samples.front().t_s) {
    bins.assign(size_t((samples.back().t_s - samples.front().t_s) / bin_s), 0);
  }
  double window_end = -std::numeric_limits<double>::infinity();
  for (size_t i = 1; i < samples.size(); ++i) {
    const CounterSample& a = samples[i - 1];
    const CounterSample& c = samples[i];
    const double dt = c.t_s - a.t_s;
    if (!(dt > 0)) continue;
    const uint64_t events = c.events > a.events ? c.events - a.events : 0;
    if (c.jumps > a.jumps) {
      b.jumps += c.jumps - a.jumps;
      window_end = std::max(window_end, a.t_s + window_s);
    }
    if (a.t_s < window_end) {
      b.in_window_s += dt;
      b.in_window_events += events;
    } else {
      b.between_s += dt;
      b.between_events += events;
    }
    const size_t bin = size_t((a.t_s - samples.front().t_s) / bin_s);
    if (bin < bins.size()) bins[bin] += events;
  }
  b.bins = bins.size();
  for (uint64_t n : bins) {
    b.bin_events += n;
    b.bin_events_sq += n * n;
  }
  return b;
}

double IndexOfDispersion(uint64_t bins, uint64_t sum, uint64_t sum_sq) {
  if (bins < 2 || sum == 0) return 0;
  const double n = double(bins);
  const double mean = double(sum) / n;
  const double var = (double(sum_sq) - n * mean * mean) / (n - 1);
  return std::max(0.0, var) / mean;
}

void StoreBurstiness(const Burstiness& b, std::map<std::string, uint64_t>* counters) {
  const auto& k = kJumpWindowCounters;
  (*counters)[k.jumps] = b.jumps;
  (*counters)[k.window_ms] = uint64_t(std::llround(b.window_s * 1e3));
  (*counters)[k.in_window_us] = uint64_t(std::llround(b.in_window_s * 1e6));
  (*counters)[k.in_window_events] = b.in_window_events;
  (*counters)[k.between_us] = uint64_t(std::llround(b.between_s * 1e6));
  (*counters)[k.between_events] = b.between_events;
  (*counters)[k.bin_ms] = uint64_t(std::llround(b.bin_s * 1e3));
  (*counters)[k.bins] = b.bins;
  (*counters)[k.bin_events] = b.bin_events;
  (*counters)[k.bin_events_sq] = b.bin_events_sq;
}

nlohmann::json BuildReportJson(const RunInfo& info, const RunResult& result) {
  nlohmann::json j;
  j["schema_version"] = kReportSchemaVersion;
  j["run_id"] = info.run_id;
  j["scenario"] = info.scenario;
  j["mode"] = info.mode;
  j["started_unix_ns"] = result.started_unix_ns;
  j["finished_unix_ns"] = result.finished_unix_ns;
  j["duration_s"] = result.finished_unix_ns > result.started_unix_ns
                        ? double(result.finished_unix_ns - result.started_unix_ns) / 1e9
                        : 0.0;
  j["config"] = info.config.is_object() ? info.config : nlohmann::json::object();
  j["counters"] = result.counters;
  j["primary_operation"] = result.primary_operation;
  j["operations"] = OperationsJson(result);
  HopsJson(result, &j);
  j["timeline"] = TimelineJson(result);
  j["resources"] = ResourcesJson(result);

  nlohmann::json faults = nlohmann::json::array();
  bool faults_ok = true;
  for (const FaultStep& f : result.faults) {
    faults.push_back({{"action", f.action}, {"at_s", f.at_s}, {"ok", f.ok}, {"detail", f.detail}});
    faults_ok = faults_ok && f.ok;
  }
  j["faults"] = faults;
  nlohmann::json integrity = nlohmann::json::array();
  bool integrity_ok = true;
  for (const IntegrityCheck& c : result.integrity) {
    integrity.push_back({{"name", c.name},
                         {"expected", c.expected},
                         {"found", c.found},
                         {"missing", c.missing},
                         {"duplicated", c.duplicated},
                         {"passed", c.passed},
                         {"detail", c.detail}});
    integrity_ok = integrity_ok && c.passed;
  }
  j["integrity"] = integrity;
  j["breaking_point"] = {{"searched", result.breaking_point_per_s > 0},
                         {"rate_per_s", result.breaking_point_per_s},
                         {"reason", result.breaking_reason}};

  const nlohmann::json& ops = j["operations"];
  bool measured = false;
  for (const auto& [name, op] : ops.items()) measured = measured || op["count"].get<uint64_t>() > 0;
  bool slos_ok = true;
  nlohmann::json slos = nlohmann::json::array();
  for (const Slo& slo : info.slos) {
    const bool has_op = ops.contains(slo.operation) && IsKnownPercentile(slo.percentile);
    const uint64_t samples = has_op ? ops[slo.operation]["count"].get<uint64_t>() : 0;
    const double observed =
        samples > 0 ? ops[slo.operation]["latency_us"][slo.percentile].get<double>() : -1.0;
    // An operation with no samples fails its SLO: no evidence is not a pass.
    const bool ok = samples > 0 && observed <= slo.max_us;
    std::string reason;
    if (samples == 0) {
      reason = absl::StrCat("no samples of ", slo.operation);
    } else if (!ok) {
      reason = absl::StrFormat("observed %.1f us > %g us", observed, slo.max_us);
    }
    slos_ok = slos_ok && ok;
    slos.push_back(
        {{"name", absl::StrCat(slo.operation, ".", slo.percentile)},
         {"kind", "latency"},
         {"unit", "us"},
         {"subject", slo.operation},
         {"threshold", slo.max_us},
         {"operation", slo.operation},
         {"percentile", slo.percentile},
         {"threshold_us", slo.max_us},
         {"objective", absl::StrFormat("%s.%s <= %gus", slo.operation, slo.percentile, slo.max_us)},
         {"observed", observed},
         {"samples", samples},
         {"margin", samples > 0 && slo.max_us > 0 ? nlohmann::json(observed / slo.max_us)
                                                  : nlohmann::json(nullptr)},
         {"passed", ok},
         {"reason", reason}});
  }
  // The soak's memory objective, from the scenario's configuration.
  const nlohmann::json limit = report_util::Get(j["config"], "max_mem_growth_mb_per_min");
  if (limit.is_number() && limit.get<double>() > 0) {
    slos.push_back(MemoryGrowthSlo(limit.get<double>(), result, j["resources"]));
    slos_ok = slos_ok && slos.back()["passed"].get<bool>();
  }
  j["slos"] = slos;
  j["volatility"] = VolatilityJson(result.counters);
  j["passed"] = result.error.empty() && measured && slos_ok && integrity_ok && faults_ok;
  j["error"] = result.error;

  if (info.baseline.is_object()) {
    j["baseline"] = ToJson(CompareWithBaseline(j, info.baseline, info.regression_threshold));
  } else {
    j["baseline"] = nullptr;
  }
  // Grading reads the sections above (including the baseline for recommendations).
  const Grade grade = ComputeGrade(j);
  const std::vector<Bottleneck> bottlenecks = FindBottlenecks(j);
  j["grade"] = ToJson(grade);
  j["bottlenecks"] = ToJson(bottlenecks);
  j["recommendations"] = ToJson(Recommend(j, bottlenecks));
  return j;
}

bool HasRegressions(const nlohmann::json& report) {
  return report_util::Bool(report_util::Get(report, "baseline"), "regressed");
}

namespace {

using report_util::Bool;
using report_util::Get;
using report_util::Num;
using report_util::Str;
using report_util::U64;

void FillLatency(const nlohmann::json& j, tickmesh::v1::LatencySummary* out) {
  out->set_p50(Num(j, "p50"));
  out->set_p90(Num(j, "p90"));
  out->set_p99(Num(j, "p99"));
  out->set_p999(Num(j, "p999"));
  out->set_max(Num(j, "max"));
  out->set_mean(Num(j, "mean"));
}

}  // namespace

tickmesh::v1::Report ToReportProto(const nlohmann::json& report) {
  tickmesh::v1::Report r;
  if (!report.is_object()) return r;
  r.set_run_id(Str(report, "run_id"));
  r.set_scenario(Str(report, "scenario"));
  r.set_mode(Str(report, "mode"));
  r.set_started_unix_ns(int64_t(Num(report, "started_unix_ns")));
  r.set_finished_unix_ns(int64_t(Num(report, "finished_unix_ns")));
  if (const auto& ops = Get(report, "operations"); ops.is_object()) {
    for (const auto& [name, op] : ops.items()) {
      auto* o = r.add_operations();
      o->set_name(name);
      o->set_count(U64(op, "count"));
      o->set_errors(U64(op, "errors"));
      o->set_rate_per_s(Num(op, "rate_per_s"));
      FillLatency(Get(op, "latency_us"), o->mutable_latency_us());
    }
  }
  if (const auto& hops = Get(report, "hops"); hops.is_array()) {
    for (const auto& hop : hops) {
      auto* h = r.add_hops();
      h->set_hop(Str(hop, "hop"));
      FillLatency(Get(hop, "latency_us"), h->mutable_latency_us());
    }
  }
  if (const auto& slos = Get(report, "slos"); slos.is_array()) {
    for (const auto& slo : slos) {
      auto* s = r.add_slos();
      s->set_name(Str(slo, "name"));
      s->set_objective(Str(slo, "objective"));
      s->set_observed(Num(slo, "observed"));
      s->set_passed(Bool(slo, "passed"));
    }
  }
  const auto& grade = Get(report, "grade");
  r.set_score(Num(grade, "score"));
  r.set_grade(Str(grade, "letter"));
  r.set_passed(Bool(report, "passed"));
  r.set_report_json(report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  return r;
}

std::string SummaryText(const nlohmann::json& report) {
  if (!report.is_object()) return "no report\n";
  std::string out =
      absl::StrFormat("run %s: scenario %s, mode %s, %.1f s\n", Str(report, "run_id"),
                      Str(report, "scenario"), Str(report, "mode"), Num(report, "duration_s"));
  if (const auto& counters = Get(report, "counters"); counters.is_object() && !counters.empty()) {
    out += " ";
    for (const auto& [name, v] : counters.items()) {
      absl::StrAppend(&out, " ", name, " ", v.is_number() ? v.dump() : "?");
    }
    out += "\n";
  }
  absl::StrAppendFormat(&out, "  %-16s %9s %7s %9s %9s %9s %9s %9s %9s\n", "operation", "count",
                        "errors", "rate/s", "p50_us", "p90_us", "p99_us", "p999_us", "max_us");
  if (const auto& ops = Get(report, "operations"); ops.is_object()) {
    for (const auto& [name, op] : ops.items()) {
      const auto& l = Get(op, "latency_us");
      absl::StrAppendFormat(&out, "  %-16s %9d %7d %9.0f %9.1f %9.1f %9.1f %9.1f %9.1f\n", name,
                            U64(op, "count"), U64(op, "errors"), Num(op, "rate_per_s"),
                            Num(l, "p50"), Num(l, "p90"), Num(l, "p99"), Num(l, "p999"),
                            Num(l, "max"));
    }
  }
  if (const auto& hops = Get(report, "hops"); hops.is_array()) {
    for (const auto& hop : hops) {
      const auto& l = Get(hop, "latency_us");
      absl::StrAppendFormat(&out, "  hop %-44s p50 %8.1f us  p99 %8.1f us\n", Str(hop, "hop"),
                            Num(l, "p50"), Num(l, "p99"));
    }
  }
  const auto& cp = Get(report, "critical_path");
  if (!Str(cp, "slowest_hop").empty()) {
    absl::StrAppendFormat(&out, "  slowest hop: %s (p99 %.1f us, %.0f%% of the path's p99)\n",
                          Str(cp, "slowest_hop"), Num(cp, "p99_us"),
                          100.0 * Num(cp, "share_of_p99"));
  }
  if (const auto& slos = Get(report, "slos"); slos.is_array()) {
    for (const auto& slo : slos) {
      absl::StrAppendFormat(&out, "  SLO %-36s observed %9.1f  %s\n", Str(slo, "objective"),
                            Num(slo, "observed"), Bool(slo, "passed") ? "PASS" : "FAIL");
      // The memory objective's reason names services and figures the line above cannot.
      if (Str(slo, "kind") == "memory_growth" && !Bool(slo, "passed")) {
        absl::StrAppend(&out, "      ", Str(slo, "reason"), "\n");
      }
    }
  }
  if (const auto& v = Get(report, "volatility"); Bool(v, "measured")) {
    const auto& in = Get(v, "in_jump_windows");
    const auto& between = Get(v, "between_jumps");
    absl::StrAppendFormat(
        &out,
        "  price jumps %d: signals %.1f/s within %d ms after a jump vs "
        "%.1f/s between jumps (x%.1f%s); %.0f%% of them in %.0f%% of the time; "
        "index of dispersion per %d ms %.2f (Poisson 1)\n",
        U64(v, "jumps"), Num(in, "per_s"), U64(v, "window_ms"), Num(between, "per_s"),
        Num(v, "burst_ratio"), Bool(v, "burst_ratio_is_lower_bound") ? " or more" : "",
        100 * Num(v, "share_of_signals_in_windows"), 100 * Num(v, "share_of_time_in_windows"),
        U64(v, "bin_ms"), Num(v, "index_of_dispersion"));
  }
  if (const auto& integrity = Get(report, "integrity"); integrity.is_array()) {
    for (const auto& c : integrity) {
      absl::StrAppendFormat(&out,
                            "  integrity %-28s expected %d found %d missing %d duplicated %d  %s\n",
                            Str(c, "name"), U64(c, "expected"), U64(c, "found"), U64(c, "missing"),
                            U64(c, "duplicated"), Bool(c, "passed") ? "PASS" : "FAIL");
    }
  }
  if (const auto& faults = Get(report, "faults"); faults.is_array()) {
    for (const auto& f : faults) {
      absl::StrAppendFormat(&out, "  fault at %6.1fs %-28s %s %s\n", Num(f, "at_s"),
                            Str(f, "action"), Bool(f, "ok") ? "ok" : "FAILED", Str(f, "detail"));
    }
  }
  const auto& bp = Get(report, "breaking_point");
  if (Bool(bp, "searched")) {
    absl::StrAppendFormat(&out, "  breaking point: %.0f /s (%s)\n", Num(bp, "rate_per_s"),
                          Str(bp, "reason"));
  }
  const auto& grade = Get(report, "grade");
  if (grade.is_object()) {
    absl::StrAppendFormat(&out, "  score %.1f  grade %s\n", Num(grade, "score"),
                          Str(grade, "letter"));
  }
  if (const auto& bottlenecks = Get(report, "bottlenecks"); bottlenecks.is_array()) {
    for (const auto& b : bottlenecks) {
      absl::StrAppendFormat(&out, "  bottleneck [%s] %s\n", Str(b, "kind"), Str(b, "detail"));
    }
  }
  if (const auto& recs = Get(report, "recommendations"); recs.is_array()) {
    for (const auto& rec : recs) absl::StrAppendFormat(&out, "  -> %s\n", Str(rec, "text"));
  }
  const auto& base = Get(report, "baseline");
  if (base.is_object()) {
    absl::StrAppendFormat(&out, "  baseline %s: %s\n", Str(base, "run_id"),
                          Bool(base, "regressed") ? "REGRESSED" : "no regression");
    if (const auto& regs = Get(base, "regressions"); regs.is_array()) {
      for (const auto& r : regs) {
        if (r.is_string())
          absl::StrAppendFormat(&out, "    regression: %s\n", r.get<std::string>());
      }
    }
  }
  if (!Str(report, "error").empty()) {
    absl::StrAppendFormat(&out, "  error: %s\n", Str(report, "error"));
  }
  absl::StrAppendFormat(&out, "  verdict: %s\n", Bool(report, "passed") ? "PASS" : "FAIL");
  return out;
}

}  // namespace tickmesh::loadtest
