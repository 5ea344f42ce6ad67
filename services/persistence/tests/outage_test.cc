// The real service in-process (ServiceHost on 127.0.0.1:0) or as a subprocess, against a real
// PostgreSQL: outages, crashes and malformed input over real gRPC.
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "service.h"
#include "sqlite_store.h"
#include "test_records.h"
#include "tickmesh/runtime/server.h"
#include "tickmesh/testing/child_process.h"
#include "tickmesh/testing/servers.h"
#include "tickmesh/v1/persistence.grpc.pb.h"

namespace tickmesh::persistence {
namespace {

using namespace tickmesh::persistence::testing;  // NOLINT
using Clock = std::chrono::steady_clock;

// Waits (polling) up to `timeout` for `cond`.
template <typename Cond>
bool WaitFor(Cond cond, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

std::string FillId(int stream, int batch, int j) {
  return "s" + std::to_string(stream) + "-b" + std::to_string(batch) + "-r" + std::to_string(j);
}

v1::AppendRequest FillBatch(int stream, int batch, int records) {
  v1::AppendRequest req;
  req.set_batch_id(static_cast<uint64_t>(batch));
  for (int j = 0; j < records; ++j) {
    *req.add_records() = FillRecord(FillId(stream, batch, j), "o" + std::to_string(batch),
                                    "BTC-USD", v1::SIDE_BUY, 100 * kE8, kE8, kT0 + batch);
  }
  return req;
}

std::set<std::string> FillIdsIn(const tickmesh::testing::PostgresServer& pg) {
  std::set<std::string> ids;
  for (absl::string_view line : absl::StrSplit(pg.Psql("SELECT fill_id FROM fills"), '\n')) {
    if (!line.empty()) ids.insert(std::string(line));
  }
  return ids;
}

int64_t PsqlInt(const tickmesh::testing::PostgresServer& pg, const std::string& sql) {
  int64_t v = -1;
  if (!absl::SimpleAtoi(pg.Psql(sql), &v)) return -1;
  return v;
}

// Records what came back on Append streams.
struct AckLog {
  std::mutex mu;
  std::set<std::string> acked_ids;
  std::map<v1::Durability, int> by_durability;
  std::vector<std::string> errors;
  int batches_acked = 0;

  void Record(const v1::AppendAck& ack, const v1::AppendRequest& sent) {
    std::lock_guard<std::mutex> lock(mu);
    if (ack.status_code() != 0) {
      errors.push_back(ack.error());
      return;
    }
    ++batches_acked;
    ++by_durability[ack.durability()];
    for (const auto& r : sent.records()) acked_ids.insert(r.fill().fill_id());
  }
  int Count(v1::Durability d) {
    std::lock_guard<std::mutex> lock(mu);
    return by_durability[d];
  }
};

// Streams fill batches on one Append stream until `stop`, keeping up to `window` in flight.
// Returns false if the stream broke; `final_status` (optional) gets the stream's status.
bool StreamFills(v1::PersistenceService::Stub* stub, int stream, std::atomic<bool>* stop,
                 AckLog* log, int window = 4, int records = 25, int max_batches = 100000,
                 grpc::Status* final_status = nullptr) {
  grpc::ClientContext ctx;
  // Bounds the test even if the server never ends the stream.
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(180));
  auto rw = stub->Append(&ctx);
  std::map<uint64_t, v1::AppendRequest> in_flight;
  int next = 0;
  bool ok = true;
  while (ok) {
    while (!stop->load() && next < max_batches && static_cast<int>(in_flight.size()) < window) {
      v1::AppendRequest req = FillBatch(stream, next, records);
      if (!rw->Write(req)) {
        ok = false;
        break;
      }
      in_flight.emplace(next, std::move(req));
      ++next;
    }
    if (in_flight.empty()) break;
    v1::AppendAck ack;
    if (!rw->Read(&ack)) {
      ok = false;
      break;
    }
    auto it = in_flight.find(ack.batch_id());
    if (it == in_flight.end()) {
      ADD_FAILURE() << "ack for unknown batch " << ack.batch_id();
      continue;
    }
    log->Record(ack, it->second);
    in_flight.erase(it);
  }
  rw->WritesDone();
  // Read to the end before Finish (gRPC requires it): late acks are recorded too.
  v1::AppendAck ack;
  while (rw->Read(&ack)) {
    auto it = in_flight.find(ack.batch_id());
    if (it == in_flight.end()) continue;
    log->Record(ack, it->second);
    in_flight.erase(it);
  }
  grpc::Status st = rw->Finish();
  if (final_status != nullptr) *final_status = st;
  return ok;
}

class InProcessService {
 public:
  explicit InProcessService(PersistenceConfig config) {
    auto server = PersistenceServer::Create(std::move(config));
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return;
    server_ = std::move(*server);
    runtime::ServerOptions options;
    options.service = "persistence";
    options.grpc_address = "127.0.0.1:0";
    options.admin_address = "127.0.0.1:0";
    host_ = std::make_unique<runtime::ServiceHost>(options);
    server_->Attach(*host_);
    absl::Status st = host_->Start();
    EXPECT_TRUE(st.ok()) << st;
    stub_ = v1::PersistenceService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(host_->grpc_port()), grpc::InsecureChannelCredentials()));
  }
  ~InProcessService() {
    if (host_) host_->Shutdown();
    if (server_) server_->Stop();
  }
  v1::PersistenceService::Stub* stub() { return stub_.get(); }
  Writer& writer() { return server_->writer(); }

 private:
  std::unique_ptr<PersistenceServer> server_;
  std::unique_ptr<runtime::ServiceHost> host_;
  std::unique_ptr<v1::PersistenceService::Stub> stub_;
};

class PersistenceIntegration : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tickmesh::testing::MakeTempDir("tickmesh-persistence-it"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(PersistenceIntegration, PostgresOutageLosesNoAckedRecordAndDuplicatesNone) {
  tickmesh::testing::PostgresServer pg;
  ASSERT_TRUE(pg.Start().ok());
  PersistenceConfig config;
  config.postgres_url = pg.url();
  config.spool_dir = dir_ + "/spool";
  InProcessService svc(config);
  ASSERT_NE(svc.stub(), nullptr);
  ASSERT_TRUE(svc.writer().database_up());

  AckLog log;
  std::atomic<bool> stop{false};
  std::vector<std::thread> streams;
  for (int s = 0; s < 2; ++s) {
    streams.emplace_back([&, s] { EXPECT_TRUE(StreamFills(svc.stub(), s, &stop, &log)); });
  }
  auto stop_streams = [&] {
    stop = true;
    for (auto& t : streams) t.join();
    streams.clear();
  };
  const bool db_phase =
      WaitFor([&] { return log.Count(v1::DURABILITY_DATABASE) >= 20; }, std::chrono::seconds(60));
  if (!db_phase) stop_streams();
  ASSERT_TRUE(db_phase);

  pg.StopImmediate();
  const bool spool_phase =
      WaitFor([&] { return log.Count(v1::DURABILITY_SPOOL) >= 20; }, std::chrono::seconds(60));
  if (!spool_phase) stop_streams();
  ASSERT_TRUE(spool_phase) << "no DURABILITY_SPOOL acks while PostgreSQL was down";
  EXPECT_FALSE(svc.writer().database_up());

  ASSERT_TRUE(pg.Start().ok());
  const int db_before = log.Count(v1::DURABILITY_DATABASE);
  const bool back = WaitFor([&] { return log.Count(v1::DURABILITY_DATABASE) > db_before + 10; },
                            std::chrono::seconds(60));
  stop_streams();
  ASSERT_TRUE(back) << "writes did not return to the database after restart";
  ASSERT_TRUE(WaitFor(
      [&] {
        WriterStats s = svc.writer().Stats();
        return s.database_up && s.spool_pending_entries == 0;
      },
      std::chrono::seconds(60)))
      << "spool was not drained";

  std::lock_guard<std::mutex> lock(log.mu);
  EXPECT_TRUE(log.errors.empty()) << log.errors.front();
  EXPECT_GT(svc.writer().Stats().records_replayed, 0u);
  const std::set<std::string> stored = FillIdsIn(pg);
  for (const std::string& id : log.acked_ids) {
    ASSERT_TRUE(stored.count(id)) << "acked fill " << id << " missing";
  }
  EXPECT_EQ(PsqlInt(pg, "SELECT count(*) FROM fills"),
            PsqlInt(pg, "SELECT count(DISTINCT fill_id) FROM fills"));
  // Every batch sent was acked OK, so the database holds exactly the acked records.
  EXPECT_EQ(stored.size(), log.acked_ids.size());
}

TEST_F(PersistenceIntegration, ResubmittedBatchIsAckedAndNotDuplicated) {
  tickmesh::testing::PostgresServer pg;
  ASSERT_TRUE(pg.Start().ok());
  PersistenceConfig config;
  config.postgres_url = pg.url();
  config.spool_dir = dir_ + "/spool";
  InProcessService svc(config);
  AckLog log;
  std::atomic<bool> stop{false};
  for (int round = 0; round < 2; ++round) {
    EXPECT_TRUE(StreamFills(svc.stub(), 7, &stop, &log, /*window=*/2, /*records=*/10,
                            /*max_batches=*/5));
  }
  EXPECT_EQ(log.Count(v1::DURABILITY_DATABASE), 10);
  EXPECT_EQ(PsqlInt(pg, "SELECT count(*) FROM fills"), 50);
}

TEST_F(PersistenceIntegration, MalformedBatchIsRejectedWithInvalidArgumentAndWritesNothing) {
  PersistenceConfig config;
  config.sqlite_path = dir_ + "/tickmesh.db";
  config.spool_dir = dir_ + "/spool";
  InProcessService svc(config);
  grpc::ClientContext ctx;
  auto rw = svc.stub()->Append(&ctx);
  v1::AppendRequest bad = FillBatch(1, 1, 3);
  bad.mutable_records(2)->mutable_fill()->set_qty_e8(0);
  ASSERT_TRUE(rw->Write(bad));
  v1::AppendAck ack;
  ASSERT_TRUE(rw->Read(&ack));
  EXPECT_EQ(ack.batch_id(), 1u);
  EXPECT_EQ(ack.status_code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_NE(ack.error().find("records[2].fill.qty_e8"), std::string::npos) << ack.error();
  // The stream stays usable: a good batch afterwards is stored.
  ASSERT_TRUE(rw->Write(FillBatch(1, 2, 4)));
  ASSERT_TRUE(rw->Read(&ack));
  EXPECT_EQ(ack.batch_id(), 2u);
  EXPECT_EQ(ack.status_code(), 0);
  EXPECT_EQ(ack.durability(), v1::DURABILITY_DATABASE);
  rw->WritesDone();
  EXPECT_TRUE(rw->Finish().ok());

  grpc::ClientContext qctx;
  v1::QueryFillsRequest q;
  v1::QueryFillsResponse resp;
  ASSERT_TRUE(svc.stub()->QueryFills(&qctx, q, &resp).ok());
  EXPECT_EQ(resp.fills_size(), 4);
  for (const auto& f : resp.fills()) EXPECT_EQ(f.order_id(), "o2");

  grpc::ClientContext lctx;
  q.mutable_page()->set_limit(10001);
  grpc::Status st = svc.stub()->QueryFills(&lctx, q, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

#ifdef TICKMESH_PERSISTENCE_BINARY
// Runs tickmesh-persistence as a child process (tickmesh::testing::ChildProcess: posix_spawn, not
// fork, in this threaded gRPC test; SIGKILLed and reaped on destruction).
class ChildService {
 public:
  ChildService(std::vector<std::string> args) : args_(std::move(args)) {}
  void Start() {
    grpc_port_ = tickmesh::testing::FreePort();
    std::vector<std::string> argv = {
        TICKMESH_PERSISTENCE_BINARY, "--grpc_address=127.0.0.1:" + std::to_string(grpc_port_),
        "--admin_address=127.0.0.1:" + std::to_string(tickmesh::testing::FreePort())};
    argv.insert(argv.end(), args_.begin(), args_.end());
    process_ = std::make_unique<tickmesh::testing::ChildProcess>(std::move(argv));
    stub_ = v1::PersistenceService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(grpc_port_), grpc::InsecureChannelCredentials()));
  }
  // True once the service answers; false after 30 s, or as soon as the process is not running
  // (never started, or exited).
  bool WaitReady() {
    if (process_ == nullptr) return false;
    const bool settled =
        WaitFor([&] { return !process_->running() || Answers(); }, std::chrono::seconds(30));
    return settled && process_->running();
  }
  // SIGTERM, then waits up to `timeout` for the exit; returns the exit code, or -1 if the child
  // did not exit by itself in time (it is then SIGKILLed), died of a signal or never started.
  int Terminate(std::chrono::seconds timeout) {
    if (process_ == nullptr || !process_->started()) return -1;
    const int status = process_->Kill(SIGTERM, timeout);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  void Kill() {
    if (process_ != nullptr) process_->Kill(SIGKILL);
  }
  v1::PersistenceService::Stub* stub() { return stub_.get(); }

 private:
  bool Answers() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    v1::QueryPositionsResponse resp;
    grpc::Status st = stub_->QueryPositions(&ctx, v1::QueryPositionsRequest(), &resp);
    return st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED &&
           st.error_code() != grpc::StatusCode::UNAVAILABLE;
  }

  std::vector<std::string> args_;
  int grpc_port_ = 0;
  std::unique_ptr<tickmesh::testing::ChildProcess> process_;
  std::unique_ptr<v1::PersistenceService::Stub> stub_;
};

TEST_F(PersistenceIntegration, SigkillMidWriteLosesNoAckedRecord) {
  tickmesh::testing::PostgresServer pg;
  ASSERT_TRUE(pg.Start().ok());
  ChildService child(
      {"--postgres_url=" + pg.url(), "--spool_dir=" + dir_ + "/spool", "--log_level=warn"});
  child.Start();
  ASSERT_TRUE(child.WaitReady());

  AckLog log;
  std::atomic<bool> stop{false};
  std::thread writer([&] { StreamFills(child.stub(), 3, &stop, &log, /*window=*/8); });
  bool phase1 =
      WaitFor([&] { return log.Count(v1::DURABILITY_DATABASE) >= 20; }, std::chrono::seconds(60));
  if (phase1) {
    // Take the database away so the child is spooling when it dies.
    pg.StopImmediate();
    phase1 =
        WaitFor([&] { return log.Count(v1::DURABILITY_SPOOL) >= 20; }, std::chrono::seconds(60));
  }
  child.Kill();  // SIGKILL mid-stream: batches in flight, possibly mid-append
  stop = true;
  writer.join();
  ASSERT_TRUE(phase1);

  ASSERT_TRUE(pg.Start().ok());
  ChildService restarted(
      {"--postgres_url=" + pg.url(), "--spool_dir=" + dir_ + "/spool", "--log_level=warn"});
  restarted.Start();
  ASSERT_TRUE(restarted.WaitReady());
  std::set<std::string> acked;
  {
    std::lock_guard<std::mutex> lock(log.mu);
    acked = log.acked_ids;
  }
  // The restarted service replays the spool; wait until every acked record is in PostgreSQL.
  std::set<std::string> stored;
  const bool all_there = WaitFor(
      [&] {
        stored = FillIdsIn(pg);
        for (const auto& id : acked) {
          if (!stored.count(id)) return false;
        }
        return true;
      },
      std::chrono::seconds(60));
  size_t missing = 0;
  for (const auto& id : acked) missing += stored.count(id) ? 0 : 1;
  EXPECT_TRUE(all_there) << missing << " of " << acked.size() << " acked fills missing";
  EXPECT_EQ(PsqlInt(pg, "SELECT count(*) FROM fills"),
            PsqlInt(pg, "SELECT count(DISTINCT fill_id) FROM fills"));
  restarted.Kill();
}

// SIGTERM while streams are writing: each stream is ended by the drain (UNAVAILABLE "shutting
// down", not cancelled at the drain deadline, which is set far away here), the process exits 0,
// and every acked fill is in the database exactly once.
TEST_F(PersistenceIntegration, SigtermDrainsAppendStreamsAndKeepsEveryAckedRecord) {
  const std::string db = dir_ + "/tickmesh.db";
  ChildService child({"--sqlite_path=" + db, "--spool_dir=" + dir_ + "/spool",
                      "--drain_timeout_ms=60000", "--log_level=warn"});
  child.Start();
  ASSERT_TRUE(child.WaitReady());

  AckLog log;
  std::atomic<bool> stop{false};
  std::vector<grpc::Status> finals(3);
  std::vector<std::thread> streams;
  for (int s = 0; s < 3; ++s) {
    streams.emplace_back([&, s] {
      StreamFills(child.stub(), 10 + s, &stop, &log, /*window=*/8, /*records=*/50,
                  /*max_batches=*/100000, &finals[s]);
    });
  }
  const bool writing =
      WaitFor([&] { return log.Count(v1::DURABILITY_DATABASE) >= 30; }, std::chrono::seconds(60));
  // The streams are still sending when the signal arrives; only the drain ends them.
  const int exit_code = child.Terminate(std::chrono::seconds(30));
  stop = true;
  for (auto& t : streams) t.join();
  ASSERT_TRUE(writing);
  EXPECT_EQ(exit_code, 0);
  for (const grpc::Status& st : finals) {
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
    EXPECT_NE(st.error_message().find("shutting down"), std::string::npos) << st.error_message();
  }

  auto store = SqliteStoreFactory(db)();
  ASSERT_TRUE(store->Connect().ok());
  auto rows = store->Query({"test", "SELECT fill_id FROM fills", {}});
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::multiset<std::string> stored;
  for (const SqlRow& row : *rows) stored.insert(std::get<std::string>(row[0]));
  std::lock_guard<std::mutex> lock(log.mu);
  EXPECT_TRUE(log.errors.empty()) << log.errors.front();
  for (const std::string& id : log.acked_ids) {
    ASSERT_EQ(stored.count(id), 1u) << "acked fill " << id;
  }
  EXPECT_EQ(std::set<std::string>(stored.begin(), stored.end()).size(), stored.size());
}
#endif

}  // namespace
}  // namespace tickmesh::persistence
