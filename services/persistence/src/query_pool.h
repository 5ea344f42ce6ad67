// QueryPool: a fixed set of worker threads, each owning its own Store (connection), that run
// read queries off the gRPC callback threads. The queue is bounded: Submit past max_queue
// returns false and the caller answers RESOURCE_EXHAUSTED (reject policy; a read is cheap to
// retry). Every query is timed per name; one slower than slow_threshold is logged with its name
// and duration and counted (tickmesh_persistence_slow_queries_total).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "store.h"

namespace tickmesh::persistence {

class QueryPool {
 public:
  QueryPool(StoreFactory factory, int threads, size_t max_queue, absl::Duration slow_threshold);
  ~QueryPool();  // Stop()

  void Start();
  // Runs `fn` with a worker's Store; `name` labels the latency metric and slow-query log.
  // False (fn not run) when the queue is full or the pool is stopped. Never blocks.
  bool Submit(std::string name, std::function<void(Store&)> fn);
  // Runs what is queued, then joins the workers. Idempotent.
  void Stop();

 private:
  struct Task {
    std::string name;
    std::function<void(Store&)> fn;
  };
  void Work();

  StoreFactory factory_;
  int threads_;
  size_t max_queue_;
  absl::Duration slow_threshold_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace tickmesh::persistence
