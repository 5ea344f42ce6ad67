// Prometheus metrics for the whole process: one registry, helpers that follow the naming rule
// tickmesh_<service>_<what>_<unit>, SLO-aligned latency buckets, and process metrics.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace tickmesh::runtime {

// The process-wide registry served on /metrics.
prometheus::Registry& MetricsRegistry();
std::shared_ptr<prometheus::Registry> MetricsRegistryPtr();

// "market-data" -> "tickmesh_market_data_"; the prefix every metric of that service uses.
std::string MetricPrefix(std::string_view service);

// Register-or-get a family. `name` is the full metric name. Safe to call repeatedly with the same
// name and help (returns the same family).
prometheus::Family<prometheus::Counter>& CounterFamily(const std::string& name,
                                                       const std::string& help);
prometheus::Family<prometheus::Gauge>& GaugeFamily(const std::string& name,
                                                   const std::string& help);
prometheus::Family<prometheus::Histogram>& HistogramFamily(const std::string& name,
                                                           const std::string& help);

// Latency bucket edges in seconds, 25 µs .. 10 s, with an edge at every SLO threshold the project
// uses (100 µs, 250 µs, 500 µs, 1 ms, 5 ms, 10 ms, 50 ms, 100 ms, 1 s).
const std::vector<double>& LatencyBuckets();
// Size buckets (1 .. 65536, powers of 4) for batch sizes.
const std::vector<double>& SizeBuckets();

// Adds process_resident_memory_bytes, process_virtual_memory_bytes, process_cpu_seconds_total,
// process_open_fds, process_threads and process_start_time_seconds, read from /proc at scrape
// time. Idempotent.
void RegisterProcessMetrics();

// Prometheus text exposition (version 0.0.4) of the registry.
std::string SerializeMetrics();

}  // namespace tickmesh::runtime
