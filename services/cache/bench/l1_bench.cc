// L1 micro-benchmarks: Get hits and Set overwrites on 1 and 2 threads over a warm cache.
//   flock /tmp/tickmesh-build.lock cmake --build build --target tickmesh_bench_cache_l1 -j2
//   ./build/services/cache/tickmesh_bench_cache_l1
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "l1_cache.h"

namespace tickmesh::cache {
namespace {

constexpr int kKeys = 100000;

L1Cache& SharedCache() {
  static L1Cache* cache = [] {
    L1Options o;
    o.max_entries = 1'000'000;
    o.max_bytes = size_t{512} << 20;
    auto* c = new L1Cache(o);
    for (int i = 0; i < kKeys; ++i)
      c->Set("ticker:binance:SYM" + std::to_string(i), std::string(128, 'v'), 0);
    return c;
  }();
  return *cache;
}

std::vector<std::string> Keys() {
  std::vector<std::string> keys;
  keys.reserve(kKeys);
  for (int i = 0; i < kKeys; ++i) keys.push_back("ticker:binance:SYM" + std::to_string(i));
  return keys;
}

void BM_L1GetHit(benchmark::State& state) {
  L1Cache& c = SharedCache();
  const std::vector<std::string> keys = Keys();
  std::string value;
  value.reserve(256);
  int64_t ttl;
  size_t i = static_cast<size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    benchmark::DoNotOptimize(c.Get(keys[i % keys.size()], &value, &ttl));
    i += 31;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_L1GetHit)->Threads(1)->Threads(2)->UseRealTime();

void BM_L1SetOverwrite(benchmark::State& state) {
  L1Cache& c = SharedCache();
  const std::vector<std::string> keys = Keys();
  const std::string value(128, 'w');
  size_t i = static_cast<size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    c.Set(keys[i % keys.size()], value, 0);
    i += 31;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_L1SetOverwrite)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace tickmesh::cache
