// ns per L2 update on OrderBook: top-of-book churn like a live feed, against a baseline naive
// book (one std::map per side) applying exactly the same updates. `scripts/bench book` runs it;
// by hand: ./build/libs/book/tickmesh_bench_book
#include <functional>
#include <map>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "tickmesh/book/order_book.h"

namespace tickmesh::book {
namespace {

struct Update {
  bool bid;
  int64_t price, qty;
};

std::vector<Update> MakeUpdates(size_t n, int64_t spread_levels) {
  std::mt19937_64 rng(1);
  std::vector<Update> out;
  out.reserve(n);
  int64_t mid = 1'000'000;
  for (size_t i = 0; i < n; ++i) {
    if (i % 16 == 0) mid += std::uniform_int_distribution<int64_t>(-1, 1)(rng);
    const bool bid = rng() & 1;
    const int64_t d = std::uniform_int_distribution<int64_t>(1, spread_levels)(rng);
    const int64_t qty = (rng() % 4 == 0) ? 0 : static_cast<int64_t>(rng() % 1000 + 1);
    out.push_back({bid, bid ? mid - d : mid + d, qty});
  }
  return out;
}

void BM_ApplyLevelUpdate(benchmark::State& state) {
  const auto updates = MakeUpdates(1 << 16, state.range(0));
  OrderBook book(OrderBook::kDefaultMaxDepth);
  for (int64_t d = 1; d <= state.range(0); ++d) {
    book.SetBid(1'000'000 - d, 1);
    book.SetAsk(1'000'000 + d, 1);
  }
  size_t i = 0;
  for (auto _ : state) {
    const Update& u = updates[i++ & (updates.size() - 1)];
    if (u.bid) {
      book.SetBid(u.price, u.qty);
    } else {
      book.SetAsk(u.price, u.qty);
    }
    benchmark::DoNotOptimize(book.BestBid());
  }
  state.SetItemsProcessed(state.iterations());
}
// Updates spread over the top 20, 200 and 1000 levels.
BENCHMARK(BM_ApplyLevelUpdate)->Arg(20)->Arg(200)->Arg(1000);

// Baseline: the textbook book, a std::map per side (bids descending), same updates, same reads.
void BM_MapBookLevelUpdate(benchmark::State& state) {
  const auto updates = MakeUpdates(1 << 16, state.range(0));
  std::map<int64_t, int64_t, std::greater<>> bids;
  std::map<int64_t, int64_t> asks;
  for (int64_t d = 1; d <= state.range(0); ++d) {
    bids[1'000'000 - d] = 1;
    asks[1'000'000 + d] = 1;
  }
  size_t i = 0;
  for (auto _ : state) {
    const Update& u = updates[i++ & (updates.size() - 1)];
    if (u.bid) {
      if (u.qty == 0) {
        bids.erase(u.price);
      } else {
        bids[u.price] = u.qty;
      }
    } else {
      if (u.qty == 0) {
        asks.erase(u.price);
      } else {
        asks[u.price] = u.qty;
      }
    }
    benchmark::DoNotOptimize(bids.empty() ? 0 : bids.begin()->first);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MapBookLevelUpdate)->Arg(20)->Arg(200)->Arg(1000);

void BM_ApplyDeltaProto(benchmark::State& state) {
  const auto updates = MakeUpdates(1 << 16, 20);
  std::vector<tickmesh::v1::BookDelta> deltas(1024);
  for (size_t i = 0; i < deltas.size(); ++i) {
    for (size_t k = 0; k < 4; ++k) {
      const Update& u = updates[i * 4 + k];
      auto* l = u.bid ? deltas[i].add_bids() : deltas[i].add_asks();
      l->set_price_e8(u.price);
      l->set_qty_e8(u.qty);
    }
  }
  OrderBook book;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(book.ApplyDelta(deltas[i++ & 1023]));
  }
  state.SetItemsProcessed(state.iterations() * 4);
}
// Four level updates per delta, validated.
BENCHMARK(BM_ApplyDeltaProto);

}  // namespace
}  // namespace tickmesh::book

BENCHMARK_MAIN();
