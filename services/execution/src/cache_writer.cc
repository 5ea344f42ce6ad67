#include "cache_writer.h"

#include <algorithm>
#include <atomic>

#include "grpcpp/grpcpp.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"
#include "tickmesh/v1/cache.grpc.pb.h"

namespace tickmesh::execution {

bool ConflatingBuffer::Put(std::string key, std::string value) {
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_.find(key);
    if (it != pending_.end()) {
      it->second = std::move(value);
    } else {
      if (pending_.size() >= max_keys_) return false;
      was_empty = pending_.empty();
      pending_.emplace(std::move(key), std::move(value));
    }
  }
  // WaitNonEmpty only waits while nothing is pending: later Puts need not wake anyone.
  if (was_empty) cv_.notify_one();
  return true;
}

std::vector<std::pair<std::string, std::string>> ConflatingBuffer::Take(size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  while (!pending_.empty() && out.size() < max) {
    auto node = pending_.extract(pending_.begin());
    out.emplace_back(std::move(node.key()), std::move(node.mapped()));
  }
  return out;
}

void ConflatingBuffer::Restore(std::vector<std::pair<std::string, std::string>> entries) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [k, v] : entries) {
    if (pending_.size() >= max_keys_ && pending_.count(k) == 0) continue;
    pending_.try_emplace(std::move(k), std::move(v));  // a newer value wins
  }
}

size_t ConflatingBuffer::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

bool ConflatingBuffer::WaitNonEmpty(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] { return !pending_.empty(); });
}

void ConflatingBuffer::Wake() { cv_.notify_all(); }

// ---------------------------------------------------------------------------------------------

class CacheWriter::Impl {
 public:
  Impl(ConflatingBuffer* buffer, const std::string& address, std::function<void(bool)> on_state,
       absl::Duration flush_interval)
      : buffer_(buffer),
        on_state_(std::move(on_state)),
        flush_interval_(std::max(flush_interval, absl::ZeroDuration())),
        stub_(tickmesh::v1::CacheService::NewStub(tickmesh::runtime::MakeChannel(address))),
        writes_(tickmesh::runtime::CounterFamily(
                    tickmesh::runtime::MetricPrefix("execution") + "cache_writes_total",
                    "Balance/position entries written to the cache")
                    .Add({})),
        errors_(tickmesh::runtime::CounterFamily(
                    tickmesh::runtime::MetricPrefix("execution") + "cache_write_errors_total",
                    "Failed cache MSet calls")
                    .Add({})),
        dropped_(tickmesh::runtime::CounterFamily(
                     tickmesh::runtime::MetricPrefix("execution") + "cache_dropped_total",
                     "Cache writes dropped because max pending keys was reached")
                     .Add({})),
        backoff_(absl::Milliseconds(100), absl::Seconds(5)) {}

  void Start() {
    thread_ = std::thread([this] { Loop(); });
  }

  void Stop(absl::Duration flush_timeout) {
    if (!thread_.joinable()) return;
    flush_deadline_ = absl::Now() + flush_timeout;
    {
      std::lock_guard<std::mutex> lock(stop_mu_);
      stop_.store(true);
    }
    stop_cv_.notify_all();
    buffer_->Wake();
    thread_.join();
  }

  void Dropped() { dropped_.Increment(); }
  uint64_t errors() const { return error_count_.load(); }

 private:
  static constexpr size_t kMaxBatch = 1000;  // entries per MSet

  // One MSet of up to kMaxBatch entries; returns false on error (entries restored).
  bool WriteOnce(absl::Duration timeout) {
    auto entries = buffer_->Take(kMaxBatch);
    if (entries.empty()) return true;
    tickmesh::v1::MSetRequest req;
    for (const auto& [k, v] : entries) {
      auto* e = req.add_entries();
      e->set_key(k);
      e->set_value(v);
      e->set_ttl_ms(0);
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(timeout));
    tickmesh::v1::MSetResponse resp;
    grpc::Status s = stub_->MSet(&ctx, req, &resp);
    if (s.ok()) {
      writes_.Increment(static_cast<double>(entries.size()));
      tickmesh::runtime::ResetWarnOnce("execution-cache-write");
      SetUp(true);
      return true;
    }
    errors_.Increment();
    error_count_.fetch_add(1);
    tickmesh::runtime::WarnOnce(
        "execution-cache-write", "cache MSet failed; balances/positions kept for retry",
        {{"code", static_cast<int>(s.error_code())}, {"error", s.error_message()}});
    if (s.error_code() != grpc::StatusCode::INVALID_ARGUMENT) buffer_->Restore(std::move(entries));
    SetUp(false);
    return false;
  }

  void SetUp(bool up) {
    if (on_state_ && (!state_known_ || up != up_)) on_state_(up);
    state_known_ = true;
    up_ = up;
  }

  // Sleeps `d` unless Stop() comes first; returns false when stopping. Puts do not wake it.
  bool SleepUnlessStopped(absl::Duration d) {
    std::unique_lock<std::mutex> lock(stop_mu_);
    return !stop_cv_.wait_for(lock, absl::ToChronoNanoseconds(d), [&] { return stop_.load(); });
  }

  void Loop() {
    while (!stop_.load()) {
      if (!buffer_->WaitNonEmpty(absl::Milliseconds(200))) continue;
      // Linger: let more (conflated) updates join this MSet (not when a full one is pending
      // already). Stop() cuts it short.
      if (flush_interval_ > absl::ZeroDuration() && buffer_->size() < kMaxBatch &&
          !SleepUnlessStopped(flush_interval_)) {
        break;
      }
      if (WriteOnce(absl::Seconds(1))) {
        backoff_.Reset();
        continue;
      }
      // Pause before retrying, waking early only for Stop().
      (void)SleepUnlessStopped(backoff_.Next());
    }
    // Last flush, bounded.
    while (buffer_->size() > 0 && absl::Now() < flush_deadline_) {
      if (!WriteOnce(std::max(flush_deadline_ - absl::Now(), absl::Milliseconds(1)))) break;
    }
  }

  ConflatingBuffer* buffer_;
  std::function<void(bool)> on_state_;
  const absl::Duration flush_interval_;
  bool state_known_ = false;  // writer thread only
  bool up_ = false;           // writer thread only
  std::unique_ptr<tickmesh::v1::CacheService::Stub> stub_;
  prometheus::Counter& writes_;
  prometheus::Counter& errors_;
  prometheus::Counter& dropped_;
  tickmesh::runtime::Backoff backoff_;
  std::atomic<bool> stop_{false};  // set under stop_mu_ (for stop_cv_ waits)
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::atomic<uint64_t> error_count_{0};
  absl::Time flush_deadline_ = absl::InfinitePast();
  std::thread thread_;
};

CacheWriter::CacheWriter(const std::string& cache_address, std::function<void(bool)> on_state,
                         size_t max_keys, absl::Duration flush_interval)
    : buffer_(max_keys),
      impl_(std::make_unique<Impl>(&buffer_, cache_address, std::move(on_state), flush_interval)) {}

CacheWriter::~CacheWriter() { Stop(absl::ZeroDuration()); }

void CacheWriter::Put(std::string key, std::string value) {
  if (!buffer_.Put(std::move(key), std::move(value))) impl_->Dropped();
}

void CacheWriter::Start() { impl_->Start(); }

void CacheWriter::Stop(absl::Duration flush_timeout) { impl_->Stop(flush_timeout); }

uint64_t CacheWriter::errors() const { return impl_->errors(); }

}  // namespace tickmesh::execution
