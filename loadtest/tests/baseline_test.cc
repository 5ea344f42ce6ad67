#include "baseline.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace tickmesh::loadtest {
namespace {

nlohmann::json Ops(double p50, double p99, double rate) {
  return {
      {"schema_version", 2},
      {"run_id", "r"},
      {"operations",
       {{"tick_to_order", {{"rate_per_s", rate}, {"latency_us", {{"p50", p50}, {"p99", p99}}}}}}}};
}

TEST(Baseline, LatencyUpMoreThanTwentyPercentIsARegression) {
  auto c = CompareWithBaseline(Ops(100, 1000, 2000), Ops(100, 820, 2000));  // p99 +21.95 %
  ASSERT_EQ(c.operations.size(), 1u);
  EXPECT_TRUE(c.operations[0].p99_us.regressed);
  EXPECT_FALSE(c.operations[0].p50_us.regressed);
  EXPECT_NEAR(c.operations[0].p99_us.change, 1000.0 / 820 - 1, 1e-9);
  EXPECT_TRUE(c.regressed());
  ASSERT_EQ(c.regressions().size(), 1u);
  EXPECT_NE(c.regressions()[0].find("tick_to_order p99 +22.0%"), std::string::npos);
}

TEST(Baseline, NineteenPercentIsNotARegression) {
  auto c = CompareWithBaseline(Ops(119, 1190, 2000), Ops(100, 1000, 2000));
  EXPECT_NEAR(c.operations[0].p50_us.change, 0.19, 1e-9);
  EXPECT_FALSE(c.regressed());
  // Exactly at the threshold is not over it either.
  EXPECT_FALSE(CompareWithBaseline(Ops(125, 1000, 2000), Ops(100, 1000, 2000), 0.25).regressed());
}

TEST(Baseline, ThroughputDownMoreThanTwentyPercentIsARegression) {
  auto down21 = CompareWithBaseline(Ops(100, 1000, 790), Ops(100, 1000, 1000));
  EXPECT_TRUE(down21.operations[0].rate_per_s.regressed);
  EXPECT_NE(down21.regressions()[0].find("throughput -21.0%"), std::string::npos);
  EXPECT_FALSE(CompareWithBaseline(Ops(100, 1000, 810), Ops(100, 1000, 1000)).regressed());
  // Faster and higher throughput is never a regression.
  EXPECT_FALSE(CompareWithBaseline(Ops(10, 100, 5000), Ops(100, 1000, 1000)).regressed());
}

TEST(Baseline, ZeroBaselineAndOneSidedOperationsAreListedNotFlagged) {
  auto cur = Ops(100, 1000, 1000);
  cur["operations"]["tick_to_fill"] = {{"rate_per_s", 1}, {"latency_us", {{"p50", 1}, {"p99", 1}}}};
  auto base = Ops(0, 0, 0);
  base["operations"]["order_submit"] = {{"rate_per_s", 1},
                                        {"latency_us", {{"p50", 1}, {"p99", 1}}}};
  auto c = CompareWithBaseline(cur, base);
  EXPECT_FALSE(c.regressed());
  EXPECT_EQ(c.only_in_current, std::vector<std::string>{"tick_to_fill"});
  EXPECT_EQ(c.only_in_baseline, std::vector<std::string>{"order_submit"});
  auto j = ToJson(c);
  EXPECT_FALSE(j["regressed"].get<bool>());
  EXPECT_EQ(j["operations"]["tick_to_order"]["p99_us"]["change"], 0.0);
}

TEST(Baseline, JsonCarriesDeltasAndRegressions) {
  auto j = ToJson(CompareWithBaseline(Ops(100, 1300, 1000), Ops(100, 1000, 1000)));
  EXPECT_TRUE(j["regressed"].get<bool>());
  EXPECT_EQ(j["regressions"].size(), 1u);
  const auto& d = j["operations"]["tick_to_order"];
  EXPECT_DOUBLE_EQ(d["p99_us"]["baseline"].get<double>(), 1000);
  EXPECT_DOUBLE_EQ(d["p99_us"]["current"].get<double>(), 1300);
  EXPECT_NEAR(d["p99_us"]["change"].get<double>(), 0.3, 1e-9);
  EXPECT_TRUE(d["regressed"].get<bool>());
  EXPECT_DOUBLE_EQ(j["threshold"].get<double>(), 0.2);
}

class BaselineFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("baseline_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& text) {
    std::string path = (dir_ / "report.json").string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(BaselineFile, LoadsVersionOneAndTwoReports) {
  auto v2 = LoadBaselineReport(Write(Ops(1, 2, 3).dump()));
  ASSERT_TRUE(v2.ok()) << v2.status();
  auto v1 = Ops(1, 2, 3);
  v1["schema_version"] = 1;
  EXPECT_TRUE(LoadBaselineReport(Write(v1.dump())).ok());
}

TEST_F(BaselineFile, RejectsMissingMalformedAndWrongSchemaFiles) {
  auto missing = LoadBaselineReport((dir_ / "nope.json").string());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  auto garbage = LoadBaselineReport(Write("{not json"));
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(garbage.status().message().find("not valid JSON"), std::string::npos);
  auto v3 = Ops(1, 2, 3);
  v3["schema_version"] = 3;
  auto wrong = LoadBaselineReport(Write(v3.dump()));
  EXPECT_NE(wrong.status().message().find("schema_version"), std::string::npos);
  auto bad = Ops(1, 2, 3);
  bad["operations"]["tick_to_order"]["latency_us"]["p99"] = "fast";
  auto bad_field = LoadBaselineReport(Write(bad.dump()));
  EXPECT_NE(bad_field.status().message().find("operations.tick_to_order.latency_us.p99"),
            std::string::npos);
}

}  // namespace
}  // namespace tickmesh::loadtest
