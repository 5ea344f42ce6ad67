// Cache: the cache service's logic (no gRPC). Two tiers — L1 (in-process, TTL, second-chance
// eviction: L1Cache) and Redis (shared by every cache instance) — with a circuit breaker around
// Redis and a replay queue so that a Redis outage costs clients nothing:
//  - reads: L1 → pending replay writes → Redis (filling L1) → miss;
//  - writes: L1 when the write is admitted to its key's worker queue (under that worker's lock,
//    so L1 sees a key's writes in queue order), then Redis on the worker thread; when the breaker
//    is not closed, a direct write fails, or the key already has a pending write, the write goes
//    to the replay queue instead (coalesced per key, newest wins, Deletes as tombstones) and the
//    recovery thread replays it once Redis answers again. Set and MSet are answered after their
//    Redis pipeline (or once in the replay queue);
//  - clients get no errors from a down or slow Redis: they get L1's answer.
//
// Threads: every Redis command runs on the cache's own threads — `redis_pool_size` workers, each
// with its own connection (the pool), and one recovery thread (breaker probes, replay, metrics).
// Request methods never block: they validate, answer inline when no I/O is needed (L1 hit, no
// Redis configured, breaker open on a read) and otherwise enqueue the work on the worker that
// owns the key (hash of the key), which serialises all writes of a key so L1 and Redis see them
// in the same order. The worker queues are bounded (worker_queue_max in total): when a worker's
// queue is full the request is rejected with RESOURCE_EXHAUSTED (load shedding, the client may
// retry) and counted.
//
// Example:
//   Cache cache(options);
//   cache.Start();  // probes Redis, warms L1; blocking I/O, call at start-up
//   cache.Get(req, &resp, [](absl::Status s) { ... });
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "breaker.h"
#include "l1_cache.h"
#include "nlohmann/json.hpp"
#include "redis_tier.h"
#include "replay_queue.h"
#include "tickmesh/v1/cache.pb.h"

namespace tickmesh::cache {

struct CacheOptions {
  L1Options l1;
  // Redis tier; nullopt = L1 only (breaker DISABLED).
  std::optional<RedisUrl> redis;
  // Connect and per-socket-operation timeout for Redis commands; a slower Redis counts as down.
  int redis_timeout_ms = 50;
  // Worker threads, each with its own Redis connection.
  int redis_pool_size = 4;
  // Distinct keys the replay queue holds at most (see ReplayQueue for the policy).
  size_t replay_queue_max = 100000;
  // Key + value bytes the replay queue holds at most.
  size_t replay_queue_max_bytes = size_t{256} << 20;
  // Requests waiting for a worker, over all workers.
  size_t worker_queue_max = 16384;
  BreakerOptions breaker;
  // Warming at Start(): these keys, then up to l1.max_entries keys with this prefix (if not
  // empty), are loaded from Redis into L1.
  std::vector<std::string> warm_keys;
  std::string warm_prefix;
  // Not owned; nullptr = SteadyClock for the breaker and replay TTLs and CoarseSteadyClock for
  // L1. When set, it drives all three.
  const Clock* clock = nullptr;
};

class Cache {
 public:
  // Called exactly once per request with the outcome; from the calling thread (inline answers)
  // or a cache worker thread.
  using Done = absl::AnyInvocable<void(absl::Status) &&>;
  // Breaker state changes (including the initial one at Start()); from a cache thread.
  using BreakerListener = std::function<void(v1::BreakerState)>;

  explicit Cache(CacheOptions options);
  ~Cache();  // Stop()s.
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // Before Start().
  void SetBreakerListener(BreakerListener listener);

  // Probes Redis (breaker OPEN if it does not answer), warms L1 from Redis, starts the worker and
  // recovery threads. Blocking network I/O: call at start-up, not from a gRPC callback.
  void Start();
  // Finishes queued requests, tries one last replay of pending writes (logging what could not be
  // replayed), joins threads. Later requests fail with UNAVAILABLE. Idempotent.
  void Stop();

  // Request methods: `req` and `resp` must stay valid until `done` runs. Bad input →
  // INVALID_ARGUMENT naming the field, and nothing changes. Never block on I/O.
  void Get(const v1::GetRequest& req, v1::GetResponse* resp, Done done);
  void Set(const v1::SetRequest& req, v1::SetResponse* resp, Done done);
  void Delete(const v1::DeleteRequest& req, v1::DeleteResponse* resp, Done done);
  void MGet(const v1::MGetRequest& req, v1::MGetResponse* resp, Done done);
  void MSet(const v1::MSetRequest& req, v1::MSetResponse* resp, Done done);
  // Counters and state; cheap, never blocks on I/O.
  v1::StatsResponse Stats() const;
  // Stats() plus configuration, as JSON for /status.
  nlohmann::json StatusJson() const;

  v1::BreakerState breaker_state() const;
  // Times the breaker went to OPEN since construction.
  uint64_t breaker_opened_total() const;
  // Writes replayed to Redis since construction.
  uint64_t replayed_total() const { return replayed_total_.load(); }
  // Redis round trips (pipelines) made for request traffic (reads, writes, deletes) since
  // construction; with requests merged per worker this is far below the request count.
  uint64_t redis_pipelines_total() const { return redis_pipelines_.load(); }
  // Writes admitted to the workers (in L1) and not yet sent to Redis or put in the replay queue.
  uint64_t writes_in_flight() const;
  // Keys loaded into L1 by warming at Start().
  size_t warmed_keys() const { return warmed_keys_; }

 private:
  struct Metrics;
  // Runs on a worker with its connection, or (conn == nullptr) with the reason it was not
  // admitted; either way exactly once.
  using Task = absl::AnyInvocable<void(RedisConnection* conn, absl::Status rejected) &&>;
  // A unit of worker work. Reads and writes carry their keys, so the worker can merge every
  // consecutive read (or write) it finds queued into one Redis pipeline — concurrent unary
  // requests cost one round trip together, not one each. Anything else is an opaque Task.
  struct Job {
    enum class Kind { kTask, kRead, kWrite };
    Kind kind = Kind::kTask;
    Task task;                                              // kTask
    absl::InlinedVector<std::string_view, 1> read_keys;     // kRead
    absl::InlinedVector<v1::GetResponse*, 1> read_entries;  // kRead, parallel to read_keys
    absl::InlinedVector<const v1::SetRequest*, 1> writes;   // kWrite
    // kRead: the worker's write_epoch when the job was admitted; its Redis answers may fill L1
    // only if no write was admitted to the worker since (else L1 may already hold newer values).
    uint64_t admit_epoch = 0;
    // kRead / kWrite: called once the pipeline is done (OK) or with the rejection.
    absl::AnyInvocable<void(absl::Status) &&> done;
    size_t size() const { return kind == Kind::kRead ? read_keys.size() : writes.size(); }
  };
  struct Worker {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Job> queue ABSL_GUARDED_BY(mu);
    bool stopping ABSL_GUARDED_BY(mu) = false;
    // Write jobs admitted so far (each one's L1 update happened at admission).
    uint64_t write_epoch ABSL_GUARDED_BY(mu) = 0;
    // Write jobs admitted and not yet processed by the worker.
    std::atomic<int64_t> queued_writes{0};
    std::unique_ptr<RedisConnection> conn;
    std::thread thread;
  };
  enum class Op { kGet, kSet, kDelete, kMGet, kMSet };

  bool redis_enabled() const { return options_.redis.has_value(); }
  size_t WorkerIndex(std::string_view key) const;
  // Queues `job` on worker `index`; a write job's entries go to L1 at the same time, under the
  // worker's lock. `force` ignores the bound (used for the 2nd..nth part of a batch already
  // admitted). False if the queue is full or the cache is stopping (the job has then been
  // answered with the rejection; nothing was written).
  bool Dispatch(size_t index, Job job, bool force = false);
  // Whether worker `index` has admitted writes it has not processed yet.
  bool WritesQueued(size_t index) const {
    return workers_[index]->queued_writes.load(std::memory_order_acquire) > 0;
  }
  static Job TaskJob(Task task);
  static Job ReadJob(absl::AnyInvocable<void(absl::Status) &&> done);
  static Job WriteJob(absl::AnyInvocable<void(absl::Status) &&> done);
  void WorkerLoop(Worker* worker);
  void RecoveryLoop();
  void Finish(Op op, int64_t start_ns, Done& done, absl::Status status);
  // Counts one Redis round trip for request traffic carrying `keys` commands' keys.
  void CountPipeline(size_t keys);

  // Worker-side steps (run on the key's worker).
  // Answers entries[i] for keys[i] (all L1 misses): pending replay write, else Redis (filling
  // L1 if no write was admitted to `worker` since epochs[i]), else not found. A Redis failure is
  // recorded in the breaker and answers "not found".
  void ReadThrough(Worker& worker, const std::vector<std::string_view>& keys,
                   const std::vector<v1::GetResponse*>& entries,
                   const std::vector<uint64_t>& epochs);
  // Answers `entry` from a pending replay write if there is one; returns whether it did.
  bool AnswerFromReplay(std::string_view key, v1::GetResponse* entry) const;
  // Writes entries to Redis (directly or via the replay queue); L1 was written at admission.
  void WriteThrough(RedisConnection& conn, const std::vector<const v1::SetRequest*>& entries);
  void QueueForReplay(std::string_view key, std::shared_ptr<const std::string> value,
                      int64_t ttl_ms);
  // Replays up to `max_items` pending writes (all of them if 0). OK if every batch was acked.
  absl::Status DrainReplay(RedisConnection& conn, size_t max_items);
  void Warm(RedisConnection& conn);
  // At Stop(), on the recovery thread: one probe and replay pass; logs what could not be sent.
  void FinalReplay();
  void OnBreakerTransition(BreakerStateKind from, BreakerStateKind to);
  void PublishGauges();
  void NotifyListener();

  const CacheOptions options_;
  const Clock* clock_;
  L1Cache l1_;
  ReplayQueue replay_;
  CircuitBreaker breaker_;
  std::unique_ptr<Metrics> metrics_;
  BreakerListener listener_;

  std::vector<std::unique_ptr<Worker>> workers_;
  size_t worker_capacity_ = 1;
  std::unique_ptr<RedisConnection> recovery_conn_;
  std::thread recovery_thread_;
  std::mutex recovery_mu_;
  std::condition_variable recovery_cv_;
  bool recovery_stopping_ ABSL_GUARDED_BY(recovery_mu_) = false;
  bool recovery_kick_ ABSL_GUARDED_BY(recovery_mu_) = false;

  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<uint64_t> redis_hits_{0};
  std::atomic<uint64_t> redis_misses_{0};
  std::atomic<uint64_t> redis_errors_{0};
  std::atomic<uint64_t> replayed_total_{0};
  std::atomic<uint64_t> redis_pipelines_{0};
  std::atomic<uint64_t> rejected_overload_{0};
  size_t warmed_keys_ = 0;
  // Last L1 counters pushed to Prometheus (recovery thread only).
  L1Stats published_l1_;
};

}  // namespace tickmesh::cache
