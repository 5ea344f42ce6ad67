#include "resources.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "gtest/gtest.h"
#include "tickmesh/testing/servers.h"

namespace tickmesh::loadtest {
namespace {

// From the Prometheus exposition format documentation ("Text format example",
// https://prometheus.io/docs/instrumenting/exposition_formats/), plus the process metrics and a
// queue gauge as our services export them.
constexpr const char* kExposition = R"(# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
not_a_number NaN
negative_infinity -Inf
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 5.24288e+07
process_cpu_seconds_total 12.5
tickmesh_market_data_subscriber_queue_depth{subscriber="a"} 7
tickmesh_market_data_subscriber_queue_depth{subscriber="b"} 5
tickmesh_execution_outbox_depth 3
tickmesh_market_data_books 4
)";

TEST(PrometheusText, ParsesTheDocumentationExample) {
  PromParseResult p = ParsePrometheusText(kExposition);
  EXPECT_EQ(p.malformed_lines, 0);
  ASSERT_EQ(p.samples.size(), 17u);
  EXPECT_EQ(p.samples[0].name, "http_requests_total");
  EXPECT_EQ(p.samples[0].labels.at("method"), "post");
  EXPECT_EQ(p.samples[0].labels.at("code"), "200");
  EXPECT_DOUBLE_EQ(p.samples[0].value, 1027);
  EXPECT_DOUBLE_EQ(p.samples[1].value, 3);
  EXPECT_EQ(p.samples[2].labels.at("path"), "C:\\DIR\\FILE.TXT");
  EXPECT_EQ(p.samples[2].labels.at("error"), "Cannot find file:\n\"FILE.TXT\"");
  EXPECT_DOUBLE_EQ(p.samples[2].value, 1.458255915e9);
  EXPECT_DOUBLE_EQ(p.samples[3].value, 12.47);
  EXPECT_TRUE(std::isinf(p.samples[4].value) && p.samples[4].value > 0);
  EXPECT_EQ(p.samples[6].labels.at("le"), "+Inf");
  EXPECT_TRUE(std::isnan(p.samples[9].value));
  EXPECT_TRUE(std::isinf(p.samples[10].value) && p.samples[10].value < 0);
}

TEST(PrometheusText, SkipsAndCountsMalformedLines) {
  PromParseResult p = ParsePrometheusText(
      "good 1\n"
      "9starts_with_digit 1\n"
      "no_value\n"
      "bad_value abc\n"
      "unterminated{a=\"x} 1\n"
      "missing_quote{a=x} 1\n"
      "bad_escape{a=\"\\q\"} 1\n"
      "trailing 1 2 3\n"
      "lower_nan nan\n"
      "also_good{a=\"1\",} 2\r\n"
      "   # indented comment\n"
      "\n");
  EXPECT_EQ(p.malformed_lines, 8);
  ASSERT_EQ(p.samples.size(), 2u);
  EXPECT_EQ(p.samples[0].name, "good");
  EXPECT_EQ(p.samples[1].name, "also_good");
  EXPECT_DOUBLE_EQ(p.samples[1].value, 2);
  EXPECT_EQ(ParsePrometheusText("").samples.size(), 0u);
}

TEST(PrometheusText, ExtractsProcessMetricsAndSumsQueueGauges) {
  ResourceSample s = ToResourceSample(ParsePrometheusText(kExposition), 4.0);
  EXPECT_DOUBLE_EQ(s.t_s, 4.0);
  EXPECT_DOUBLE_EQ(s.rss_bytes, 5.24288e7);
  EXPECT_DOUBLE_EQ(s.cpu_seconds, 12.5);
  ASSERT_EQ(s.gauges.size(), 2u);
  EXPECT_DOUBLE_EQ(s.gauges.at("tickmesh_market_data_subscriber_queue_depth"), 12);
  EXPECT_DOUBLE_EQ(s.gauges.at("tickmesh_execution_outbox_depth"), 3);
}

TEST(QueueGauges, MatchWhatTheServicesExport) {
  for (const char* name :
       {"tickmesh_market_data_subscriber_queue_depth", "tickmesh_cache_replay_queue_depth",
        "tickmesh_execution_outbox_depth", "tickmesh_persistence_writer_queued_records",
        "tickmesh_market_data_persistence_backlog", "tickmesh_persistence_spool_entries"}) {
    EXPECT_TRUE(IsQueueGauge(name)) << name;
  }
  EXPECT_FALSE(IsQueueGauge("tickmesh_market_data_books"));
  EXPECT_FALSE(IsQueueGauge("process_resident_memory_bytes"));
}

std::vector<ResourceSample> Linear(double mb_per_min, int seconds, double noise_mb = 0) {
  std::vector<ResourceSample> out;
  for (int t = 0; t <= seconds; ++t) {
    ResourceSample s;
    s.t_s = t;
    s.rss_bytes = 100e6 + mb_per_min * 1e6 * t / 60.0 + (t % 2 ? noise_mb : -noise_mb) * 1e6;
    s.cpu_seconds = 0.5 * t;
    out.push_back(s);
  }
  return out;
}

TEST(MemoryGrowth, LeastSquaresSlopeOfSyntheticSamples) {
  EXPECT_NEAR(MemoryGrowthMbPerMin(Linear(6.0, 120)), 6.0, 1e-6);
  EXPECT_NEAR(MemoryGrowthMbPerMin(Linear(0.0, 120)), 0.0, 1e-9);
  EXPECT_NEAR(MemoryGrowthMbPerMin(Linear(-2.0, 120)), -2.0, 1e-6);
  // Alternating +-1 MB noise around a 3 MB/min trend: the fit still finds the trend.
  EXPECT_NEAR(MemoryGrowthMbPerMin(Linear(3.0, 300, 1.0)), 3.0, 0.1);
  EXPECT_DOUBLE_EQ(MemoryGrowthMbPerMin(Linear(6.0, 1)), 0.0);  // too few samples
}

TEST(MemoryGrowth, ExcludesTheWarmUp) {
  EXPECT_DOUBLE_EQ(WarmupSeconds(120), 10);
  EXPECT_DOUBLE_EQ(WarmupSeconds(20), 5);
  // 50 MB allocated in the first 5 s (start-up), flat afterwards: no growth.
  auto samples = Linear(0.0, 120);
  for (auto& s : samples) {
    if (s.t_s < 5) s.rss_bytes = 50e6 + s.t_s * 10e6;
  }
  EXPECT_NEAR(MemoryGrowthMbPerMin(samples), 0.0, 1e-9);
}

TEST(Retention, GaugePairsAreRecognisedAndSummedOverLabels) {
  bool is_limit = true;
  EXPECT_EQ(RetentionGaugeBase("tickmesh_execution_terminal_orders_retained", &is_limit),
            "tickmesh_execution_terminal_orders");
  EXPECT_FALSE(is_limit);
  EXPECT_EQ(RetentionGaugeBase("tickmesh_execution_terminal_orders_retention_limit", &is_limit),
            "tickmesh_execution_terminal_orders");
  EXPECT_TRUE(is_limit);
  EXPECT_EQ(RetentionGaugeBase("_retained", &is_limit), "");
  EXPECT_EQ(RetentionGaugeBase("tickmesh_execution_outbox_depth", &is_limit), "");
  const ResourceSample s =
      ToResourceSample(ParsePrometheusText("process_resident_memory_bytes 1e8\n"
                                           "tickmesh_x_items_retained{shard=\"0\"} 10\n"
                                           "tickmesh_x_items_retained{shard=\"1\"} 5\n"
                                           "tickmesh_x_items_retention_limit{shard=\"0\"} 100\n"
                                           "tickmesh_x_items_retention_limit{shard=\"1\"} 100\n"),
                       1.0);
  EXPECT_DOUBLE_EQ(s.retained.at("tickmesh_x_items"), 15);
  EXPECT_DOUBLE_EQ(s.retention_limit.at("tickmesh_x_items"), 200);
  EXPECT_TRUE(s.gauges.empty());  // not queues
}

// A service that keeps `bytes_per_item` per retained item up to `limit` items, gaining
// `items_per_s`, plus a leak of `leak_mb_per_min`; one sample a second for `seconds`.
std::vector<ResourceSample> Retaining(double items_per_s, double limit, double bytes_per_item,
                                      double leak_mb_per_min, int seconds) {
  std::vector<ResourceSample> out;
  for (int t = 0; t <= seconds; ++t) {
    ResourceSample s;
    s.t_s = t;
    const double items = std::min(limit, items_per_s * t);
    s.rss_bytes = 30e6 + items * bytes_per_item + leak_mb_per_min * 1e6 * t / 60.0;
    s.retained["tickmesh_execution_terminal_orders"] = items;
    s.retention_limit["tickmesh_execution_terminal_orders"] = limit;
    out.push_back(s);
  }
  return out;
}

TEST(Retention, GrowthIsMeasuredOnlyAfterTheCapIsReached) {
  // 65 orders/s, 2 200 bytes each, cap 1 000 (full after ~15.4 s): 8.6 MB/min while filling,
  // flat afterwards. The plain post-warm-up slope would call this a leak.
  auto samples = Retaining(65, 1000, 2200, 0, 60);
  MemoryGrowth g = AnalyzeMemoryGrowth(samples);
  const RetentionState& r = g.retention.at("tickmesh_execution_terminal_orders");
  EXPECT_DOUBLE_EQ(r.full_at_s, 16);  // first sample at >= 990 items
  EXPECT_FALSE(r.filling);
  EXPECT_NEAR(r.bytes_per_item, 2200, 1);
  EXPECT_DOUBLE_EQ(g.from_s, 16);
  EXPECT_EQ(g.samples, 45);
  EXPECT_DOUBLE_EQ(g.window_s, 44);
  EXPECT_NEAR(g.mb_per_min, 0.0, 1e-9);
  // The same fill with a real 3 MB/min leak on top: the leak is what remains.
  g = AnalyzeMemoryGrowth(Retaining(65, 1000, 2200, 3.0, 60));
  EXPECT_NEAR(g.mb_per_min, 3.0, 1e-6);
  // Without the retention gauges the window starts after the warm-up and takes in the end of
  // the fill (10..16 s) as growth.
  for (auto& s : samples) {
    s.retained.clear();
    s.retention_limit.clear();
  }
  g = AnalyzeMemoryGrowth(samples);
  EXPECT_DOUBLE_EQ(g.from_s, 10);
  EXPECT_GT(g.mb_per_min, 0.2);
}

TEST(Retention, AStructureStillFillingIsReportedWithItsProjection) {
  // Cap 200 000, 4 000 items after 60 s: still filling; 2 200 bytes per item.
  const auto samples = Retaining(65, 200000, 2200, 0, 60);
  const MemoryGrowth g = AnalyzeMemoryGrowth(samples);
  ASSERT_TRUE(g.filling());
  const RetentionState& r = g.retention.at("tickmesh_execution_terminal_orders");
  EXPECT_TRUE(r.filling);
  EXPECT_EQ(r.full_at_s, -1);
  EXPECT_DOUBLE_EQ(r.retained_last, 3900);
  EXPECT_NEAR(r.bytes_per_item, 2200, 1);
  EXPECT_NEAR(r.projected_rss_at_limit_bytes, 30e6 + 200000 * 2200.0, 1e3);
  // The window stays the post-warm-up one and measures the fill (8.58 MB/min).
  EXPECT_DOUBLE_EQ(g.from_s, 10);
  EXPECT_NEAR(g.mb_per_min, 65 * 2200 * 60 / 1e6, 1e-6);
}

TEST(Retention, ASlowFillFarBelowABigCapIsStillFilling) {
  // 50 orders/s for 40 s against the 200 000 default: 2 000 items, 1 % of the cap, but a steady
  // rise — the growth is the fill, not evidence of a leak.
  const MemoryGrowth g = AnalyzeMemoryGrowth(Retaining(50, 200000, 2000, 0, 40));
  EXPECT_TRUE(g.filling());
  EXPECT_NEAR(g.retention.at("tickmesh_execution_terminal_orders").bytes_per_item, 2000, 1);
}

TEST(Retention, AWorkingSetBelowItsCapIsNotFilling) {
  // Open orders: 0..20 of 10 000, no trend. Neither full nor filling; the window is the usual.
  std::vector<ResourceSample> samples = Linear(0.0, 60);
  for (auto& s : samples) {
    s.retained["tickmesh_execution_open_orders"] = int(s.t_s) % 21;
    s.retention_limit["tickmesh_execution_open_orders"] = 10000;
  }
  const MemoryGrowth g = AnalyzeMemoryGrowth(samples);
  EXPECT_FALSE(g.filling());
  EXPECT_EQ(g.retention.at("tickmesh_execution_open_orders").full_at_s, -1);
  EXPECT_DOUBLE_EQ(g.from_s, WarmupSeconds(60));
  EXPECT_EQ(g.samples, 51);
}

TEST(Retention, ACapReachedAtTheEndLeavesTooShortAWindow) {
  // Full at 58 s of 60: 3 samples after it, 2 s — shorter than MinGrowthWindowSeconds(60) = 10.
  const MemoryGrowth g = AnalyzeMemoryGrowth(Retaining(17.1, 1000, 2200, 0, 60));
  EXPECT_DOUBLE_EQ(g.from_s, 58);
  EXPECT_EQ(g.samples, 3);
  EXPECT_LT(g.window_s, MinGrowthWindowSeconds(60));
  EXPECT_DOUBLE_EQ(MinGrowthWindowSeconds(60), 10);
  EXPECT_DOUBLE_EQ(MinGrowthWindowSeconds(20), 4);
}

TEST(Cpu, AverageCoresHandlesCounterResets) {
  auto samples = Linear(0, 10);  // 0.5 cpu-seconds per second
  EXPECT_NEAR(AverageCpuCores(samples), 0.5, 1e-9);
  // The process restarted at t=6: its counter starts again from 0.5.
  for (auto& s : samples) {
    if (s.t_s >= 6) s.cpu_seconds = 0.5 * (s.t_s - 5);
  }
  EXPECT_NEAR(AverageCpuCores(samples), 0.5, 1e-9);
  ServiceResources res;
  res.samples = samples;
  SummarizeResources(&res);
  EXPECT_NEAR(res.cpu_avg_cores, 0.5, 1e-9);
  EXPECT_DOUBLE_EQ(res.rss_max_bytes, 100e6);
}

TEST(ResourceSampler, RejectsBadUrls) {
  for (const char* url : {"127.0.0.1:9101", "https://127.0.0.1:9101", "http://127.0.0.1:99999",
                          "http://127.0.0.1:9101/metrics", "http://:9101", "http://a b:1",
                          "http://::1:9101", "http://[::1:9101", "http://[::1]x:1"}) {
    ResourceSampler sampler(std::map<std::string, std::string>{{"svc", url}});
    absl::Status s = sampler.Start();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_NE(s.message().find("svc"), std::string::npos);
  }
}

TEST(ResourceSampler, AcceptsHostPortAndBracketedIpv6Urls) {
  const std::string port = std::to_string(tickmesh::testing::FreePort());  // nothing listens
  for (const std::string& url :
       {"http://127.0.0.1:" + port, "http://localhost:" + port + "/", "http://[::1]:" + port}) {
    ResourceSampler::Options options;
    options.interval_s = 60;  // one round, then Finish
    options.timeout_s = 0.05;
    ResourceSampler sampler(std::map<std::string, std::string>{{"svc", url}}, options);
    EXPECT_TRUE(sampler.Start().ok()) << url;
    EXPECT_NE(sampler.Finish().at("svc").error.find("failed"), std::string::npos) << url;
  }
}

TEST(ResourceSampler, ScrapesALiveServerAndRecordsFailures) {
  httplib::Server server;
  std::atomic<int> scrapes{0};
  server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    const int n = ++scrapes;
    res.set_content(
        "# TYPE process_resident_memory_bytes gauge\n"
        "process_resident_memory_bytes " +
            std::to_string(10'000'000 + n * 1'000'000) +
            "\n"
            "process_cpu_seconds_total " +
            std::to_string(0.25 * n) +
            "\n"
            "tickmesh_cache_replay_queue_depth{shard=\"0\"} " +
            std::to_string(n) +
            "\n"
            "garbage line here\n",
        "text/plain; version=0.0.4");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  // A port nothing listens on: connection refused, recorded, not fatal.
  const int dead_port = tickmesh::testing::FreePort();

  ResourceSampler::Options options;
  options.interval_s = 0.05;
  options.timeout_s = 0.5;
  ResourceSampler sampler({{"cache", "http://127.0.0.1:" + std::to_string(port)},
                           {"gone", "http://127.0.0.1:" + std::to_string(dead_port)}},
                          options);
  ASSERT_TRUE(sampler.Start().ok());
  EXPECT_EQ(sampler.Start().code(), absl::StatusCode::kFailedPrecondition);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (scrapes.load() < 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto resources = sampler.Finish();
  server.stop();
  serving.join();

  ASSERT_EQ(resources.size(), 2u);
  const ServiceResources& cache = resources.at("cache");
  ASSERT_GE(cache.samples.size(), 4u);
  EXPECT_EQ(cache.admin_url, "http://127.0.0.1:" + std::to_string(port));
  EXPECT_TRUE(cache.error.empty()) << cache.error;
  for (size_t i = 1; i < cache.samples.size(); ++i) {
    EXPECT_GT(cache.samples[i].t_s, cache.samples[i - 1].t_s);
    EXPECT_DOUBLE_EQ(cache.samples[i].rss_bytes - cache.samples[i - 1].rss_bytes, 1e6);
  }
  EXPECT_DOUBLE_EQ(cache.samples[0].gauges.at("tickmesh_cache_replay_queue_depth"), 1);
  EXPECT_DOUBLE_EQ(cache.rss_max_bytes, cache.samples.back().rss_bytes);
  EXPECT_GT(cache.cpu_avg_cores, 0);
  EXPECT_GT(cache.mem_growth_mb_per_min, 0);  // RSS rose by 1 MB per scrape
  const ServiceResources& gone = resources.at("gone");
  EXPECT_TRUE(gone.samples.empty());
  EXPECT_NE(gone.error.find("scrape(s) failed"), std::string::npos) << gone.error;
  // Finish is idempotent.
  EXPECT_EQ(sampler.Finish().at("cache").samples.size(), cache.samples.size());
}

}  // namespace
}  // namespace tickmesh::loadtest
