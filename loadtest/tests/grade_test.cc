#include "grade.h"

#include "gtest/gtest.h"

namespace tickmesh::loadtest {
namespace {

// A minimal graded report: one operation with `count` completions and `errors` failures.
nlohmann::json Report(uint64_t count = 1000, uint64_t errors = 0) {
  return {{"error", ""},
          {"operations",
           {{"tick_to_order",
             {{"count", count}, {"errors", errors}, {"latency_us", {{"p99", 500.0}}}}}}},
          {"slos", nlohmann::json::array()},
          {"integrity", nlohmann::json::array()},
          {"faults", nlohmann::json::array()},
          {"resources", {{"host_cores", 2}, {"services", nlohmann::json::object()}}},
          {"critical_path", {{"slowest_hop", ""}}},
          {"baseline", nullptr}};
}

nlohmann::json Slo(double observed, double threshold) {
  return {{"name", "tick_to_order.p99"},
          {"threshold_us", threshold},
          {"observed", observed},
          {"samples", 1000},
          {"passed", observed <= threshold}};
}

bool HasDeduction(const Grade& g, const std::string& rule) {
  for (const auto& d : g.deductions) {
    if (d.rule == rule) return true;
  }
  return false;
}

TEST(Grade, LetterBoundaries) {
  EXPECT_EQ(LetterForScore(100), "A");
  EXPECT_EQ(LetterForScore(90), "A");
  EXPECT_EQ(LetterForScore(89.9), "B");
  EXPECT_EQ(LetterForScore(80), "B");
  EXPECT_EQ(LetterForScore(79.9), "C");
  EXPECT_EQ(LetterForScore(70), "C");
  EXPECT_EQ(LetterForScore(69.9), "D");
  EXPECT_EQ(LetterForScore(60), "D");
  EXPECT_EQ(LetterForScore(59.9), "F");
  EXPECT_EQ(LetterForScore(0), "F");
}

TEST(Grade, CleanRunWithHeadroomScores100) {
  auto r = Report();
  r["slos"].push_back(Slo(400, 1000));  // 40 % of the objective: no deduction
  Grade g = ComputeGrade(r);
  EXPECT_DOUBLE_EQ(g.score, 100);
  EXPECT_EQ(g.letter, "A");
  EXPECT_TRUE(g.deductions.empty());
}

TEST(Grade, SloHeadroomDeductsUpToFivePoints) {
  auto r = Report();
  r["slos"].push_back(Slo(900, 1000));  // 90 %: half of the 80..100 % band -> 2.5 points
  Grade g = ComputeGrade(r);
  EXPECT_DOUBLE_EQ(g.score, 97.5);
  r["slos"][0] = Slo(1000, 1000);  // exactly at the objective: passes, 5 points
  EXPECT_DOUBLE_EQ(ComputeGrade(r).score, 95);
}

TEST(Grade, FailedSloCapsAtDAndScalesWithOvershoot) {
  auto r = Report();
  r["slos"].push_back(Slo(1100, 1000));  // 10 % over: 15 + 1.5
  Grade g = ComputeGrade(r);
  EXPECT_DOUBLE_EQ(g.score, 69);  // 83.5, capped at 69
  EXPECT_EQ(g.letter, "D");
  EXPECT_TRUE(HasDeduction(g, "slo_failed"));
  r["slos"][0] = Slo(3000, 1000);  // 200 % over: 30 points
  EXPECT_DOUBLE_EQ(ComputeGrade(r).score, 69);
  r["slos"].push_back(Slo(3000, 1000));
  r["slos"].push_back(Slo(3000, 1000));  // 3 x 30 points, capped at 60 in total
  EXPECT_DOUBLE_EQ(ComputeGrade(r).score, 40);
}

TEST(Grade, ErrorsCostTenPointsPerPercent) {
  Grade g = ComputeGrade(Report(990, 10));  // 1 % of attempts failed
  EXPECT_DOUBLE_EQ(g.score, 90);
  EXPECT_EQ(g.letter, "A");
  EXPECT_EQ(ComputeGrade(Report(980, 20)).letter, "B");        // 2 % -> 80
  EXPECT_DOUBLE_EQ(ComputeGrade(Report(500, 500)).score, 70);  // capped at 30 points
}

TEST(Grade, FailedIntegrityIsAnF) {
  auto r = Report();
  r["integrity"].push_back({{"name", "fills_durable_once"},
                            {"expected", 10},
                            {"missing", 1},
                            {"duplicated", 0},
                            {"passed", false}});
  Grade g = ComputeGrade(r);
  EXPECT_DOUBLE_EQ(g.score, 49);
  EXPECT_EQ(g.letter, "F");
}

TEST(Grade, MemoryGrowthAboveFiveMbPerMinDeducts) {
  auto r = Report();
  r["resources"]["services"]["signal"] = {{"mem_growth_mb_per_min", 5.0}};
  EXPECT_DOUBLE_EQ(ComputeGrade(r).score, 100);  // at the limit: fine
  r["resources"]["services"]["signal"]["mem_growth_mb_per_min"] = 7.0;
  Grade g = ComputeGrade(r);
  EXPECT_DOUBLE_EQ(g.score, 86);  // 10 + 2 * 2
  EXPECT_TRUE(HasDeduction(g, "memory_growth"));
}

TEST(Grade, ScenarioMemoryObjectiveIsTheLimitAndItsMissCapsTheScore) {
  auto r = Report();
  r["resources"]["services"]["signal"] = {{"mem_growth_mb_per_min", 3.0}, {"rss_max_mb", 80.0}};
  EXPECT_DOUBLE_EQ(ComputeGrade(r).score, 100);  // under the default 5 MB/min
  r["config"] = {{"max_mem_growth_mb_per_min", 2.0}};
  EXPECT_DOUBLE_EQ(ComputeGrade(r).score, 88);  // 10 + 2 * (3 - 2)
  r["slos"].push_back({{"name", "memory_growth"},
                       {"kind", "memory_growth"},
                       {"unit", "mb_per_min"},
                       {"threshold_us", 0.0},
                       {"observed", 3.0},
                       {"samples", 20},
                       {"passed", false}});
  Grade g = ComputeGrade(r);
  EXPECT_DOUBLE_EQ(g.score, 69);
  EXPECT_FALSE(HasDeduction(g, "slo_failed"));  // scored once, by the memory rule
  auto b = FindBottlenecks(r);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].kind, "memory_growth");
  EXPECT_NE(b[0].detail.find("limit 2"), std::string::npos) << b[0].detail;
}

TEST(Grade, RunErrorOrNothingMeasuredScoresZero) {
  auto r = Report();
  r["error"] = "market-data unreachable";
  EXPECT_DOUBLE_EQ(ComputeGrade(r).score, 0);
  EXPECT_DOUBLE_EQ(ComputeGrade(Report(0, 0)).score, 0);
  EXPECT_EQ(ComputeGrade(Report(0, 0)).letter, "F");
}

TEST(Grade, MalformedReportDoesNotThrow) {
  EXPECT_NO_THROW(ComputeGrade(nlohmann::json::array()));
  nlohmann::json bad = {{"operations", {{"x", {{"count", "many"}}}}}, {"slos", 3}};
  EXPECT_NO_THROW(ComputeGrade(bad));
  EXPECT_NO_THROW(FindBottlenecks(bad));
  EXPECT_NO_THROW(Recommend(bad, FindBottlenecks(bad)));
}

TEST(Bottlenecks, NamesSlowestHopCpuSaturationAndQueueGrowth) {
  auto r = Report();
  r["critical_path"] = {{"slowest_hop", "signal.emit->execution.recv"},
                        {"p99_us", 700.0},
                        {"p50_us", 90.0},
                        {"share_of_p99", 0.7},
                        {"sum_p99_us", 1000.0}};
  r["resources"]["services"]["execution"] = {
      {"sample_count", 30},
      {"cpu_avg_cores", 1.7},
      {"cpu_max_cores", 1.95},
      {"span_s", 30.0},
      {"warmup_s", 7.5},
      {"mem_growth_mb_per_min", 0.1},
      {"queues",
       {{"tickmesh_execution_outbox_depth",
         {{"growth_per_s", 50.0}, {"last", 1200}, {"max", 1200}}}}}};
  r["resources"]["services"]["signal"] = {
      {"sample_count", 30},
      {"cpu_avg_cores", 0.1},
      {"span_s", 30.0},
      {"warmup_s", 7.5},
      {"queues", {{"tickmesh_x_queue_depth", {{"growth_per_s", 1.0}, {"last", 20}}}}}};
  auto b = FindBottlenecks(r);
  std::vector<std::string> kinds;
  for (const auto& x : b) kinds.push_back(x.kind + ":" + x.subject);
  EXPECT_EQ(kinds,
            (std::vector<std::string>{"cpu_saturated:execution",
                                      "queue_growth:execution/tickmesh_execution_outbox_depth",
                                      "slowest_hop:signal.emit->execution.recv"}));
  auto recs = Recommend(r, b);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_NE(recs[0].text.find("Profile execution"), std::string::npos);
  EXPECT_NE(recs[0].evidence.find("1.70 cores"), std::string::npos);
  EXPECT_NE(recs[1].text.find("tickmesh_execution_outbox_depth"), std::string::npos);
  // A cross-service hop points at the transfer and the receiver's CPU from the data.
  EXPECT_NE(recs[2].text.find("signal -> execution transfer (70% of the path"), std::string::npos);
  EXPECT_NE(recs[2].text.find("1.70 cores"), std::string::npos);
  // Queue growth also costs points (5).
  EXPECT_DOUBLE_EQ(ComputeGrade(r).score, 95);
}

TEST(Bottlenecks, MachineSaturationNamesTheHottestService) {
  auto r = Report();
  for (auto [svc, cores] :
       {std::pair{"market-data", 0.9}, std::pair{"signal", 0.5}, std::pair{"execution", 0.6}}) {
    r["resources"]["services"][svc] = {{"sample_count", 10}, {"cpu_avg_cores", cores}};
  }
  auto b = FindBottlenecks(r);  // 2.0 of 2 cores in total, none alone >= 1.6
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].kind, "cpu_saturated");
  EXPECT_EQ(b[0].subject, "market-data");
  r["resources"]["services"]["signal"]["cpu_avg_cores"] = 0.1;  // 1.6 of 2: not saturated
  EXPECT_TRUE(FindBottlenecks(r).empty());
}

TEST(Recommendations, ErrorRateAdviceDependsOnHowManyAttemptsFailed) {
  auto all_failed = Recommend(Report(0, 500), FindBottlenecks(Report(0, 500)));
  ASSERT_EQ(all_failed.size(), 1u);
  EXPECT_NE(all_failed[0].text.find("Every attempt of tick_to_order failed"), std::string::npos);
  EXPECT_NE(all_failed[0].evidence.find("500 of 500"), std::string::npos);
  auto some_failed = Recommend(Report(900, 100), FindBottlenecks(Report(900, 100)));
  ASSERT_EQ(some_failed.size(), 1u);
  EXPECT_NE(some_failed[0].text.find("Investigate the failures of tick_to_order"),
            std::string::npos);
  EXPECT_TRUE(FindBottlenecks(Report(995, 5)).empty());  // 0.5 %: under the 1 % limit
}

TEST(Recommendations, NoneWhenNothingCallsForAction) {
  auto r = Report();
  r["critical_path"] = {{"slowest_hop", "a.recv->a.emit"}, {"p99_us", 10.0}, {"share_of_p99", 0.3}};
  auto b = FindBottlenecks(r);
  ASSERT_EQ(b.size(), 1u);               // the slowest hop is always named...
  EXPECT_TRUE(Recommend(r, b).empty());  // ...but at 30 % of the path it is not acted on
  r["critical_path"]["share_of_p99"] = 0.6;
  auto recs = Recommend(r, FindBottlenecks(r));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_NE(recs[0].text.find("inside a (a.recv->a.emit, 60%"), std::string::npos);
}

TEST(Recommendations, IntegrityFaultsAndBreakingPointQuoteTheirData) {
  auto r = Report();
  r["integrity"].push_back({{"name", "cache_writes_in_redis"},
                            {"expected", 100},
                            {"found", 97},
                            {"missing", 3},
                            {"duplicated", 0},
                            {"passed", false}});
  r["faults"].push_back(
      {{"action", "kill postgres"}, {"at_s", 12.0}, {"ok", false}, {"detail", "no such pid"}});
  r["breaking_point"] = {{"searched", true}, {"rate_per_s", 10000.0}, {"reason", "p99 over"}};
  auto recs = Recommend(r, FindBottlenecks(r));
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].rule, "integrity_failed");
  EXPECT_NE(recs[0].evidence.find("missing 3"), std::string::npos);
  EXPECT_EQ(recs[1].rule, "fault_step_failed");
  EXPECT_NE(recs[1].text.find("kill postgres"), std::string::npos);
  EXPECT_EQ(recs[2].rule, "breaking_point");
  EXPECT_NE(recs[2].text.find("7000/s"), std::string::npos);
}

}  // namespace
}  // namespace tickmesh::loadtest
