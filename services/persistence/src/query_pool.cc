#include "query_pool.h"

#include <memory>

#include "metrics.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"

namespace tickmesh::persistence {

QueryPool::QueryPool(StoreFactory factory, int threads, size_t max_queue,
                     absl::Duration slow_threshold)
    : factory_(std::move(factory)),
      threads_(threads),
      max_queue_(max_queue),
      slow_threshold_(slow_threshold) {}

QueryPool::~QueryPool() { Stop(); }

void QueryPool::Start() {
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { Work(); });
}

bool QueryPool::Submit(std::string name, std::function<void(Store&)> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || workers_.empty()) {
      QueriesRejected("stopped").Increment();
      return false;
    }
    if (queue_.size() >= max_queue_) {
      QueriesRejected("queue_full").Increment();
      return false;
    }
    queue_.push_back(Task{std::move(name), std::move(fn)});
  }
  cv_.notify_one();
  return true;
}

void QueryPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void QueryPool::Work() {
  std::unique_ptr<Store> store = factory_();
  const double slow_s = absl::ToDoubleSeconds(slow_threshold_);
  while (true) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    const int64_t t0 = runtime::MonotonicNs();
    task.fn(*store);
    const double seconds = static_cast<double>(runtime::MonotonicNs() - t0) / 1e9;
    QueryLatency(task.name).Observe(seconds);
    if (seconds > slow_s) {
      SlowQueries(task.name).Increment();
      runtime::LogWarn("slow query", {{"query", task.name}, {"ms", seconds * 1e3}});
    }
  }
}

}  // namespace tickmesh::persistence
