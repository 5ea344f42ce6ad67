// tickmesh-bench-hop: one gRPC hop of the mesh (Publish -> market-data -> Subscribe) against a
// plain gRPC relay of the same two RPCs with no logic, measured the same way in the same run.
//   tickmesh-bench-hop relay --grpc_address 127.0.0.1:PORT     run the baseline relay
//   tickmesh-bench-hop measure --target 127.0.0.1:PORT [--rate 10000 --batch 10 --seconds 5]
// `measure` subscribes, publishes trades at a fixed open-loop rate with the intended send time in
// each trace, and prints one line: "<p50_us> <p99_us> <delivered_per_s> <max_delivered_per_s>".
#include <atomic>
#include <cstdio>
#include <thread>

#include "absl/flags/flag.h"
#include "histogram.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/config.h"
#include "tickmesh/runtime/server.h"
#include "tickmesh/runtime/stream.h"
#include "tickmesh/v1/market_data.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "measure: market-data-shaped server to measure");
ABSL_FLAG(double, rate, 10000, "measure: events per second in the latency phase");
ABSL_FLAG(int, batch, 10, "measure: events per Publish batch");
ABSL_FLAG(double, seconds, 5, "measure: length of each phase");

namespace {

using tickmesh::v1::MarketEventBatch;
using tickmesh::runtime::NowUnixNs;

// The baseline: Publish batches are forwarded to every subscriber as they are, nothing else.
class Relay final : public tickmesh::v1::MarketDataService::CallbackService {
 public:
  grpc::ServerWriteReactor<MarketEventBatch>* Subscribe(
      grpc::CallbackServerContext*, const tickmesh::v1::SubscribeRequest*) override {
    return fanout_.Add(0, 4096);
  }
  grpc::ServerReadReactor<MarketEventBatch>* Publish(grpc::CallbackServerContext*,
                                                     tickmesh::v1::PublishAck* ack) override {
    class Reader : public grpc::ServerReadReactor<MarketEventBatch> {
     public:
      Reader(Relay* relay, tickmesh::v1::PublishAck* ack) : relay_(relay), ack_(ack) {
        StartRead(&batch_);
      }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        ack_->set_batches_accepted(ack_->batches_accepted() + 1);
        relay_->fanout_.Publish([&](const int&, MarketEventBatch* out) {
          *out = batch_;
          return true;
        });
        StartRead(&batch_);
      }
      void OnDone() override { delete this; }

     private:
      Relay* relay_;
      tickmesh::v1::PublishAck* ack_;
      MarketEventBatch batch_;
    };
    return new Reader(this, ack);
  }

 private:
  tickmesh::runtime::FanOut<MarketEventBatch, int> fanout_;
};

struct Phase {
  tickmesh::loadtest::LatencyHistogram latency;
  uint64_t delivered = 0;
  double seconds = 0;
};

// Publishes for `seconds` at `rate` events/s (0 = as fast as possible) and collects what the
// subscriber receives.
Phase RunPhase(const std::string& target, double rate, int batch_size, double seconds) {
  auto channel = tickmesh::runtime::MakeChannel(target);
  auto stub = tickmesh::v1::MarketDataService::NewStub(channel);
  Phase phase;
  std::atomic<uint64_t> received{0};
  grpc::ClientContext sub_ctx;
  tickmesh::v1::SubscribeRequest sub_req;
  sub_req.set_subscriber("bench");
  sub_req.add_venues("bench");
  std::mutex mu;
  std::thread subscriber([&] {
    auto reader = stub->Subscribe(&sub_ctx, sub_req);
    MarketEventBatch batch;
    while (reader->Read(&batch)) {
      int64_t now = NowUnixNs();
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& e : batch.events()) {
        if (!e.has_trade()) continue;  // snapshots sent on subscribe
        phase.latency.Record(now - e.trace().origin_unix_ns());
        received.fetch_add(1);
      }
    }
    reader->Finish();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  grpc::ClientContext pub_ctx;
  tickmesh::v1::PublishAck ack;
  auto writer = stub->Publish(&pub_ctx, &ack);
  static uint64_t seq = 0;
  const int64_t start = NowUnixNs();
  const int64_t end = start + int64_t(seconds * 1e9);
  const double batch_interval_ns = rate > 0 ? 1e9 * batch_size / rate : 0;
  uint64_t batches = 0;
  MarketEventBatch batch;
  for (int i = 0; i < batch_size; ++i) {
    auto* e = batch.add_events();
    e->set_venue("bench");
    e->set_symbol("HOP-USD");
    e->mutable_trade()->set_price_e8(100000000000);
    e->mutable_trade()->set_qty_e8(1000000);
    e->mutable_trade()->set_aggressor_side(tickmesh::v1::SIDE_BUY);
    e->mutable_trace()->set_trace_id(i + 1);
  }
  while (true) {
    int64_t due = start + int64_t(double(batches) * batch_interval_ns);
    int64_t now = NowUnixNs();
    if (now >= end) break;
    if (due > now) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(due - now, 100000)));
      continue;
    }
    for (auto& e : *batch.mutable_events()) {
      e.set_seq(++seq);
      e.mutable_trace()->set_origin_unix_ns(rate > 0 ? due : now);
    }
    if (!writer->Write(batch)) break;
    ++batches;
  }
  writer->WritesDone();
  grpc::Status st = writer->Finish();
  if (!st.ok()) std::fprintf(stderr, "publish failed: %s\n", st.error_message().c_str());
  const uint64_t sent = batches * batch_size;
  for (int i = 0; i < 100 && received.load() < sent; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  phase.seconds = double(NowUnixNs() - start) / 1e9;
  sub_ctx.TryCancel();
  subscriber.join();
  phase.delivered = received.load();
  return phase;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = tickmesh::runtime::InitProcess(argc, argv, "bench-hop",
                                             "tickmesh-bench-hop relay|measure [flags]");
  if (args.size() == 2 && args[1] == "relay") {
    tickmesh::runtime::ServiceHost host(
        tickmesh::runtime::ServiceHost::OptionsFromFlags("bench-relay", 50151, 9151));
    Relay relay;
    host.AddService(&relay, "tickmesh.v1.MarketDataService");
    return host.Run();
  }
  if (args.size() != 2 || args[1] != "measure") {
    std::fprintf(stderr, "usage: tickmesh-bench-hop relay|measure [flags]\n");
    return 2;
  }
  const std::string target = absl::GetFlag(FLAGS_target);
  const int batch = absl::GetFlag(FLAGS_batch);
  const double seconds = absl::GetFlag(FLAGS_seconds);
  Phase paced = RunPhase(target, absl::GetFlag(FLAGS_rate), batch, seconds);
  Phase flat_out = RunPhase(target, 0, batch, seconds);
  std::printf("%.1f %.1f %.0f %.0f\n", double(paced.latency.Percentile(50)) / 1000.0,
              double(paced.latency.Percentile(99)) / 1000.0,
              double(paced.delivered) / paced.seconds, double(flat_out.delivered) / flat_out.seconds);
  return paced.delivered > 0 ? 0 : 1;
}
