// Restart reconciliation with real processes: tickmesh-persistence (SQLite in a temp dir) and
// tickmesh-execution (paper venue on a --paper_static_book) run as child processes. Orders are
// submitted, execution is SIGKILLed once persistence holds them, restarted, and must answer with
// the same open orders and positions — and hand out new ids that collide with none of the old.
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "order_manager.h"
#include "test_util.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/testing/servers.h"
#include "tickmesh/v1/execution.grpc.pb.h"
#include "tickmesh/v1/persistence.grpc.pb.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
using testing::Req;
namespace v1 = tickmesh::v1;

// A child process, SIGKILLed on destruction if still running.
class Child {
 public:
  // posix_spawn, not fork: gRPC's fork handlers in this (threaded) test process can stall a
  // forked child for seconds.
  explicit Child(std::vector<std::string> argv) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) pid_ = -1;
  }
  ~Child() { Kill(SIGKILL); }
  // Sends `sig` and reaps the process; returns its wait status.
  int Kill(int sig) {
    if (pid_ <= 0) return 0;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  // False once the process has exited (then reaped; exit_status() holds its wait status).
  bool running() {
    if (pid_ <= 0) return false;
    if (waitpid(pid_, &exit_status_, WNOHANG) == 0) return true;
    pid_ = -1;
    return false;
  }
  int exit_status() const { return exit_status_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = 0;
};

// A channel with its own subchannel pool (a channel shares no reconnect backoff with others).
std::shared_ptr<grpc::Channel> FreshChannel(const std::string& target) {
  tickmesh::runtime::ChannelOptions options;
  options.own_subchannel_pool = true;
  return tickmesh::runtime::MakeChannel(target, options);
}

// Polls `cond` every 20 ms for up to `timeout`.
template <typename Cond>
bool WaitFor(Cond cond, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

class RestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tickmesh::testing::MakeTempDir("exec-restart");
    persistence_addr_ = absl::StrCat("127.0.0.1:", tickmesh::testing::FreePort());
    persistence_ = std::make_unique<Child>(std::vector<std::string>{
        TICKMESH_PERSISTENCE_BIN, "--grpc_address=" + persistence_addr_,
        absl::StrCat("--admin_address=127.0.0.1:", tickmesh::testing::FreePort()),
        "--sqlite_path=" + dir_ + "/tickmesh.db", "--spool_dir=" + dir_ + "/spool",
        "--postgres_url=", "--log_level=warn"});
    pstub_ = v1::PersistenceService::NewStub(FreshChannel(persistence_addr_));
  }

  void StartExecution() {
    execution_addr_ = absl::StrCat("127.0.0.1:", tickmesh::testing::FreePort());
    execution_ = std::make_unique<Child>(std::vector<std::string>{
        TICKMESH_EXECUTION_BIN, "--grpc_address=" + execution_addr_,
        absl::StrCat("--admin_address=127.0.0.1:", tickmesh::testing::FreePort()),
        "--persistence_address=" + persistence_addr_,
        "--signal_address=", "--market_data_address=", "--cache_address=",
        absl::StrCat("--paper_static_book=sim:BTC-USD:", 100 * E8, ":", 101 * E8, ":", 50 * E8),
        "--log_level=warn"});
    // A new channel per attempt: one refused connect would make a channel wait seconds.
    ASSERT_TRUE(WaitFor([&] {
      stub_ = v1::ExecutionService::NewStub(FreshChannel(execution_addr_));
      grpc::ClientContext ctx;
      ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Milliseconds(200)));
      v1::GetBalancesResponse resp;
      return stub_->GetBalances(&ctx, v1::GetBalancesRequest(), &resp).ok();
    })) << "execution did not start";
  }

  grpc::Status Submit(const v1::OrderRequest& order, v1::Order* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
    v1::SubmitOrderRequest req;
    *req.mutable_order() = order;
    v1::SubmitOrderResponse resp;
    grpc::Status s = stub_->Submit(&ctx, req, &resp);
    *out = resp.order();
    return s;
  }

  absl::StatusOr<v1::Order> GetOrder(const std::string& id) {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
    v1::GetOrderRequest req;
    req.mutable_ref()->set_order_id(id);
    v1::GetOrderResponse resp;
    grpc::Status s = stub_->GetOrder(&ctx, req, &resp);
    if (!s.ok()) return absl::UnknownError(s.error_message());
    return resp.order();
  }

  v1::Position Position() {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
    v1::GetPositionsRequest req;
    req.set_venue("sim");
    req.set_symbol("BTC-USD");
    v1::GetPositionsResponse resp;
    EXPECT_TRUE(stub_->GetPositions(&ctx, req, &resp).ok());
    return resp.positions_size() == 1 ? resp.positions(0) : v1::Position();
  }

  // The order's persisted version (0 when not stored yet).
  uint64_t PersistedVersion(const std::string& order_id) {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(2)));
    v1::QueryOrdersRequest req;
    req.set_order_id(order_id);
    v1::QueryOrdersResponse resp;
    if (!pstub_->QueryOrders(&ctx, req, &resp).ok() || resp.orders_size() != 1) return 0;
    return resp.orders(0).version();
  }

  int64_t PersistedPositionQty() {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(2)));
    v1::QueryPositionsResponse resp;
    if (!pstub_->QueryPositions(&ctx, v1::QueryPositionsRequest(), &resp).ok()) return -1;
    for (const auto& p : resp.positions()) {
      if (p.venue() == "sim" && p.symbol() == "BTC-USD") return p.qty_e8();
    }
    return 0;
  }

  std::string dir_, persistence_addr_, execution_addr_;
  std::unique_ptr<Child> persistence_, execution_;
  std::unique_ptr<v1::PersistenceService::Stub> pstub_;
  std::unique_ptr<v1::ExecutionService::Stub> stub_;
};

TEST_F(RestartTest, SigkillAndRestartKeepsOpenOrdersAndPositions) {
  ASSERT_NO_FATAL_FAILURE(StartExecution());
  // A filled market buy (position +2), a resting limit buy, a resting limit sell.
  v1::Order market, bid, ask;
  ASSERT_TRUE(Submit(Req("m1", v1::SIDE_BUY, 2 * E8), &market).ok());
  ASSERT_EQ(market.status(), v1::ORDER_STATUS_FILLED);
  ASSERT_TRUE(Submit(Req("l1", v1::SIDE_BUY, 3 * E8, 99 * E8), &bid).ok());
  ASSERT_EQ(bid.status(), v1::ORDER_STATUS_ACKED);
  ASSERT_TRUE(Submit(Req("l2", v1::SIDE_SELL, E8, 105 * E8), &ask).ok());
  ASSERT_EQ(ask.status(), v1::ORDER_STATUS_ACKED);

  // Un-acked outbox records die with the process (documented); wait until they are durable.
  ASSERT_TRUE(WaitFor([&] {
    return PersistedVersion(ask.order_id()) == ask.version() &&
           PersistedVersion(bid.order_id()) == bid.version() && PersistedPositionQty() == 2 * E8;
  })) << "persistence never held the orders and the position";

  const int status = execution_->Kill(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_NO_FATAL_FAILURE(StartExecution());

  for (const v1::Order* o : {&bid, &ask}) {
    auto got = GetOrder(o->order_id());
    ASSERT_TRUE(got.ok()) << o->order_id() << ": " << got.status();
    EXPECT_EQ(got->status(), v1::ORDER_STATUS_ACKED);
    EXPECT_EQ(got->client_order_id(), o->client_order_id());
    EXPECT_EQ(got->qty_e8(), o->qty_e8());
    EXPECT_EQ(got->version(), o->version());
  }
  const v1::Position pos = Position();
  EXPECT_EQ(pos.qty_e8(), 2 * E8);
  EXPECT_EQ(pos.avg_entry_price_e8(), 101 * E8);

  // Idempotency survives the restart for open orders.
  v1::Order dup;
  ASSERT_TRUE(Submit(Req("l1", v1::SIDE_BUY, 3 * E8, 99 * E8), &dup).ok());
  EXPECT_EQ(dup.order_id(), bid.order_id());

  // New ids never collide with ids of the first process.
  v1::Order next;
  ASSERT_TRUE(Submit(Req("m2", v1::SIDE_BUY, E8), &next).ok());
  EXPECT_EQ(next.status(), v1::ORDER_STATUS_FILLED);
  for (const v1::Order* o : {&market, &bid, &ask}) {
    EXPECT_GT(OrderNumber(next.order_id()), OrderNumber(o->order_id()));
  }
  EXPECT_EQ(Position().qty_e8(), 3 * E8);

  // The restored order is live: cancel works and reaches persistence.
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
    v1::CancelOrderRequest req;
    req.mutable_ref()->set_order_id(bid.order_id());
    v1::CancelOrderResponse resp;
    ASSERT_TRUE(stub_->Cancel(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.order().status(), v1::ORDER_STATUS_CANCELLED);
  }
  EXPECT_TRUE(WaitFor([&] { return PersistedVersion(bid.order_id()) == bid.version() + 1; }));
  EXPECT_TRUE(WaitFor([&] { return PersistedPositionQty() == 3 * E8; }));

  // A second SIGKILL + restart sees the cancel and the new position.
  execution_->Kill(SIGKILL);
  ASSERT_NO_FATAL_FAILURE(StartExecution());
  auto ask_after = GetOrder(ask.order_id());
  ASSERT_TRUE(ask_after.ok());
  EXPECT_EQ(ask_after->status(), v1::ORDER_STATUS_ACKED);
  EXPECT_EQ(Position().qty_e8(), 3 * E8);
}

TEST_F(RestartTest, ExitsWhenPersistenceNeverAnswers) {
  persistence_->Kill(SIGKILL);
  Child exec(std::vector<std::string>{
      TICKMESH_EXECUTION_BIN,
      absl::StrCat("--grpc_address=127.0.0.1:", tickmesh::testing::FreePort()),
      absl::StrCat("--admin_address=127.0.0.1:", tickmesh::testing::FreePort()),
      "--persistence_address=" + persistence_addr_, "--signal_address=", "--market_data_address=",
      "--cache_address=", "--reconcile_timeout_ms=500", "--log_level=error"});
  ASSERT_TRUE(WaitFor([&] { return !exec.running(); }, std::chrono::seconds(15)));
  EXPECT_TRUE(WIFEXITED(exec.exit_status()));
  EXPECT_EQ(WEXITSTATUS(exec.exit_status()), 1);
}

}  // namespace
}  // namespace tickmesh::execution
