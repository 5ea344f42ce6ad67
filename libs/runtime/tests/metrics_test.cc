#include "tickmesh/runtime/metrics.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace tickmesh::runtime {
namespace {

TEST(Metrics, PrefixFollowsNamingRule) {
  EXPECT_EQ(MetricPrefix("market-data"), "tickmesh_market_data_");
}

TEST(Metrics, RegisteringTheSameFamilyTwiceReturnsIt) {
  auto& a = CounterFamily("tickmesh_test_things_total", "Things.");
  auto& b = CounterFamily("tickmesh_test_things_total", "Things.");
  EXPECT_EQ(&a, &b);
}

TEST(Metrics, ExpositionHasCountersHistogramsAndProcessMetrics) {
  CounterFamily("tickmesh_test_events_total", "Events.").Add({{"kind", "trade"}}).Increment(3);
  HistogramFamily("tickmesh_test_op_seconds", "Op latency.")
      .Add({}, LatencyBuckets())
      .Observe(0.0004);
  RegisterProcessMetrics();
  std::string text = SerializeMetrics();
  EXPECT_NE(text.find("tickmesh_test_events_total{kind=\"trade\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE tickmesh_test_op_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("tickmesh_test_op_seconds_bucket{le=\"0.0005\"} 1"), std::string::npos);
  EXPECT_NE(text.find("tickmesh_test_op_seconds_bucket{le=\"0.00025\"} 0"), std::string::npos);
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter"), std::string::npos);
  EXPECT_NE(text.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(text.find("process_open_fds"), std::string::npos);
  EXPECT_NE(text.find("process_threads"), std::string::npos);
}

TEST(Metrics, LatencyBucketsHaveAnEdgeAtEverySloThreshold) {
  const auto& b = LatencyBuckets();
  for (double slo : {100e-6, 250e-6, 500e-6, 1e-3, 5e-3, 10e-3, 50e-3, 100e-3, 1.0}) {
    EXPECT_TRUE(std::find(b.begin(), b.end(), slo) != b.end()) << slo;
  }
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
}

}  // namespace
}  // namespace tickmesh::runtime
