// The strategy config file: the example parses; every kind of bad input is rejected with a
// message naming the key path.
#include "tickmesh/runtime/config.h"

#include <fstream>

#include "gtest/gtest.h"
#include "strategy_config.h"

namespace tickmesh::signal {
namespace {

absl::StatusOr<StrategyConfig> Parse(const std::string& yaml) {
  return ParseStrategyConfig(YAML::Load(yaml), MacdCrossParams{});
}

std::string Error(const std::string& yaml) {
  auto c = Parse(yaml);
  EXPECT_FALSE(c.ok()) << yaml;
  return c.ok() ? "" : std::string(c.status().message());
}

TEST(StrategyConfig, ExampleFileParses) {
  auto yaml = runtime::LoadYamlFile(std::string(TICKMESH_SIGNAL_DIR) + "/config/example.yaml");
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  auto c = ParseStrategyConfig(*yaml, MacdCrossParams{});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->strategies.size(), 4u);
  EXPECT_EQ(c->strategies[0].id, "trend");
  EXPECT_EQ(c->strategies[0].type, StrategyType::kMacdRsi);
  EXPECT_EQ(c->strategies[0].macd.rsi_period, 14);
  EXPECT_TRUE(c->strategies[0].Matches("sim", "ETH-USD"));
  EXPECT_TRUE(c->strategies[0].Matches("loadtest", "LT-USD"));
  EXPECT_FALSE(c->strategies[0].Matches("loadtest", "XX-USD"));
  EXPECT_EQ(c->strategies[1].input, InputKind::kCandle);
  EXPECT_EQ(c->strategies[1].candle_interval_s, 60);
  EXPECT_EQ(c->strategies[2].input, InputKind::kBook);
  EXPECT_FALSE(c->strategies[3].Votes());
  EXPECT_TRUE(c->ensemble.enabled);
  EXPECT_TRUE(c->ensemble.adapt);
  EXPECT_TRUE(c->NeedsBook());
}

TEST(StrategyConfig, FlagDefaultsSeedMacdParams) {
  MacdCrossParams flags;
  flags.fast = 5;
  flags.slow = 10;
  auto c = ParseStrategyConfig(YAML::Load("strategies: [{type: macd_cross}]"), flags);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->strategies[0].id, "macd_cross");
  EXPECT_EQ(c->strategies[0].macd.fast, 5);
  EXPECT_EQ(c->strategies[0].macd.slow, 10);
  EXPECT_EQ(c->strategies[0].symbols.size(), 1u);
  EXPECT_TRUE(c->strategies[0].Matches("any", "thing"));
}

TEST(StrategyConfig, RejectsOutOfRangeParamNamingThePath) {
  EXPECT_EQ(Error("strategies:\n  - type: macd_cross\n  - type: macd_rsi\n    params: {fast: 0}"),
            "strategies[1].params.fast: must be > 0");
  EXPECT_EQ(Error("strategies: [{type: macd_cross, params: {fast: 30}}]"),
            "strategies[0].params.fast: (30) must be < slow (26)");
  EXPECT_EQ(Error("strategies: [{type: market_making, params: {gamma: -1}}]"),
            "strategies[0].params.gamma: must be in (0, 1e6]");
  EXPECT_EQ(Error("strategies: [{type: book_imbalance, params: {entry: 2}}]"),
            "strategies[0].params.entry: must be in (0, 1]");
}

TEST(StrategyConfig, RejectsUnknownKeysAtEveryLevel) {
  EXPECT_EQ(Error("strategies: [{type: macd_cross}]\nfoo: 1"), "foo: unknown key");
  EXPECT_EQ(Error("strategies: [{type: macd_cross, colour: red}]"),
            "strategies[0].colour: unknown key");
  EXPECT_EQ(Error("strategies: [{type: macd_cross, params: {fastt: 3}}]"),
            "strategies[0].params.fastt: unknown key");
  EXPECT_EQ(Error("strategies: [{type: macd_cross, params: {gamma: 3}}]"),
            "strategies[0].params.gamma: unknown key");
  EXPECT_EQ(Error("strategies: [{type: macd_cross}]\nensemble: {adaptation: {beta: 1}}"),
            "ensemble.adaptation.beta: unknown key");
}

TEST(StrategyConfig, RejectsWrongTypes) {
  EXPECT_EQ(Error("strategies: [{type: macd_cross, params: {fast: twelve}}]"),
            "strategies[0].params.fast: must be an integer, got 'twelve'");
  EXPECT_EQ(Error("strategies: [{type: macd_cross, params: {fast: 1.5}}]"),
            "strategies[0].params.fast: must be an integer, got '1.5'");
  EXPECT_EQ(Error("strategies: [{type: macd_cross, weight: [1]}]"),
            "strategies[0].weight: must be a number");
  EXPECT_EQ(Error("strategies: [{type: macd_cross, params: [1, 2]}]"),
            "strategies[0].params: must be a mapping");
  EXPECT_EQ(Error("strategies: {type: macd_cross}"), "strategies: must be a non-empty list");
  EXPECT_EQ(Error("- 1"), "<root>: must be a mapping with a strategies list");
}

TEST(StrategyConfig, RejectsBadStructure) {
  EXPECT_EQ(Error("strategies: []"), "strategies: must be a non-empty list");
  EXPECT_EQ(Error("strategies: [{type: rocket}]"),
            "strategies[0].type: unknown strategy type 'rocket'");
  EXPECT_NE(Error("strategies: [{id: x}]").find("strategies[0].type: is required"),
            std::string::npos);
  EXPECT_EQ(Error("strategies: [{type: macd_cross}, {type: macd_cross}]"),
            "strategies[1].id: duplicate strategy id 'macd_cross'");
  EXPECT_EQ(Error("strategies: [{type: macd_cross, symbols: [BTC-USD]}]"),
            "strategies[0].symbols[0]: 'BTC-USD' is not venue:symbol (\"*\" matches any part)");
  EXPECT_EQ(Error("strategies: [{type: macd_cross, input: candle}]"),
            "strategies[0].candle_interval_s: must be > 0 with input: candle");
  EXPECT_EQ(Error("strategies: [{type: market_making, input: trade}]"),
            "strategies[0].input: must be book for market_making");
  EXPECT_EQ(Error("strategies: [{type: market_making, params: {volatility: atr}}]"),
            "strategies[0].candle_interval_s: must be > 0 with params.volatility: atr");
  EXPECT_EQ(Error("strategies: [{type: macd_rsi, params: {rsi_period: 0}}]"),
            "strategies[0].params.rsi_period: must be > 0 for macd_rsi");
}

TEST(StrategyConfig, RejectsBadEnsemble) {
  EXPECT_EQ(Error("strategies: [{type: macd_cross}]\nensemble: {enabled: true, threshold: 0}"),
            "ensemble.threshold: must be in (0, 1]");
  EXPECT_EQ(Error("strategies: [{type: macd_cross}]\nensemble: {enabled: maybe}"),
            "ensemble.enabled: must be true or false, got 'maybe'");
  EXPECT_EQ(Error("strategies: [{type: macd_cross}]\nensemble: {id: macd_cross}"),
            "ensemble.id: must be non-empty and differ from every strategy id");
  EXPECT_EQ(Error("strategies: [{type: market_making}]\nensemble: {enabled: true}"),
            "ensemble.enabled: no strategy votes (weight > 0, not market_making)");
}

}  // namespace
}  // namespace tickmesh::signal
