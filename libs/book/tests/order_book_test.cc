// OrderBook against a naive std::map reference model with the same bounded-depth policy.
#include "tickmesh/book/order_book.h"

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace tickmesh::book {
namespace {

using tickmesh::v1::BookDelta;
using tickmesh::v1::BookSnapshot;

// The reference: one ordered map per side, bounded exactly like OrderBook documents.
class ReferenceBook {
 public:
  explicit ReferenceBook(size_t max_depth) : max_depth_(max_depth) {}

  void SetBid(int64_t p, int64_t q) { Set(bids_, p, q, /*is_bid=*/true); }
  void SetAsk(int64_t p, int64_t q) { Set(asks_, p, q, /*is_bid=*/false); }
  void Snapshot(const std::vector<Level>& bids, const std::vector<Level>& asks) {
    bids_.clear();
    asks_.clear();
    for (size_t i = 0; i < bids.size() && i < max_depth_; ++i)
      bids_[bids[i].price_e8] = bids[i].qty_e8;
    for (size_t i = 0; i < asks.size() && i < max_depth_; ++i)
      asks_[asks[i].price_e8] = asks[i].qty_e8;
  }
  std::vector<Level> Bids() const {
    std::vector<Level> out;
    for (auto it = bids_.rbegin(); it != bids_.rend(); ++it) out.push_back({it->first, it->second});
    return out;
  }
  std::vector<Level> Asks() const {
    std::vector<Level> out;
    for (auto& [p, q] : asks_) out.push_back({p, q});
    return out;
  }
  int64_t AskQty(int64_t p) const {
    auto it = asks_.find(p);
    return it == asks_.end() ? 0 : it->second;
  }

 private:
  void Set(std::map<int64_t, int64_t>& side, int64_t p, int64_t q, bool is_bid) {
    auto it = side.find(p);
    if (it != side.end()) {
      if (q == 0) {
        side.erase(it);
      } else {
        it->second = q;
      }
      return;
    }
    if (q == 0) return;
    if (side.size() >= max_depth_) {
      auto worst = is_bid ? side.begin() : std::prev(side.end());
      const bool worse_than_worst = is_bid ? p < worst->first : p > worst->first;
      if (worse_than_worst) return;
      side.erase(worst);
    }
    side[p] = q;
  }

  size_t max_depth_;
  std::map<int64_t, int64_t> bids_, asks_;
};

void ExpectSame(const OrderBook& book, const ReferenceBook& ref, int step) {
  ASSERT_EQ(book.Bids(), ref.Bids()) << "bids differ at step " << step;
  ASSERT_EQ(book.Asks(), ref.Asks()) << "asks differ at step " << step;
  // The no-copy views and the point lookups agree with the reference too.
  const auto bid_view = book.BidLevels();
  const auto ask_view = book.AskLevels();
  ASSERT_EQ(std::vector<Level>(bid_view.begin(), bid_view.end()), ref.Bids()) << step;
  ASSERT_EQ(std::vector<Level>(ask_view.begin(), ask_view.end()), ref.Asks()) << step;
  for (const Level& l : ref.Bids()) {
    ASSERT_EQ(book.BidQtyAt(l.price_e8), l.qty_e8) << step;
    ASSERT_EQ(book.AskQtyAt(l.price_e8), ref.AskQty(l.price_e8)) << step;
  }
  for (const Level& l : ref.Asks()) ASSERT_EQ(book.AskQtyAt(l.price_e8), l.qty_e8) << step;
}

// Drives both books with the same long random sequence of deltas and snapshots around a drifting
// mid, comparing best levels at every step and full depth regularly.
void RunRandomSequence(size_t max_depth, uint64_t seed, int steps) {
  std::mt19937_64 rng(seed);
  OrderBook book(max_depth);
  ReferenceBook ref(max_depth);
  int64_t mid = 50'000;  // in ticks
  const int64_t tick = 1'000'000;
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  for (int step = 0; step < steps; ++step) {
    mid += uniform(-2, 2);
    const int kind = static_cast<int>(uniform(0, 99));
    if (kind < 1) {  // Snapshot, best first, both sides strictly ordered.
      BookSnapshot snap;
      std::vector<Level> bids, asks;
      const int nb = static_cast<int>(uniform(0, static_cast<int64_t>(max_depth) + 5));
      const int na = static_cast<int>(uniform(0, static_cast<int64_t>(max_depth) + 5));
      int64_t p = mid - uniform(0, 3);
      for (int i = 0; i < nb; ++i, p -= uniform(1, 3)) {
        bids.push_back({p * tick, uniform(1, 1000) * tick});
        auto* l = snap.add_bids();
        l->set_price_e8(p * tick);
        l->set_qty_e8(bids.back().qty_e8);
      }
      p = mid + uniform(0, 3);
      for (int i = 0; i < na; ++i, p += uniform(1, 3)) {
        asks.push_back({p * tick, uniform(1, 1000) * tick});
        auto* l = snap.add_asks();
        l->set_price_e8(p * tick);
        l->set_qty_e8(asks.back().qty_e8);
      }
      ASSERT_TRUE(book.ApplySnapshot(snap).ok());
      ref.Snapshot(bids, asks);
    } else {
      BookDelta delta;
      const int n = static_cast<int>(uniform(1, 6));
      for (int i = 0; i < n; ++i) {
        const bool bid = uniform(0, 1) == 0;
        // Mostly near the top, sometimes deep, sometimes crossing the mid.
        const int64_t dist = uniform(0, 99) < 80 ? uniform(-1, 8) : uniform(-20, 3000);
        const int64_t price = (bid ? mid - dist : mid + dist) * tick;
        if (price <= 0) continue;
        const int64_t qty = uniform(0, 3) == 0 ? 0 : uniform(1, 1000) * tick;
        auto* l = bid ? delta.add_bids() : delta.add_asks();
        l->set_price_e8(price);
        l->set_qty_e8(qty);
      }
      ASSERT_TRUE(book.ApplyDelta(delta).ok());
      for (auto& l : delta.bids()) ref.SetBid(l.price_e8(), l.qty_e8());
      for (auto& l : delta.asks()) ref.SetAsk(l.price_e8(), l.qty_e8());
    }
    const auto rb = ref.Bids();
    const auto ra = ref.Asks();
    ASSERT_EQ(book.BestBid().has_value(), !rb.empty()) << step;
    ASSERT_EQ(book.BestAsk().has_value(), !ra.empty()) << step;
    if (!rb.empty()) {
      ASSERT_EQ(*book.BestBid(), rb.front()) << step;
    }
    if (!ra.empty()) {
      ASSERT_EQ(*book.BestAsk(), ra.front()) << step;
    }
    ASSERT_EQ(book.crossed(),
              !rb.empty() && !ra.empty() && rb.front().price_e8 >= ra.front().price_e8);
    ASSERT_LE(book.bid_levels(), max_depth);
    ASSERT_LE(book.ask_levels(), max_depth);
    if (step % 97 == 0) ExpectSame(book, ref, step);
  }
  ExpectSame(book, ref, steps);
}

TEST(OrderBook, MatchesReferenceOnLongRandomSequenceWithSmallDepth) {
  RunRandomSequence(/*max_depth=*/16, /*seed=*/1, /*steps=*/200'000);
}

TEST(OrderBook, MatchesReferenceOnLongRandomSequenceWithDefaultDepth) {
  RunRandomSequence(OrderBook::kDefaultMaxDepth, /*seed=*/2, /*steps=*/200'000);
}

TEST(OrderBook, MatchesReferenceWithDepthOne) {
  RunRandomSequence(/*max_depth=*/1, /*seed=*/3, /*steps=*/50'000);
}

BookDelta Delta(std::vector<Level> bids, std::vector<Level> asks) {
  BookDelta d;
  for (auto& l : bids) {
    auto* p = d.add_bids();
    p->set_price_e8(l.price_e8);
    p->set_qty_e8(l.qty_e8);
  }
  for (auto& l : asks) {
    auto* p = d.add_asks();
    p->set_price_e8(l.price_e8);
    p->set_qty_e8(l.qty_e8);
  }
  return d;
}

TEST(OrderBook, RemovesLevelOnZeroQty) {
  OrderBook book;
  ASSERT_TRUE(book.ApplyDelta(Delta({{100, 1}, {99, 2}}, {{101, 3}})).ok());
  ASSERT_TRUE(book.ApplyDelta(Delta({{100, 0}}, {})).ok());
  EXPECT_EQ(book.BestBid(), (Level{99, 2}));
  EXPECT_EQ(book.bid_levels(), 1u);
}

TEST(OrderBook, DetectsCrossedBook) {
  OrderBook book;
  ASSERT_TRUE(book.ApplyDelta(Delta({{100, 1}}, {{101, 1}})).ok());
  EXPECT_FALSE(book.crossed());
  ASSERT_TRUE(book.ApplyDelta(Delta({{101, 1}}, {})).ok());
  EXPECT_TRUE(book.crossed());
}

TEST(OrderBook, DepthReturnsBestFirstAndHonoursLimit) {
  OrderBook book;
  ASSERT_TRUE(book.ApplyDelta(Delta({{98, 1}, {100, 2}, {99, 3}}, {{103, 4}, {101, 5}})).ok());
  BookSnapshot out;
  book.Depth(2, &out);
  ASSERT_EQ(out.bids_size(), 2);
  EXPECT_EQ(out.bids(0).price_e8(), 100);
  EXPECT_EQ(out.bids(1).price_e8(), 99);
  ASSERT_EQ(out.asks_size(), 2);
  EXPECT_EQ(out.asks(0).price_e8(), 101);
  EXPECT_EQ(out.asks(1).price_e8(), 103);
}

TEST(OrderBook, FullSideDiscardsWorseLevelAndEvictsWorstForBetter) {
  OrderBook book(2);
  ASSERT_TRUE(book.ApplyDelta(Delta({{100, 1}, {99, 1}}, {})).ok());
  ASSERT_TRUE(book.ApplyDelta(Delta({{98, 1}}, {})).ok());  // worse than worst: discarded
  EXPECT_EQ(book.Bids(), (std::vector<Level>{{100, 1}, {99, 1}}));
  ASSERT_TRUE(book.ApplyDelta(Delta({{101, 1}}, {})).ok());  // evicts 99
  EXPECT_EQ(book.Bids(), (std::vector<Level>{{101, 1}, {100, 1}}));
  EXPECT_EQ(book.discarded_levels(), 2u);
}

TEST(OrderBook, RejectsInvalidDeltaAndLeavesBookUnchanged) {
  OrderBook book;
  ASSERT_TRUE(book.ApplyDelta(Delta({{100, 1}}, {})).ok());
  absl::Status s = book.ApplyDelta(Delta({{101, 1}}, {{-5, 1}}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("asks[0].price_e8"), std::string::npos) << s;
  EXPECT_EQ(book.Bids(), (std::vector<Level>{{100, 1}}));
  EXPECT_FALSE(book.ApplyDelta(Delta({{100, -1}}, {})).ok());
}

TEST(OrderBook, RejectsUnsortedSnapshot) {
  OrderBook book;
  BookSnapshot snap;
  auto* a = snap.add_bids();
  a->set_price_e8(99);
  a->set_qty_e8(1);
  auto* b = snap.add_bids();
  b->set_price_e8(100);
  b->set_qty_e8(1);
  absl::Status s = book.ApplySnapshot(snap);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("bids[1]"), std::string::npos) << s;
  EXPECT_EQ(book.bid_levels(), 0u);
}

TEST(OrderBook, SnapshotTruncatesToMaxDepth) {
  OrderBook book(3);
  BookSnapshot snap;
  for (int i = 0; i < 5; ++i) {
    auto* l = snap.add_asks();
    l->set_price_e8(100 + i);
    l->set_qty_e8(1);
  }
  ASSERT_TRUE(book.ApplySnapshot(snap).ok());
  EXPECT_EQ(book.Asks(), (std::vector<Level>{{100, 1}, {101, 1}, {102, 1}}));
}

TEST(OrderBook, LevelViewsAreBestFirstAndQtyAtFindsExactLevelsOnly) {
  OrderBook book(/*max_depth=*/3);
  book.SetBid(100, 5);
  book.SetBid(98, 7);
  book.SetBid(99, 6);
  book.SetAsk(103, 2);
  book.SetAsk(101, 1);
  const auto bids = book.BidLevels();
  ASSERT_EQ(bids.size(), 3u);
  EXPECT_EQ(bids[0], (Level{100, 5}));
  EXPECT_EQ(bids[2], (Level{98, 7}));
  std::vector<int64_t> ask_prices;
  for (const auto& [price, qty] : book.AskLevels()) ask_prices.push_back(price);
  EXPECT_EQ(ask_prices, (std::vector<int64_t>{101, 103}));
  EXPECT_EQ(book.BidQtyAt(99), 6);
  EXPECT_EQ(book.BidQtyAt(97), 0);   // below the worst level
  EXPECT_EQ(book.BidQtyAt(101), 0);  // above the best level
  EXPECT_EQ(book.AskQtyAt(102), 0);  // between levels
  EXPECT_EQ(book.AskQtyAt(100), 0);  // a bid price, not an ask
  book.SetBid(100, 0);
  EXPECT_EQ(book.BidQtyAt(100), 0);
  EXPECT_EQ(book.BidLevels().size(), 2u);
  EXPECT_TRUE(OrderBook().AskLevels().empty());
}

}  // namespace
}  // namespace tickmesh::book
