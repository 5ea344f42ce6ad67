#include "report.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace tickmesh::loadtest {
namespace {

// A run with every RunResult section filled, as a scenario would produce it.
RunResult FullResult() {
  RunResult r;
  r.started_unix_ns = 1'700'000'000'000'000'000;
  r.finished_unix_ns = r.started_unix_ns + 20'000'000'000;
  r.primary_operation = "tick_to_order";
  auto& op = r.operations["tick_to_order"];
  for (int i = 1; i <= 100; ++i) op.latency_ns.Record(i * 10000);  // 10 µs .. 1 ms
  op.duration_s = 2;
  op.errors = 0;
  r.operations["publish"].latency_ns.Record(3000);
  r.operations["publish"].duration_s = 2;
  r.hops["loadtest.emit->market-data.recv"].Record(5000);
  r.hops["market-data.recv->market-data.emit"].Record(80000);
  r.hop_order = {"loadtest.emit->market-data.recv", "market-data.recv->market-data.emit"};
  for (int s = 1; s <= 3; ++s) {
    r.timeline.push_back({double(s), 2000, 1990, 1985, 1, 400000, 900000});
  }
  ServiceResources& res = r.resources["execution"];
  res.admin_url = "http://127.0.0.1:9103";
  for (int s = 0; s < 20; ++s) {
    ResourceSample sample;
    sample.t_s = s;
    sample.rss_bytes = 50e6;
    sample.cpu_seconds = 0.3 * s;
    sample.gauges["tickmesh_execution_outbox_depth"] = 3;
    res.samples.push_back(sample);
  }
  res.rss_max_bytes = 50e6;
  res.cpu_avg_cores = 0.3;
  r.faults.push_back({"kill redis", 5.0, true, "SIGKILL pid 42"});
  r.integrity.push_back({"fills_durable_once", 10, 10, 0, 0, true, ""});
  r.breaking_point_per_s = 12000;
  r.breaking_reason = "tick_to_order.p99 2100us > 1000us at 14000/s";
  r.counters["ticks_sent"] = 1000;
  r.counters["fills"] = 10;
  return r;
}

RunInfo Info() {
  RunInfo info;
  info.run_id = "run-1";
  info.scenario = "sustained";
  info.mode = "quick";
  info.config = {{"rate_per_s", 2000}, {"duration_s", 20}};
  return info;
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

// The field list of loadtest/README.md "report.json schema" (schema_version 2): path and type.
// Keep the two in step: a field documented there must be here and present in the output.
enum class T { kNumber, kInteger, kString, kBool, kObject, kArray, kNullOrObject, kNullOrNumber };

struct Field {
  const char* pointer;
  T type;
};

const Field kDocumentedFields[] = {
    {"/schema_version", T::kInteger},
    {"/run_id", T::kString},
    {"/scenario", T::kString},
    {"/mode", T::kString},
    {"/started_unix_ns", T::kInteger},
    {"/finished_unix_ns", T::kInteger},
    {"/duration_s", T::kNumber},
    {"/config", T::kObject},
    {"/counters", T::kObject},
    {"/counters/ticks_sent", T::kInteger},
    {"/primary_operation", T::kString},
    {"/operations", T::kObject},
    {"/operations/tick_to_order/count", T::kInteger},
    {"/operations/tick_to_order/errors", T::kInteger},
    {"/operations/tick_to_order/error_rate", T::kNumber},
    {"/operations/tick_to_order/duration_s", T::kNumber},
    {"/operations/tick_to_order/rate_per_s", T::kNumber},
    {"/operations/tick_to_order/latency_us/p50", T::kNumber},
    {"/operations/tick_to_order/latency_us/p90", T::kNumber},
    {"/operations/tick_to_order/latency_us/p99", T::kNumber},
    {"/operations/tick_to_order/latency_us/p999", T::kNumber},
    {"/operations/tick_to_order/latency_us/max", T::kNumber},
    {"/operations/tick_to_order/latency_us/min", T::kNumber},
    {"/operations/tick_to_order/latency_us/mean", T::kNumber},
    {"/operations/tick_to_order/percentile_curve", T::kArray},
    {"/operations/tick_to_order/percentile_curve/0/p", T::kNumber},
    {"/operations/tick_to_order/percentile_curve/0/us", T::kNumber},
    {"/hops", T::kArray},
    {"/hops/0/hop", T::kString},
    {"/hops/0/count", T::kInteger},
    {"/hops/0/latency_us/p99", T::kNumber},
    {"/critical_path", T::kObject},
    {"/critical_path/hops", T::kArray},
    {"/critical_path/sum_p50_us", T::kNumber},
    {"/critical_path/sum_p99_us", T::kNumber},
    {"/critical_path/slowest_hop", T::kString},
    {"/critical_path/p50_us", T::kNumber},
    {"/critical_path/p99_us", T::kNumber},
    {"/critical_path/share_of_p99", T::kNumber},
    {"/timeline", T::kArray},
    {"/timeline/0/t_s", T::kNumber},
    {"/timeline/0/target_per_s", T::kNumber},
    {"/timeline/0/sent_per_s", T::kNumber},
    {"/timeline/0/completed_per_s", T::kNumber},
    {"/timeline/0/errors", T::kInteger},
    {"/timeline/0/p50_us", T::kNumber},
    {"/timeline/0/p99_us", T::kNumber},
    {"/resources/host_cores", T::kInteger},
    {"/resources/services", T::kObject},
    {"/resources/services/execution/admin_url", T::kString},
    {"/resources/services/execution/sample_count", T::kInteger},
    {"/resources/services/execution/span_s", T::kNumber},
    {"/resources/services/execution/warmup_s", T::kNumber},
    {"/resources/services/execution/rss_max_mb", T::kNumber},
    {"/resources/services/execution/cpu_avg_cores", T::kNumber},
    {"/resources/services/execution/cpu_max_cores", T::kNumber},
    {"/resources/services/execution/mem_growth_mb_per_min", T::kNumber},
    {"/resources/services/execution/growth_from_s", T::kNumber},
    {"/resources/services/execution/growth_window_s", T::kNumber},
    {"/resources/services/execution/growth_samples", T::kInteger},
    {"/resources/services/execution/retention", T::kObject},
    {"/resources/services/execution/retention_filling", T::kBool},
    {"/resources/services/execution/queues", T::kObject},
    {"/resources/services/execution/queues/tickmesh_execution_outbox_depth/max", T::kNumber},
    {"/resources/services/execution/queues/tickmesh_execution_outbox_depth/last", T::kNumber},
    {"/resources/services/execution/queues/tickmesh_execution_outbox_depth/growth_per_s",
     T::kNumber},
    {"/resources/services/execution/error", T::kString},
    {"/resources/services/execution/series/0/t_s", T::kNumber},
    {"/resources/services/execution/series/0/rss_mb", T::kNumber},
    {"/resources/services/execution/series/0/cpu_cores", T::kNumber},
    {"/resources/services/execution/series/0/queue_depth", T::kNumber},
    {"/faults/0/action", T::kString},
    {"/faults/0/at_s", T::kNumber},
    {"/faults/0/ok", T::kBool},
    {"/faults/0/detail", T::kString},
    {"/integrity/0/name", T::kString},
    {"/integrity/0/expected", T::kInteger},
    {"/integrity/0/found", T::kInteger},
    {"/integrity/0/missing", T::kInteger},
    {"/integrity/0/duplicated", T::kInteger},
    {"/integrity/0/passed", T::kBool},
    {"/integrity/0/detail", T::kString},
    {"/breaking_point/searched", T::kBool},
    {"/breaking_point/rate_per_s", T::kNumber},
    {"/breaking_point/reason", T::kString},
    {"/slos/0/name", T::kString},
    {"/slos/0/kind", T::kString},
    {"/slos/0/unit", T::kString},
    {"/slos/0/subject", T::kString},
    {"/slos/0/threshold", T::kNumber},
    {"/slos/0/operation", T::kString},
    {"/slos/0/percentile", T::kString},
    {"/slos/0/threshold_us", T::kNumber},
    {"/slos/0/objective", T::kString},
    {"/slos/0/observed", T::kNumber},
    {"/slos/0/samples", T::kInteger},
    {"/slos/0/margin", T::kNullOrNumber},
    {"/slos/0/passed", T::kBool},
    {"/slos/0/reason", T::kString},
    {"/volatility/measured", T::kBool},
    {"/volatility/jumps", T::kInteger},
    {"/volatility/window_ms", T::kInteger},
    {"/volatility/in_jump_windows/seconds", T::kNumber},
    {"/volatility/in_jump_windows/signals", T::kInteger},
    {"/volatility/in_jump_windows/per_s", T::kNumber},
    {"/volatility/between_jumps/seconds", T::kNumber},
    {"/volatility/between_jumps/signals", T::kInteger},
    {"/volatility/between_jumps/per_s", T::kNumber},
    {"/volatility/burst_ratio", T::kNumber},
    {"/volatility/burst_ratio_is_lower_bound", T::kBool},
    {"/volatility/bin_ms", T::kInteger},
    {"/volatility/bins", T::kInteger},
    {"/volatility/signals_per_bin", T::kNumber},
    {"/volatility/index_of_dispersion", T::kNumber},
    {"/volatility/share_of_signals_in_windows", T::kNumber},
    {"/volatility/share_of_time_in_windows", T::kNumber},
    {"/passed", T::kBool},
    {"/error", T::kString},
    {"/grade/score", T::kNumber},
    {"/grade/letter", T::kString},
    {"/grade/deductions", T::kArray},
    {"/bottlenecks/0/kind", T::kString},
    {"/bottlenecks/0/subject", T::kString},
    {"/bottlenecks/0/value", T::kNumber},
    {"/bottlenecks/0/unit", T::kString},
    {"/bottlenecks/0/detail", T::kString},
    {"/recommendations/0/rule", T::kString},
    {"/recommendations/0/text", T::kString},
    {"/recommendations/0/evidence", T::kString},
    {"/baseline", T::kNullOrObject},
};

bool HasType(const nlohmann::json& v, T t) {
  switch (t) {
    case T::kNumber:
      return v.is_number();
    case T::kInteger:
      return v.is_number_integer();
    case T::kString:
      return v.is_string();
    case T::kBool:
      return v.is_boolean();
    case T::kObject:
      return v.is_object();
    case T::kArray:
      return v.is_array();
    case T::kNullOrObject:
      return v.is_null() || v.is_object();
    case T::kNullOrNumber:
      return v.is_null() || v.is_number();
  }
  return false;
}

TEST(Report, HasEveryDocumentedFieldWithItsType) {
  RunInfo info = Info();
  info.slos = {{"tick_to_order", "p99", 2000}};
  nlohmann::json j = BuildReportJson(info, FullResult());
  EXPECT_EQ(j["schema_version"], kReportSchemaVersion);
  EXPECT_EQ(kReportSchemaVersion, 2);
  for (const Field& f : kDocumentedFields) {
    nlohmann::json::json_pointer ptr(f.pointer);
    ASSERT_TRUE(j.contains(ptr)) << f.pointer;
    EXPECT_TRUE(HasType(j[ptr], f.type)) << f.pointer << " = " << j[ptr].dump();
  }
}

TEST(Report, ComputesRatesCriticalPathAndVerdict) {
  nlohmann::json j = BuildReportJson(Info(), FullResult());
  const auto& op = j["operations"]["tick_to_order"];
  EXPECT_EQ(op["count"], 100);
  EXPECT_DOUBLE_EQ(op["rate_per_s"].get<double>(), 50.0);
  EXPECT_NEAR(op["latency_us"]["p50"].get<double>(), 500.0, 10.0);
  EXPECT_EQ(j["hops"][0]["hop"], "loadtest.emit->market-data.recv");
  EXPECT_EQ(j["critical_path"]["slowest_hop"], "market-data.recv->market-data.emit");
  EXPECT_NEAR(j["critical_path"]["share_of_p99"].get<double>(), 80.0 / 85.0, 0.02);
  EXPECT_DOUBLE_EQ(j["duration_s"].get<double>(), 20.0);
  EXPECT_EQ(j["config"]["rate_per_s"], 2000);
  EXPECT_TRUE(j["breaking_point"]["searched"].get<bool>());
  EXPECT_TRUE(j["passed"].get<bool>()) << j.dump(2);
  EXPECT_TRUE(j["baseline"].is_null());
  EXPECT_FALSE(HasRegressions(j));
}

TEST(Report, SloVerdictsAndMargins) {
  RunInfo info = Info();
  info.slos = {{"tick_to_order", "p99", 2000}, {"tick_to_order", "p50", 100}};
  auto j = BuildReportJson(info, FullResult());
  EXPECT_TRUE(j["slos"][0]["passed"].get<bool>());
  EXPECT_NEAR(j["slos"][0]["margin"].get<double>(), 0.5, 0.01);
  EXPECT_FALSE(j["slos"][1]["passed"].get<bool>());
  EXPECT_NE(j["slos"][1]["reason"].get<std::string>().find("> 100"), std::string::npos);
  EXPECT_FALSE(j["passed"].get<bool>());
  EXPECT_EQ(j["bottlenecks"][0]["kind"], "slo_failed");
}

TEST(Report, SloOnOperationWithoutSamplesFails) {
  RunInfo info = Info();
  info.slos = {{"tick_to_fill", "p99", 1e9}};
  auto j = BuildReportJson(info, FullResult());
  EXPECT_FALSE(j["slos"][0]["passed"].get<bool>());
  EXPECT_EQ(j["slos"][0]["observed"], -1.0);
  EXPECT_TRUE(j["slos"][0]["margin"].is_null());
  EXPECT_FALSE(j["passed"].get<bool>());
}

// A service whose RSS rises linearly by `mb_per_min` over 30 one-second samples.
ServiceResources GrowingService(double mb_per_min, int samples = 30) {
  ServiceResources res;
  res.admin_url = "http://127.0.0.1:9102";
  for (int s = 0; s < samples; ++s) {
    ResourceSample sample;
    sample.t_s = s;
    sample.rss_bytes = 40e6 + mb_per_min * 1e6 / 60.0 * s;
    sample.cpu_seconds = 0.1 * s;
    res.samples.push_back(sample);
  }
  return res;
}

const nlohmann::json* MemorySlo(const nlohmann::json& report) {
  for (const auto& s : report["slos"]) {
    if (s["kind"] == "memory_growth") return &s;
  }
  return nullptr;
}

TEST(Report, SoakFailsWhenTheWorstServiceGrowsFasterThanTheLimit) {
  RunInfo info = Info();
  info.config["max_mem_growth_mb_per_min"] = 5;
  RunResult r = FullResult();
  r.resources["signal"] = GrowingService(12.0);
  r.resources["cache"] = GrowingService(6.0);
  const nlohmann::json j = BuildReportJson(info, r);
  EXPECT_FALSE(j["passed"].get<bool>());
  const nlohmann::json* slo = MemorySlo(j);
  ASSERT_NE(slo, nullptr) << j["slos"].dump(2);
  EXPECT_FALSE((*slo)["passed"].get<bool>());
  EXPECT_EQ((*slo)["subject"], "signal");
  EXPECT_EQ((*slo)["unit"], "mb_per_min");
  EXPECT_NEAR((*slo)["observed"].get<double>(), 12.0, 0.01);
  EXPECT_NEAR((*slo)["margin"].get<double>(), 12.0 / 5.0, 0.01);
  EXPECT_DOUBLE_EQ((*slo)["threshold"].get<double>(), 5.0);
  const std::string reason = (*slo)["reason"];
  EXPECT_NE(reason.find("signal 12.00 MB/min"), std::string::npos) << reason;
  EXPECT_NE(reason.find("cache 6.00 MB/min"), std::string::npos) << reason;
  EXPECT_EQ(reason.find("execution"), std::string::npos) << reason;  // flat RSS: not named
  // Graded as memory growth (not as a latency SLO), capped like any failed objective.
  EXPECT_LE(j["grade"]["score"].get<double>(), 69);
  bool memory_deduction = false;
  for (const auto& d : j["grade"]["deductions"]) {
    EXPECT_NE(d["rule"], "slo_failed") << d.dump();
    memory_deduction = memory_deduction || d["rule"] == "memory_growth";
  }
  EXPECT_TRUE(memory_deduction);
  EXPECT_NE(SummaryText(j).find("memory_growth <= 5 MB/min"), std::string::npos);
}

TEST(Report, SoakPassesWhenEveryServiceStaysUnderTheLimit) {
  RunInfo info = Info();
  info.config["max_mem_growth_mb_per_min"] = 5;
  RunResult r = FullResult();
  r.resources["signal"] = GrowingService(4.0);
  const nlohmann::json j = BuildReportJson(info, r);
  EXPECT_TRUE(j["passed"].get<bool>()) << j["slos"].dump(2);
  const nlohmann::json* slo = MemorySlo(j);
  ASSERT_NE(slo, nullptr);
  EXPECT_TRUE((*slo)["passed"].get<bool>());
  EXPECT_EQ((*slo)["subject"], "signal");
  EXPECT_NEAR((*slo)["observed"].get<double>(), 4.0, 0.01);
  EXPECT_EQ((*slo)["reason"], "");
  // Without the objective in the config there is no such entry.
  EXPECT_EQ(MemorySlo(BuildReportJson(Info(), r)), nullptr);
}

TEST(Report, SoakWithoutMemoryEvidenceFails) {
  RunInfo info = Info();
  info.config["max_mem_growth_mb_per_min"] = 5;
  RunResult r = FullResult();
  r.resources.clear();  // nothing sampled
  nlohmann::json j = BuildReportJson(info, r);
  EXPECT_FALSE(j["passed"].get<bool>());
  ASSERT_NE(MemorySlo(j), nullptr);
  EXPECT_EQ((*MemorySlo(j))["samples"], 0);
  EXPECT_EQ((*MemorySlo(j))["observed"], -1.0);
  EXPECT_NE((*MemorySlo(j))["reason"].get<std::string>().find("no service was sampled"),
            std::string::npos);
  EXPECT_EQ(j["bottlenecks"][0]["kind"], "slo_failed");
  EXPECT_EQ(j["recommendations"][0]["rule"], "slo_failed");
  EXPECT_NE(j["recommendations"][0]["text"].get<std::string>().find("admin /metrics"),
            std::string::npos);

  r = FullResult();
  r.resources["persistence"] = GrowingService(0.0, 2);  // 1 sample after the warm-up: too few
  r.resources["persistence"].error = "5 scrape(s) failed; last: connection refused";
  j = BuildReportJson(info, r);
  EXPECT_FALSE(j["passed"].get<bool>());
  const std::string reason = (*MemorySlo(j))["reason"];
  EXPECT_NE(reason.find("persistence (1 RSS sample(s) over 0.0 s after warm-up; 3 samples"),
            std::string::npos)
      << reason;
  EXPECT_NE(reason.find("connection refused"), std::string::npos) << reason;
}

// Execution retaining 2 200 bytes per terminal order, 65 orders/s, up to `limit`, 60 s.
ServiceResources RetainingService(double limit) {
  ServiceResources res = GrowingService(0.0, 61);
  for (auto& s : res.samples) {
    const double items = std::min(limit, 65 * s.t_s);
    s.rss_bytes += items * 2200;
    s.retained["tickmesh_execution_terminal_orders"] = items;
    s.retention_limit["tickmesh_execution_terminal_orders"] = limit;
  }
  return res;
}

TEST(Report, SoakJudgesMemoryGrowthAfterTheRetentionCapsFilled) {
  RunInfo info = Info();
  info.config["max_mem_growth_mb_per_min"] = 5;
  RunResult r = FullResult();
  r.resources["execution"] = RetainingService(1000);  // full at 16 s, flat after
  nlohmann::json j = BuildReportJson(info, r);
  const auto& exec = j["resources"]["services"]["execution"];
  EXPECT_NEAR(exec["mem_growth_mb_per_min"].get<double>(), 0.0, 1e-6);
  EXPECT_EQ(exec["growth_from_s"], 16.0);
  EXPECT_EQ(exec["growth_samples"], 45);
  EXPECT_FALSE(exec["retention_filling"].get<bool>());
  const auto& ret = exec["retention"]["tickmesh_execution_terminal_orders"];
  EXPECT_EQ(ret["limit"], 1000.0);
  EXPECT_EQ(ret["full_at_s"], 16.0);
  EXPECT_NEAR(ret["bytes_per_item"].get<double>(), 2200, 1);
  EXPECT_TRUE((*MemorySlo(j))["passed"].get<bool>()) << (*MemorySlo(j))["reason"];
  EXPECT_TRUE(j["passed"].get<bool>());

  // Cap 200 000: still filling after 60 s. Neither a pass nor a leak: no evidence, and the
  // reason says where RSS is heading.
  r.resources["execution"] = RetainingService(200000);
  j = BuildReportJson(info, r);
  EXPECT_TRUE(j["resources"]["services"]["execution"]["retention_filling"].get<bool>());
  EXPECT_FALSE(j["passed"].get<bool>());
  const auto& slo = *MemorySlo(j);
  EXPECT_FALSE(slo["passed"].get<bool>());
  EXPECT_EQ(slo["samples"], 0);
  const std::string reason = slo["reason"];
  EXPECT_NE(reason.find("execution (bounded retention still filling: "
                        "tickmesh_execution_terminal_orders 3900 of 200000, 2200 bytes per item, "
                        "RSS about 480 MB when full"),
            std::string::npos)
      << reason;
  bool advised = false;
  for (const auto& rec : j["recommendations"]) {
    advised = advised ||
              rec["text"].get<std::string>().find("TICKMESH_ORDER_RETENTION") != std::string::npos;
  }
  EXPECT_TRUE(advised) << j["recommendations"];
  // The fill is not graded as a leak (no memory_growth deduction or bottleneck for it).
  for (const auto& b : j["bottlenecks"]) EXPECT_NE(b["kind"], "memory_growth") << b;
  for (const auto& d : j["grade"]["deductions"]) EXPECT_NE(d["rule"], "memory_growth") << d;
}

// Samples every 1/64 s for 3 s (exact in binary): a jump in the intervals ending at samples 32,
// 96 and 160; one baseline order event every 8th interval; 10 more in each of the 3 intervals
// from a jump's on.
std::vector<CounterSample> JumpySamples() {
  std::vector<CounterSample> out;
  uint64_t jumps = 0, events = 0;
  for (int i = 0; i < 192; ++i) {
    if (i == 32 || i == 96 || i == 160) ++jumps;
    if (i > 0 && i % 8 == 0) ++events;
    for (int j : {32, 96, 160}) {
      if (i >= j && i < j + 3) events += 10;
    }
    out.push_back({i / 64.0, jumps, events});
  }
  return out;
}

TEST(Burstiness, SplitsOrderEventsIntoJumpWindowsAndTheTimeBetween) {
  const Burstiness b = MeasureBurstiness(JumpySamples(), 12 / 64.0);
  EXPECT_EQ(b.jumps, 3u);
  // Each window: the 12 intervals starting at the sample before the jump's.
  EXPECT_DOUBLE_EQ(b.in_window_s, 36 / 64.0);
  EXPECT_DOUBLE_EQ(b.between_s, 155 / 64.0);
  EXPECT_EQ(b.in_window_events, 3u * 30 + 6);  // bursts + 2 baseline events per window
  EXPECT_EQ(b.between_events, 23u - 6);
}

TEST(Burstiness, OverlappingWindowsMergeAndBadIntervalsAreSkipped) {
  // Jumps in intervals 2 and 4 with a 3-interval window: one window from t0 + 1 to t0 + 6.
  std::vector<CounterSample> s;
  for (int i = 0; i <= 10; ++i) s.push_back({double(i), uint64_t(i >= 2) + (i >= 4), 0});
  s.push_back({10.0, 2, 0});  // zero-length interval: skipped
  s.push_back({11.0, 2, 0});
  s[5].events = 7;  // 7 events in interval 5, then the counter "goes back" (no change)
  Burstiness b = MeasureBurstiness(s, 3.0);
  EXPECT_EQ(b.jumps, 2u);
  EXPECT_DOUBLE_EQ(b.in_window_s, 5.0);  // intervals starting at 1, 2, 3, 4, 5
  EXPECT_DOUBLE_EQ(b.between_s, 6.0);
  EXPECT_EQ(b.in_window_events, 7u);
  EXPECT_EQ(b.between_events, 0u);
  b = MeasureBurstiness({{1.0, 5, 5}}, 0.2);
  EXPECT_EQ(b.jumps, 0u);
  EXPECT_EQ(b.in_window_s + b.between_s, 0.0);
}

// Signals sampled every 10 ms for `seconds`: a jump once a second; `per_jump` signals in the
// interval 20 ms after each jump; plus a Poisson stream of `baseline_per_s` signals (seeded).
std::vector<CounterSample> SignalSamples(int seconds, int per_jump, double baseline_per_s,
                                         uint32_t seed = 7) {
  std::mt19937_64 rng(seed);
  std::poisson_distribution<int> baseline(baseline_per_s * 0.01);
  std::vector<CounterSample> out;
  uint64_t jumps = 0, events = 0;
  for (int i = 0; i <= seconds * 100; ++i) {
    if (i > 0 && i % 100 == 50) ++jumps;             // jump in the interval ending at x.50 s
    if (i > 0 && i % 100 == 52) events += per_jump;  // its burst 20 ms later
    if (i > 0 && baseline_per_s > 0) events += baseline(rng);
    out.push_back({i / 100.0, jumps, events});
  }
  return out;
}

TEST(Burstiness, PoissonSignalsHaveIndexOfDispersionNearOneAndNoJumpRatio) {
  // 20 signals/s at random over 60 s (600 bins of 100 ms, 2 per bin on average): the sample
  // index of dispersion of Poisson counts is 1 with a standard error of sqrt(2 / 599) = 0.06.
  const Burstiness b = MeasureBurstiness(SignalSamples(60, 0, 20.0), 0.2, 0.1);
  EXPECT_EQ(b.bins, 600u);
  const double d = IndexOfDispersion(b.bins, b.bin_events, b.bin_events_sq);
  EXPECT_NEAR(d, 1.0, 0.25) << d;
  // Jumps unrelated to the signals: about the same rate in the windows and between them.
  const double in_rate = b.in_window_events / b.in_window_s;
  const double between_rate = b.between_events / b.between_s;
  EXPECT_NEAR(in_rate / between_rate, 1.0, 0.3);
}

TEST(Burstiness, SignalsInBurstsAfterJumpsHaveHighDispersionAndRatio) {
  // 8 signals 20 ms after each jump, nothing else (the volatility scenario's shape).
  Burstiness b = MeasureBurstiness(SignalSamples(20, 8, 0.0), 0.2, 0.1);
  EXPECT_EQ(b.jumps, 20u);
  EXPECT_EQ(b.in_window_events, 160u);
  EXPECT_EQ(b.between_events, 0u);
  EXPECT_EQ(b.bins, 200u);
  // Counts: 20 bins of 8, 180 of 0 -> mean 0.8, sample variance (20*64 - 200*0.64) / 199.
  EXPECT_NEAR(IndexOfDispersion(b.bins, b.bin_events, b.bin_events_sq),
              (20 * 64 - 200 * 0.64) / 199 / 0.8, 1e-9);
  // The same bursts on a Poisson baseline of 20/s: still clearly bursty and tied to the jumps.
  b = MeasureBurstiness(SignalSamples(60, 8, 20.0), 0.2, 0.1);
  EXPECT_GT(IndexOfDispersion(b.bins, b.bin_events, b.bin_events_sq), 2.5);
  // 20 + 8 / 0.2 = 60 signals/s in the windows vs 20/s between: about x3.
  EXPECT_NEAR((b.in_window_events / b.in_window_s) / (b.between_events / b.between_s), 3.0, 0.5);
  // Evenly spaced signals (one per bin) are under-dispersed.
  std::vector<CounterSample> even;
  for (int i = 0; i <= 1000; ++i) even.push_back({i / 100.0, 0, uint64_t(i / 10)});
  b = MeasureBurstiness(even, 0.2, 0.1);
  EXPECT_DOUBLE_EQ(IndexOfDispersion(b.bins, b.bin_events, b.bin_events_sq), 0.0);
  EXPECT_EQ(IndexOfDispersion(1, 5, 25), 0.0);  // one bin: undefined
  EXPECT_EQ(IndexOfDispersion(10, 0, 0), 0.0);  // no signals: undefined
}

TEST(Report, VolatilitySectionComparesRatesInAndBetweenJumpWindows) {
  RunResult r = FullResult();
  StoreBurstiness(MeasureBurstiness(JumpySamples(), 12 / 64.0), &r.counters);
  const nlohmann::json j = BuildReportJson(Info(), r);
  const auto& v = j["volatility"];
  EXPECT_TRUE(v["measured"].get<bool>());
  EXPECT_EQ(v["jumps"], 3);
  EXPECT_EQ(v["window_ms"], 188);  // 187.5 ms, rounded
  const double in_rate = 96 / (36 / 64.0), between_rate = 17 / (155 / 64.0);
  EXPECT_NEAR(v["in_jump_windows"]["per_s"].get<double>(), in_rate, 0.01);
  EXPECT_NEAR(v["between_jumps"]["per_s"].get<double>(), between_rate, 0.01);
  EXPECT_NEAR(v["burst_ratio"].get<double>(), in_rate / between_rate, 0.01);
  EXPECT_FALSE(v["burst_ratio_is_lower_bound"].get<bool>());
  EXPECT_NEAR(v["share_of_signals_in_windows"].get<double>(), 96.0 / 113.0, 0.001);
  EXPECT_NEAR(v["share_of_time_in_windows"].get<double>(), 36.0 / 191.0, 0.001);
  EXPECT_NE(SummaryText(j).find("price jumps 3"), std::string::npos) << SummaryText(j);
  // A run without jumps: the section is there, all zeros, not measured.
  const nlohmann::json plain = BuildReportJson(Info(), FullResult());
  EXPECT_FALSE(plain["volatility"]["measured"].get<bool>());
  EXPECT_EQ(plain["volatility"]["burst_ratio"], 0.0);
  EXPECT_EQ(plain["volatility"]["index_of_dispersion"], 0.0);
  EXPECT_EQ(SummaryText(plain).find("price jumps"), std::string::npos);
  // Bursts only (no signal between jumps): the ratio is a lower bound, the dispersion high.
  RunResult bursty = FullResult();
  StoreBurstiness(MeasureBurstiness(SignalSamples(20, 8, 0.0), 0.2, 0.1), &bursty.counters);
  const auto vb = BuildReportJson(Info(), bursty)["volatility"];
  EXPECT_TRUE(vb["burst_ratio_is_lower_bound"].get<bool>());
  // 160 signals in 20 windows of 0.2 s (40/s) vs "at most one" in the 16 s between (1/16 s).
  EXPECT_NEAR(vb["burst_ratio"].get<double>(), 40.0 * 16.0, 8);  // between: 15.9-16 s
  EXPECT_EQ(vb["bin_ms"], 100);
  EXPECT_EQ(vb["bins"], 200);
  EXPECT_NEAR(vb["signals_per_bin"].get<double>(), 0.8, 1e-9);
  EXPECT_NEAR(vb["index_of_dispersion"].get<double>(), (20 * 64 - 200 * 0.64) / 199 / 0.8, 0.001);
  EXPECT_EQ(vb["share_of_signals_in_windows"], 1.0);
}

TEST(Report, FailedIntegrityCheckOrFaultStepFailsTheRun) {
  RunResult r = FullResult();
  r.integrity[0].passed = false;
  r.integrity[0].missing = 2;
  EXPECT_FALSE(BuildReportJson(Info(), r)["passed"].get<bool>());
  r = FullResult();
  r.faults[0].ok = false;
  EXPECT_FALSE(BuildReportJson(Info(), r)["passed"].get<bool>());
}

TEST(Report, RunThatMeasuredNothingFails) {
  RunResult r;
  r.error = "publish to market-data at 127.0.0.1:1: connection refused";
  auto j = BuildReportJson(Info(), r);
  EXPECT_FALSE(j["passed"].get<bool>());
  EXPECT_EQ(j["grade"]["letter"], "F");
  auto proto = ToReportProto(j);
  EXPECT_FALSE(proto.passed());
  EXPECT_EQ(proto.grade(), "F");
  EXPECT_NE(proto.report_json().find("connection refused"), std::string::npos);
  RunResult empty;
  empty.operations["tick_to_order"];  // declared, never completed
  EXPECT_FALSE(BuildReportJson(Info(), empty)["passed"].get<bool>());
}

TEST(Report, ProtoCarriesScoreGradeAndOperations) {
  auto j = BuildReportJson(Info(), FullResult());
  auto proto = ToReportProto(j);
  EXPECT_EQ(proto.run_id(), "run-1");
  EXPECT_EQ(proto.operations_size(), 2);
  EXPECT_DOUBLE_EQ(proto.score(), j["grade"]["score"].get<double>());
  EXPECT_EQ(proto.grade(), j["grade"]["letter"].get<std::string>());
  EXPECT_EQ(nlohmann::json::parse(proto.report_json()), j);
}

TEST(Report, NonObjectConfigIsRecordedAsEmptyObject) {
  RunInfo info = Info();
  info.config = "not an object";
  EXPECT_TRUE(BuildReportJson(info, FullResult())["config"].is_object());
}

TEST(Report, SummaryTextNamesOperationsGradeAndVerdict) {
  RunInfo info = Info();
  info.slos = {{"tick_to_order", "p99", 2000}};
  std::string text = SummaryText(BuildReportJson(info, FullResult()));
  EXPECT_NE(text.find("tick_to_order"), std::string::npos);
  EXPECT_NE(text.find("grade "), std::string::npos);
  EXPECT_NE(text.find("slowest hop: market-data.recv->market-data.emit"), std::string::npos);
  EXPECT_NE(text.find("verdict: PASS"), std::string::npos);
  EXPECT_EQ(SummaryText(nlohmann::json::array()), "no report\n");
}

// The exact percentile with the histogram's rank rule: the ceil(p/100 * n)-th smallest value.
int64_t ExactPercentile(std::vector<int64_t> sorted, double p) {
  size_t rank = std::max<size_t>(1, size_t(std::ceil(p / 100.0 * double(sorted.size()))));
  return sorted[std::min(rank, sorted.size()) - 1];
}

// histogram.h documents: exact below 128 ns, otherwise the reported value is the upper bound of
// the value's bucket, within 1/64 above the exact value.
TEST(Report, PercentilesMatchExactPercentilesWithinTheHistogramError) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> latency(std::log(200'000.0), 1.2);  // ~200 µs, long tail
  RunResult r;
  auto& op = r.operations["tick_to_order"];
  std::vector<int64_t> values;
  for (int i = 0; i < 200'000; ++i) {
    int64_t v = int64_t(latency(rng));
    if (i % 1000 == 0) v = i % 100;  // some exact small values too
    values.push_back(v);
    op.latency_ns.Record(v);
  }
  op.duration_s = 10;
  std::sort(values.begin(), values.end());
  auto j = BuildReportJson(Info(), r);
  const auto& lat = j["operations"]["tick_to_order"]["latency_us"];
  for (auto [key, p] : {std::pair{"p50", 50.0}, std::pair{"p90", 90.0}, std::pair{"p99", 99.0},
                        std::pair{"p999", 99.9}, std::pair{"max", 100.0}}) {
    const double exact_ns = double(ExactPercentile(values, p));
    const double reported_ns = lat[key].get<double>() * 1000.0;
    EXPECT_GE(reported_ns, exact_ns) << key;
    EXPECT_LE(reported_ns, exact_ns * (1.0 + 1.0 / 64)) << key << " exact " << exact_ns;
  }
  // The curve is monotonic and ends at the max.
  const auto& curve = j["operations"]["tick_to_order"]["percentile_curve"];
  for (size_t i = 1; i < curve.size(); ++i) {
    EXPECT_GE(curve[i]["us"].get<double>(), curve[i - 1]["us"].get<double>());
  }
  EXPECT_DOUBLE_EQ(curve.back()["us"].get<double>(), double(values.back()) / 1000.0);
  EXPECT_DOUBLE_EQ(curve.front()["us"].get<double>(), double(values.front()) / 1000.0);
}

TEST(Report, BaselineSectionFlagsRegressions) {
  RunInfo info = Info();
  nlohmann::json base = BuildReportJson(Info(), FullResult());
  // The baseline was 30 % faster at p99: this run regressed.
  base["operations"]["tick_to_order"]["latency_us"]["p99"] =
      base["operations"]["tick_to_order"]["latency_us"]["p99"].get<double>() / 1.3;
  base["run_id"] = "run-0";
  info.baseline = base;
  auto j = BuildReportJson(info, FullResult());
  ASSERT_TRUE(j["baseline"].is_object());
  EXPECT_EQ(j["baseline"]["run_id"], "run-0");
  EXPECT_TRUE(j["baseline"]["operations"]["tick_to_order"]["p99_us"]["regressed"].get<bool>());
  EXPECT_FALSE(j["baseline"]["operations"]["publish"]["regressed"].get<bool>());
  EXPECT_TRUE(HasRegressions(j));
  EXPECT_TRUE(j["passed"].get<bool>());  // regressions are reported, the caller decides
  bool recommended = false;
  for (const auto& rec : j["recommendations"]) recommended |= rec["rule"] == "regression";
  EXPECT_TRUE(recommended);
}

}  // namespace
}  // namespace tickmesh::loadtest
