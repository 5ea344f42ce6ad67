// tickmesh-bench-loadgen: how fast the open-loop generator alone can go on one core, against an
// in-process sink that does what the tick driver does per message except the network: build the
// traced trade (and book) protobufs, serialize the batch as gRPC would, and record the publish
// latency in the Recorder.
//
//   tickmesh-bench-loadgen --rate 200000 --seconds 3
// prints three lines:
//   paced:    at the target rate — share of the schedule sent, worst and p99 hand-off lag
//   capacity: the generator running behind a 10 M/s schedule (its ceiling), msg/s
//   baseline: the same protobuf build + serialize in a bare loop (no schedule, no recording), msg/s
// The thread is pinned to one CPU.
#include <sched.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "drivers.h"
#include "open_loop.h"
#include "tickmesh/runtime/clock.h"

ABSL_FLAG(double, rate, 200000, "Target messages per second for the paced run");
ABSL_FLAG(double, seconds, 3, "Length of each run");
ABSL_FLAG(int, cpu, 0, "CPU to pin to (-1 = no pinning)");

namespace tickmesh::loadtest {
namespace {

struct Sink {
  explicit Sink(const ScenarioSpec& spec) : source(spec, 7), rec("publish") {}
  void operator()(const int64_t* intended, size_t n, uint64_t first) {
    const int64_t now = runtime::NowUnixNs();
    source.Build(intended, n, first, now, &batch);
    batch.SerializeToString(&wire);
    bytes += wire.size();
    const int64_t done = runtime::NowUnixNs();
    lat.resize(n);
    for (size_t i = 0; i < n; ++i) lat[i] = done - intended[i];
    rec.RecordMany("publish", lat.data(), n);
    rec.Sent(n);
  }
  TickSource source;
  Recorder rec;
  tickmesh::v1::MarketEventBatch batch;
  std::string wire;
  std::vector<int64_t> lat;
  uint64_t bytes = 0;
};

int Main() {
  if (int cpu = absl::GetFlag(FLAGS_cpu); cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
  }
  const double rate = absl::GetFlag(FLAGS_rate);
  const double seconds = absl::GetFlag(FLAGS_seconds);
  ScenarioSpec spec;
  spec.symbols = {"LT-USD", "LT2-USD"};

  // Paced: does the generator keep the schedule at `rate`?
  {
    Sink sink(spec);
    auto shape = LoadShape::Create({{seconds, rate, rate, ""}});
    const int64_t start = runtime::NowUnixNs() + 1000000;
    GeneratorStats st = RunOpenLoop(*shape, start, GeneratorOptions{}, std::ref(sink));
    const double elapsed = double(runtime::NowUnixNs() - start) / 1e9;
    RunResult r;
    sink.rec.MoveInto(&r, elapsed);
    const auto& h = r.operations["publish"].latency_ns;
    std::printf(
        "paced:    target %.0f msg/s for %.1f s: sent %.1f%% of the schedule, "
        "%.0f msg/s, hand-off lag p50 %.1f us p99 %.1f us max %.1f us\n",
        rate, seconds, 100.0 * double(st.sent) / double(shape->TotalEvents()),
        double(st.sent) / elapsed, double(h.Percentile(50)) / 1e3, double(h.Percentile(99)) / 1e3,
        double(h.max()) / 1e3);
  }
  // Capacity: a schedule far above what one core can do, so the generator never sleeps.
  double capacity = 0;
  {
    Sink sink(spec);
    auto shape = LoadShape::Create({{seconds, 1e7, 1e7, ""}});
    const int64_t start = runtime::NowUnixNs();
    std::atomic<bool> stop{false};
    GeneratorOptions opts;
    opts.stop = &stop;
    uint64_t sent = 0;
    RunOpenLoop(*shape, start, opts, [&](const int64_t* t, size_t n, uint64_t first) {
      sink(t, n, first);
      sent += n;
      if (runtime::NowUnixNs() - start >= int64_t(seconds * 1e9)) stop.store(true);
    });
    capacity = double(sent) / (double(runtime::NowUnixNs() - start) / 1e9);
    std::printf("capacity: %.0f msg/s (%.0f bytes/msg on the wire)\n", capacity,
                sent ? double(sink.bytes) / double(sent) : 0.0);
  }
  // Baseline: the unavoidable work alone — build and serialize the same batches of 256.
  double baseline = 0;
  {
    TickSource source(spec, 7);
    tickmesh::v1::MarketEventBatch batch;
    std::string wire;
    std::vector<int64_t> intended(256);
    const int64_t start = runtime::NowUnixNs();
    uint64_t sent = 0;
    while (runtime::NowUnixNs() - start < int64_t(seconds * 1e9)) {
      const int64_t now = runtime::NowUnixNs();
      for (auto& t : intended) t = now;
      source.Build(intended.data(), intended.size(), sent, now, &batch);
      batch.SerializeToString(&wire);
      sent += intended.size();
    }
    baseline = double(sent) / (double(runtime::NowUnixNs() - start) / 1e9);
    std::printf("baseline: %.0f msg/s (build + serialize only)\n", baseline);
  }
  std::printf("loadgen: %.0f msg/s (baseline %.0f msg/s, ratio %.2f)\n", capacity, baseline,
              capacity / baseline);
  return 0;
}

}  // namespace
}  // namespace tickmesh::loadtest

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return tickmesh::loadtest::Main();
}
