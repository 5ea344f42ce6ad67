// TickLoad: the skeleton load scenario. Injects trades (plus book snapshots so the paper venue has
// liquidity) into market-data over Publish at a constant open-loop rate, follows execution's order
// events, and measures tick -> order (first order event caused by a tick) and tick -> fill from the
// trace stamps, from the tick's *intended* send time so a stalled mesh cannot hide its stall
// (coordinated omission).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "histogram.h"

namespace tickmesh::loadtest {

struct TickLoadConfig {
  std::string market_data_address = "127.0.0.1:50051";
  std::string execution_address = "127.0.0.1:50053";
  // Trades per second across all symbols (book snapshots are extra: one per `book_every` trades).
  double rate_per_s = 5000;
  double duration_s = 10;
  std::vector<std::string> symbols = {"LT-USD"};
  std::string venue = "loadtest";
  int book_every = 20;
  // After sending stops, how long to wait for the last order events.
  double drain_s = 2;
  // Largest number of events per Publish batch.
  int max_batch = 256;
  uint64_t seed = 42;
};

// One named latency series with its count, errors and rate.
struct OperationResult {
  LatencyHistogram latency_ns;
  uint64_t errors = 0;
  double duration_s = 0;
};

struct TickLoadResult {
  std::map<std::string, OperationResult> operations;  // publish, tick_to_order, tick_to_fill
  std::map<std::string, LatencyHistogram> hops;       // "market-data.recv->market-data.emit"
  std::vector<std::string> hop_order;                 // hops in path order
  int64_t started_unix_ns = 0;
  int64_t finished_unix_ns = 0;
  uint64_t ticks_sent = 0;
  uint64_t order_events = 0;
  uint64_t fills = 0;
  uint64_t rejects = 0;
  std::string error;  // set if the run could not start (e.g. market-data unreachable)
};

struct TickLoadProgress {
  double elapsed_s = 0;
  double total_s = 0;
  uint64_t sent = 0;
  uint64_t errors = 0;
  uint64_t fills = 0;
  double current_rate_per_s = 0;
  int64_t tick_to_order_p99_ns = 0;
};

// Runs the scenario once (blocking, on its own threads). `progress` is called about once a second.
// `stop` may be set from another thread to end the run early.
TickLoadResult RunTickLoad(const TickLoadConfig& config,
                           const std::function<void(const TickLoadProgress&)>& progress,
                           const std::atomic<bool>* stop = nullptr);

}  // namespace tickmesh::loadtest
