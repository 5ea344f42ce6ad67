// PersistenceServer: assembles the persistence service (store backend, spool, writer, query
// pool, gRPC service) from a config and attaches it to a ServiceHost. Used by main.cc and by the
// integration tests, which run the real service in-process.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "persistence_grpc.h"
#include "query_pool.h"
#include "tickmesh/runtime/server.h"
#include "writer.h"

namespace tickmesh::persistence {

struct PersistenceConfig {
  // postgresql://user[:pw]@host:port/db; when set, PostgreSQL is the store.
  std::string postgres_url;
  // SQLite database file, used when postgres_url is empty.
  std::string sqlite_path = "tickmesh.db";
  std::string spool_dir = "spool";
  uint64_t spool_max_bytes = 1ull << 30;
  size_t group_commit_max_records = 5000;
  absl::Duration group_commit_max_delay = absl::Milliseconds(2);
  absl::Duration slow_query = absl::Milliseconds(100);
  int query_threads = 4;
  size_t max_queued_queries = 1024;
  size_t max_queued_records = 100000;
};

// Reads the service flags (--postgres_url, --sqlite_path, --spool_dir, --spool_max_bytes,
// --group_commit_max_records, --group_commit_max_delay_ms, --slow_query_ms, --query_threads).
// INVALID_ARGUMENT naming the flag on a bad value.
absl::StatusOr<PersistenceConfig> ConfigFromFlags();

// INVALID_ARGUMENT naming the offending field (as its flag name).
absl::Status ValidateConfig(const PersistenceConfig& config);

class PersistenceServer {
 public:
  // Validates the config and opens the spool (truncating a torn tail). Does not touch the
  // database yet. I/O.
  static absl::StatusOr<std::unique_ptr<PersistenceServer>> Create(PersistenceConfig config);
  ~PersistenceServer();  // Stop()

  // Registers the gRPC service, the optional dependency "database" (down = writes are being
  // spooled; health stays SERVING), the /status provider and the stop hook; then starts the
  // writer (connecting once) and the query workers. Call before host.Start().
  void Attach(runtime::ServiceHost& host);

  // Flushes queued batches (database or spool) and stops the threads. Idempotent.
  void Stop();

  Writer& writer() { return *writer_; }
  const PersistenceConfig& config() const { return config_; }

 private:
  explicit PersistenceServer(PersistenceConfig config) : config_(std::move(config)) {}

  PersistenceConfig config_;
  StoreFactory factory_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<QueryPool> queries_;
  std::unique_ptr<PersistenceGrpc> grpc_;
};

}  // namespace tickmesh::persistence
