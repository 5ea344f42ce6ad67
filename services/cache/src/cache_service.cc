#include "cache_service.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"
#include "validation.h"

namespace tickmesh::cache {
namespace {

namespace rt = ::tickmesh::runtime;

constexpr char kOverflowWarnKey[] = "cache-replay-overflow";
constexpr char kRedisErrorWarnKey[] = "cache-redis-error";
// A replay pipeline carries at most this many writes / value bytes.
constexpr size_t kReplayBatchItems = 256;
constexpr size_t kReplayBatchBytes = size_t{4} << 20;

v1::BreakerState ToProto(BreakerStateKind s) {
  switch (s) {
    case BreakerStateKind::kClosed:
      return v1::BREAKER_STATE_CLOSED;
    case BreakerStateKind::kOpen:
      return v1::BREAKER_STATE_OPEN;
    case BreakerStateKind::kHalfOpen:
      return v1::BREAKER_STATE_HALF_OPEN;
  }
  return v1::BREAKER_STATE_UNSPECIFIED;
}

double HitRate(uint64_t hits, uint64_t misses) {
  const uint64_t total = hits + misses;
  return total == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(total);
}

// hiredis writes with write(2): a peer that closed the socket raises SIGPIPE, which would kill a
// process that has not ignored it (services block it in InitProcess; tests and embedders may
// not). Blocks SIGPIPE on the current thread for the guard's lifetime and discards one raised in
// the meantime, so the failed write just returns EPIPE.
class ScopedBlockSigpipe {
 public:
  ScopedBlockSigpipe() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~ScopedBlockSigpipe() {
    if (!sigismember(&old_, SIGPIPE)) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE)) {
        const timespec zero{0, 0};
        sigtimedwait(&pipe_, nullptr, &zero);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_, old_;
};

// Workers exist from Start() on; a request before that cannot reach Redis.
absl::Status NotStarted() { return absl::UnavailableError("cache not started"); }

void MarkNotFound(v1::GetResponse* entry) {
  entry->set_found(false);
  entry->clear_value();
  entry->set_ttl_ms(0);
  entry->set_tier(v1::CACHE_TIER_UNSPECIFIED);
}

}  // namespace

// Prometheus children, bound once (the families are process-wide; several Cache instances in one
// process, as in tests, share them).
struct Cache::Metrics {
  Metrics() {
    const std::string p = rt::MetricPrefix("cache");
    auto& hits = rt::CounterFamily(p + "hits_total", "Reads answered, by tier.");
    auto& misses = rt::CounterFamily(p + "misses_total", "Reads not answered by a tier.");
    l1_hits = &hits.Add({{"tier", "l1"}});
    redis_hits = &hits.Add({{"tier", "redis"}});
    l1_misses = &misses.Add({{"tier", "l1"}});
    redis_misses = &misses.Add({{"tier", "redis"}});
    auto& lat = rt::HistogramFamily(p + "op_duration_seconds",
                                    "Cache operation latency, admission to answer, by op.");
    const char* ops[] = {"get", "set", "delete", "mget", "mset"};
    for (int i = 0; i < 5; ++i) op_latency[i] = &lat.Add({{"op", ops[i]}}, rt::LatencyBuckets());
    auto& state = rt::GaugeFamily(p + "breaker_state",
                                  "1 for the Redis circuit breaker's current state, else 0.");
    const char* states[] = {"closed", "open", "half_open", "disabled"};
    for (int i = 0; i < 4; ++i) breaker_state[i] = &state.Add({{"state", states[i]}});
    auto& transitions = rt::CounterFamily(p + "breaker_transitions_total",
                                          "Redis circuit breaker transitions, by new state.");
    for (int i = 0; i < 3; ++i) breaker_transitions[i] = &transitions.Add({{"to", states[i]}});
    replay_depth = &rt::GaugeFamily(p + "replay_queue_depth",
                                    "Writes waiting to be replayed to Redis (distinct keys).")
                        .Add({});
    replay_overflow = &rt::CounterFamily(p + "replay_overflow_total",
                                         "Writes not queued for replay because the queue was full.")
                           .Add({});
    replayed = &rt::CounterFamily(p + "replayed_total", "Queued writes replayed to Redis.").Add({});
    l1_evictions =
        &rt::CounterFamily(p + "l1_evictions_total", "L1 entries evicted to respect its bounds.")
             .Add({});
    l1_expirations =
        &rt::CounterFamily(p + "l1_expirations_total", "L1 entries removed after their TTL.")
             .Add({});
    l1_bytes = &rt::GaugeFamily(p + "l1_memory_bytes",
                                "Bytes accounted to L1 entries (key + value + overhead).")
                    .Add({});
    l1_entries = &rt::GaugeFamily(p + "l1_entries", "Live L1 entries.").Add({});
    redis_errors =
        &rt::CounterFamily(p + "redis_errors_total", "Redis commands that failed or timed out.")
             .Add({});
    redis_pipelines = &rt::CounterFamily(p + "redis_pipelines_total",
                                         "Redis round trips (pipelines) for request traffic.")
                           .Add({});
    redis_pipeline_keys =
        &rt::HistogramFamily(p + "redis_pipeline_keys",
                             "Keys per Redis pipeline for request traffic (requests merged "
                             "per worker).")
             .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256, 512,
                                                              1000});
    auto& rejected = rt::CounterFamily(p + "requests_rejected_total",
                                       "Requests rejected before any work, by reason.");
    rejected_invalid = &rejected.Add({{"reason", "invalid_argument"}});
    rejected_overloaded = &rejected.Add({{"reason", "overloaded"}});
  }

  prometheus::Counter* l1_hits;
  prometheus::Counter* l1_misses;
  prometheus::Counter* redis_hits;
  prometheus::Counter* redis_misses;
  prometheus::Histogram* op_latency[5];
  prometheus::Gauge* breaker_state[4];
  prometheus::Counter* breaker_transitions[3];
  prometheus::Gauge* replay_depth;
  prometheus::Counter* replay_overflow;
  prometheus::Counter* replayed;
  prometheus::Counter* l1_evictions;
  prometheus::Counter* l1_expirations;
  prometheus::Gauge* l1_bytes;
  prometheus::Gauge* l1_entries;
  prometheus::Counter* redis_errors;
  prometheus::Counter* redis_pipelines;
  prometheus::Histogram* redis_pipeline_keys;
  prometheus::Counter* rejected_invalid;
  prometheus::Counter* rejected_overloaded;
};

Cache::Cache(CacheOptions options)
    : options_([&] {
        CacheOptions o = std::move(options);
        // An injected clock (tests) drives every tier; by default L1 keeps its coarse clock
        // (a few ns per read, up to one kernel tick behind) and the rest uses SteadyClock.
        if (o.clock == nullptr) {
          o.clock = SteadyClock::Get();
        } else {
          o.l1.clock = o.clock;
        }
        o.breaker.clock = o.clock;
        o.redis_pool_size = std::max(1, o.redis_pool_size);
        return o;
      }()),
      clock_(options_.clock),
      l1_(options_.l1),
      replay_(options_.replay_queue_max, options_.replay_queue_max_bytes),
      breaker_(options_.breaker, [this](BreakerStateKind from,
                                        BreakerStateKind to) { OnBreakerTransition(from, to); }),
      metrics_(std::make_unique<Metrics>()) {
  worker_capacity_ = std::max<size_t>(
      1, options_.worker_queue_max / static_cast<size_t>(options_.redis_pool_size));
}

Cache::~Cache() { Stop(); }

void Cache::SetBreakerListener(BreakerListener listener) { listener_ = std::move(listener); }

v1::BreakerState Cache::breaker_state() const {
  return redis_enabled() ? ToProto(breaker_.state()) : v1::BREAKER_STATE_DISABLED;
}

uint64_t Cache::breaker_opened_total() const { return breaker_.opened_total(); }

void Cache::NotifyListener() {
  if (listener_) listener_(breaker_state());
}

void Cache::Start() {
  if (started_.exchange(true)) return;
  ScopedBlockSigpipe no_sigpipe;
  if (redis_enabled()) {
    recovery_conn_ = std::make_unique<RedisConnection>(*options_.redis, options_.redis_timeout_ms);
    if (absl::Status s = recovery_conn_->Ping(); !s.ok()) {
      rt::LogWarn("redis unavailable at start; serving from L1 and queueing writes",
                  {{"redis", options_.redis->Redacted()}, {"error", std::string(s.message())}});
      breaker_.ForceOpen();
      if (!options_.warm_keys.empty() || !options_.warm_prefix.empty()) {
        rt::LogWarn("warming skipped: redis unavailable");
      }
    } else {
      Warm(*recovery_conn_);
    }
    for (int i = 0; i < options_.redis_pool_size; ++i) {
      auto w = std::make_unique<Worker>();
      w->conn = std::make_unique<RedisConnection>(*options_.redis, options_.redis_timeout_ms);
      workers_.push_back(std::move(w));
    }
    for (auto& w : workers_) w->thread = std::thread([this, p = w.get()] { WorkerLoop(p); });
  }
  PublishGauges();
  recovery_thread_ = std::thread([this] { RecoveryLoop(); });
  NotifyListener();
}

void Cache::Stop() {
  if (stopped_.exchange(true)) return;
  // Workers finish everything already queued (so every admitted request gets its answer).
  for (auto& w : workers_) {
    {
      std::lock_guard<std::mutex> lock(w->mu);
      w->stopping = true;
    }
    w->cv.notify_all();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  {
    std::lock_guard<std::mutex> lock(recovery_mu_);
    recovery_stopping_ = true;
  }
  recovery_cv_.notify_all();
  if (recovery_thread_.joinable()) recovery_thread_.join();
}

void Cache::FinalReplay() {
  if (!redis_enabled() || recovery_conn_ == nullptr || replay_.empty()) return;
  // Last chance for writes made during an outage: one probe and one full replay pass.
  absl::Status s = recovery_conn_->Ping();
  if (s.ok()) s = DrainReplay(*recovery_conn_, replay_.depth());
  if (!replay_.empty()) {
    rt::LogError("writes not replayed to redis at shutdown are lost",
                 {{"pending", static_cast<uint64_t>(replay_.depth())},
                  {"error", s.ok() ? std::string("none") : std::string(s.message())}});
  } else {
    rt::LogInfo("replayed pending writes at shutdown");
  }
}

uint64_t Cache::writes_in_flight() const {
  int64_t n = 0;
  for (const auto& w : workers_) n += w->queued_writes.load(std::memory_order_acquire);
  return static_cast<uint64_t>(std::max<int64_t>(n, 0));
}

size_t Cache::WorkerIndex(std::string_view key) const {
  return absl::HashOf(key) % workers_.size();
}

Cache::Job Cache::TaskJob(Task task) {
  Job job;
  job.kind = Job::Kind::kTask;
  job.task = std::move(task);
  return job;
}

Cache::Job Cache::ReadJob(absl::AnyInvocable<void(absl::Status) &&> done) {
  Job job;
  job.kind = Job::Kind::kRead;
  job.done = std::move(done);
  return job;
}

Cache::Job Cache::WriteJob(absl::AnyInvocable<void(absl::Status) &&> done) {
  Job job;
  job.kind = Job::Kind::kWrite;
  job.done = std::move(done);
  return job;
}

bool Cache::Dispatch(size_t index, Job job, bool force) {
  Worker& w = *workers_[index];
  absl::Status rejected;
  {
    std::lock_guard<std::mutex> lock(w.mu);
    if (w.stopping) {
      rejected = absl::UnavailableError("cache is shutting down");
    } else if (!force && w.queue.size() >= worker_capacity_) {
      rejected = absl::ResourceExhaustedError(
          absl::StrCat("cache worker queue full (", worker_capacity_, " requests); retry later"));
    } else {
      if (job.kind == Job::Kind::kWrite) {
        // L1 first, in admission order for the key (every write of a key is admitted under this
        // lock): a read that follows sees the write, and no later step writes an older value.
        for (const v1::SetRequest* e : job.writes) l1_.Set(e->key(), e->value(), e->ttl_ms());
        ++w.write_epoch;
        w.queued_writes.fetch_add(1, std::memory_order_release);
      } else if (job.kind == Job::Kind::kRead) {
        job.admit_epoch = w.write_epoch;
      }
      w.queue.push_back(std::move(job));
    }
  }
  if (!rejected.ok()) {
    if (absl::IsResourceExhausted(rejected)) {
      rejected_overload_.fetch_add(1, std::memory_order_relaxed);
      metrics_->rejected_overloaded->Increment();
    }
    if (job.kind == Job::Kind::kTask) {
      std::move(job.task)(nullptr, std::move(rejected));
    } else {
      std::move(job.done)(std::move(rejected));
    }
    return false;
  }
  w.cv.notify_one();
  return true;
}

void Cache::WorkerLoop(Worker* worker) {
  ScopedBlockSigpipe no_sigpipe;
  // Jobs taken per round, and keys per merged pipeline (Redis's own batch limit).
  constexpr size_t kMaxJobsPerRound = 256;
  std::vector<Job> round;
  std::vector<std::string_view> keys;
  std::vector<v1::GetResponse*> entries;
  std::vector<uint64_t> epochs;
  std::vector<const v1::SetRequest*> writes;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(worker->mu);
      worker->cv.wait(lock, [&] { return worker->stopping || !worker->queue.empty(); });
      if (worker->queue.empty()) return;  // stopping and drained
      while (!worker->queue.empty() && round.size() < kMaxJobsPerRound) {
        round.push_back(std::move(worker->queue.front()));
        worker->queue.pop_front();
      }
    }
    // In queue order; each run of consecutive reads (writes) becomes one pipeline, so a key's
    // reads and writes keep their order.
    size_t i = 0;
    while (i < round.size()) {
      const Job::Kind kind = round[i].kind;
      if (kind == Job::Kind::kTask) {
        std::move(round[i].task)(worker->conn.get(), absl::OkStatus());
        ++i;
        continue;
      }
      size_t end = i, n = 0;
      while (end < round.size() && round[end].kind == kind &&
             (end == i || n + round[end].size() <= kMaxBatchEntries)) {
        n += round[end].size();
        ++end;
      }
      if (kind == Job::Kind::kRead) {
        keys.clear();
        entries.clear();
        epochs.clear();
        for (size_t k = i; k < end; ++k) {
          keys.insert(keys.end(), round[k].read_keys.begin(), round[k].read_keys.end());
          entries.insert(entries.end(), round[k].read_entries.begin(), round[k].read_entries.end());
          epochs.insert(epochs.end(), round[k].read_keys.size(), round[k].admit_epoch);
        }
        ReadThrough(*worker, keys, entries, epochs);
      } else {
        writes.clear();
        for (size_t k = i; k < end; ++k) {
          writes.insert(writes.end(), round[k].writes.begin(), round[k].writes.end());
        }
        WriteThrough(*worker->conn, writes);
        worker->queued_writes.fetch_sub(static_cast<int64_t>(end - i), std::memory_order_release);
      }
      for (size_t k = i; k < end; ++k) std::move(round[k].done)(absl::OkStatus());
      i = end;
    }
    round.clear();
  }
}

void Cache::CountPipeline(size_t keys) {
  redis_pipelines_.fetch_add(1, std::memory_order_relaxed);
  metrics_->redis_pipelines->Increment();
  metrics_->redis_pipeline_keys->Observe(static_cast<double>(keys));
}

void Cache::Finish(Op op, int64_t start_ns, Done& done, absl::Status status) {
  metrics_->op_latency[static_cast<int>(op)]->Observe(
      static_cast<double>(rt::MonotonicNs() - start_ns) * 1e-9);
  if (absl::IsInvalidArgument(status)) metrics_->rejected_invalid->Increment();
  std::move(done)(std::move(status));
}

bool Cache::AnswerFromReplay(std::string_view key, v1::GetResponse* entry) const {
  std::optional<PendingWrite> pending = replay_.Lookup(key);
  if (!pending.has_value()) return false;
  const int64_t now = clock_->NowMs();
  if (pending->value == nullptr || (pending->expire_at_ms != 0 && pending->expire_at_ms <= now)) {
    MarkNotFound(entry);
    return true;
  }
  entry->set_found(true);
  entry->set_value(*pending->value);
  entry->set_ttl_ms(pending->expire_at_ms == 0 ? -1 : pending->expire_at_ms - now);
  entry->set_tier(v1::CACHE_TIER_L1);
  return true;
}

void Cache::ReadThrough(Worker& worker, const std::vector<std::string_view>& keys,
                        const std::vector<v1::GetResponse*>& entries,
                        const std::vector<uint64_t>& epochs) {
  RedisConnection& conn = *worker.conn;
  std::vector<std::string_view> ask;
  std::vector<v1::GetResponse*> targets;
  std::vector<uint64_t> ask_epochs;
  ask.reserve(keys.size());
  targets.reserve(keys.size());
  ask_epochs.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    v1::GetResponse* entry = entries[i];
    if (AnswerFromReplay(keys[i], entry)) continue;
    ask.push_back(keys[i]);
    targets.push_back(entry);
    ask_epochs.push_back(epochs[i]);
  }
  if (ask.empty()) return;
  if (!breaker_.AllowRequest()) {
    for (auto* t : targets) MarkNotFound(t);
    return;
  }
  std::vector<std::optional<RedisValue>> values;
  CountPipeline(ask.size());
  if (absl::Status s = conn.MGet(ask, &values); !s.ok()) {
    redis_errors_.fetch_add(1, std::memory_order_relaxed);
    metrics_->redis_errors->Increment();
    rt::WarnOnce(kRedisErrorWarnKey, "redis read failed; answering from L1",
                 {{"error", std::string(s.message())}});
    breaker_.RecordFailure();
    for (auto* t : targets) MarkNotFound(t);
    return;
  }
  breaker_.RecordSuccess();
  uint64_t hits = 0, misses = 0;
  // Fill L1 under the worker's lock, so no write is admitted (and put in L1) between the check
  // and the fill; a key whose read was admitted before a write of the worker may not be filled
  // (the Redis answer may predate the write, which L1 already holds).
  std::lock_guard<std::mutex> lock(worker.mu);
  for (size_t i = 0; i < ask.size(); ++i) {
    v1::GetResponse* t = targets[i];
    if (!values[i].has_value()) {
      MarkNotFound(t);
      ++misses;
      continue;
    }
    RedisValue& v = *values[i];
    if (ask_epochs[i] == worker.write_epoch) l1_.Set(ask[i], v.value, v.ttl_ms < 0 ? 0 : v.ttl_ms);
    t->set_found(true);
    t->set_ttl_ms(v.ttl_ms);
    t->set_tier(v1::CACHE_TIER_REDIS);
    *t->mutable_value() = std::move(v.value);
    ++hits;
  }
  redis_hits_.fetch_add(hits, std::memory_order_relaxed);
  redis_misses_.fetch_add(misses, std::memory_order_relaxed);
  if (hits) metrics_->redis_hits->Increment(static_cast<double>(hits));
  if (misses) metrics_->redis_misses->Increment(static_cast<double>(misses));
}

void Cache::QueueForReplay(std::string_view key, std::shared_ptr<const std::string> value,
                           int64_t ttl_ms) {
  PendingWrite w;
  w.value = std::move(value);
  w.expire_at_ms = ttl_ms > 0 ? clock_->NowMs() + ttl_ms : 0;
  if (replay_.Push(key, std::move(w)) == ReplayQueue::PushResult::kOverflow) {
    metrics_->replay_overflow->Increment();
    rt::WarnOnce(kOverflowWarnKey,
                 "replay queue full: writes that do not fit are kept in L1 only and will not "
                 "reach redis (see replay_overflow_total)",
                 {{"replay_queue_max", static_cast<uint64_t>(replay_.max_keys())},
                  {"replay_queue_max_bytes", static_cast<uint64_t>(replay_.max_bytes())}});
  }
}

void Cache::WriteThrough(RedisConnection& conn, const std::vector<const v1::SetRequest*>& entries) {
  std::vector<RedisWrite> direct;
  std::vector<const v1::SetRequest*> direct_entries;
  const bool allow = breaker_.AllowRequest();
  for (const v1::SetRequest* e : entries) {
    // A key with a pending write must go through the queue too, or the replay of the older
    // value could land after this one.
    if (allow && !replay_.Contains(e->key())) {
      direct.push_back(RedisWrite{e->key(), &e->value(), e->ttl_ms()});
      direct_entries.push_back(e);
    } else {
      QueueForReplay(e->key(), std::make_shared<const std::string>(e->value()), e->ttl_ms());
    }
  }
  if (!direct.empty()) {
    CountPipeline(direct.size());
    if (absl::Status s = conn.Write(direct); s.ok()) {
      breaker_.RecordSuccess();
    } else {
      redis_errors_.fetch_add(1, std::memory_order_relaxed);
      metrics_->redis_errors->Increment();
      rt::WarnOnce(kRedisErrorWarnKey, "redis write failed; queued for replay",
                   {{"error", std::string(s.message())}});
      breaker_.RecordFailure();
      for (const v1::SetRequest* e : direct_entries) {
        QueueForReplay(e->key(), std::make_shared<const std::string>(e->value()), e->ttl_ms());
      }
    }
  }
}

void Cache::Get(const v1::GetRequest& req, v1::GetResponse* resp, Done done) {
  const int64_t start = rt::MonotonicNs();
  if (absl::Status s = ValidateRequest(req); !s.ok()) {
    return Finish(Op::kGet, start, done, std::move(s));
  }
  resp->set_key(req.key());
  int64_t ttl = -1;
  if (l1_.Get(req.key(), resp->mutable_value(), &ttl)) {
    metrics_->l1_hits->Increment();
    resp->set_found(true);
    resp->set_ttl_ms(ttl);
    resp->set_tier(v1::CACHE_TIER_L1);
    return Finish(Op::kGet, start, done, absl::OkStatus());
  }
  metrics_->l1_misses->Increment();
  if (!redis_enabled()) {
    MarkNotFound(resp);
    return Finish(Op::kGet, start, done, absl::OkStatus());
  }
  if (workers_.empty()) return Finish(Op::kGet, start, done, NotStarted());
  const size_t worker = WorkerIndex(req.key());
  if (!breaker_.AllowRequest() && !WritesQueued(worker)) {
    // Redis is not being used and no admitted write of the key's worker is still on its way to
    // the replay queue: the answer needs no I/O.
    if (!AnswerFromReplay(req.key(), resp)) MarkNotFound(resp);
    return Finish(Op::kGet, start, done, absl::OkStatus());
  }
  Job job = ReadJob([this, start, done = std::move(done)](absl::Status status) mutable {
    Finish(Op::kGet, start, done, std::move(status));
  });
  job.read_keys.push_back(req.key());
  job.read_entries.push_back(resp);
  Dispatch(worker, std::move(job));
}

void Cache::Set(const v1::SetRequest& req, v1::SetResponse* resp, Done done) {
  const int64_t start = rt::MonotonicNs();
  if (absl::Status s = ValidateRequest(req); !s.ok()) {
    return Finish(Op::kSet, start, done, std::move(s));
  }
  if (!redis_enabled()) {
    l1_.Set(req.key(), req.value(), req.ttl_ms());
    return Finish(Op::kSet, start, done, absl::OkStatus());
  }
  if (workers_.empty()) return Finish(Op::kSet, start, done, NotStarted());
  Job job = WriteJob([this, start, done = std::move(done)](absl::Status status) mutable {
    Finish(Op::kSet, start, done, std::move(status));
  });
  job.writes.push_back(&req);
  Dispatch(WorkerIndex(req.key()), std::move(job));
}

void Cache::Delete(const v1::DeleteRequest& req, v1::DeleteResponse* resp, Done done) {
  const int64_t start = rt::MonotonicNs();
  if (absl::Status s = ValidateRequest(req); !s.ok()) {
    return Finish(Op::kDelete, start, done, std::move(s));
  }
  if (!redis_enabled()) {
    resp->set_deleted(l1_.Delete(req.key()));
    return Finish(Op::kDelete, start, done, absl::OkStatus());
  }
  if (workers_.empty()) return Finish(Op::kDelete, start, done, NotStarted());
  Dispatch(WorkerIndex(req.key()),
           TaskJob([this, &req, resp, start, done = std::move(done)](
                       RedisConnection* conn, absl::Status rejected) mutable {
             if (!rejected.ok()) return Finish(Op::kDelete, start, done, std::move(rejected));
             const std::string& key = req.key();
             bool deleted = l1_.Delete(key);
             std::optional<PendingWrite> pending = replay_.Lookup(key);
             bool queue = true;
             if (breaker_.AllowRequest() && !pending.has_value()) {
               std::vector<bool> removed;
               CountPipeline(1);
               if (absl::Status s = conn->Write({RedisWrite{key, nullptr, 0}}, &removed); s.ok()) {
                 breaker_.RecordSuccess();
                 deleted = deleted || removed[0];
                 queue = false;
               } else {
                 redis_errors_.fetch_add(1, std::memory_order_relaxed);
                 metrics_->redis_errors->Increment();
                 rt::WarnOnce(kRedisErrorWarnKey, "redis delete failed; queued for replay",
                              {{"error", std::string(s.message())}});
                 breaker_.RecordFailure();
               }
             } else if (pending.has_value() && pending->value != nullptr) {
               deleted = true;
             }
             if (queue) QueueForReplay(key, nullptr, 0);
             resp->set_deleted(deleted);
             Finish(Op::kDelete, start, done, absl::OkStatus());
           }));
}

void Cache::MGet(const v1::MGetRequest& req, v1::MGetResponse* resp, Done done) {
  const int64_t start = rt::MonotonicNs();
  if (absl::Status s = ValidateRequest(req); !s.ok()) {
    return Finish(Op::kMGet, start, done, std::move(s));
  }

  // Every entry exists before any worker touches the response (workers fill disjoint entries).
  std::vector<int> missing;
  for (int i = 0; i < req.keys_size(); ++i) {
    v1::GetResponse* entry = resp->add_entries();
    entry->set_key(req.keys(i));
    int64_t ttl = -1;
    if (l1_.Get(req.keys(i), entry->mutable_value(), &ttl)) {
      entry->set_found(true);
      entry->set_ttl_ms(ttl);
      entry->set_tier(v1::CACHE_TIER_L1);
    } else {
      missing.push_back(i);
    }
  }
  const int hits = req.keys_size() - static_cast<int>(missing.size());
  if (hits) metrics_->l1_hits->Increment(hits);
  if (!missing.empty()) metrics_->l1_misses->Increment(static_cast<double>(missing.size()));
  if (!missing.empty() && redis_enabled() && workers_.empty()) {
    return Finish(Op::kMGet, start, done, NotStarted());
  }
  const auto writes_queued_for_missing = [&] {
    for (int i : missing) {
      if (WritesQueued(WorkerIndex(req.keys(i)))) return true;
    }
    return false;
  };
  if (missing.empty() || !redis_enabled() ||
      (!breaker_.AllowRequest() && !writes_queued_for_missing())) {
    for (int i : missing) {
      v1::GetResponse* entry = resp->mutable_entries(i);
      if (!redis_enabled() || !AnswerFromReplay(req.keys(i), entry)) MarkNotFound(entry);
    }
    return Finish(Op::kMGet, start, done, absl::OkStatus());
  }

  // Split the misses by owning worker; one pipelined read per worker; the last to finish answers.
  std::vector<std::vector<int>> groups(workers_.size());
  for (int i : missing) groups[WorkerIndex(req.keys(i))].push_back(i);
  struct Fanout {
    std::atomic<int> remaining{0};
    std::mutex mu;
    absl::Status status;
    Done done;
  };
  auto fan = std::make_shared<Fanout>();
  fan->done = std::move(done);
  for (const auto& g : groups) fan->remaining += g.empty() ? 0 : 1;
  bool admitted = false, first = true;
  for (size_t w = 0; w < groups.size(); ++w) {
    if (groups[w].empty()) continue;
    Job job = ReadJob([this, start, fan](absl::Status status) mutable {
      if (!status.ok()) {
        std::lock_guard<std::mutex> lock(fan->mu);
        if (fan->status.ok()) fan->status = std::move(status);
      }
      if (fan->remaining.fetch_sub(1) == 1) {
        absl::Status final;
        {
          std::lock_guard<std::mutex> lock(fan->mu);
          final = fan->status;
        }
        Finish(Op::kMGet, start, fan->done, std::move(final));
      }
    });
    for (int i : groups[w]) {
      job.read_keys.push_back(req.keys(i));
      job.read_entries.push_back(resp->mutable_entries(i));
    }
    if (first) {
      admitted = Dispatch(w, std::move(job));
      first = false;
    } else if (admitted) {
      Dispatch(w, std::move(job), /*force=*/true);
    } else {
      std::move(job.done)(absl::ResourceExhaustedError("cache worker queue full"));
    }
  }
}

void Cache::MSet(const v1::MSetRequest& req, v1::MSetResponse* resp, Done done) {
  const int64_t start = rt::MonotonicNs();
  if (absl::Status s = ValidateRequest(req); !s.ok()) {
    return Finish(Op::kMSet, start, done, std::move(s));
  }
  const uint32_t n = static_cast<uint32_t>(req.entries_size());
  if (!redis_enabled() || n == 0) {
    for (const auto& e : req.entries()) l1_.Set(e.key(), e.value(), e.ttl_ms());
    resp->set_written(n);
    return Finish(Op::kMSet, start, done, absl::OkStatus());
  }
  if (workers_.empty()) return Finish(Op::kMSet, start, done, NotStarted());

  // Split by owning worker so each key's writes stay ordered on one thread; one pipeline each.
  std::vector<std::vector<const v1::SetRequest*>> groups(workers_.size());
  for (const auto& e : req.entries()) groups[WorkerIndex(e.key())].push_back(&e);
  struct Fanout {
    std::atomic<int> remaining{0};
    std::mutex mu;
    absl::Status status;
    Done done;
  };
  auto fan = std::make_shared<Fanout>();
  fan->done = std::move(done);
  for (const auto& g : groups) fan->remaining += g.empty() ? 0 : 1;
  bool admitted = false, first = true;
  for (size_t w = 0; w < groups.size(); ++w) {
    if (groups[w].empty()) continue;
    Job job = WriteJob([this, resp, n, start, fan](absl::Status status) mutable {
      if (!status.ok()) {
        std::lock_guard<std::mutex> lock(fan->mu);
        if (fan->status.ok()) fan->status = std::move(status);
      }
      if (fan->remaining.fetch_sub(1) == 1) {
        absl::Status final;
        {
          std::lock_guard<std::mutex> lock(fan->mu);
          final = fan->status;
        }
        if (final.ok()) resp->set_written(n);
        Finish(Op::kMSet, start, fan->done, std::move(final));
      }
    });
    job.writes.assign(groups[w].begin(), groups[w].end());
    if (first) {
      admitted = Dispatch(w, std::move(job));
      first = false;
    } else if (admitted) {
      Dispatch(w, std::move(job), /*force=*/true);
    } else {
      std::move(job.done)(absl::ResourceExhaustedError("cache worker queue full"));
    }
  }
}

absl::Status Cache::DrainReplay(RedisConnection& conn, size_t max_items) {
  size_t sent = 0;
  while (sent < max_items && !replay_.empty()) {
    std::vector<ReplayQueue::Item> batch =
        replay_.PeekBatch(std::min(kReplayBatchItems, max_items - sent), kReplayBatchBytes);
    if (batch.empty()) break;
    const int64_t now = clock_->NowMs();
    std::vector<RedisWrite> writes;
    writes.reserve(batch.size());
    for (const auto& item : batch) {
      const PendingWrite& w = item.write;
      if (w.value == nullptr) {
        writes.push_back(RedisWrite{item.key, nullptr, 0});
      } else if (w.expire_at_ms != 0) {
        // Replay with the TTL that is left; a value that expired while queued is gone, and
        // "gone" is also what Redis must end up with.
        const int64_t left = w.expire_at_ms - now;
        writes.push_back(left > 0 ? RedisWrite{item.key, w.value.get(), left}
                                  : RedisWrite{item.key, nullptr, 0});
      } else {
        writes.push_back(RedisWrite{item.key, w.value.get(), 0});
      }
    }
    if (absl::Status s = conn.Write(writes); !s.ok()) {
      redis_errors_.fetch_add(1, std::memory_order_relaxed);
      metrics_->redis_errors->Increment();
      return s;
    }
    const size_t acked = replay_.Ack(batch);
    replayed_total_.fetch_add(acked, std::memory_order_relaxed);
    metrics_->replayed->Increment(static_cast<double>(acked));
    sent += batch.size();
  }
  if (replay_.empty()) rt::ResetWarnOnce(kOverflowWarnKey);
  return absl::OkStatus();
}

void Cache::RecoveryLoop() {
  ScopedBlockSigpipe no_sigpipe;
  // While CLOSED and idle, a PING every kHealthIntervalMs notices a dead Redis without waiting for
  // request traffic (each failed PING counts as a request failure and is retried sooner).
  constexpr int64_t kHealthIntervalMs = 1000;
  constexpr int64_t kHealthRetryMs = 100;
  int64_t last_health_ms = clock_->NowMs();
  int health_failures = 0;
  while (true) {
    int64_t wait_ms = 250;
    if (redis_enabled()) {
      const BreakerStateKind st = breaker_.state();
      if (st == BreakerStateKind::kOpen) {
        wait_ms = std::clamp<int64_t>(breaker_.MsUntilProbe(), 1, 250);
      } else if (st == BreakerStateKind::kClosed && !replay_.empty()) {
        wait_ms = 10;
      } else if (st == BreakerStateKind::kClosed && health_failures > 0) {
        wait_ms = kHealthRetryMs;
      }
    }
    {
      std::unique_lock<std::mutex> lock(recovery_mu_);
      recovery_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                            [&] { return recovery_stopping_ || recovery_kick_; });
      if (recovery_stopping_) break;
      recovery_kick_ = false;
    }
    PublishGauges();
    if (!redis_enabled()) continue;
    if (breaker_.TryBeginProbe()) {
      // HALF_OPEN: only this probe talks to Redis; it must answer PING and take the replay of
      // everything queued so far before request traffic is let back in.
      absl::Status s = recovery_conn_->Ping();
      if (s.ok()) s = DrainReplay(*recovery_conn_, replay_.depth());
      if (s.ok()) {
        breaker_.ProbeSucceeded();
      } else {
        breaker_.ProbeFailed();
      }
    } else if (breaker_.state() == BreakerStateKind::kClosed && !replay_.empty()) {
      // Writes that failed while the breaker was still closed, or that arrived between the probe
      // and closing.
      if (!DrainReplay(*recovery_conn_, replay_.depth()).ok()) breaker_.RecordFailure();
    } else if (breaker_.state() == BreakerStateKind::kClosed &&
               clock_->NowMs() - last_health_ms >=
                   (health_failures > 0 ? kHealthRetryMs : kHealthIntervalMs)) {
      last_health_ms = clock_->NowMs();
      if (recovery_conn_->Ping().ok()) {
        health_failures = 0;
      } else {
        ++health_failures;
        breaker_.RecordFailure();
      }
    }
    if (breaker_.state() != BreakerStateKind::kClosed) health_failures = 0;
  }
  // Stopping: the workers have finished, so nothing new can be queued.
  FinalReplay();
  PublishGauges();
}

void Cache::Warm(RedisConnection& conn) {
  if (options_.warm_keys.empty() && options_.warm_prefix.empty()) return;
  const int64_t start = rt::MonotonicNs();
  std::vector<std::string> keys = options_.warm_keys;
  if (!options_.warm_prefix.empty()) {
    auto scanned = conn.ScanPrefix(options_.warm_prefix, options_.l1.max_entries);
    if (!scanned.ok()) {
      rt::LogWarn("warming by prefix failed", {{"prefix", options_.warm_prefix},
                                               {"error", std::string(scanned.status().message())}});
    } else {
      keys.insert(keys.end(), scanned->begin(), scanned->end());
    }
  }
  size_t loaded = 0;
  for (size_t off = 0; off < keys.size(); off += kMaxBatchEntries) {
    const size_t end = std::min(keys.size(), off + kMaxBatchEntries);
    std::vector<std::string_view> chunk(keys.begin() + off, keys.begin() + end);
    std::vector<std::optional<RedisValue>> values;
    if (absl::Status s = conn.MGet(chunk, &values); !s.ok()) {
      rt::LogWarn("warming stopped: redis read failed", {{"error", std::string(s.message())}});
      break;
    }
    for (size_t i = 0; i < chunk.size(); ++i) {
      if (!values[i].has_value()) continue;
      if (l1_.Set(chunk[i], values[i]->value, values[i]->ttl_ms < 0 ? 0 : values[i]->ttl_ms)) {
        ++loaded;
      }
    }
  }
  warmed_keys_ = loaded;
  rt::LogInfo("warmed L1 from redis",
              {{"keys", static_cast<uint64_t>(loaded)},
               {"requested", static_cast<uint64_t>(keys.size())},
               {"ms", static_cast<int64_t>((rt::MonotonicNs() - start) / 1'000'000)}});
}

void Cache::OnBreakerTransition(BreakerStateKind from, BreakerStateKind to) {
  metrics_->breaker_transitions[static_cast<int>(to)]->Increment();
  for (int i = 0; i < 4; ++i) metrics_->breaker_state[i]->Set(i == static_cast<int>(to) ? 1 : 0);
  const std::initializer_list<rt::LogField> fields = {
      {"from", BreakerStateName(from)},
      {"to", BreakerStateName(to)},
      {"replay_queue_depth", static_cast<uint64_t>(replay_.depth())}};
  if (to == BreakerStateKind::kOpen && from == BreakerStateKind::kClosed) {
    rt::LogWarn("redis circuit breaker opened; serving from L1 and queueing writes", fields);
  } else if (to == BreakerStateKind::kClosed) {
    rt::ResetWarnOnce(kRedisErrorWarnKey);
    rt::LogInfo("redis circuit breaker closed; redis serving again", fields);
  } else {
    rt::LogDebug("redis circuit breaker transition", fields);
  }
  NotifyListener();
}

void Cache::PublishGauges() {
  const L1Stats l1 = l1_.Stats();
  metrics_->l1_bytes->Set(static_cast<double>(l1.bytes));
  metrics_->l1_entries->Set(static_cast<double>(l1.entries));
  if (l1.evictions > published_l1_.evictions) {
    metrics_->l1_evictions->Increment(static_cast<double>(l1.evictions - published_l1_.evictions));
  }
  if (l1.expirations > published_l1_.expirations) {
    metrics_->l1_expirations->Increment(
        static_cast<double>(l1.expirations - published_l1_.expirations));
  }
  published_l1_ = l1;
  metrics_->replay_depth->Set(static_cast<double>(replay_.depth()));
  const int state = redis_enabled() ? static_cast<int>(breaker_.state()) : 3;
  for (int i = 0; i < 4; ++i) metrics_->breaker_state[i]->Set(i == state ? 1 : 0);
}

v1::StatsResponse Cache::Stats() const {
  v1::StatsResponse out;
  const L1Stats l1 = l1_.Stats();
  out.mutable_l1()->set_hits(l1.hits);
  out.mutable_l1()->set_misses(l1.misses);
  out.mutable_l1()->set_hit_rate(HitRate(l1.hits, l1.misses));
  const uint64_t rh = redis_hits_.load(), rm = redis_misses_.load();
  out.mutable_redis()->set_hits(rh);
  out.mutable_redis()->set_misses(rm);
  out.mutable_redis()->set_hit_rate(HitRate(rh, rm));
  out.set_breaker(breaker_state());
  out.set_replay_queue_depth(replay_.depth());
  out.set_replay_overflow_total(replay_.overflow_total());
  out.set_l1_evictions_total(l1.evictions);
  out.set_l1_entries(l1.entries);
  out.set_l1_bytes(l1.bytes);
  return out;
}

nlohmann::json Cache::StatusJson() const {
  const v1::StatsResponse s = Stats();
  nlohmann::json j;
  j["redis"] = redis_enabled() ? options_.redis->Redacted() : std::string("disabled (L1 only)");
  j["breaker"] = v1::BreakerState_Name(s.breaker());
  j["breaker_opened_total"] = breaker_.opened_total();
  j["l1"] = {{"hits", s.l1().hits()},
             {"misses", s.l1().misses()},
             {"hit_rate", s.l1().hit_rate()},
             {"entries", s.l1_entries()},
             {"bytes", s.l1_bytes()},
             {"evictions_total", s.l1_evictions_total()},
             {"max_entries", options_.l1.max_entries},
             {"max_bytes", options_.l1.max_bytes}};
  j["redis_tier"] = {{"hits", s.redis().hits()},
                     {"misses", s.redis().misses()},
                     {"hit_rate", s.redis().hit_rate()},
                     {"errors_total", redis_errors_.load()},
                     {"pipelines_total", redis_pipelines_.load()},
                     {"timeout_ms", options_.redis_timeout_ms},
                     {"pool_size", options_.redis_pool_size}};
  j["replay"] = {{"queue_depth", s.replay_queue_depth()},
                 {"queue_max", options_.replay_queue_max},
                 {"queue_bytes", replay_.bytes()},
                 {"queue_max_bytes", options_.replay_queue_max_bytes},
                 {"overflow_total", s.replay_overflow_total()},
                 {"replayed_total", replayed_total_.load()}};
  j["writes"] = {{"in_flight", writes_in_flight()}};
  j["requests_rejected_overloaded_total"] = rejected_overload_.load();
  j["warmed_keys"] = warmed_keys_;
  return j;
}

}  // namespace tickmesh::cache
