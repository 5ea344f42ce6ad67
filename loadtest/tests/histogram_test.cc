#include "histogram.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace tickmesh::loadtest {
namespace {

int64_t ExactPercentile(std::vector<int64_t> v, double p) {
  std::sort(v.begin(), v.end());
  size_t rank = std::max<size_t>(1, size_t(std::ceil(p / 100.0 * double(v.size()))));
  return v[rank - 1];
}

TEST(LatencyHistogram, BucketsCoverEveryValueContiguously) {
  for (int b = 1; b < LatencyHistogram::kBuckets; ++b) {
    ASSERT_EQ(LatencyHistogram::BucketLow(b), LatencyHistogram::BucketHigh(b - 1) + 1) << b;
  }
  for (int64_t v : {0LL, 1LL, 127LL, 128LL, 129LL, 255LL, 256LL, 1000000LL, 123456789012LL}) {
    int b = LatencyHistogram::BucketOf(v);
    EXPECT_LE(LatencyHistogram::BucketLow(b), v);
    EXPECT_GE(LatencyHistogram::BucketHigh(b), v);
  }
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(50), 50);
  EXPECT_EQ(h.Percentile(99), 99);
  EXPECT_EQ(h.Percentile(100), 100);
  EXPECT_EQ(h.min(), 1);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogram, PercentilesMatchExactWithinTwoPercentOnLogNormalData) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(std::log(200000.0), 1.0);  // ~200 µs in ns
  LatencyHistogram h;
  std::vector<int64_t> values;
  for (int i = 0; i < 200000; ++i) {
    int64_t v = int64_t(dist(rng));
    values.push_back(v);
    h.Record(v);
  }
  for (double p : {50.0, 90.0, 99.0, 99.9, 100.0}) {
    double exact = double(ExactPercentile(values, p));
    double got = double(h.Percentile(p));
    EXPECT_NEAR(got, exact, exact * 0.02) << "p" << p;
    EXPECT_GE(got, exact) << "reports the bucket's upper bound, never below the true value";
  }
  EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  LatencyHistogram a, b, all;
  for (int i = 0; i < 1000; ++i) {
    (i % 2 ? a : b).Record(i * 997);
    all.Record(i * 997);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  for (double p : {1.0, 50.0, 99.0}) EXPECT_EQ(a.Percentile(p), all.Percentile(p));
}

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.Percentile(99), 0);
  EXPECT_EQ(h.count(), 0u);
}

}  // namespace
}  // namespace tickmesh::loadtest
