// Risk flags on the real tickmesh-execution process (paper venue on a --paper_static_book, no
// peers, loopback, free ports): a bad --risk_config keeps the service from starting (exit 2, the
// key named on stderr); --kill_switch starts it engaged; --risk_config limits a strategy.
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "process_util.h"
#include "test_util.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/testing/child_process.h"
#include "tickmesh/testing/servers.h"
#include "tickmesh/v1/execution.grpc.pb.h"

namespace tickmesh::execution {
namespace {

using testing::E8;
namespace v1 = tickmesh::v1;
using tickmesh::testing::ChildProcess;
using tickmesh::testing::WaitFor;

class RiskProcessTest : public ::testing::Test {
 protected:
  RiskProcessTest() : dir_(tickmesh::testing::MakeTempDir("exec-risk")) {}

  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << content;
    return path;
  }

  std::vector<std::string> Argv(std::vector<std::string> extra) {
    addr_ = absl::StrCat("127.0.0.1:", tickmesh::testing::FreePort());
    std::vector<std::string> argv{
        TICKMESH_EXECUTION_BIN,
        "--grpc_address=" + addr_,
        absl::StrCat("--admin_address=127.0.0.1:", tickmesh::testing::FreePort()),
        "--persistence_address=",
        "--signal_address=",
        "--market_data_address=",
        "--cache_address=",
        absl::StrCat("--paper_static_book=sim:BTC-USD:", 100 * E8, ":", 101 * E8, ":", 50 * E8),
        "--log_level=warn"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  // Starts the service and waits until it answers.
  void Start(std::vector<std::string> extra) {
    child_ = std::make_unique<ChildProcess>(Argv(std::move(extra)));
    ASSERT_TRUE(child_->started());
    ASSERT_TRUE(WaitFor([&] { return testing::ExecutionAnswers(addr_, &stub_); }))
        << "execution did not start";
  }

  grpc::Status Submit(const std::string& id, const std::string& strategy, int64_t qty) {
    v1::SubmitOrderRequest r;
    *r.mutable_order() = testing::Req(id, v1::SIDE_BUY, qty);
    r.mutable_order()->set_strategy(strategy);
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Seconds(5)));
    v1::SubmitOrderResponse resp;
    return stub_->Submit(&ctx, r, &resp);
  }

  std::string dir_;
  std::string addr_;
  std::unique_ptr<ChildProcess> child_;
  std::unique_ptr<v1::ExecutionService::Stub> stub_;
};

TEST_F(RiskProcessTest, BadRiskConfigKeepsTheServiceFromStarting) {
  const std::string config =
      Write("risk.yaml", "strategies:\n  momentum:\n    max_opn_orders: 5\n");
  const std::string err = dir_ + "/stderr";
  ChildProcess child(Argv({"--risk_config=" + config}),
                     tickmesh::testing::ChildOptions{.stderr_path = err});
  ASSERT_TRUE(child.started());
  const std::optional<int> status = child.WaitExit(std::chrono::seconds(10));
  ASSERT_TRUE(status.has_value()) << "execution started with a bad --risk_config";
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
  std::stringstream text;
  text << std::ifstream(err).rdbuf();
  EXPECT_NE(text.str().find("--risk_config: " + config +
                            ": strategies.momentum.max_opn_orders: unknown limit"),
            std::string::npos)
      << text.str();
}

TEST_F(RiskProcessTest, KillSwitchFlagStartsEngagedUntilDisengaged) {
  Start({"--kill_switch=maintenance"});
  grpc::Status s = Submit("k1", "alpha", E8);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), "risk:kill_switch");
  v1::SetKillSwitchRequest release;
  release.set_engaged(false);
  release.set_reason("maintenance over");
  grpc::ClientContext ctx;
  v1::KillSwitchState state;
  ASSERT_TRUE(stub_->SetKillSwitch(&ctx, release, &state).ok());
  EXPECT_FALSE(state.engaged());
  EXPECT_TRUE(Submit("k2", "alpha", E8).ok());
}

TEST_F(RiskProcessTest, RiskConfigLimitsOneStrategy) {
  const std::string config =
      Write("risk.yaml", "strategies:\n  alpha:\n    max_order_qty_e8: 100000000\n");
  Start({"--risk_config=" + config});
  grpc::Status a = Submit("a1", "alpha", 2 * E8);
  EXPECT_EQ(a.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(a.error_message(), "risk:max_order_qty");
  EXPECT_TRUE(Submit("a2", "alpha", E8).ok());
  EXPECT_TRUE(Submit("b1", "beta", 2 * E8).ok());
}

}  // namespace
}  // namespace tickmesh::execution
