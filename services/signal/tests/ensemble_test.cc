// Ensemble arithmetic: weighted consensus, threshold, vote expiry, adaptation.
#include "ensemble.h"

#include "gtest/gtest.h"

namespace tickmesh::signal {
namespace {

StrategyConfig ThreeStrategies(bool adapt = false) {
  StrategyConfig c;
  for (auto [id, w] : {std::pair<const char*, double>{"a", 1.0}, {"b", 2.0}, {"c", 1.0}}) {
    StrategySpec s;
    s.id = id;
    s.weight = w;
    c.strategies.push_back(s);
  }
  c.ensemble.enabled = true;
  c.ensemble.threshold = 0.5;
  c.ensemble.vote_ttl_ns = 1000;
  c.ensemble.order_qty_e8 = 42;
  c.ensemble.adapt = adapt;
  c.ensemble.adapt_alpha = 0.5;
  c.ensemble.adapt_scale_bps = 100;
  return c;
}

Decision Vote(tickmesh::v1::Side side, double strength, int64_t price_e8 = 100) {
  Decision d;
  d.side = side;
  d.strength = strength;
  d.target_price_e8 = price_e8;
  return d;
}

TEST(Ensemble, ConsensusIsWeightedMeanOverAllVoters) {
  Ensemble e(ThreeStrategies());
  auto st = e.NewState({0, 1, 2});
  // a BUY 1.0 alone: 1 * 1 / (1 + 2 + 1) = 0.25 < 0.5: nothing.
  EXPECT_FALSE(e.OnDecision(st, 0, Vote(tickmesh::v1::SIDE_BUY, 1.0), 0, 0).has_value());
  EXPECT_DOUBLE_EQ(e.Consensus(st, 0), 0.25);
  // b BUY 0.5: (1 + 2 * 0.5) / 4 = 0.5 >= 0.5: one BUY.
  auto d = e.OnDecision(st, 1, Vote(tickmesh::v1::SIDE_BUY, 0.5, 123), 1, 0);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->side, tickmesh::v1::SIDE_BUY);
  EXPECT_DOUBLE_EQ(d->strength, 0.5);
  EXPECT_EQ(d->target_price_e8, 123);
  EXPECT_EQ(d->target_qty_e8, 42);
  EXPECT_STREQ(d->indicators[0].name, "consensus");
  // c BUY too: still BUY, no repeat.
  EXPECT_FALSE(e.OnDecision(st, 2, Vote(tickmesh::v1::SIDE_BUY, 1.0), 2, 0).has_value());
  // b flips to SELL 1.0: (1 - 2 + 1) / 4 = 0: nothing; a flips: (-1 - 2 + 1) / 4 = -0.5: SELL.
  EXPECT_FALSE(e.OnDecision(st, 1, Vote(tickmesh::v1::SIDE_SELL, 1.0), 3, 0).has_value());
  d = e.OnDecision(st, 0, Vote(tickmesh::v1::SIDE_SELL, 1.0), 4, 0);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->side, tickmesh::v1::SIDE_SELL);
  EXPECT_DOUBLE_EQ(e.Consensus(st, 4), -0.5);
}

TEST(Ensemble, ExpiredVotesDoNotCount) {
  Ensemble e(ThreeStrategies());
  auto st = e.NewState({0, 1, 2});
  e.OnDecision(st, 1, Vote(tickmesh::v1::SIDE_BUY, 1.0), 0, 0);  // 0.5: BUY
  EXPECT_DOUBLE_EQ(e.Consensus(st, 999), 0.5);
  EXPECT_DOUBLE_EQ(e.Consensus(st, 1000), 0.0);
  // Everything expired: the direction is forgotten, so a fresh BUY consensus signals again.
  EXPECT_TRUE(e.OnDecision(st, 1, Vote(tickmesh::v1::SIDE_BUY, 1.0), 5000, 0).has_value());
}

TEST(Ensemble, OnlyMembersOfTheInstrumentVote) {
  Ensemble e(ThreeStrategies());
  auto st = e.NewState({1});  // only b runs on this instrument
  EXPECT_FALSE(e.OnDecision(st, 0, Vote(tickmesh::v1::SIDE_BUY, 1.0), 0, 0).has_value());
  auto d = e.OnDecision(st, 1, Vote(tickmesh::v1::SIDE_BUY, 0.6), 0, 0);
  ASSERT_TRUE(d.has_value());
  EXPECT_DOUBLE_EQ(d->strength, 0.6);
}

TEST(Ensemble, AdaptationRaisesTheWeightOfAStrategyThatWasRight) {
  Ensemble e(ThreeStrategies(/*adapt=*/true));
  auto st = e.NewState({0, 1, 2});
  EXPECT_DOUBLE_EQ(e.Weight(st, 0), 1.0);
  // a buys at 100, votes again at 110: +1000 bps; score = 0.5 * 1000 = 500;
  // factor = clamp(1 + 500 / 100, 0.25, 4) = 4.
  e.OnDecision(st, 0, Vote(tickmesh::v1::SIDE_BUY, 1.0), 0, 100);
  e.OnDecision(st, 0, Vote(tickmesh::v1::SIDE_BUY, 1.0), 1, 110);
  EXPECT_DOUBLE_EQ(e.Weight(st, 0), 4.0);
  // c sells at 100, votes again at 101: -100 bps; score -50; factor 0.5.
  e.OnDecision(st, 2, Vote(tickmesh::v1::SIDE_SELL, 1.0), 2, 100);
  e.OnDecision(st, 2, Vote(tickmesh::v1::SIDE_SELL, 1.0), 3, 101);
  EXPECT_DOUBLE_EQ(e.Weight(st, 2), 0.5);
  EXPECT_DOUBLE_EQ(e.Weight(st, 1), 2.0);  // b has not been scored
}

}  // namespace
}  // namespace tickmesh::signal
