#include "service.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "postgres_store.h"
#include "sqlite_store.h"
#include "tickmesh/runtime/log.h"

ABSL_FLAG(std::string, postgres_url, "",
          "PostgreSQL system of record, postgresql://user[:password]@host:port/db. When set, "
          "PostgreSQL is used; when empty, SQLite (--sqlite_path).");
ABSL_FLAG(std::string, sqlite_path, "tickmesh.db",
          "SQLite database file (WAL, synchronous=FULL); used when --postgres_url is empty.");
ABSL_FLAG(std::string, spool_dir, "spool",
          "Directory of the local spool that holds acknowledged writes while the database is "
          "down.");
ABSL_FLAG(int64_t, spool_max_bytes, int64_t{1} << 30,
          "Largest spool file in bytes; writes beyond it are refused with RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, group_commit_max_records, 5000,
          "Most records written in one group-commit transaction (1..1000000).");
ABSL_FLAG(int64_t, group_commit_max_delay_ms, 2,
          "Longest a batch waits for others to share its commit, in ms (0..1000).");
ABSL_FLAG(int64_t, slow_query_ms, 100,
          "Queries slower than this (ms) are logged and counted as slow (>= 1).");
ABSL_FLAG(int64_t, query_threads, 4,
          "Read-query worker threads, each with its own database connection (1..64).");

namespace tickmesh::persistence {

absl::Status ValidateConfig(const PersistenceConfig& c) {
  if (!c.postgres_url.empty()) {
    absl::Status st = ValidatePostgresUrl(c.postgres_url);
    if (!st.ok()) return absl::InvalidArgumentError(absl::StrCat("--postgres_url: ", st.message()));
  } else if (c.sqlite_path.empty()) {
    return absl::InvalidArgumentError("--sqlite_path: must not be empty when --postgres_url is");
  }
  if (c.spool_dir.empty()) return absl::InvalidArgumentError("--spool_dir: must not be empty");
  if (c.spool_max_bytes < 1024 * 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("--spool_max_bytes: ", c.spool_max_bytes, " is below 1 MiB"));
  }
  if (c.group_commit_max_records < 1 || c.group_commit_max_records > 1000000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--group_commit_max_records: ", c.group_commit_max_records, " outside 1..1000000"));
  }
  if (c.group_commit_max_delay < absl::ZeroDuration() ||
      c.group_commit_max_delay > absl::Seconds(1)) {
    return absl::InvalidArgumentError("--group_commit_max_delay_ms: outside 0..1000");
  }
  if (c.slow_query < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("--slow_query_ms: must be >= 1");
  }
  if (c.query_threads < 1 || c.query_threads > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("--query_threads: ", c.query_threads, " outside 1..64"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PersistenceConfig> ConfigFromFlags() {
  PersistenceConfig c;
  c.postgres_url = absl::GetFlag(FLAGS_postgres_url);
  c.sqlite_path = absl::GetFlag(FLAGS_sqlite_path);
  c.spool_dir = absl::GetFlag(FLAGS_spool_dir);
  const int64_t spool_max = absl::GetFlag(FLAGS_spool_max_bytes);
  if (spool_max < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--spool_max_bytes: ", spool_max, " is negative"));
  }
  c.spool_max_bytes = static_cast<uint64_t>(spool_max);
  const int64_t max_records = absl::GetFlag(FLAGS_group_commit_max_records);
  if (max_records < 1) {
    return absl::InvalidArgumentError("--group_commit_max_records: must be >= 1");
  }
  c.group_commit_max_records = static_cast<size_t>(max_records);
  c.group_commit_max_delay = absl::Milliseconds(absl::GetFlag(FLAGS_group_commit_max_delay_ms));
  c.slow_query = absl::Milliseconds(absl::GetFlag(FLAGS_slow_query_ms));
  const int64_t threads = absl::GetFlag(FLAGS_query_threads);
  if (threads < 1 || threads > 64) {
    return absl::InvalidArgumentError(absl::StrCat("--query_threads: ", threads, " outside 1..64"));
  }
  c.query_threads = static_cast<int>(threads);
  absl::Status st = ValidateConfig(c);
  if (!st.ok()) return st;
  return c;
}

absl::StatusOr<std::unique_ptr<PersistenceServer>> PersistenceServer::Create(
    PersistenceConfig config) {
  absl::Status st = ValidateConfig(config);
  if (!st.ok()) return st;
  auto spool = Spool::Open({config.spool_dir, config.spool_max_bytes});
  if (!spool.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("--spool_dir: cannot open spool: ", spool.status().message()));
  }
  std::unique_ptr<PersistenceServer> server(new PersistenceServer(std::move(config)));
  const PersistenceConfig& c = server->config_;
  server->factory_ = c.postgres_url.empty() ? SqliteStoreFactory(c.sqlite_path)
                                            : PostgresStoreFactory(c.postgres_url);
  WriterOptions wo;
  wo.group_max_records = c.group_commit_max_records;
  wo.group_max_delay = c.group_commit_max_delay;
  wo.max_queued_records = std::max(c.max_queued_records, c.group_commit_max_records);
  server->writer_ = std::make_unique<Writer>(server->factory_, std::move(*spool), wo);
  server->queries_ = std::make_unique<QueryPool>(server->factory_, c.query_threads,
                                                 c.max_queued_queries, c.slow_query);
  server->grpc_ = std::make_unique<PersistenceGrpc>(server->writer_.get(), server->queries_.get());
  return server;
}

PersistenceServer::~PersistenceServer() { Stop(); }

void PersistenceServer::Attach(runtime::ServiceHost& host) {
  host.AddService(grpc_.get(), "tickmesh.v1.PersistenceService");
  // Optional: while the database is down, acknowledged writes go to the spool, so the service
  // keeps SERVING; /status shows the dependency down (degraded).
  host.AddDependency("database", /*required=*/false);
  runtime::ServiceHost* h = &host;
  writer_->OnDatabaseState([h](bool up) { h->SetDependencyUp("database", up); });
  const std::string backend = config_.postgres_url.empty() ? "sqlite" : "postgres";
  Writer* writer = writer_.get();
  PersistenceGrpc* grpc = grpc_.get();
  host.SetStatusProvider([writer, grpc, backend]() {
    const WriterStats s = writer->Stats();
    nlohmann::json j;
    j["backend"] = backend;
    j["database_up"] = s.database_up;
    j["degraded"] = !s.database_up || s.spool_pending_entries > 0 || s.replay_blocked;
    if (!s.database_up) j["database_error"] = s.last_database_error;
    j["append_streams"] = grpc->open_streams();
    j["writer"] = {{"queued_records", s.queued_records},
                   {"records_committed", s.records_committed},
                   {"records_spooled", s.records_spooled}};
    j["spool"] = {{"pending_bytes", s.spool_pending_bytes},
                  {"pending_entries", s.spool_pending_entries},
                  {"file_bytes", s.spool_file_bytes},
                  {"max_bytes", s.spool_max_bytes}};
    j["replay"] = {{"records_replayed", s.records_replayed},
                   {"dead_lettered_entries", s.dead_lettered_entries},
                   {"blocked", s.replay_blocked}};
    return j;
  });
  // SIGTERM: streams stop reading and finish once what they read is acked (durable); the server
  // then shuts down, and Stop() flushes whatever is still queued before the process exits.
  host.OnDrain([grpc] {
    grpc->Drain();
    // Bounded well inside the mesh's 5 s stop budget; the host's drain deadline still applies
    // to whatever is left after this.
    if (!grpc->AwaitDrained(absl::Seconds(2), absl::Milliseconds(100))) {
      runtime::LogWarn("append streams still open after 2 s of drain",
                       {{"streams", grpc->open_streams()}});
    }
  });
  host.OnStop([this] { Stop(); });
  writer_->Start();
  queries_->Start();
  runtime::LogInfo("persistence started", {{"backend", backend},
                                           {"spool_dir", config_.spool_dir},
                                           {"database_up", writer_->database_up()}});
}

void PersistenceServer::Stop() {
  if (queries_) queries_->Stop();
  if (writer_) writer_->Stop();
}

}  // namespace tickmesh::persistence
