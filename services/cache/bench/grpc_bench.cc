// gRPC load driver for the cache service (a benchmark, not a test; scripts/bench cache runs it).
//
//   tickmesh_bench_cache_grpc load --target ADDR --keys N --value_bytes 64
//       writes keys key:000000000000 .. key:<N-1> (the key format redis-benchmark -r uses) in
//       MSet batches of 1000; prints "<keys> <seconds>".
//   tickmesh_bench_cache_grpc run --target ADDR --op set|get|mset|mget --clients C --batch B
//       --keys N --value_bytes 64 --seconds S
//       keeps C requests in flight (C callback-API calls spread over --channels connections)
//       for S seconds on random keys < N (B keys per MSet/MGet; each client cycles through 64
//       requests built up front, as redis-benchmark reuses its command buffer); prints
//       "<ops/s> <requests/s> <p50 us> <p99 us> <errors> <cpu s>" where ops = keys read or written,
//       the latency is per request and cpu is this driver's user+system CPU over the run.
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "tickmesh/v1/cache.grpc.pb.h"

namespace tickmesh::cache {
namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  std::string mode;
  std::string target = "127.0.0.1:50054";
  std::string op = "get";
  int clients = 50;
  int batch = 1;
  int channels = 4;
  int64_t keys = 1'000'000;
  int value_bytes = 64;
  double seconds = 5;
};

std::string Key(int64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key:%012lld", static_cast<long long>(i));
  return buf;
}

std::vector<std::unique_ptr<v1::CacheService::Stub>> Stubs(const Config& cfg) {
  std::vector<std::unique_ptr<v1::CacheService::Stub>> stubs;
  for (int i = 0; i < cfg.channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("tickmesh.bench_channel", i);  // distinct args: one TCP connection each
    stubs.push_back(v1::CacheService::NewStub(
        grpc::CreateCustomChannel(cfg.target, grpc::InsecureChannelCredentials(), args)));
  }
  return stubs;
}

int Load(const Config& cfg) {
  auto stubs = Stubs(cfg);
  const std::string value(static_cast<size_t>(cfg.value_bytes), 'v');
  const auto start = Clock::now();
  // A few MSets in flight at once, blocking calls from as many threads.
  std::atomic<int64_t> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto& stub = *stubs[static_cast<size_t>(t) % stubs.size()];
      while (true) {
        const int64_t first = next.fetch_add(1000);
        if (first >= cfg.keys) return;
        v1::MSetRequest req;
        for (int64_t i = first; i < std::min(cfg.keys, first + 1000); ++i) {
          auto* e = req.add_entries();
          e->set_key(Key(i));
          e->set_value(value);
        }
        v1::MSetResponse resp;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        grpc::Status s = stub.MSet(&ctx, req, &resp);
        if (!s.ok()) {
          std::fprintf(stderr, "load: MSet failed: %s\n", s.error_message().c_str());
          failures.fetch_add(1);
          return;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  if (failures.load() != 0) return 1;
  std::printf("%lld %.2f\n", static_cast<long long>(cfg.keys),
              std::chrono::duration<double>(Clock::now() - start).count());
  return 0;
}

// One in-flight request slot: issues a call, and from its completion the next one.
class Slot {
 public:
  Slot(const Config& cfg, v1::CacheService::Stub* stub, uint64_t seed, std::atomic<bool>* stop,
       std::atomic<int>* active, std::mutex* mu, std::condition_variable* cv)
      : cfg_(cfg),
        stub_(stub),
        rng_(seed),
        stop_(stop),
        active_(active),
        mu_(mu),
        cv_(cv),
        value_(static_cast<size_t>(cfg.value_bytes), 'w') {
    latencies_us_.reserve(1 << 16);
    Build();
  }

  void Start() { Issue(); }
  const std::vector<uint32_t>& latencies() const { return latencies_us_; }
  uint64_t errors() const { return errors_; }

 private:
  int64_t RandomKey() { return static_cast<int64_t>(rng_() % static_cast<uint64_t>(cfg_.keys)); }

  void Issue() {
    if (stop_->load(std::memory_order_relaxed)) {
      std::lock_guard<std::mutex> lock(*mu_);
      if (active_->fetch_sub(1) == 1) cv_->notify_all();
      return;
    }
    ctx_ = std::make_unique<grpc::ClientContext>();
    ctx_->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    started_ = Clock::now();
    auto done = [this](grpc::Status s) {
      if (!s.ok()) {
        if (errors_++ == 0) std::fprintf(stderr, "request failed: %s\n", s.error_message().c_str());
      }
      latencies_us_.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_).count()));
      Issue();
    };
    const size_t k = next_++ % kPool;
    if (cfg_.op == "get") {
      stub_->async()->Get(ctx_.get(), &gets_[k], &get_resp_, done);
    } else if (cfg_.op == "set") {
      stub_->async()->Set(ctx_.get(), &sets_[k], &set_resp_, done);
    } else if (cfg_.op == "mget") {
      stub_->async()->MGet(ctx_.get(), &mgets_[k], &mget_resp_, done);
    } else {
      stub_->async()->MSet(ctx_.get(), &msets_[k], &mset_resp_, done);
    }
  }

  // Requests are built up front (kPool per slot, random keys) and reused in turn, as
  // redis-benchmark reuses its command buffer: the driver's CPU goes to gRPC, not to formatting.
  void Build() {
    for (size_t k = 0; k < kPool; ++k) {
      if (cfg_.op == "get") {
        gets_[k].set_key(Key(RandomKey()));
      } else if (cfg_.op == "set") {
        sets_[k].set_key(Key(RandomKey()));
        sets_[k].set_value(value_);
      } else if (cfg_.op == "mget") {
        for (int i = 0; i < cfg_.batch; ++i) mgets_[k].add_keys(Key(RandomKey()));
      } else {
        for (int i = 0; i < cfg_.batch; ++i) {
          auto* e = msets_[k].add_entries();
          e->set_key(Key(RandomKey()));
          e->set_value(value_);
        }
      }
    }
  }

  const Config& cfg_;
  v1::CacheService::Stub* stub_;
  std::mt19937_64 rng_;
  std::atomic<bool>* stop_;
  std::atomic<int>* active_;
  std::mutex* mu_;
  std::condition_variable* cv_;
  const std::string value_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  Clock::time_point started_;
  static constexpr size_t kPool = 64;
  size_t next_ = 0;
  v1::GetRequest gets_[kPool];
  v1::GetResponse get_resp_;
  v1::SetRequest sets_[kPool];
  v1::SetResponse set_resp_;
  v1::MGetRequest mgets_[kPool];
  v1::MGetResponse mget_resp_;
  v1::MSetRequest msets_[kPool];
  v1::MSetResponse mset_resp_;
  std::vector<uint32_t> latencies_us_;
  uint64_t errors_ = 0;
};

// This process's user + system CPU so far, in seconds.
double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

int Run(const Config& cfg) {
  auto stubs = Stubs(cfg);
  std::atomic<bool> stop{false};
  std::atomic<int> active{cfg.clients};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<Slot>> slots;
  for (int i = 0; i < cfg.clients; ++i) {
    slots.push_back(std::make_unique<Slot>(cfg, stubs[static_cast<size_t>(i) % stubs.size()].get(),
                                           0x9e3779b97f4a7c15ull * static_cast<uint64_t>(i + 1),
                                           &stop, &active, &mu, &cv));
  }
  const double cpu0 = CpuSeconds();
  const auto start = Clock::now();
  for (auto& s : slots) s->Start();
  std::this_thread::sleep_for(std::chrono::duration<double>(cfg.seconds));
  stop.store(true);
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(15), [&] { return active.load() == 0; });
  }
  if (active.load() != 0) {
    std::fprintf(stderr, "requests still in flight after 15 s\n");
    return 1;
  }
  const double cpu = CpuSeconds() - cpu0;
  std::vector<uint32_t> all;
  uint64_t errors = 0;
  for (const auto& s : slots) {
    all.insert(all.end(), s->latencies().begin(), s->latencies().end());
    errors += s->errors();
  }
  if (all.empty()) return 1;
  std::sort(all.begin(), all.end());
  const double requests = static_cast<double>(all.size()) / secs;
  const int per = cfg.op == "mget" || cfg.op == "mset" ? cfg.batch : 1;
  std::printf("%.0f %.0f %u %u %llu %.2f\n", requests * per, requests, all[all.size() / 2],
              all[std::min(all.size() - 1, all.size() * 99 / 100)],
              static_cast<unsigned long long>(errors), cpu);
  return errors == 0 ? 0 : 1;
}

int Main(int argc, char** argv) {
  Config cfg;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s load|run [--flag value]...\n", argv[0]);
    return 2;
  }
  cfg.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string f = argv[i];
    const char* v = argv[i + 1];
    if (f == "--target") {
      cfg.target = v;
    } else if (f == "--op") {
      cfg.op = v;
    } else if (f == "--clients") {
      cfg.clients = std::atoi(v);
    } else if (f == "--batch") {
      cfg.batch = std::atoi(v);
    } else if (f == "--channels") {
      cfg.channels = std::atoi(v);
    } else if (f == "--keys") {
      cfg.keys = std::atoll(v);
    } else if (f == "--value_bytes") {
      cfg.value_bytes = std::atoi(v);
    } else if (f == "--seconds") {
      cfg.seconds = std::atof(v);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  if (cfg.clients < 1 || cfg.batch < 1 || cfg.batch > 1000 || cfg.channels < 1 || cfg.keys < 1 ||
      cfg.value_bytes < 0 || cfg.seconds <= 0 ||
      (cfg.op != "get" && cfg.op != "set" && cfg.op != "mget" && cfg.op != "mset")) {
    std::fprintf(stderr, "bad flag value (see the usage at the top of grpc_bench.cc)\n");
    return 2;
  }
  if (cfg.mode == "load") return Load(cfg);
  if (cfg.mode == "run") return Run(cfg);
  std::fprintf(stderr, "unknown mode %s\n", cfg.mode.c_str());
  return 2;
}

}  // namespace
}  // namespace tickmesh::cache

int main(int argc, char** argv) {
  // As in tickmesh-cache: no absl::Mutex deadlock detection (gRPC locks on every call).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return tickmesh::cache::Main(argc, argv);
}
