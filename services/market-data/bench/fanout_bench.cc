// tickmesh-bench-fanout: events/s delivered from one Publish client to N Subscribe streams over
// loopback gRPC, against any MarketDataService-shaped server (market-data, or the plain relay of
// tickmesh-bench-hop as the baseline). Not a test; run through `scripts/bench fanout`.
//
//   tickmesh-bench-fanout --target 127.0.0.1:PORT [--subscribers 4 --batch 100 --step_s 2
//                         --server_pid PID --coalesce_ms 0]
//
// Ramps the publish rate (50 k .. 3.2 M events/s, doubling-ish steps of --step_s seconds) with
// trades in batches of --batch. A step is sustained when the publisher kept >= 95 % of the rate
// and every subscriber received every event of the step (no disconnect) within 2 s of its end.
// Prints one line for the best sustained step:
//   "<publish_events_per_s> <delivered_events_per_s> <server_rss_kib>"
// delivered = events received summed over the subscribers, per second of the step; RSS is the
// server's peak VmRSS sampled during that step (0 without --server_pid). Exit 1 if no step held.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "grpcpp/grpcpp.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/config.h"
#include "tickmesh/v1/market_data.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "MarketDataService to measure");
ABSL_FLAG(int, subscribers, 4, "Subscribe streams");
ABSL_FLAG(int, batch, 100, "Events per Publish batch");
ABSL_FLAG(double, step_s, 2, "Seconds per rate step");
ABSL_FLAG(int, server_pid, 0, "Server pid, to sample its RSS (0 = do not sample)");
ABSL_FLAG(int, coalesce_ms, 0,
          "SubscribeRequest.coalesce_ms of every subscriber (0 = a message per published batch)");

namespace {

using tickmesh::runtime::MonotonicNs;
using tickmesh::v1::MarketEventBatch;

int64_t RssKib(int pid) {
  if (pid <= 0) return 0;
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (f >> key) {
    if (key == "VmRSS:") {
      int64_t kib = 0;
      f >> kib;
      return kib;
    }
    f.ignore(1 << 16, '\n');
  }
  return 0;
}

struct Subscriber {
  grpc::ClientContext ctx;
  std::atomic<uint64_t> received{0};
  std::atomic<bool> ended{false};
  std::thread thread;
};

}  // namespace

int main(int argc, char** argv) {
  tickmesh::runtime::InitProcess(argc, argv, "bench-fanout",
                                 "tickmesh-bench-fanout --target HOST:PORT [flags]");
  const std::string target = absl::GetFlag(FLAGS_target);
  const int n_subs = absl::GetFlag(FLAGS_subscribers);
  const int batch_size = absl::GetFlag(FLAGS_batch);
  const double step_s = absl::GetFlag(FLAGS_step_s);
  const int pid = absl::GetFlag(FLAGS_server_pid);
  auto stub = tickmesh::v1::MarketDataService::NewStub(tickmesh::runtime::MakeChannel(target));

  // Each subscriber on its own channel (own connection), as separate consumers would be.
  std::vector<std::unique_ptr<Subscriber>> subs;
  std::vector<std::unique_ptr<tickmesh::v1::MarketDataService::Stub>> sub_stubs;
  for (int i = 0; i < n_subs; ++i) {
    auto& s = subs.emplace_back(std::make_unique<Subscriber>());
    grpc::ChannelArguments args;
    args.SetInt("tickmesh.bench.subscriber", i);  // distinct args: a connection of its own
    args.SetMaxReceiveMessageSize(16 << 20);
    sub_stubs.push_back(tickmesh::v1::MarketDataService::NewStub(
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args)));
    tickmesh::v1::SubscribeRequest req;
    req.set_subscriber("bench-" + std::to_string(i));
    req.add_venues("bench");
    req.set_coalesce_ms(static_cast<uint32_t>(std::max(0, absl::GetFlag(FLAGS_coalesce_ms))));
    auto* stub_i = sub_stubs.back().get();
    s->thread = std::thread([s = s.get(), stub_i, req] {
      auto reader = stub_i->Subscribe(&s->ctx, req);
      MarketEventBatch b;
      while (reader->Read(&b)) {
        uint64_t n = 0;
        for (const auto& e : b.events()) n += e.has_trade() ? 1 : 0;
        s->received.fetch_add(n, std::memory_order_relaxed);
      }
      grpc::Status st = reader->Finish();
      if (!st.ok() && st.error_code() != grpc::StatusCode::CANCELLED) {
        std::fprintf(stderr, "subscriber ended: %d %s\n", st.error_code(),
                     st.error_message().c_str());
      }
      s->ended = true;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  grpc::ClientContext pub_ctx;
  tickmesh::v1::PublishAck ack;
  auto writer = stub->Publish(&pub_ctx, &ack);
  MarketEventBatch batch;
  for (int i = 0; i < batch_size; ++i) {
    auto* e = batch.add_events();
    e->set_venue("bench");
    e->set_symbol("FAN-USD");
    e->mutable_trade()->set_price_e8(6'000'000'000'000);
    e->mutable_trade()->set_qty_e8(1'000'000);
    e->mutable_trade()->set_aggressor_side(tickmesh::v1::SIDE_BUY);
    e->mutable_trace()->set_trace_id(static_cast<uint64_t>(i) + 1);
  }
  uint64_t seq = 0, published = 0;
  double best_pub = 0, best_delivered = 0;
  int64_t best_rss = 0;
  for (double rate : {50e3, 100e3, 200e3, 300e3, 400e3, 600e3, 800e3, 1.2e6, 1.6e6, 2.4e6, 3.2e6}) {
    std::vector<uint64_t> before;
    for (auto& s : subs) before.push_back(s->received.load());
    const int64_t start = MonotonicNs();
    const int64_t end = start + static_cast<int64_t>(step_s * 1e9);
    const double interval_ns = 1e9 * batch_size / rate;
    uint64_t step_batches = 0;
    int64_t rss = 0, next_sample = start;
    bool write_failed = false;
    while (true) {
      const int64_t now = MonotonicNs();
      if (now >= end) break;
      if (now >= next_sample) {
        rss = std::max(rss, RssKib(pid));
        next_sample = now + 100'000'000;
      }
      const int64_t due =
          start + static_cast<int64_t>(static_cast<double>(step_batches) * interval_ns);
      if (due > now) {
        std::this_thread::sleep_for(
            std::chrono::nanoseconds(std::min<int64_t>(due - now, 200'000)));
        continue;
      }
      const int64_t origin = tickmesh::runtime::NowUnixNs();
      for (auto& e : *batch.mutable_events()) {
        e.set_seq(++seq);
        e.mutable_trace()->set_origin_unix_ns(origin);
      }
      if (!writer->Write(batch)) {
        write_failed = true;
        break;
      }
      ++step_batches;
    }
    const double elapsed = static_cast<double>(MonotonicNs() - start) * 1e-9;
    const uint64_t step_events = step_batches * static_cast<uint64_t>(batch_size);
    published += step_events;
    // Wait up to 2 s for every subscriber to have everything published so far.
    bool all = false;
    for (int i = 0; i < 200 && !all; ++i) {
      all = true;
      for (auto& s : subs) all = all && s->received.load() >= published;
      if (!all) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    rss = std::max(rss, RssKib(pid));
    uint64_t delivered = 0;
    bool ended = false;
    for (size_t i = 0; i < subs.size(); ++i) {
      delivered += subs[i]->received.load() - before[i];
      ended = ended || subs[i]->ended.load();
    }
    const double pub_rate = static_cast<double>(step_events) / elapsed;
    const bool held = !write_failed && !ended && all && pub_rate >= 0.95 * rate;
    std::fprintf(stderr, "  rate %8.0f/s: published %8.0f/s delivered %9.0f/s rss %6lld KiB %s\n",
                 rate, pub_rate, static_cast<double>(delivered) / elapsed,
                 static_cast<long long>(rss), held ? "held" : "NOT held");
    if (!held) break;
    best_pub = pub_rate;
    best_delivered = static_cast<double>(delivered) / elapsed;
    best_rss = rss;
  }
  pub_ctx.TryCancel();
  for (auto& s : subs) s->ctx.TryCancel();
  for (auto& s : subs) s->thread.join();
  std::printf("%.0f %.0f %lld\n", best_pub, best_delivered, static_cast<long long>(best_rss));
  return best_pub > 0 ? 0 : 1;
}
