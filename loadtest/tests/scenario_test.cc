#include "scenario.h"

#include "gtest/gtest.h"

namespace tickmesh::loadtest {
namespace {

std::string ErrorOf(const std::string& yaml) {
  auto spec = ParseScenarioYaml(yaml);
  return spec.ok() ? "" : std::string(spec.status().message());
}

TEST(BuiltinScenario, EveryScenarioIsValidInEveryMode) {
  for (const std::string& name : BuiltinScenarioNames()) {
    for (const char* mode : {"quick", "full", "stress"}) {
      auto spec = BuiltinScenario(name, mode);
      ASSERT_TRUE(spec.ok()) << name << " " << mode << ": " << spec.status();
      EXPECT_TRUE(ValidateScenario(*spec).ok()) << name << " " << mode;
      EXPECT_FALSE(spec->slos.empty()) << name;
      EXPECT_EQ(spec->mode, mode);
    }
  }
}

TEST(BuiltinScenario, QuickSustainedPlusQuickFaultFitTheCiBudget) {
  double total = 0;
  for (const char* name : {"sustained", "fault"}) {
    auto spec = BuiltinScenario(name, "quick");
    ASSERT_TRUE(spec.ok());
    for (const Stage& st : spec->stages) total += st.duration_s;
  }
  EXPECT_LE(total, 70);  // plus drain/settle: about two minutes of the three in the budget
}

TEST(BuiltinScenario, FaultKillsRedisPostgresAndAServiceWithPerWriteKeys) {
  auto spec = BuiltinScenario("fault", "quick");
  ASSERT_TRUE(spec.ok());
  ASSERT_EQ(spec->fault.steps.size(), 3u);
  EXPECT_EQ(spec->fault.steps[0].component, "redis");
  EXPECT_EQ(spec->fault.steps[1].component, "postgres");
  EXPECT_EQ(spec->fault.steps[2].component, "persistence");
  EXPECT_EQ(spec->cache_keys, 0u);
}

TEST(BuiltinScenario, WsFloodSearchesForTheBreakingPointAfterThePeak) {
  auto spec = BuiltinScenario("ws-flood", "full");
  ASSERT_TRUE(spec.ok());
  EXPECT_TRUE(spec->breaking.enabled);
  EXPECT_DOUBLE_EQ(spec->stages[0].from_per_s, 10000);
  EXPECT_DOUBLE_EQ(spec->stages[1].from_per_s, 50000);
  EXPECT_EQ(spec->breaking.first_step, 2);
  EXPECT_GT(spec->stages.back().to_per_s, 50000);
}

TEST(BuiltinScenario, UnknownNameOrModeIsRejectedWithTheChoices) {
  auto bad = BuiltinScenario("sustaned", "quick");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("sustained"), std::string::npos);
  auto mode = BuiltinScenario("sustained", "fast");
  ASSERT_FALSE(mode.ok());
  EXPECT_NE(std::string(mode.status().message()).find("--mode"), std::string::npos);
}

TEST(ScenarioYaml, ParsesStagesOfEveryForm) {
  auto spec = ParseScenarioYaml(R"(
name: ramp-test
stages:
  - {duration_s: 5, rate_per_s: 1000, label: warm}
  - {duration_s: 10, target_per_s: 4000}
  - {duration_s: 5, from_per_s: 4000, to_per_s: 0}
operations: {tick: 3, cache_set: 1}
slos: ["tick_to_order.p99<=5000", "cache_set.p50<=1000"]
volatility: {jump_every: 100, jump_bps: 50, walk_bps: 0.5}
)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "ramp-test");
  EXPECT_EQ(spec->mode, "custom");
  ASSERT_EQ(spec->stages.size(), 3u);
  EXPECT_DOUBLE_EQ(spec->stages[1].from_per_s, 1000);  // ramps from the previous rate
  EXPECT_DOUBLE_EQ(spec->stages[1].to_per_s, 4000);
  EXPECT_DOUBLE_EQ(spec->stages[2].to_per_s, 0);
  ASSERT_EQ(spec->mix.size(), 2u);
  EXPECT_EQ(spec->primary, "tick_to_order");
  EXPECT_EQ(spec->jump_every, 100);
  EXPECT_DOUBLE_EQ(spec->walk_bps, 0.5);
  EXPECT_EQ(ScenarioToJson(*spec)["duration_s"], 20);
  EXPECT_EQ(ScenarioToJson(*spec)["volatility"]["walk_bps"], 0.5);
}

TEST(BuiltinScenario, VolatilityShocksACalmMarketOfSeveralSymbolsTogether) {
  auto spec = BuiltinScenario("volatility", "quick");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->walk_bps, 0);  // the price holds between jumps (see scenario.cc)
  EXPECT_EQ(spec->symbols.size(), 8u);
  EXPECT_EQ(spec->jump_bps, 200);
  // One market-wide jump a second: jump_every trades per symbol at rate / symbols.
  const double per_symbol = spec->stages[0].to_per_s / double(spec->symbols.size());
  EXPECT_DOUBLE_EQ(spec->jump_every / per_symbol, 1.0);
  // Other scenarios keep the 2 bp walk.
  EXPECT_EQ(BuiltinScenario("sustained", "quick")->walk_bps, 2);
}

TEST(ScenarioYaml, ShorthandIsOneConstantStage) {
  auto spec = ParseScenarioYaml("duration_s: 3\nrate_per_s: 500\noperations: {order_submit: 1}\n");
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->stages.size(), 1u);
  EXPECT_EQ(spec->primary, "order_submit");
}

TEST(ScenarioYaml, SendIntervalIsParsedAndRangeChecked) {
  const std::string base = "duration_s: 1\nrate_per_s: 20000\noperations: {tick: 1}\n";
  auto spec = ParseScenarioYaml(base + "send_interval_us: 250\n");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->send_interval_us, 250);
  EXPECT_EQ(ScenarioToJson(*spec)["send_interval_us"], 250);
  auto plain = ParseScenarioYaml(base);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->send_interval_us, 0);
  EXPECT_NE(ErrorOf(base + "send_interval_us: -1\n").find("send_interval_us: must be in 0..100000"),
            std::string::npos);
  EXPECT_NE(ErrorOf(base + "send_interval_us: soon\n").find("send_interval_us:"),
            std::string::npos);
}

TEST(ScenarioYaml, BadScenariosAreRejectedNamingTheField) {
  const std::string ops = "operations: {tick: 1}\n";
  // Malformed YAML: the parser's position.
  EXPECT_NE(ErrorOf("stages: [ {duration_s: 1").find("yaml: line"), std::string::npos);
  // Unknown keys (typos) are errors, not silently ignored.
  EXPECT_NE(ErrorOf("duraton_s: 1\nrate_per_s: 1\n" + ops).find("duraton_s: unknown field"),
            std::string::npos);
  EXPECT_NE(ErrorOf("stages: [{duration_s: 1, rate: 5}]\n" + ops).find("stages[0].rate: unknown"),
            std::string::npos);
  // Wrong types.
  EXPECT_NE(ErrorOf("stages: [{duration_s: soon, rate_per_s: 5}]\n" + ops)
                .find("stages[0].duration_s: expected a number, got 'soon'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("stages: {duration_s: 1}\n" + ops).find("stages: expected a list"),
            std::string::npos);
  // Out of range.
  EXPECT_NE(ErrorOf("stages: [{duration_s: 1, rate_per_s: 5}, {duration_s: 1, from_per_s: -1, "
                    "to_per_s: 5}]\n" +
                    ops)
                .find("stages[1].from_per_s"),
            std::string::npos);
  // Ambiguous stage forms.
  EXPECT_NE(ErrorOf("stages: [{duration_s: 1, rate_per_s: 5, target_per_s: 9}]\n" + ops)
                .find("stages[0]: give exactly one of"),
            std::string::npos);
  EXPECT_NE(ErrorOf("stages: [{duration_s: 1, from_per_s: 5}]\n" + ops)
                .find("stages[0].to_per_s: required"),
            std::string::npos);
  // Operations and SLOs.
  EXPECT_NE(ErrorOf("duration_s: 1\nrate_per_s: 1\noperations: {cach_set: 1}\n")
                .find("operations.cach_set: unknown operation"),
            std::string::npos);
  EXPECT_NE(ErrorOf("duration_s: 1\nrate_per_s: 1\n").find("operations: required"),
            std::string::npos);
  EXPECT_NE(ErrorOf("duration_s: 1\nrate_per_s: 1\n" + ops + "slos: [\"tick_to_order.p98<=5\"]\n")
                .find("slos[0]"),
            std::string::npos);
  // Faults.
  EXPECT_NE(ErrorOf("duration_s: 10\nrate_per_s: 1\n" + ops +
                    "fault: {steps: [{at_s: 2, kill: mysql}]}\n")
                .find("fault.steps[0].kill: unknown component 'mysql'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("duration_s: 10\nrate_per_s: 1\n" + ops +
                    "fault: {steps: [{at_s: 20, kill: redis}]}\n")
                .find("fault.steps[0].at_s"),
            std::string::npos);
  EXPECT_NE(ErrorOf("- just\n- a list\n").find("expected a YAML mapping"), std::string::npos);
  // Volatility.
  EXPECT_NE(ErrorOf("duration_s: 1\nrate_per_s: 1\n" + ops + "volatility: {walk_bps: 101}\n")
                .find("volatility.walk_bps: must be in 0..100"),
            std::string::npos);
  EXPECT_NE(ErrorOf("duration_s: 1\nrate_per_s: 1\n" + ops + "volatility: {walk_bps: calm}\n")
                .find("volatility.walk_bps: expected a number"),
            std::string::npos);
}

TEST(ScenarioOverrides, ScalePeakRateAndTotalDuration) {
  auto spec = BuiltinScenario("burst", "quick");
  ASSERT_TRUE(spec.ok());
  auto o = ApplyOverrides(*spec, 4000, 10.5, {"AB-USD"});
  ASSERT_TRUE(o.ok()) << o.status();
  double peak = 0, total = 0;
  for (const Stage& st : o->stages) {
    peak = std::max(peak, st.to_per_s);
    total += st.duration_s;
  }
  EXPECT_DOUBLE_EQ(peak, 4000);
  EXPECT_DOUBLE_EQ(o->stages[0].from_per_s, 1000);  // 2000 of 8000 -> 1000 of 4000
  EXPECT_NEAR(total, 10.5, 1e-9);
  EXPECT_EQ(o->symbols, std::vector<std::string>{"AB-USD"});
  EXPECT_FALSE(ApplyOverrides(*spec, -1, 0, {}).ok());
  EXPECT_FALSE(ApplyOverrides(*spec, 0, 0, {"NOSEPARATOR"}).ok());
}

}  // namespace
}  // namespace tickmesh::loadtest
