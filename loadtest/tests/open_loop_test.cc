#include "open_loop.h"

#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runner.h"
#include "tickmesh/runtime/clock.h"

namespace tickmesh::loadtest {
namespace {

using runtime::NowUnixNs;

// The target: answers every request at once, except that it stalls for 300 ms once, on the first
// request due at or after 200 ms into the run (a GC pause, a stop-the-world fsync, ...).
struct StalledTarget {
  int64_t start_ns;
  bool stalled = false;
  void Serve(int64_t intended) {
    if (!stalled && intended - start_ns >= 200'000'000) {
      stalled = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  }
};

TEST(OpenLoop, StalledTargetIsChargedForEveryRequestDueDuringTheStall) {
  // 1 000 requests/s for 1 s. A closed-loop tester would measure one slow request; measured from
  // the intended send time, every request that fell due during the 300 ms stall waited for it.
  auto shape = LoadShape::Create({{1, 1000, 1000, ""}});
  ASSERT_TRUE(shape.ok());
  const int64_t start = NowUnixNs() + 10'000'000;
  StalledTarget target{start};
  Recorder rec("request");
  LatencyHistogram service_time;  // what a closed-loop tester would see: send -> answer
  GeneratorStats stats = RunOpenLoop(*shape, start, GeneratorOptions{},
                                     [&](const int64_t* intended, size_t n, uint64_t) {
                                       for (size_t i = 0; i < n; ++i) {
                                         const int64_t sent = NowUnixNs();
                                         target.Serve(intended[i]);
                                         const int64_t done = NowUnixNs();
                                         service_time.Record(done - sent);
                                         rec.Record("request", done - intended[i]);
                                       }
                                       rec.Sent(n);
                                     });
  // Nothing is dropped: the generator catches up with the schedule after the stall.
  EXPECT_EQ(stats.sent, 1000u);
  EXPECT_GE(stats.max_lag_ns, 250'000'000);
  RunResult r;
  rec.MoveInto(&r, 1.0);
  const LatencyHistogram& h = r.operations["request"].latency_ns;
  ASSERT_EQ(h.count(), 1000u);
  // Requests due in [200 ms, 400 ms) waited at least 100 ms: ~200 of the 1 000, so p85 (lower
  // bounds only; a slow machine makes them larger, never smaller).
  EXPECT_GE(h.Percentile(85), 100'000'000) << "p85 " << h.Percentile(85);
  EXPECT_GE(h.max(), 290'000'000);
  // The closed-loop view hides the stall behind a single sample.
  EXPECT_LT(service_time.Percentile(99), 100'000'000);
}

TEST(OpenLoop, HandsOverIntendedTimesExactlyOnTheSchedule) {
  auto shape = LoadShape::Create({{0.2, 0, 2000, ""}, {0.1, 500, 500, ""}});
  ASSERT_TRUE(shape.ok());
  const int64_t start = NowUnixNs();
  std::vector<int64_t> seen;
  uint64_t expected_first = 0;
  RunOpenLoop(*shape, start, GeneratorOptions{}, [&](const int64_t* t, size_t n, uint64_t first) {
    EXPECT_EQ(first, expected_first);
    expected_first += n;
    seen.insert(seen.end(), t, t + n);
  });
  ASSERT_EQ(seen.size(), shape->TotalEvents());
  for (size_t k = 0; k < seen.size(); ++k) {
    ASSERT_EQ(seen[k], start + int64_t(std::llround(shape->TimeOfEvent(k) * 1e9))) << k;
  }
}

TEST(OpenLoop, MinIntervalHandsOverDueEventsTogetherWithTheirIntendedTimes) {
  auto shape = LoadShape::Create({{0.2, 2000, 2000, ""}});
  ASSERT_TRUE(shape.ok());
  const int64_t start = NowUnixNs();
  GeneratorOptions opts;
  opts.min_interval_ns = 20'000'000;
  std::vector<int64_t> seen;
  std::vector<int64_t> calls;
  RunOpenLoop(*shape, start, opts, [&](const int64_t* t, size_t n, uint64_t) {
    calls.push_back(NowUnixNs());
    seen.insert(seen.end(), t, t + n);
  });
  ASSERT_EQ(seen.size(), shape->TotalEvents());
  for (size_t k = 0; k < seen.size(); ++k) {
    ASSERT_EQ(seen[k], start + int64_t(std::llround(shape->TimeOfEvent(k) * 1e9))) << k;
  }
  // 400 events over 0.2 s in hand-offs at least 20 ms apart: at most 11 of them.
  EXPECT_LE(calls.size(), 11u);
  for (size_t i = 1; i < calls.size(); ++i) EXPECT_GE(calls[i] - calls[i - 1], 20'000'000) << i;
}

TEST(OpenLoop, StopsWhenAskedAndSaysSo) {
  auto shape = LoadShape::Create({{60, 100, 100, ""}});
  ASSERT_TRUE(shape.ok());
  std::atomic<bool> stop{false};
  GeneratorOptions opts;
  opts.stop = &stop;
  GeneratorStats stats =
      RunOpenLoop(*shape, NowUnixNs(), opts, [&](const int64_t*, size_t, uint64_t first) {
        if (first >= 10) stop.store(true);
      });
  EXPECT_TRUE(stats.stopped);
  EXPECT_LT(stats.sent, 100u);
}

TEST(Recorder, TimelineHasOnePointPerClosedSecond) {
  Recorder rec("op");
  rec.Sent(100);
  for (int i = 1; i <= 100; ++i) rec.Record("op", i * 1000);
  rec.Error("op", 2);
  rec.CloseSecond(1.0, 100);
  rec.CloseSecond(1.01, 100);  // too soon: ignored
  rec.Sent(50);
  rec.CloseSecond(2.0, 100);
  RunResult r;
  rec.MoveInto(&r, 2.0);
  ASSERT_EQ(r.timeline.size(), 2u);
  EXPECT_DOUBLE_EQ(r.timeline[0].sent_per_s, 100);
  EXPECT_DOUBLE_EQ(r.timeline[0].completed_per_s, 100);
  EXPECT_EQ(r.timeline[0].errors, 2u);
  EXPECT_NEAR(double(r.timeline[0].p99_ns), 99000, 99000 / 64.0);
  EXPECT_DOUBLE_EQ(r.timeline[1].sent_per_s, 50);
  EXPECT_EQ(r.timeline[1].p99_ns, 0);
  EXPECT_EQ(r.operations["op"].errors, 2u);
  EXPECT_EQ(r.counters["sent"], 150u);
  EXPECT_EQ(r.primary_operation, "op");
}

TEST(Recorder, WindowCollectsOneOperationUntilTaken) {
  Recorder rec("a");
  rec.SetWindowOperation("b");
  rec.Record("a", 5);
  rec.Record("b", 7);
  rec.Record("b", 9);
  EXPECT_EQ(rec.TakeWindow().count(), 2u);
  EXPECT_EQ(rec.TakeWindow().count(), 0u);
}

TEST(MixPattern, InterleavesByWeight) {
  EXPECT_EQ(MixPattern({{"a", 2}, {"b", 1}}), (std::vector<int>{0, 1, 0}));
  EXPECT_EQ(MixPattern({{"a", 1}}), (std::vector<int>{0}));
  auto p = MixPattern({{"a", 3}, {"b", 1}});
  EXPECT_EQ(std::count(p.begin(), p.end(), 0), 3);
  EXPECT_EQ(std::count(p.begin(), p.end(), 1), 1);
}

}  // namespace
}  // namespace tickmesh::loadtest
