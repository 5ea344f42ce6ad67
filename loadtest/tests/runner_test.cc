// RunScenario against an absent mesh (closed loopback ports): the run must end by itself with
// every failure counted, and a breaking-point search must stop at the first failing step.
#include "runner.h"

#include "gtest/gtest.h"
#include "tickmesh/testing/servers.h"

namespace tickmesh::loadtest {
namespace {

Targets AbsentMesh() {
  Targets t;
  const std::string closed = "127.0.0.1:" + std::to_string(testing::FreePort());
  t.market_data = t.signal = t.execution = t.cache = t.persistence = closed;
  t.admin.clear();
  return t;
}

TEST(RunScenario, BreakingPointSearchStopsAtTheFirstFailingStep) {
  ScenarioSpec spec;
  spec.name = "steps";
  spec.mode = "custom";
  spec.stages = {{0.5, 100, 100, "warm"},
                 {0.5, 200, 200, "step 200"},
                 {0.5, 300, 300, "step 300"},
                 {5, 400, 400, "step 400"}};
  spec.mix = {{"tick", 1}};
  spec.primary = "tick_to_order";
  spec.drain_s = 0;
  spec.breaking = {true, "tick_to_order", 1000000, 0.5, 1};
  RunResult r = RunScenario(spec, AbsentMesh(), RunOptions{}, nullptr);
  EXPECT_EQ(r.error, "");
  EXPECT_DOUBLE_EQ(r.breaking_point_per_s, 0);  // the first judged step already failed
  EXPECT_NE(r.breaking_reason.find("at 200/s"), std::string::npos) << r.breaking_reason;
  // Stopped at the end of the first step, long before the 5 s step ran out.
  EXPECT_LT(r.counters["sent"], 400u);
  EXPECT_GT(r.operations["publish"].errors, 0u);
}

TEST(RunScenario, InvalidSpecComesBackAsARunError) {
  ScenarioSpec spec;
  spec.mix = {{"tick", 1}};
  RunResult r = RunScenario(spec, AbsentMesh(), RunOptions{}, nullptr);
  EXPECT_NE(r.error.find("stages"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace tickmesh::loadtest
