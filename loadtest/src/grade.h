// Grade, bottlenecks and recommendations for a load-test report. Everything here is a pure
// function of the report.json sections BuildReportJson fills before grading (operations, hops,
// critical_path, resources, faults, integrity, breaking_point, slos, baseline), so a report on
// disk can be re-graded and each rule is tested on synthetic reports. The rules are documented in
// loadtest/README.md "Grade".
//
// Score: starts at 100, rule deductions are subtracted (each rule's deduction is capped), then:
//   - a run error (report["error"] not empty) or a run that measured nothing scores 0;
//   - any failed integrity check caps the score at 49 (acknowledged data lost is an F);
//   - any failed SLO caps the score at 69 (at best a D). A slos[] entry of kind memory_growth
//     (the soak's objective, report.h) is scored by the memory_growth rule rather than the
//     latency SLO rules, but its miss caps the score the same way.
// Letter: A >= 90, B >= 80, C >= 70, D >= 60, F below.
#pragma once

#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace tickmesh::loadtest {

// Memory growth above this (MB/min, per service, after warm-up) is a leak suspect (issue 9).
inline constexpr double kMemoryGrowthLimitMbPerMin = 5.0;

struct Deduction {
  std::string rule;    // slo_margin | slo_failed | slo_no_samples | errors | integrity |
                       // fault_step | memory_growth | queue_growth | run_error | no_samples
  std::string reason;  // names the operation/service/check and the numbers
  double points = 0;
};

struct Grade {
  double score = 0;    // 0..100, rounded to 0.1
  std::string letter;  // A..F
  std::vector<Deduction> deductions;
};

// One thing limiting the mesh, found in the data.
struct Bottleneck {
  std::string kind;     // slowest_hop | cpu_saturated | queue_growth | memory_growth |
                        // error_rate | slo_failed
  std::string subject;  // the hop, service, "service/gauge", or operation
  double value = 0;     // the headline number (µs, cores, items/s, MB/min, ratio)
  std::string unit;     // us | cores | items_per_s | mb_per_min | ratio
  std::string detail;   // one sentence with the numbers
};

// One concrete action, derived from a bottleneck, failure or regression; `evidence` quotes the
// numbers that triggered it.
struct Recommendation {
  std::string rule;  // the rule that produced it (same names as Bottleneck::kind, plus
                     // integrity_failed | fault_step_failed | regression | breaking_point)
  std::string text;
  std::string evidence;
};

// Thresholds used by the rules; defaults are the documented ones.
struct GradeRules {
  // Memory growth above this is deducted and named as a bottleneck, unless the report's
  // config.max_mem_growth_mb_per_min (the scenario's objective) is > 0: that limit wins.
  double memory_growth_limit_mb_per_min = kMemoryGrowthLimitMbPerMin;
  // CPU saturation: a service whose average CPU is at least `cpu_saturation_fraction` of the
  // host's cores (report resources.host_cores) is saturated; and when all sampled services
  // together average at least `machine_saturation_fraction` of the host's cores, the machine is
  // saturated and the hottest service is named.
  double cpu_saturation_fraction = 0.8;
  double machine_saturation_fraction = 0.9;
  // A queue gauge "grows" when its least-squares slope, times the sampled span, predicts at
  // least this many more queued items at the end than at the start.
  double queue_growth_min_items = 100;
  // An operation whose errors / (count + errors) exceed this is an error-rate bottleneck.
  double error_rate_limit = 0.01;
  // A passed SLO whose observed/threshold margin is above this loses points (little headroom).
  double slo_headroom_margin = 0.8;
  // The slowest hop gets a recommendation when its p99 is at least this share of the summed
  // p99 of the critical path's hops, or when an SLO failed.
  double dominant_hop_share = 0.4;
};

// Score and letter from SLO margins, errors, integrity, faults, memory and queue growth.
Grade ComputeGrade(const nlohmann::json& report, const GradeRules& rules = {});

// Bottlenecks, most severe first: failed SLOs, error rates, CPU saturation, queue growth, memory
// growth, and the slowest hop of the critical path (always listed when there are hops).
std::vector<Bottleneck> FindBottlenecks(const nlohmann::json& report, const GradeRules& rules = {});

// Recommendations derived from the bottlenecks and the report's integrity, faults, breaking
// point and baseline sections. Empty when nothing in the data calls for action.
std::vector<Recommendation> Recommend(const nlohmann::json& report,
                                      const std::vector<Bottleneck>& bottlenecks,
                                      const GradeRules& rules = {});

// "A".."F" for a score (A >= 90, B >= 80, C >= 70, D >= 60, else F).
std::string LetterForScore(double score);

// JSON forms used in report.json: grade {score, letter, deductions[{rule, reason, points}]},
// bottlenecks [{kind, subject, value, unit, detail}], recommendations [{rule, text, evidence}].
nlohmann::json ToJson(const Grade& grade);
nlohmann::json ToJson(const std::vector<Bottleneck>& bottlenecks);
nlohmann::json ToJson(const std::vector<Recommendation>& recommendations);

}  // namespace tickmesh::loadtest
