#include "report.h"

#include "gtest/gtest.h"

namespace tickmesh::loadtest {
namespace {

TickLoadResult SampleResult() {
  TickLoadResult r;
  r.ticks_sent = 1000;
  r.fills = 10;
  auto& op = r.operations["tick_to_order"];
  for (int i = 1; i <= 100; ++i) op.latency_ns.Record(i * 10000);  // 10 µs .. 1 ms
  op.duration_s = 2;
  r.hops["a.emit->b.recv"].Record(5000);
  r.hop_order.push_back("a.emit->b.recv");
  return r;
}

TEST(Slo, ParsesOperationPercentileAndBound) {
  Slo slo;
  std::string error;
  ASSERT_TRUE(ParseSlo("tick_to_order.p99<=1000", &slo, &error)) << error;
  EXPECT_EQ(slo.operation, "tick_to_order");
  EXPECT_EQ(slo.percentile, "p99");
  EXPECT_DOUBLE_EQ(slo.max_us, 1000);
}

TEST(Slo, RejectsMalformedText) {
  Slo slo;
  std::string error;
  EXPECT_FALSE(ParseSlo("tick_to_order.p98<=1000", &slo, &error));
  EXPECT_NE(error.find("tick_to_order.p98"), std::string::npos);
  EXPECT_FALSE(ParseSlo("p99 < 5", &slo, &error));
}

TEST(Report, HasTheDocumentedSchema) {
  RunInfo info;
  info.run_id = "run-1";
  info.scenario = "ticks";
  info.mode = "quick";
  auto j = BuildReportJson(info, SampleResult());
  EXPECT_EQ(j["schema_version"], 1);
  const auto& op = j["operations"]["tick_to_order"];
  EXPECT_EQ(op["count"], 100);
  EXPECT_DOUBLE_EQ(op["rate_per_s"].get<double>(), 50.0);
  for (const char* k : {"p50", "p90", "p99", "p999", "max", "mean"}) {
    EXPECT_TRUE(op["latency_us"].contains(k)) << k;
  }
  EXPECT_NEAR(op["latency_us"]["p50"].get<double>(), 500.0, 10.0);
  EXPECT_EQ(j["hops"][0]["hop"], "a.emit->b.recv");
  EXPECT_EQ(j["critical_path"]["slowest_hop"], "a.emit->b.recv");
  EXPECT_TRUE(j["passed"].get<bool>());
}

TEST(Report, SloVerdicts) {
  RunInfo info;
  info.slos = {{"tick_to_order", "p99", 2000}, {"tick_to_order", "p50", 100}};
  auto j = BuildReportJson(info, SampleResult());
  EXPECT_TRUE(j["slos"][0]["passed"].get<bool>());
  EXPECT_FALSE(j["slos"][1]["passed"].get<bool>());
  EXPECT_FALSE(j["passed"].get<bool>());
}

TEST(Report, SloOnOperationWithoutSamplesFails) {
  RunInfo info;
  info.slos = {{"tick_to_fill", "p99", 1e9}};
  auto j = BuildReportJson(info, SampleResult());
  EXPECT_FALSE(j["slos"][0]["passed"].get<bool>());
  EXPECT_FALSE(j["passed"].get<bool>());
}

TEST(Report, RunThatSentNothingFails) {
  RunInfo info;
  TickLoadResult r;
  r.error = "publish to market-data at 127.0.0.1:1: connection refused";
  auto j = BuildReportJson(info, r);
  EXPECT_FALSE(j["passed"].get<bool>());
  auto proto = ToReportProto(j);
  EXPECT_FALSE(proto.passed());
  EXPECT_NE(proto.report_json().find("connection refused"), std::string::npos);
}

}  // namespace
}  // namespace tickmesh::loadtest
