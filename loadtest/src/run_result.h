// RunResult: everything one scenario run measured. Scenarios (scenario runner, load generators,
// fault driver) produce it; reports (report.json, report.html, baseline comparison, grade)
// consume it. Plain data, no logic.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "histogram.h"

namespace tickmesh::loadtest {

// One named latency series with its count, errors and rate. Latencies are measured from the
// intended send time (coordinated-omission correct) unless the operation says otherwise.
struct OperationResult {
  LatencyHistogram latency_ns;
  uint64_t errors = 0;
  double duration_s = 0;  // over which latency_ns.count() completed (rate = count / duration)
};

// One second of the run, for the over-time charts.
struct TimelinePoint {
  double t_s = 0;              // seconds since the run started (end of this second)
  double target_per_s = 0;     // the load shape's intended rate
  double sent_per_s = 0;       // what the generator actually sent
  double completed_per_s = 0;  // primary operation completions
  uint64_t errors = 0;
  int64_t p50_ns = 0;  // primary operation latency within this second
  int64_t p99_ns = 0;
};

// A /metrics scrape of one service.
struct ResourceSample {
  double t_s = 0;
  double rss_bytes = 0;
  double cpu_seconds = 0;                // process_cpu_seconds_total
  std::map<std::string, double> gauges;  // queue depths etc. (metric name -> summed value)
  // Bounded retention structures, by base name (the gauge names without the _retained /
  // _retention_limit suffix), each summed over label sets: items kept, and the cap.
  std::map<std::string, double> retained;
  std::map<std::string, double> retention_limit;
};

// One bounded retention structure of a service over the run (see resources.h).
struct RetentionState {
  double retained_last = 0;  // items kept at the last sample
  double limit = 0;          // the cap (last sample that reported one)
  double full_at_s = -1;     // first sample at >= kRetentionFullRatio of the cap; -1 = never
  bool filling = false;      // never full, and grew by >= kRetentionFillingShare of the cap
  // RSS bytes per retained item while it filled (least-squares slope of RSS over items, after
  // warm-up, up to full_at_s); 0 when it did not grow or had < 3 samples.
  double bytes_per_item = 0;
  // filling only: last RSS + bytes_per_item x (limit - retained_last): where RSS is heading.
  double projected_rss_at_limit_bytes = 0;
};

struct ServiceResources {
  std::string admin_url;  // http://127.0.0.1:9101
  std::vector<ResourceSample> samples;
  // Least-squares slope of RSS over the growth window: after the warm-up and after every
  // retention structure of the service filled up (see resources.h, AnalyzeMemoryGrowth).
  double mem_growth_mb_per_min = 0;
  double growth_from_s = 0;    // start of the growth window, seconds after the first sample
  double growth_window_s = 0;  // its first to last sample
  int growth_samples = 0;      // RSS samples in it
  std::map<std::string, RetentionState> retention;  // by base name
  double cpu_avg_cores = 0;
  double rss_max_bytes = 0;
  std::string error;  // scrape failures, if any
};

// One injected fault (fault scenario): what was done, when, and whether it worked.
struct FaultStep {
  std::string action;  // "kill redis", "restart redis", "kill execution", ...
  double at_s = 0;
  bool ok = false;
  std::string detail;
};

// A post-run durability check ("fills_durable_once", "cache_writes_in_redis").
struct IntegrityCheck {
  std::string name;
  uint64_t expected = 0;
  uint64_t found = 0;
  uint64_t missing = 0;
  uint64_t duplicated = 0;
  bool passed = false;
  std::string detail;
};

struct RunResult {
  // tick_to_order, tick_to_fill, publish, order_submit, cache_set, persist_append, ...
  std::map<std::string, OperationResult> operations;
  std::string primary_operation;                 // the one the timeline and the headline follow
  std::map<std::string, LatencyHistogram> hops;  // "market-data.recv->market-data.emit"
  std::vector<std::string> hop_order;            // hops in path order
  std::vector<TimelinePoint> timeline;
  std::map<std::string, ServiceResources> resources;  // by service name
  std::vector<FaultStep> faults;
  std::vector<IntegrityCheck> integrity;
  // A ramp that searches for the breaking point: the highest rate that still met the SLOs
  // (0 = not searched), and why the next step failed.
  double breaking_point_per_s = 0;
  std::string breaking_reason;
  std::map<std::string, uint64_t> counters;  // ticks_sent, order_events, fills, rejects, ...
  int64_t started_unix_ns = 0;
  int64_t finished_unix_ns = 0;
  std::string error;  // set when the run could not start or was aborted
};

}  // namespace tickmesh::loadtest
