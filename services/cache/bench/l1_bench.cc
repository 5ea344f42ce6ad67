// L1 throughput driver (a benchmark, not a test): gets and sets per second on a warm L1Cache,
// against a baseline measured in the same run on the same keys — a plain
// absl::flat_hash_map<std::string, std::string> under one std::mutex, find + copy of the value
// (the same work a get does, minus LRU, TTL and sharding).
//
//   tickmesh_bench_cache_l1 [--keys 100000] [--value_bytes 128] [--seconds 1] [--reps 3]
//
// Prints one line per figure and, last, `cache-l1: <M gets/s> M/s (baseline <M/s> M/s, ratio r)`
// for one thread. Each figure is the median of --reps runs of --seconds. The one-thread get and
// set figures alternate baseline and L1 runs (baseline, L1, baseline, L1, ...) so that both see
// the same machine load on a shared host, count ops per second of CPU time the thread got (time
// preempted by other processes counts for neither; wall-clock medians are printed too), and
// their ratio is the median of the per-pair ratios. Keys
// are visited in a fixed pseudo-random order (same order for the cache and the baseline).
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "l1_cache.h"

namespace tickmesh::cache {
namespace {

struct Config {
  int keys = 100000;
  int value_bytes = 128;
  double seconds = 1.0;
  int reps = 3;
};

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Rate {
  double wall = 0;  // M ops per second of wall time, all threads
  double cpu = 0;   // M ops per second of CPU time each thread got, summed over threads
};

// Runs `op` on `threads` threads for cfg.seconds.
Rate Measure(const Config& cfg, int threads, const std::function<void(int t, size_t i)>& op) {
  std::atomic<bool> stop{false};
  std::atomic<int> ready{0};
  std::vector<uint64_t> counts(static_cast<size_t>(threads) * 8, 0);
  std::vector<double> cpu_rates(static_cast<size_t>(threads) * 8, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < threads) {
      }
      size_t i = static_cast<size_t>(t) * 7919;
      uint64_t n = 0;
      const double cpu0 = ThreadCpuSeconds();
      while (!stop.load(std::memory_order_relaxed)) {
        for (int k = 0; k < 1024; ++k) op(t, i++);
        n += 1024;
      }
      const double cpu = ThreadCpuSeconds() - cpu0;
      counts[static_cast<size_t>(t) * 8] = n;
      cpu_rates[static_cast<size_t>(t) * 8] = cpu > 0 ? static_cast<double>(n) / cpu / 1e6 : 0;
    });
  }
  while (ready.load() < threads) {
  }
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(cfg.seconds));
  stop.store(true);
  for (auto& th : pool) th.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Rate rate;
  uint64_t total = 0;
  for (int t = 0; t < threads; ++t) {
    total += counts[static_cast<size_t>(t) * 8];
    rate.cpu += cpu_rates[static_cast<size_t>(t) * 8];
  }
  rate.wall = static_cast<double>(total) / secs / 1e6;
  return rate;
}

double MedianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median wall-clock rate (M ops/s, all threads) of cfg.reps runs.
double Median(const Config& cfg, int threads, const std::function<void(int t, size_t i)>& op) {
  std::vector<double> runs;
  for (int r = 0; r < cfg.reps; ++r) runs.push_back(Measure(cfg, threads, op).wall);
  return MedianOf(std::move(runs));
}

// Baseline and candidate measured alternately on one thread, cfg.reps pairs. Rates are per
// second of CPU time the measuring thread got (CLOCK_THREAD_CPUTIME_ID), so time the thread spent
// preempted by other tenants of a shared machine counts for neither; the wall-clock medians are
// kept alongside.
struct Paired {
  double baseline = 0;       // median M/s of CPU time
  double measured = 0;       // median M/s of CPU time
  double ratio = 0;          // median of measured/baseline over the pairs
  double baseline_wall = 0;  // median M/s of wall time
  double measured_wall = 0;  // median M/s of wall time
};
Paired MeasurePaired(const Config& cfg, const std::function<void(int t, size_t i)>& baseline,
                     const std::function<void(int t, size_t i)>& measured) {
  std::vector<double> b, m, r, bw, mw;
  for (int i = 0; i < cfg.reps; ++i) {
    const Rate rb = Measure(cfg, 1, baseline);
    const Rate rm = Measure(cfg, 1, measured);
    b.push_back(rb.cpu);
    m.push_back(rm.cpu);
    bw.push_back(rb.wall);
    mw.push_back(rm.wall);
    r.push_back(rm.cpu / rb.cpu);
  }
  return Paired{MedianOf(b), MedianOf(m), MedianOf(r), MedianOf(bw), MedianOf(mw)};
}

int Main(int argc, char** argv) {
  Config cfg;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* v = argv[i + 1];
    if (flag == "--keys") {
      cfg.keys = std::atoi(v);
    } else if (flag == "--value_bytes") {
      cfg.value_bytes = std::atoi(v);
    } else if (flag == "--seconds") {
      cfg.seconds = std::atof(v);
    } else if (flag == "--reps") {
      cfg.reps = std::atoi(v);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (cfg.keys < 1 || cfg.value_bytes < 0 || cfg.seconds <= 0 || cfg.reps < 1) {
    std::fprintf(stderr, "--keys >= 1, --value_bytes >= 0, --seconds > 0, --reps >= 1\n");
    return 2;
  }
  std::vector<std::string> keys;
  keys.reserve(static_cast<size_t>(cfg.keys));
  for (int i = 0; i < cfg.keys; ++i) keys.push_back("ticker:binance:SYM" + std::to_string(i));
  // Visit order: 1 Mi pseudo-random key indices (xorshift), shared by every measurement.
  constexpr size_t kOrder = size_t{1} << 20;
  std::vector<uint32_t> order(kOrder);
  uint64_t x = 88172645463325252ull;
  for (auto& o : order) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    o = static_cast<uint32_t>(x % static_cast<uint64_t>(cfg.keys));
  }
  auto key_at = [&](size_t i) -> const std::string& { return keys[order[i & (kOrder - 1)]]; };
  const std::string value(static_cast<size_t>(cfg.value_bytes), 'v');
  const std::string value2(static_cast<size_t>(cfg.value_bytes), 'w');

  // Per-thread output buffers (a get copies the value out, like the service does).
  std::vector<std::string> out(16 * 2);
  for (auto& o : out) o.reserve(static_cast<size_t>(cfg.value_bytes) + 64);
  auto buf = [&](int t) -> std::string& { return out[static_cast<size_t>(t) * 16]; };

  // Baseline.
  std::mutex base_mu;
  absl::flat_hash_map<std::string, std::string> base;
  for (const auto& k : keys) base.emplace(k, value);
  auto base_get = [&](int t, size_t i) {
    std::lock_guard<std::mutex> lock(base_mu);
    auto it = base.find(key_at(i));
    if (it != base.end()) buf(t).assign(it->second);
  };
  auto base_set = [&](int, size_t i) {
    std::lock_guard<std::mutex> lock(base_mu);
    auto it = base.find(key_at(i));
    if (it != base.end()) it->second.assign(value2);
  };

  L1Options o;
  o.max_entries = static_cast<size_t>(cfg.keys) * 2;
  o.max_bytes = size_t{4} << 30;
  L1Cache l1(o);
  for (const auto& k : keys) l1.Set(k, value, 0);
  auto get = [&](int t, size_t i) {
    int64_t ttl;
    l1.Get(key_at(i), &buf(t), &ttl);
  };
  auto set = [&](int, size_t i) { l1.Set(key_at(i), value2, 0); };
  const double get2 = Median(cfg, 2, get);
  const Paired set1 = MeasurePaired(cfg, base_set, set);
  const double set2 = Median(cfg, 2, set);
  for (const auto& k : keys) l1.Set(k, value, 3'600'000);  // entries with a TTL: reads the clock
  const double get_ttl = Median(cfg, 1, get);
  for (const auto& k : keys) l1.Set(k, value, 0);
  const Paired get1 = MeasurePaired(cfg, base_get, get);
  const L1Stats st = l1.Stats();

  std::printf("L1 %d keys, %d-byte values, %d shards, median of %d x %.1f s\n", cfg.keys,
              cfg.value_bytes, o.shards, cfg.reps, cfg.seconds);
  std::printf("  baseline get (flat_hash_map + std::mutex), 1 thread  %7.2f M/s\n", get1.baseline);
  std::printf("  baseline set (overwrite),                  1 thread  %7.2f M/s\n", set1.baseline);
  std::printf("  L1 get, 2 threads                                    %7.2f M/s\n", get2);
  std::printf("  L1 set (overwrite), 1 thread                         %7.2f M/s (ratio %.2f)\n",
              set1.measured, set1.ratio);
  std::printf("  L1 set (overwrite), 2 threads                        %7.2f M/s\n", set2);
  std::printf("  L1 get, entries with a TTL, 1 thread                 %7.2f M/s\n", get_ttl);
  std::printf("  L1 get, 1 thread                                     %7.2f M/s (%.0f ns/get)\n",
              get1.measured, 1e3 / get1.measured);
  std::printf(
      "  wall-clock medians, 1 thread: get %.2f M/s (baseline %.2f), set %.2f M/s (baseline "
      "%.2f)\n",
      get1.measured_wall, get1.baseline_wall, set1.measured_wall, set1.baseline_wall);
  if (st.misses != 0 || st.evictions != 0) {
    std::fprintf(stderr, "unexpected misses %llu / evictions %llu\n",
                 static_cast<unsigned long long>(st.misses),
                 static_cast<unsigned long long>(st.evictions));
    return 1;
  }
  std::printf("cache-l1: %.2f M/s (baseline %.2f M/s, ratio %.2f)\n", get1.measured, get1.baseline,
              get1.ratio);
  return 0;
}

}  // namespace
}  // namespace tickmesh::cache

int main(int argc, char** argv) { return tickmesh::cache::Main(argc, argv); }
