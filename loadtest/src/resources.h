// Resource sampling during a run: scrapes every service's admin /metrics (Prometheus text format)
// about once a second on its own thread and fills RunResult::resources — RSS, CPU and queue-depth
// gauges over time, max RSS, average CPU cores and memory growth in MB/min.
//
// Example:
//   ResourceSampler sampler({{"market-data", "http://127.0.0.1:9101"},
//                            {"execution", "http://127.0.0.1:9103"}});
//   if (auto s = sampler.Start(); !s.ok()) ...;       // bad URL; unreachable is not an error
//   ... run the load ...
//   result.resources = sampler.Finish();             // stops the thread, summarizes
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "run_result.h"

namespace tickmesh::loadtest {

// One sample line of the Prometheus text exposition format: name{labels} value [timestamp].
struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;  // label values unescaped (\\, \", \n)
  double value = 0;                           // NaN, +Inf and -Inf are parsed as such
};

struct PromParseResult {
  std::vector<PromSample> samples;
  int malformed_lines = 0;  // lines that are neither comments, blank, nor valid samples
};

// Parses the Prometheus text format (0.0.4). Comments (# HELP, # TYPE, any "#" line) and blank
// lines are skipped; a malformed line (bad name, unterminated labels, missing or unparsable
// value) is counted and skipped, never fatal. Never throws.
PromParseResult ParsePrometheusText(std::string_view text);

// True for gauges that measure a queue/backlog: names ending in _queue_depth, _depth, _backlog,
// _queued_records, _queued or _spool_entries. Matches what the services export, e.g.
// tickmesh_market_data_subscriber_queue_depth, tickmesh_cache_replay_queue_depth,
// tickmesh_execution_outbox_depth, tickmesh_persistence_writer_queued_records,
// tickmesh_market_data_persistence_backlog, tickmesh_persistence_spool_entries.
bool IsQueueGauge(std::string_view name);

// A bounded retention structure is exported as two gauges with the same labels:
// <base>_retained (items kept now) and <base>_retention_limit (the cap), e.g.
// tickmesh_execution_terminal_orders_retained / tickmesh_execution_terminal_orders_retention_limit.
// Returns <base> for either name (and sets *is_limit), "" for any other name.
std::string RetentionGaugeBase(std::string_view name, bool* is_limit);

// Turns one parsed scrape into a sample at `t_s`: process_resident_memory_bytes,
// process_cpu_seconds_total, every queue gauge and every retention gauge pair (each summed over
// label sets). Missing process metrics leave 0 (and the caller records a note).
ResourceSample ToResourceSample(const PromParseResult& parsed, double t_s);

// Samples in the first WarmupSeconds(span) seconds are excluded from the memory-growth slope:
// min(10 s, 25 % of the sampled span). Start-up allocation (pools, caches filling, first
// connections) is not a leak.
double WarmupSeconds(double span_s);

// A retention structure counts as full from the first sample at >= 99 % of its cap, and as still
// filling when it never got there and rose after the warm-up by at least 10 % of its highest
// count there (and at least one item), the rise being its least-squares slope x the time
// covered. A working set that stays below its cap without a trend, like open orders, is neither.
inline constexpr double kRetentionFullRatio = 0.99;
inline constexpr double kRetentionFillingShare = 0.10;

// The shortest growth window a memory-growth figure is evidence for: min(10 s, 20 % of span).
double MinGrowthWindowSeconds(double span_s);

// Where a service's memory goes over a run.
//
// Bounded retention (terminal orders kept for idempotency, cache entries, ...) grows RSS
// linearly while it fills, exactly like a leak of the same size per item: the two cannot be told
// apart until the cap is reached. So the growth window starts after the warm-up AND after the
// last of the service's retention structures became full; the RSS slope over it is the growth
// that is not explained by bounded retention. A structure still filling at the end is reported
// (filling, bytes per item, projected RSS at its cap) and the window then is the plain
// post-warm-up one, which measures the fill, not a leak (the report does not judge it).
struct MemoryGrowth {
  double mb_per_min = 0;  // RSS slope over the window, MB/min; 0 with < 3 samples in it
  double from_s = 0;      // window start, seconds after the first sample
  double window_s = 0;    // first to last sample in the window
  int samples = 0;        // RSS samples in the window
  std::map<std::string, RetentionState> retention;
  bool filling() const {
    for (const auto& [base, r] : retention) {
      if (r.filling) return true;
    }
    return false;
  }
};
MemoryGrowth AnalyzeMemoryGrowth(const std::vector<ResourceSample>& samples);

// AnalyzeMemoryGrowth(samples).mb_per_min.
double MemoryGrowthMbPerMin(const std::vector<ResourceSample>& samples);

// Least-squares slope of ys over xs (units of y per unit of x); 0 with < 2 points or no spread.
double LeastSquaresSlope(const std::vector<double>& xs, const std::vector<double>& ys);

// Average CPU cores over the samples: CPU seconds consumed / wall seconds spanned. A decrease of
// process_cpu_seconds_total (the process restarted) is treated as a counter reset, like
// Prometheus rate(): the new value counts as consumed since the restart.
double AverageCpuCores(const std::vector<ResourceSample>& samples);

// Fills rss_max_bytes, cpu_avg_cores, mem_growth_mb_per_min, growth_from_s, growth_samples and
// retention from res->samples.
void SummarizeResources(ServiceResources* res);

class ResourceSampler {
 public:
  struct Options {
    double interval_s = 1.0;        // between scrape rounds
    double timeout_s = 0.5;         // connect + read timeout per scrape
    size_t max_samples = 4 * 3600;  // per service (bounded memory); older samples are kept
  };

  // targets: service name -> admin base URL ("http://127.0.0.1:9101", "http://[::1]:9101";
  // /metrics is appended). Scrapes run one target after another in each round.
  explicit ResourceSampler(std::map<std::string, std::string> targets);
  ResourceSampler(std::map<std::string, std::string> targets, Options options);
  ~ResourceSampler();  // stops the thread if still running
  ResourceSampler(const ResourceSampler&) = delete;
  ResourceSampler& operator=(const ResourceSampler&) = delete;

  // Validates every URL (http://host:port, no path) and starts the sampling thread; the first
  // scrape round happens immediately. INVALID_ARGUMENT naming the service for a bad URL;
  // FAILED_PRECONDITION if already started. An unreachable service is not an error: its failures
  // are counted and reported in ServiceResources::error.
  absl::Status Start();

  // Stops the thread (waits for an in-flight scrape, bounded by the timeout), then returns
  // every service's samples with max RSS, average CPU and memory growth filled in. Calling it
  // again returns the same data.
  std::map<std::string, ServiceResources> Finish();

  // One scrape round of every target, synchronously (used by the thread; exposed for tests).
  void ScrapeOnce();

 private:
  struct Target {
    std::string host;
    int port = 0;
  };
  void Loop();

  const std::map<std::string, std::string> urls_;
  const Options options_;
  std::map<std::string, Target> targets_;  // set by Start
  int64_t started_ns_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, ServiceResources> data_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> failures_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> last_failure_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
  bool started_ = false;
  bool finished_ = false;
};

}  // namespace tickmesh::loadtest
