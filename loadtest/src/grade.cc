#include "grade.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "report_util.h"

namespace tickmesh::loadtest {
namespace {

using report_util::Bool;
using report_util::Get;
using report_util::Num;
using report_util::Str;
using report_util::U64;

// Caps on each rule's total deduction (points).
constexpr double kSloCap = 60;
constexpr double kErrorCap = 30;
constexpr double kIntegrityCap = 60;
constexpr double kFaultCap = 15;
constexpr double kMemoryCap = 30;
constexpr double kQueueCap = 15;
// Score ceilings after a failure.
constexpr double kIntegrityCeiling = 49;
constexpr double kSloCeiling = 69;

bool AnyOperationMeasured(const nlohmann::json& report) {
  const auto& ops = Get(report, "operations");
  if (!ops.is_object()) return false;
  for (const auto& [name, op] : ops.items()) {
    if (U64(op, "count") > 0) return true;
  }
  return false;
}

struct QueueGrowth {
  std::string service, gauge;
  double per_s = 0, predicted = 0, last = 0, max = 0;
};

std::vector<QueueGrowth> GrowingQueues(const nlohmann::json& report, const GradeRules& rules) {
  std::vector<QueueGrowth> out;
  const auto& services = Get(Get(report, "resources"), "services");
  if (!services.is_object()) return out;
  for (const auto& [svc, res] : services.items()) {
    const double span = std::max(0.0, Num(res, "span_s") - Num(res, "warmup_s"));
    const auto& queues = Get(res, "queues");
    if (!queues.is_object()) continue;
    for (const auto& [gauge, q] : queues.items()) {
      const double per_s = Num(q, "growth_per_s");
      if (per_s <= 0 || per_s * span < rules.queue_growth_min_items) continue;
      out.push_back({svc, gauge, per_s, per_s * span, Num(q, "last"), Num(q, "max")});
    }
  }
  return out;
}

struct CpuUse {
  std::string service;
  double avg = 0, max = 0;
};

// Saturated services (see GradeRules), hottest first.
std::vector<CpuUse> SaturatedServices(const nlohmann::json& report, const GradeRules& rules,
                                      double* host_cores, double* total) {
  const auto& resources = Get(report, "resources");
  *host_cores = std::max(1.0, Num(resources, "host_cores", 1));
  *total = 0;
  std::vector<CpuUse> all;
  const auto& services = Get(resources, "services");
  if (services.is_object()) {
    for (const auto& [svc, res] : services.items()) {
      if (U64(res, "sample_count") < 2) continue;
      all.push_back({svc, Num(res, "cpu_avg_cores"), Num(res, "cpu_max_cores")});
      *total += all.back().avg;
    }
  }
  std::sort(all.begin(), all.end(), [](const CpuUse& a, const CpuUse& b) { return a.avg > b.avg; });
  std::vector<CpuUse> out;
  for (const auto& c : all) {
    if (c.avg >= rules.cpu_saturation_fraction * *host_cores) out.push_back(c);
  }
  if (out.empty() && !all.empty() && all.front().avg > 0 &&
      *total >= rules.machine_saturation_fraction * *host_cores) {
    out.push_back(all.front());
  }
  return out;
}

// The memory-growth limit: the scenario's objective (config.max_mem_growth_mb_per_min) when it
// sets one, else the rules' default.
double MemoryLimit(const nlohmann::json& report, const GradeRules& rules) {
  const double configured = Num(Get(report, "config"), "max_mem_growth_mb_per_min");
  return configured > 0 ? configured : rules.memory_growth_limit_mb_per_min;
}

// slos[] entries of kind memory_growth are judged by the memory rules, not the latency ones.
bool IsMemorySlo(const nlohmann::json& slo) { return Str(slo, "kind") == "memory_growth"; }

// "market-data.recv->market-data.emit" -> {"market-data", "market-data"}.
std::pair<std::string, std::string> HopServices(const std::string& hop) {
  auto arrow = hop.find("->");
  if (arrow == std::string::npos) return {"", ""};
  auto service = [](const std::string& end) {
    auto dot = end.rfind('.');
    return dot == std::string::npos ? end : end.substr(0, dot);
  };
  return {service(hop.substr(0, arrow)), service(hop.substr(arrow + 2))};
}

}  // namespace

std::string LetterForScore(double score) {
  if (score >= 90) return "A";
  if (score >= 80) return "B";
  if (score >= 70) return "C";
  if (score >= 60) return "D";
  return "F";
}

Grade ComputeGrade(const nlohmann::json& report, const GradeRules& rules) {
  Grade g;
  auto finish = [&](double score) {
    g.score = std::round(std::clamp(score, 0.0, 100.0) * 10) / 10;
    g.letter = LetterForScore(g.score);
    return g;
  };
  const std::string error = Str(report, "error");
  if (!error.empty()) {
    g.deductions.push_back({"run_error", absl::StrCat("the run failed: ", error), 100});
    return finish(0);
  }
  if (!AnyOperationMeasured(report)) {
    g.deductions.push_back({"no_samples", "no operation completed even once", 100});
    return finish(0);
  }
  double score = 100;
  double ceiling = 100;
  auto deduct = [&](double cap, std::vector<Deduction> items) {
    double total = 0;
    for (auto& d : items) {
      d.points = std::min(d.points, cap - total);
      if (d.points <= 0) break;
      total += d.points;
      g.deductions.push_back(std::move(d));
    }
    score -= total;
  };

  // SLOs: headroom, misses (scaled by how far over), no evidence.
  std::vector<Deduction> slo;
  if (const auto& slos = Get(report, "slos"); slos.is_array()) {
    for (const auto& s : slos) {
      const std::string name = Str(s, "name");
      const double threshold = Num(s, "threshold_us");
      const double observed = Num(s, "observed", -1);
      if (U64(s, "samples") == 0 && !Bool(s, "passed")) {
        slo.push_back({"slo_no_samples", absl::StrCat(name, ": no samples"), 25});
        ceiling = std::min(ceiling, kSloCeiling);
        continue;
      }
      if (IsMemorySlo(s)) {
        // A miss is scored by the memory_growth rule below; it still caps the score like any
        // failed objective.
        if (!Bool(s, "passed")) ceiling = std::min(ceiling, kSloCeiling);
        continue;
      }
      const double margin = threshold > 0 ? observed / threshold : (observed > 0 ? 2.0 : 0.0);
      if (!Bool(s, "passed")) {
        slo.push_back({"slo_failed",
                       absl::StrFormat("%s: %.1f us vs objective %g us (%+.0f%%)", name, observed,
                                       threshold, 100 * (margin - 1)),
                       15 + std::min(15.0, 15 * std::max(0.0, margin - 1))});
        ceiling = std::min(ceiling, kSloCeiling);
      } else if (margin > rules.slo_headroom_margin) {
        const double pts = 5 * (margin - rules.slo_headroom_margin) /
                           std::max(1e-9, 1 - rules.slo_headroom_margin);
        slo.push_back({"slo_margin",
                       absl::StrFormat("%s: %.1f us is %.0f%% of the objective %g us", name,
                                       observed, 100 * margin, threshold),
                       std::min(5.0, pts)});
      }
    }
  }
  deduct(kSloCap, std::move(slo));

  // Errors: the worst operation's error ratio, 10 points per percent.
  double worst_ratio = 0;
  std::string worst_op;
  if (const auto& ops = Get(report, "operations"); ops.is_object()) {
    for (const auto& [name, op] : ops.items()) {
      const double attempts = double(U64(op, "count")) + double(U64(op, "errors"));
      if (attempts <= 0) continue;
      const double ratio = double(U64(op, "errors")) / attempts;
      if (ratio > worst_ratio) {
        worst_ratio = ratio;
        worst_op = name;
      }
    }
  }
  if (worst_ratio > 0) {
    deduct(
        kErrorCap,
        {{"errors", absl::StrFormat("%s: %.2f%% of attempts failed", worst_op, 100 * worst_ratio),
          1000 * worst_ratio}});
  }

  // Integrity: acknowledged data lost or duplicated.
  std::vector<Deduction> integrity;
  if (const auto& checks = Get(report, "integrity"); checks.is_array()) {
    for (const auto& c : checks) {
      if (Bool(c, "passed")) continue;
      integrity.push_back(
          {"integrity",
           absl::StrFormat("%s: %d missing, %d duplicated of %d expected", Str(c, "name"),
                           U64(c, "missing"), U64(c, "duplicated"), U64(c, "expected")),
           30});
      ceiling = std::min(ceiling, kIntegrityCeiling);
    }
  }
  deduct(kIntegrityCap, std::move(integrity));

  std::vector<Deduction> faults;
  if (const auto& steps = Get(report, "faults"); steps.is_array()) {
    for (const auto& f : steps) {
      if (Bool(f, "ok")) continue;
      faults.push_back({"fault_step",
                        absl::StrFormat("fault step '%s' at %.1fs failed: %s", Str(f, "action"),
                                        Num(f, "at_s"), Str(f, "detail")),
                        5});
    }
  }
  deduct(kFaultCap, std::move(faults));

  std::vector<Deduction> memory;
  const double memory_limit = MemoryLimit(report, rules);
  if (const auto& services = Get(Get(report, "resources"), "services"); services.is_object()) {
    for (const auto& [svc, res] : services.items()) {
      const double growth = Num(res, "mem_growth_mb_per_min");
      // A service whose bounded retention is still filling measured the fill, not a leak (the
      // memory objective reports it as no evidence).
      if (growth <= memory_limit || Bool(res, "retention_filling")) continue;
      memory.push_back(
          {"memory_growth",
           absl::StrFormat("%s: RSS grew %.2f MB/min (limit %g)", svc, growth, memory_limit),
           10 + std::min(10.0, 2 * (growth - memory_limit))});
    }
  }
  deduct(kMemoryCap, std::move(memory));

  std::vector<Deduction> queues;
  for (const auto& q : GrowingQueues(report, rules)) {
    queues.push_back(
        {"queue_growth",
         absl::StrFormat("%s %s grew %.1f items/s (to %.0f)", q.service, q.gauge, q.per_s, q.last),
         5});
  }
  deduct(kQueueCap, std::move(queues));

  return finish(std::min(score, ceiling));
}

std::vector<Bottleneck> FindBottlenecks(const nlohmann::json& report, const GradeRules& rules) {
  std::vector<Bottleneck> out;
  if (const auto& slos = Get(report, "slos"); slos.is_array()) {
    for (const auto& s : slos) {
      if (Bool(s, "passed")) continue;
      const double observed = Num(s, "observed", -1);
      if (IsMemorySlo(s)) {
        // Growth over the limit is a memory_growth bottleneck (below); what is left is a
        // memory objective that could not be judged.
        if (U64(s, "samples") == 0) {
          out.push_back({"slo_failed", Str(s, "name"), -1, "mb_per_min", Str(s, "reason")});
        }
        continue;
      }
      out.push_back({"slo_failed", Str(s, "name"), observed, "us",
                     observed < 0
                         ? absl::StrCat(Str(s, "name"), " has no samples")
                         : absl::StrFormat("%s is %.1f us, objective %g us", Str(s, "name"),
                                           observed, Num(s, "threshold_us"))});
    }
  }
  if (const auto& ops = Get(report, "operations"); ops.is_object()) {
    for (const auto& [name, op] : ops.items()) {
      const double errors = double(U64(op, "errors"));
      const double attempts = double(U64(op, "count")) + errors;
      if (attempts <= 0 || errors / attempts <= rules.error_rate_limit) continue;
      out.push_back({"error_rate", name, errors / attempts, "ratio",
                     absl::StrFormat("%s: %.0f of %.0f attempts failed (%.2f%%)", name, errors,
                                     attempts, 100 * errors / attempts)});
    }
  }
  const double memory_limit = MemoryLimit(report, rules);
  double host_cores = 1, total_cpu = 0;
  for (const auto& c : SaturatedServices(report, rules, &host_cores, &total_cpu)) {
    out.push_back({"cpu_saturated", c.service, c.avg, "cores",
                   absl::StrFormat("%s averaged %.2f cores (peak %.2f) of the host's %.0f; all "
                                   "sampled services together %.2f",
                                   c.service, c.avg, c.max, host_cores, total_cpu)});
  }
  for (const auto& q : GrowingQueues(report, rules)) {
    out.push_back({"queue_growth", absl::StrCat(q.service, "/", q.gauge), q.per_s, "items_per_s",
                   absl::StrFormat("%s on %s grew %.1f items/s after warm-up (last %.0f, max %.0f)",
                                   q.gauge, q.service, q.per_s, q.last, q.max)});
  }
  if (const auto& services = Get(Get(report, "resources"), "services"); services.is_object()) {
    for (const auto& [svc, res] : services.items()) {
      const double growth = Num(res, "mem_growth_mb_per_min");
      if (growth <= memory_limit || Bool(res, "retention_filling")) continue;
      out.push_back(
          {"memory_growth", svc, growth, "mb_per_min",
           absl::StrFormat(
               "%s RSS grew %.2f MB/min after warm-up%s (limit %g, max "
               "%.1f MB)",
               svc, growth,
               Num(res, "growth_from_s") > Num(res, "warmup_s") ? " and full retention" : "",
               memory_limit, Num(res, "rss_max_mb"))});
    }
  }
  const auto& cp = Get(report, "critical_path");
  if (const std::string hop = Str(cp, "slowest_hop"); !hop.empty()) {
    out.push_back({"slowest_hop", hop, Num(cp, "p99_us"), "us",
                   absl::StrFormat("%s: p99 %.1f us, p50 %.1f us, %.0f%% of the critical path's "
                                   "summed p99 (%.1f us)",
                                   hop, Num(cp, "p99_us"), Num(cp, "p50_us"),
                                   100 * Num(cp, "share_of_p99"), Num(cp, "sum_p99_us"))});
  }
  return out;
}

std::vector<Recommendation> Recommend(const nlohmann::json& report,
                                      const std::vector<Bottleneck>& bottlenecks,
                                      const GradeRules& rules) {
  std::vector<Recommendation> out;
  const auto& services = Get(Get(report, "resources"), "services");
  const auto& cp = Get(report, "critical_path");
  bool slo_failed = false;
  for (const auto& b : bottlenecks) slo_failed = slo_failed || b.kind == "slo_failed";

  for (const auto& b : bottlenecks) {
    if (b.kind == "slo_failed" && b.unit == "mb_per_min" &&
        b.detail.find("retention still filling") != std::string::npos) {
      out.push_back({"slo_failed",
                     "Memory growth could not be judged while bounded retention fills: soak "
                     "until every cap is reached (the report's projected RSS says where it "
                     "ends), or soak a mesh with smaller caps (e.g. execution with "
                     "TICKMESH_ORDER_RETENTION=1000).",
                     b.detail});
    } else if (b.kind == "slo_failed" && b.unit == "mb_per_min") {
      out.push_back({"slo_failed",
                     "Memory growth could not be judged: make every service's admin /metrics "
                     "reachable from the load tester (--admin_addresses) and run long enough for "
                     "3 RSS samples after the warm-up (and after the retention caps filled).",
                     b.detail});
    } else if (b.kind == "slo_failed") {
      std::string text =
          b.value < 0
              ? absl::StrCat("No samples for ", b.subject,
                             ": the operation never completed — check that the path it measures is "
                             "wired (services up, symbols configured) before reading latency.")
              : absl::StrCat("Bring ", b.subject, " under its objective");
      if (b.value >= 0 && !Str(cp, "slowest_hop").empty()) {
        absl::StrAppendFormat(&text, ": start with the slowest hop %s (p99 %.1f us).",
                              Str(cp, "slowest_hop"), Num(cp, "p99_us"));
      } else if (b.value >= 0) {
        text += ".";
      }
      out.push_back({"slo_failed", text, b.detail});
    } else if (b.kind == "error_rate") {
      out.push_back(
          {"error_rate",
           b.value >= 0.999
               ? absl::StrCat("Every attempt of ", b.subject,
                              " failed: check that its target service is up and reachable "
                              "(addresses, ports, readiness) before reading anything else.")
               : absl::StrCat("Investigate the failures of ", b.subject,
                              " first (service logs and its error counters): the latency of the "
                              "successful attempts does not show them."),
           b.detail});
    } else if (b.kind == "cpu_saturated") {
      out.push_back({"cpu_saturated",
                     absl::StrCat("Profile ", b.subject,
                                  " under this load (perf record -g -p "
                                  "<pid>) and cut its per-event work, or give it more cores: "
                                  "the mesh cannot go faster while it is CPU-bound."),
                     b.detail});
    } else if (b.kind == "queue_growth") {
      out.push_back({"queue_growth",
                     absl::StrCat("The consumer of ", b.subject,
                                  " falls behind its producer at this rate: speed it up "
                                  "(batching, fewer round trips) or lower the offered load; a "
                                  "bounded queue that keeps growing ends in drops or blocking."),
                     b.detail});
    } else if (b.kind == "memory_growth") {
      out.push_back({"memory_growth",
                     absl::StrCat("Run the soak scenario with heap profiling on ", b.subject,
                                  " and look for maps, caches or queues without a bound."),
                     b.detail});
    } else if (b.kind == "slowest_hop") {
      const double share = Num(cp, "share_of_p99");
      if (share < rules.dominant_hop_share && !slo_failed) continue;
      auto [from, to] = HopServices(b.subject);
      std::string text;
      const std::string share_text =
          absl::StrFormat("%.0f%% of the path's summed p99", 100 * share);
      if (!from.empty() && from == to) {
        text = absl::StrCat("The slowest hop is inside ", from, " (", b.subject, ", ", share_text,
                            "): profile its handler between these stamps for locks, "
                            "allocation and blocking calls.");
      } else if (!from.empty()) {
        text = absl::StrCat("The slowest hop is the ", from, " -> ", to, " transfer (", share_text,
                            "): check the stream between them (send batching, "
                            "flow-control window, queue depth) and whether ",
                            to, " is CPU-starved");
        if (const auto& res = Get(services, to.c_str()); res.is_object()) {
          absl::StrAppendFormat(&text, " (it averaged %.2f cores)", Num(res, "cpu_avg_cores"));
        }
        text += ".";
      } else {
        text = absl::StrCat("Investigate hop ", b.subject, ": it dominates the path's tail.");
      }
      out.push_back({"slowest_hop", text, b.detail});
    }
  }
  if (const auto& checks = Get(report, "integrity"); checks.is_array()) {
    for (const auto& c : checks) {
      if (Bool(c, "passed")) continue;
      std::string evidence = absl::StrFormat("%s: expected %d, found %d, missing %d, duplicated %d",
                                             Str(c, "name"), U64(c, "expected"), U64(c, "found"),
                                             U64(c, "missing"), U64(c, "duplicated"));
      if (!Str(c, "detail").empty()) absl::StrAppend(&evidence, " (", Str(c, "detail"), ")");
      out.push_back(
          {"integrity_failed",
           U64(c, "missing") > 0
               ? absl::StrCat(Str(c, "name"),
                              ": acknowledged records were lost — an ack was "
                              "sent before the write was durable; fix the ack ordering before "
                              "anything else.")
               : absl::StrCat(Str(c, "name"),
                              ": records were stored more than once — make the "
                              "replay path idempotent (dedupe on the record id)."),
           evidence});
    }
  }
  if (const auto& steps = Get(report, "faults"); steps.is_array()) {
    for (const auto& f : steps) {
      if (Bool(f, "ok")) continue;
      out.push_back({"fault_step_failed",
                     absl::StrCat("Fault step '", Str(f, "action"),
                                  "' did not succeed, so this run proves nothing about recovery "
                                  "from it: fix the fault driver's access and re-run."),
                     absl::StrFormat("at %.1fs: %s", Num(f, "at_s"), Str(f, "detail"))});
    }
  }
  const auto& baseline = Get(report, "baseline");
  if (const auto& regs = Get(baseline, "regressions"); regs.is_array()) {
    for (const auto& r : regs) {
      if (!r.is_string()) continue;
      out.push_back({"regression",
                     absl::StrCat("Regression against baseline ", Str(baseline, "run_id"),
                                  ": bisect the changes since it (same scenario and mode) and "
                                  "re-run to rule out noise."),
                     r.get<std::string>()});
    }
  }
  const auto& bp = Get(report, "breaking_point");
  if (Bool(bp, "searched") && Num(bp, "rate_per_s") > 0) {
    out.push_back({"breaking_point",
                   absl::StrFormat("Keep planned peak load at or below %.0f/s (70%% of the "
                                   "breaking point) to leave headroom.",
                                   0.7 * Num(bp, "rate_per_s")),
                   absl::StrFormat("SLOs held up to %.0f/s; next step failed: %s",
                                   Num(bp, "rate_per_s"), Str(bp, "reason"))});
  }
  return out;
}

nlohmann::json ToJson(const Grade& grade) {
  nlohmann::json d = nlohmann::json::array();
  for (const auto& x : grade.deductions) {
    d.push_back(
        {{"rule", x.rule}, {"reason", x.reason}, {"points", std::round(x.points * 10) / 10}});
  }
  return {{"score", grade.score}, {"letter", grade.letter}, {"deductions", d}};
}

nlohmann::json ToJson(const std::vector<Bottleneck>& bottlenecks) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& b : bottlenecks) {
    out.push_back({{"kind", b.kind},
                   {"subject", b.subject},
                   {"value", b.value},
                   {"unit", b.unit},
                   {"detail", b.detail}});
  }
  return out;
}

nlohmann::json ToJson(const std::vector<Recommendation>& recommendations) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : recommendations) {
    out.push_back({{"rule", r.rule}, {"text", r.text}, {"evidence", r.evidence}});
  }
  return out;
}

}  // namespace tickmesh::loadtest
