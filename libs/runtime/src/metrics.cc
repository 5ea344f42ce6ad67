#include "tickmesh/runtime/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "prometheus/text_serializer.h"
#include "tickmesh/runtime/clock.h"

namespace tickmesh::runtime {
namespace {

std::atomic<bool> g_process_metrics{false};
const int64_t g_process_start_ns = NowUnixNs();

prometheus::MetricFamily Single(const std::string& name, const std::string& help,
                                prometheus::MetricType type, double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(metric);
  return family;
}

// Reads /proc/self at scrape time; a file that cannot be read simply omits its metric.
void AppendProcessMetrics(std::vector<prometheus::MetricFamily>& out) {
  const long page = sysconf(_SC_PAGESIZE);
  const long ticks = sysconf(_SC_CLK_TCK);
  std::ifstream statm("/proc/self/statm");
  long vm_pages = 0, rss_pages = 0;
  if (statm >> vm_pages >> rss_pages) {
    out.push_back(Single("process_resident_memory_bytes", "Resident memory size in bytes.",
                         prometheus::MetricType::Gauge, double(rss_pages) * page));
    out.push_back(Single("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                         prometheus::MetricType::Gauge, double(vm_pages) * page));
  }
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (std::getline(stat, line)) {
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15, threads 20.
    size_t close = line.rfind(')');
    if (close != std::string::npos) {
      std::istringstream rest(line.substr(close + 2));
      std::vector<std::string> f;
      std::string tok;
      while (rest >> tok) f.push_back(tok);
      if (f.size() > 17) {
        double cpu = (std::stod(f[11]) + std::stod(f[12])) / double(ticks);
        out.push_back(Single("process_cpu_seconds_total",
                             "Total user and system CPU time spent in seconds.",
                             prometheus::MetricType::Counter, cpu));
        out.push_back(Single("process_threads", "Number of OS threads in the process.",
                             prometheus::MetricType::Gauge, std::stod(f[17])));
      }
    }
  }
  if (DIR* dir = opendir("/proc/self/fd")) {
    int fds = 0;
    while (readdir(dir) != nullptr) ++fds;
    closedir(dir);
    out.push_back(Single("process_open_fds", "Number of open file descriptors.",
                         prometheus::MetricType::Gauge, double(fds - 3)));  // ., .., dirfd
  }
  out.push_back(Single("process_start_time_seconds",
                       "Start time of the process since unix epoch in seconds.",
                       prometheus::MetricType::Gauge, double(g_process_start_ns) / 1e9));
}

}  // namespace

std::shared_ptr<prometheus::Registry> MetricsRegistryPtr() {
  static auto registry = std::make_shared<prometheus::Registry>();
  return registry;
}

prometheus::Registry& MetricsRegistry() { return *MetricsRegistryPtr(); }

std::string MetricPrefix(std::string_view service) {
  return absl::StrCat("tickmesh_", absl::StrReplaceAll(std::string(service), {{"-", "_"}}), "_");
}

prometheus::Family<prometheus::Counter>& CounterFamily(const std::string& name,
                                                       const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(MetricsRegistry());
}

prometheus::Family<prometheus::Gauge>& GaugeFamily(const std::string& name,
                                                   const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(MetricsRegistry());
}

prometheus::Family<prometheus::Histogram>& HistogramFamily(const std::string& name,
                                                           const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(MetricsRegistry());
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> buckets = {
      25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3,
      25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1.0,  2.5,    5.0,  10.0};
  return buckets;
}

const std::vector<double>& SizeBuckets() {
  static const std::vector<double> buckets = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536};
  return buckets;
}

void RegisterProcessMetrics() { g_process_metrics.store(true); }

std::string SerializeMetrics() {
  std::vector<prometheus::MetricFamily> families = MetricsRegistry().Collect();
  if (g_process_metrics.load()) AppendProcessMetrics(families);
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace tickmesh::runtime
