// Risk configuration file (--risk_config): parsing, validation, and that a bad file keeps the
// service from starting (ConfigFromFlags fails, RunExecutionService exits 2 on it).
#include "risk_config.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "gtest/gtest.h"
#include "service.h"

ABSL_DECLARE_FLAG(std::string, risk_config);
ABSL_DECLARE_FLAG(int64_t, max_order_qty_e8);
ABSL_DECLARE_FLAG(std::string, kill_switch);
ABSL_DECLARE_FLAG(std::string, risk_state_file);
ABSL_DECLARE_FLAG(int64_t, max_daily_loss_e8);
ABSL_DECLARE_FLAG(int64_t, risk_max_open_orders);
ABSL_DECLARE_FLAG(int64_t, risk_day_reset_hour_utc);

namespace tickmesh::execution {
namespace {

absl::StatusOr<RiskConfig> Parse(const std::string& yaml, const RiskConfig& base = {}) {
  return ParseRiskConfig(YAML::Load(yaml), base);
}

// A file under the test's temp dir, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& content)
      : path_(std::string(::testing::TempDir()) + "risk_config_test_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml") {
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(RiskConfig, ParsesGlobalStrategiesDefaultAndResetHour) {
  RiskConfig base;
  base.account.max_order_qty_e8 = 7;
  base.account.price_band_bps = 500;
  auto c = Parse(R"(
day_reset_hour_utc: 8
global:
  max_open_orders: 500
  max_daily_loss_e8: 1000000000000
strategies:
  momentum:
    max_order_qty_e8: 200000000
    max_order_notional_e8: 5000000000000
    max_position_e8: 500000000
    max_open_orders: 50
    max_daily_loss_e8: 10000000000
    price_band_bps: 100
  mean-rev: {}
  default:
    max_open_orders: 10
)",
                 base);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->day_reset_hour_utc, 8);
  // Keys given replace the flags' values; the rest stay.
  EXPECT_EQ(c->account.max_open_orders, 500);
  EXPECT_EQ(c->account.max_daily_loss_e8, 1'000'000'000'000);
  EXPECT_EQ(c->account.max_order_qty_e8, 7);
  EXPECT_EQ(c->account.price_band_bps, 500);
  ASSERT_EQ(c->strategies.named.size(), 2u);
  const RiskLimits& m = c->strategies.named.at("momentum");
  EXPECT_EQ(m.max_order_qty_e8, 200'000'000);
  EXPECT_EQ(m.max_order_notional_e8, 5'000'000'000'000);
  EXPECT_EQ(m.max_position_e8, 500'000'000);
  EXPECT_EQ(m.max_open_orders, 50);
  EXPECT_EQ(m.max_daily_loss_e8, 10'000'000'000);
  EXPECT_EQ(m.price_band_bps, 100);
  // Not inherited from global: an empty block disables every per-strategy rule.
  EXPECT_EQ(c->strategies.named.at("mean-rev").max_open_orders, 0);
  ASSERT_TRUE(c->strategies.default_limits.has_value());
  EXPECT_EQ(c->strategies.default_limits->max_open_orders, 10);
}

TEST(RiskConfig, EmptyDocumentChangesNothing) {
  RiskConfig base;
  base.account.max_position_e8 = 3;
  auto c = Parse("", base);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->account.max_position_e8, 3);
  EXPECT_TRUE(c->strategies.empty());
}

TEST(RiskConfig, RejectsBadDocumentsNamingTheKey) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const Case cases[] = {
      {"- a\n- b\n", "risk config must be a mapping"},
      {"globals: {}\n", "globals: unknown key"},
      {"global: {max_qty: 1}\n", "global.max_qty: unknown limit"},
      {"global: {max_open_orders: -1}\n", "global.max_open_orders: must be an integer in [0, "},
      {"global: {max_order_qty_e8: 1.5}\n", "global.max_order_qty_e8: must be an integer"},
      {"global: {max_order_qty_e8: lots}\n", "global.max_order_qty_e8: must be an integer"},
      {"global: {max_daily_loss_e8: 99999999999999999999}\n", "global.max_daily_loss_e8: must be"},
      {"global: {price_band_bps: 10001}\n",
       "global.price_band_bps: must be an integer in [0, 10000]"},
      {"global: 5\n", "global: must be a mapping"},
      {"day_reset_hour_utc: 24\n", "day_reset_hour_utc: must be an integer in [0, 23]"},
      {"strategies: [a, b]\n", "strategies: must be a mapping"},
      {"strategies: {momentum: 3}\n", "strategies.momentum: must be a mapping"},
      {"strategies: {momentum: {max_open_orders: [1]}}\n",
       "strategies.momentum.max_open_orders: must be an integer"},
      {"strategies: {other: {}}\n", "strategies.other: \"other\" is reserved"},
      {"strategies: {\"a b\": {}}\n", "strategies.a b: strategy names are printable"},
      {"global: {max_open_orders: {a: 1}}\n", "global.max_open_orders: must be an integer"},
  };
  for (const Case& c : cases) {
    auto r = Parse(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << c.yaml << " -> " << r.status().message();
  }
}

TEST(RiskConfig, FileErrorsNameThePath) {
  auto missing = LoadRiskConfigFile("/nonexistent/risk.yaml", {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/risk.yaml"), std::string::npos);

  TempFile malformed("global: {max_open_orders: 1\n");
  auto m = LoadRiskConfigFile(malformed.path(), {});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("line"), std::string::npos) << m.status();

  TempFile invalid("strategies:\n  momentum:\n    max_opn_orders: 5\n");
  auto i = LoadRiskConfigFile(invalid.path(), {});
  EXPECT_EQ(i.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(i.status().message(),
            invalid.path() +
                ": strategies.momentum.max_opn_orders: unknown limit (known: max_order_qty_e8, "
                "max_order_notional_e8, max_position_e8, price_band_bps, max_open_orders, "
                "max_daily_loss_e8)");
}

// The service reads --risk_config with the other flags: a bad file is a startup error.
class RiskConfigFlagTest : public ::testing::Test {
 protected:
  ~RiskConfigFlagTest() override {
    absl::SetFlag(&FLAGS_risk_config, "");
    absl::SetFlag(&FLAGS_kill_switch, "");
    absl::SetFlag(&FLAGS_risk_state_file, "");
    absl::SetFlag(&FLAGS_max_daily_loss_e8, 0);
    absl::SetFlag(&FLAGS_risk_max_open_orders, 0);
    absl::SetFlag(&FLAGS_risk_day_reset_hour_utc, 0);
    absl::SetFlag(&FLAGS_max_order_qty_e8, saved_qty_);
  }
  int64_t saved_qty_ = absl::GetFlag(FLAGS_max_order_qty_e8);
};

TEST_F(RiskConfigFlagTest, BadFileKeepsTheServiceFromStarting) {
  TempFile bad("strategies:\n  momentum:\n    max_open_orders: -3\n");
  absl::SetFlag(&FLAGS_risk_config, bad.path());
  auto c = ConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("--risk_config: "), std::string::npos) << c.status();
  EXPECT_NE(c.status().message().find("strategies.momentum.max_open_orders"), std::string::npos)
      << c.status();
}

TEST_F(RiskConfigFlagTest, FileLimitsReachTheEngineOptions) {
  TempFile good(
      "day_reset_hour_utc: 22\nglobal: {max_open_orders: 9}\n"
      "strategies: {momentum: {max_position_e8: 5}}\n");
  absl::SetFlag(&FLAGS_max_order_qty_e8, 123);
  absl::SetFlag(&FLAGS_risk_config, good.path());
  auto c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->engine.risk.max_order_qty_e8, 123);  // from the flag
  EXPECT_EQ(c->engine.risk.max_open_orders, 9);     // from the file
  EXPECT_EQ(c->engine.risk_day_reset_hour_utc, 22);
  EXPECT_EQ(c->engine.strategy_risk.named.at("momentum").max_position_e8, 5);
}

TEST_F(RiskConfigFlagTest, RiskFlagsWithoutFileSetTheAccountLimits) {
  absl::SetFlag(&FLAGS_max_daily_loss_e8, 5'000 * 100'000'000LL);
  absl::SetFlag(&FLAGS_risk_max_open_orders, 40);
  absl::SetFlag(&FLAGS_risk_day_reset_hour_utc, 21);
  absl::SetFlag(&FLAGS_kill_switch, "maintenance window");
  auto c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->engine.risk.max_daily_loss_e8, 5'000 * 100'000'000LL);
  EXPECT_EQ(c->engine.risk.max_open_orders, 40);
  EXPECT_EQ(c->engine.risk_day_reset_hour_utc, 21);
  EXPECT_TRUE(c->engine.strategy_risk.empty());
  EXPECT_EQ(c->kill_switch_reason, "maintenance window");
  absl::SetFlag(&FLAGS_risk_day_reset_hour_utc, 24);
  auto bad = ConfigFromFlags();
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("risk_day_reset_hour_utc"), std::string::npos);
}

TEST(RiskDayState, RoundTripsMissingAndMalformed) {
  const std::string path = std::string(::testing::TempDir()) + "risk_day_state_test.json";
  std::remove(path.c_str());
  auto none = ReadRiskDayState(path);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(WriteRiskDayState(path, RiskDayState{20412, -123 * 100'000'000LL}).ok());
  auto back = ReadRiskDayState(path);
  ASSERT_TRUE(back.ok() && back->has_value()) << back.status();
  EXPECT_EQ((*back)->trading_day, 20412);
  EXPECT_EQ((*back)->account_baseline_e8, -123 * 100'000'000LL);
  for (const char* bad : {"", "{}", "[1,2]", "{\"trading_day\": 1}",
                          "{\"trading_day\": \"1\", \"account_baseline_e8\": 0}",
                          "{\"trading_day\": 1.5, \"account_baseline_e8\": 0}"}) {
    std::ofstream(path) << bad;
    auto r = ReadRiskDayState(path);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status();
  }
  std::remove(path.c_str());
  auto unwritable = WriteRiskDayState("/nonexistent-dir/state.json", RiskDayState{1, 2});
  EXPECT_EQ(unwritable.code(), absl::StatusCode::kInternal);
  EXPECT_NE(unwritable.message().find("/nonexistent-dir/state.json"), std::string::npos);
}

TEST_F(RiskConfigFlagTest, RiskStateFileSeedsTheEngineAndReceivesNewDays) {
  TempFile state("{\"trading_day\": 77, \"account_baseline_e8\": -5}");
  absl::SetFlag(&FLAGS_risk_state_file, state.path());
  auto c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->engine.risk_day_seed.has_value());
  EXPECT_EQ(*c->engine.risk_day_seed, std::make_pair(int64_t{77}, int64_t{-5}));
  ASSERT_TRUE(c->engine.risk_on_roll);
  c->engine.risk_on_roll(78, 9);
  auto back = ReadRiskDayState(state.path());
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->trading_day, 78);
  EXPECT_EQ((*back)->account_baseline_e8, 9);

  TempFile broken("not json");
  absl::SetFlag(&FLAGS_risk_state_file, broken.path());
  auto bad = ConfigFromFlags();
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("--risk_state_file: "), std::string::npos);
}

}  // namespace
}  // namespace tickmesh::execution
