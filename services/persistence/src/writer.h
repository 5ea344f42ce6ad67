// Writer: the only path by which records reach storage. One writer thread owns a Store and the
// Spool and does all write I/O, so no gRPC thread ever blocks on the database.
//
//  - Group commit: validated batches from every Append stream are queued; the writer takes
//    batches until it holds group_max_records records or the oldest queued batch has waited
//    group_max_delay, writes them in ONE transaction, then acks each batch DURABILITY_DATABASE.
//  - Outage: when the database is unreachable (or the commit outcome is unknown) the same group
//    is appended to the spool with a single fdatasync and acked DURABILITY_SPOOL. While the
//    database is down, groups go straight to the spool; a prober thread tries a fresh connection
//    every probe_interval and wakes the writer when it succeeds.
//  - Replay: while the database is up and the spool holds entries, the writer replays them in
//    order, one chunk between groups, and marks them replayed only after the commit. Writes are
//    idempotent, so an entry replayed twice (crash between commit and mark) stores nothing twice.
//    An entry the database refuses for a reason other than unavailability is moved to
//    dead_letter.log (counted, logged) so it cannot block the spool forever.
//  - Queue: bounded by max_queued_records; Submit past it returns RESOURCE_EXHAUSTED (the caller
//    acks the batch with that code; nothing is written). Spool full: the batches that do not fit
//    are acked RESOURCE_EXHAUSTED with the spool's sizes in the error.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "spool.h"
#include "store.h"
#include "tickmesh/v1/persistence.pb.h"

namespace tickmesh::persistence {

struct WriterOptions {
  // Most records in one group-commit transaction (a single larger batch is still one group).
  size_t group_max_records = 5000;
  // Longest a queued batch waits for others to share its commit.
  absl::Duration group_max_delay = absl::Milliseconds(2);
  // Bound on records queued and not yet taken by the writer.
  size_t max_queued_records = 100000;
  // Replay chunk: at most this many spool entries / bytes per transaction.
  size_t replay_chunk_entries = 64;
  uint64_t replay_chunk_bytes = 8ull << 20;
  // How often the prober tries the database while it is down.
  absl::Duration probe_interval = absl::Milliseconds(250);
};

struct WriterStats {
  bool database_up = false;
  std::string last_database_error;
  uint64_t queued_records = 0;
  uint64_t spool_pending_bytes = 0;
  uint64_t spool_pending_entries = 0;
  uint64_t spool_file_bytes = 0;
  uint64_t spool_max_bytes = 0;
  uint64_t records_committed = 0;  // straight to the database
  uint64_t records_spooled = 0;
  uint64_t records_replayed = 0;
  uint64_t dead_lettered_entries = 0;
  bool replay_blocked = false;  // a spool entry failed its CRC while replaying (needs an operator)
};

class Writer {
 public:
  // Called exactly once per submitted batch, on the writer thread, after the batch is durable
  // (or refused). Must not block.
  using Done = std::function<void(const v1::AppendAck& ack)>;

  // `factory` makes the writer's and the prober's Stores; `spool` is owned from now on.
  Writer(StoreFactory factory, std::unique_ptr<Spool> spool, WriterOptions options);
  ~Writer();  // Stop()
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Called on every database up/down transition (from the writer thread). Set before Start().
  void OnDatabaseState(std::function<void(bool up)> callback) { on_state_ = std::move(callback); }

  // Connects once (synchronously; I/O) to learn the initial database state, then starts the
  // writer and prober threads.
  void Start();

  // Queues a batch that already passed ValidateAppendRequest. OK: `done` will be called once.
  // RESOURCE_EXHAUSTED (queue full) or UNAVAILABLE (stopping): `done` is not called.
  // Never blocks on I/O.
  absl::Status Submit(std::shared_ptr<const v1::AppendRequest> batch, Done done);

  // Stops taking batches, makes every queued batch durable (database or spool) and acks it,
  // then joins the threads. Idempotent. Unreplayed spool entries stay for the next start.
  void Stop();

  WriterStats Stats() const;
  bool database_up() const { return db_up_.load(); }

 private:
  struct Pending {
    std::shared_ptr<const v1::AppendRequest> batch;
    Done done;
    int64_t enqueued_ns;
  };

  void Run();
  void ProbeLoop();
  void Commit(std::deque<Pending>& group);
  void SpoolGroup(std::deque<Pending>& group, const std::string& db_error);
  void ReplayChunk();
  void SetDatabaseUp(bool up, const absl::Status& why);

  StoreFactory factory_;
  std::unique_ptr<Store> store_;  // writer thread only
  std::unique_ptr<Spool> spool_;  // writer thread only (accessors are thread-safe)
  WriterOptions options_;
  std::function<void(bool)> on_state_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_records_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool probe_ok_ ABSL_GUARDED_BY(mu_) = false;
  std::string last_error_ ABSL_GUARDED_BY(mu_);

  std::atomic<bool> db_up_{false};
  std::atomic<bool> replay_blocked_{false};
  std::atomic<uint64_t> committed_{0}, spooled_{0}, replayed_{0}, dead_lettered_{0};

  std::mutex probe_mu_;
  std::condition_variable probe_cv_;
  bool probe_stop_ ABSL_GUARDED_BY(probe_mu_) = false;

  std::thread thread_;
  std::thread prober_;
};

}  // namespace tickmesh::persistence
