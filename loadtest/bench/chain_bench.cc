// tickmesh-bench-chain: the floor of the mesh's tick -> order path on this machine — the same
// four gRPC streams in the same directions between the same number of processes, with no service
// work: three relays that forward every message and append one trace stamp.
//
//   driver --Publish(MarketEventBatch)--> relay-a (MarketDataService: Publish, Subscribe)
//   relay-b --MarketDataService.Subscribe--> relay-a; relay-b serves SignalService.Subscribe
//   relay-c --SignalService.Subscribe--> relay-b; relay-c serves ExecutionService.StreamOrderEvents
//   driver --StreamOrderEvents--> relay-c
//
// Every message in makes exactly one message out: relay-a forwards the MarketEventBatch itself,
// relay-b turns each batch into one SignalBatch (one Signal per traced trade, sized like
// signal's), relay-c each SignalBatch into one OrderEventBatch (one OrderEvent per signal, sized
// like execution's). Unlike the mesh, every tick becomes an "order", so hops 3 and 4 carry as
// many messages as hops 1 and 2 (the mesh's carry fewer): the chain is a floor for hops 1-2 and
// an upper bound on the message rate of hops 3-4.
//
// Thread model as in the services: servers are runtime::ServiceHost (gRPC callback API, queued
// writers via runtime::FanOut::PublishShared), upstream subscriptions are runtime::StreamLoop +
// ReadStreamOnCallbacks (signal's and execution's readers), the driver publishes with a blocking
// ClientWriter from the open-loop generator thread and reads order events on callbacks, like
// tickmesh-loadtest's tick driver (same TickSource messages, same generator and histogram).
//
//   tickmesh-bench-chain relay-a --grpc_address=127.0.0.1:PA
//   tickmesh-bench-chain relay-b --grpc_address=127.0.0.1:PB --upstream=127.0.0.1:PA
//   tickmesh-bench-chain relay-c --grpc_address=127.0.0.1:PC --upstream=127.0.0.1:PB
//   tickmesh-bench-chain drive --publish_target=127.0.0.1:PA --events_target=127.0.0.1:PC
//       [--rate 20000 --seconds 12 --warmup_rate 2000 --warmup_s 2 --send_interval_us 250]
//
// `drive` prints one line "p50_us p90_us p99_us p999_us max_us sent received" (latency from each
// tick's intended send time to its order event's arrival, warm-up included like perf-20k) and
// per-hop p50/p99 on stderr. It exits 0 only when every tick came back once, in order.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "drivers.h"
#include "histogram.h"
#include "load_shape.h"
#include "open_loop.h"
#include "scenario.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/config.h"
#include "tickmesh/runtime/server.h"
#include "tickmesh/runtime/stream.h"
#include "tickmesh/v1/execution.grpc.pb.h"
#include "tickmesh/v1/market_data.grpc.pb.h"
#include "tickmesh/v1/signal.grpc.pb.h"

ABSL_FLAG(std::string, upstream, "", "relay-b / relay-c: address of the previous relay");
ABSL_FLAG(std::string, publish_target, "127.0.0.1:50161", "drive: relay-a's address");
ABSL_FLAG(std::string, events_target, "127.0.0.1:50163", "drive: relay-c's address");
ABSL_FLAG(double, rate, 20000, "drive: ticks per second in the steady stage");
ABSL_FLAG(double, seconds, 12, "drive: length of the steady stage");
ABSL_FLAG(double, warmup_rate, 2000, "drive: ticks per second in the warm-up stage");
ABSL_FLAG(double, warmup_s, 2, "drive: length of the warm-up stage (0 = none)");
ABSL_FLAG(int, send_interval_us, 0,
          "drive: hand due ticks over at most this often, as one Publish batch (0 = at once)");
ABSL_FLAG(double, drain_s, 3, "drive: longest wait for the last order events after sending");
ABSL_FLAG(int, queue_capacity, 4096, "relays: batches queued per subscriber");

namespace {

namespace v1 = tickmesh::v1;
using tickmesh::runtime::NowUnixNs;

void Stamp(v1::Trace* trace, const char* service, int64_t now) {
  auto* hop = trace->add_hops();
  hop->set_service(service);
  hop->set_stage("recv");
  hop->set_unix_ns(now);
}

// relay-a: Publish batches go to every subscriber unchanged but for a stamp on each trace.
class RelayA final : public v1::MarketDataService::CallbackService {
 public:
  explicit RelayA(size_t capacity) : capacity_(capacity) {}

  grpc::ServerWriteReactor<v1::MarketEventBatch>* Subscribe(grpc::CallbackServerContext*,
                                                            const v1::SubscribeRequest*) override {
    return fanout_.Add(0, capacity_);
  }

  grpc::ServerReadReactor<v1::MarketEventBatch>* Publish(grpc::CallbackServerContext*,
                                                         v1::PublishAck* ack) override {
    class Reader final : public grpc::ServerReadReactor<v1::MarketEventBatch> {
     public:
      Reader(RelayA* relay, v1::PublishAck* ack) : relay_(relay), ack_(ack) { StartRead(&batch_); }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        const int64_t now = NowUnixNs();
        for (auto& e : *batch_.mutable_events()) {
          if (e.has_trace()) Stamp(e.mutable_trace(), "relay-a", now);
        }
        ack_->set_batches_accepted(ack_->batches_accepted() + 1);
        auto out = std::make_shared<v1::MarketEventBatch>();
        out->Swap(&batch_);
        relay_->fanout_.PublishShared(out, [](const int&, const auto& all) { return all; });
        StartRead(&batch_);
      }
      void OnDone() override { delete this; }

     private:
      RelayA* relay_;
      v1::PublishAck* ack_;
      v1::MarketEventBatch batch_;
    };
    return new Reader(this, ack);
  }

  void Close() { fanout_.CloseAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down")); }

 private:
  size_t capacity_;
  tickmesh::runtime::FanOut<v1::MarketEventBatch, int> fanout_;
};

// relay-b: one SignalBatch per market batch, one Signal per traced trade.
class RelayB final : public v1::SignalService::CallbackService {
 public:
  explicit RelayB(size_t capacity) : capacity_(capacity) {}

  grpc::ServerWriteReactor<v1::SignalBatch>* Subscribe(
      grpc::CallbackServerContext*, const v1::SubscribeSignalsRequest*) override {
    return fanout_.Add(0, capacity_);
  }

  void OnBatch(const v1::MarketEventBatch& in) {
    const int64_t now = NowUnixNs();
    auto out = std::make_shared<v1::SignalBatch>();
    for (const auto& e : in.events()) {
      if (!e.has_trade() || !e.has_trace()) continue;
      v1::Signal* s = out->add_signals();
      s->set_signal_id("chain-" + e.symbol() + "-" + std::to_string(e.seq()));
      s->set_venue(e.venue());
      s->set_symbol(e.symbol());
      s->set_side(e.trade().aggressor_side());
      s->set_strength(0.5);
      s->set_target_price_e8(e.trade().price_e8());
      s->set_target_qty_e8(e.trade().qty_e8());
      s->set_strategy("macd");
      s->set_reason("chain relay");
      s->set_unix_ns(now);
      s->set_market_seq(e.seq());
      *s->mutable_trace() = e.trace();
      Stamp(s->mutable_trace(), "relay-b", now);
    }
    fanout_.PublishShared(out, [](const int&, const auto& all) { return all; });
  }

  void Close() { fanout_.CloseAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down")); }

 private:
  size_t capacity_;
  tickmesh::runtime::FanOut<v1::SignalBatch, int> fanout_;
};

// relay-c: one OrderEventBatch per signal batch, one OrderEvent (an ack) per signal. Only
// StreamOrderEvents is implemented; the other ExecutionService methods answer UNIMPLEMENTED.
class RelayC final : public v1::ExecutionService::CallbackService {
 public:
  explicit RelayC(size_t capacity) : capacity_(capacity) {}

  grpc::ServerWriteReactor<v1::OrderEventBatch>* StreamOrderEvents(
      grpc::CallbackServerContext*, const v1::StreamOrderEventsRequest*) override {
    return fanout_.Add(0, capacity_);
  }

  void OnBatch(const v1::SignalBatch& in) {
    const int64_t now = NowUnixNs();
    auto out = std::make_shared<v1::OrderEventBatch>();
    for (const auto& s : in.signals()) {
      v1::OrderEvent* ev = out->add_events();
      const uint64_t id = ++next_id_;
      ev->set_event_id("o-" + std::to_string(id) + ":1");
      ev->set_seq(id);
      ev->set_type(v1::ORDER_EVENT_TYPE_ACKED);
      v1::Order* o = ev->mutable_order();
      o->set_order_id("o-" + std::to_string(id));
      o->set_client_order_id(s.signal_id());
      o->set_venue(s.venue());
      o->set_symbol(s.symbol());
      o->set_side(s.side());
      o->set_type(v1::ORDER_TYPE_LIMIT);
      o->set_price_e8(s.target_price_e8());
      o->set_qty_e8(s.target_qty_e8());
      o->set_status(v1::ORDER_STATUS_ACKED);
      o->set_strategy(s.strategy());
      o->set_created_unix_ns(now);
      o->set_updated_unix_ns(now);
      o->set_version(1);
      ev->set_unix_ns(now);
      *ev->mutable_trace() = s.trace();
      Stamp(ev->mutable_trace(), "relay-c", now);
    }
    fanout_.PublishShared(out, [](const int&, const auto& all) { return all; });
  }

  void Close() { fanout_.CloseAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down")); }

 private:
  size_t capacity_;
  uint64_t next_id_ = 0;  // the upstream reader's callbacks are never concurrent
  tickmesh::runtime::FanOut<v1::OrderEventBatch, int> fanout_;
};

// Runs a relay process: serve, follow the upstream (if any) on callbacks, drain on SIGTERM.
template <typename Service, typename UpMsg, typename Open>
int RunRelay(const char* name, const char* grpc_service, int port, Service* service, Open open) {
  tickmesh::runtime::ServiceHost host(
      tickmesh::runtime::ServiceHost::OptionsFromFlags(name, port, port + 1000));
  host.AddService(service, grpc_service);
  std::unique_ptr<tickmesh::runtime::StreamLoop> loop;
  if constexpr (!std::is_same_v<UpMsg, void>) {
    const std::string upstream = absl::GetFlag(FLAGS_upstream);
    if (upstream.empty()) {
      std::fprintf(stderr, "%s: --upstream is required\n", name);
      return 2;
    }
    auto channel = tickmesh::runtime::MakeChannel(upstream);
    loop = std::make_unique<tickmesh::runtime::StreamLoop>(
        name, "upstream",
        [channel, service, open](grpc::ClientContext& ctx, const std::function<void()>& connected) {
          connected();
          return tickmesh::runtime::ReadStreamOnCallbacks<UpMsg>(
              ctx,
              [&](grpc::ClientContext* c, grpc::ClientReadReactor<UpMsg>* r) {
                open(channel, c, r);
              },
              nullptr, [service](const UpMsg& m) { service->OnBatch(m); });
        });
  }
  host.OnDrain([&] {
    if (loop) loop->Stop();
    service->Close();
  });
  if (absl::Status st = host.Start(); !st.ok()) {
    std::fprintf(stderr, "%s: %s\n", name, st.ToString().c_str());
    return 1;
  }
  if (loop) loop->Start();
  return host.Run();
}

struct DriveResult {
  tickmesh::loadtest::LatencyHistogram latency;
  std::vector<tickmesh::loadtest::LatencyHistogram> hops;  // emit->a, a->b, b->c, c->driver
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t out_of_order = 0;  // events whose tick index was not the next one expected
  uint64_t foreign = 0;       // events of another run tag (probes)
};

// Follows relay-c's order events on callbacks until Stop(); records latency per event of run
// `tag` and checks that tick indices arrive as 0, 1, 2, ...
class EventFollower {
 public:
  EventFollower(const std::string& target, uint32_t tag)
      : stub_(v1::ExecutionService::NewStub(tickmesh::runtime::MakeChannel(target))), tag_(tag) {
    result_.hops.resize(4);
    req_.set_subscriber("bench-chain");
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        grpc::ClientContext ctx;
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (stop_.load()) break;
          current_ = &ctx;
        }
        grpc::Status st = tickmesh::runtime::ReadStreamOnCallbacks<v1::OrderEventBatch>(
            ctx,
            [&](grpc::ClientContext* c, grpc::ClientReadReactor<v1::OrderEventBatch>* r) {
              stub_->async()->StreamOrderEvents(c, &req_, r);
            },
            nullptr, [this](const v1::OrderEventBatch& b) { OnEvents(b, NowUnixNs()); });
        std::unique_lock<std::mutex> lock(mu_);
        current_ = nullptr;
        if (stop_.load()) break;
        ++reconnects_;
        cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stop_.load(); });
      }
    });
  }
  ~EventFollower() { Stop(); }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(true);
      if (current_) current_->TryCancel();
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

  // Waits until `n` events of the run arrived or `deadline_ns`; true when they did.
  bool WaitFor(uint64_t n, int64_t deadline_ns) {
    std::unique_lock<std::mutex> lock(mu_);
    while (result_.received < n) {
      const int64_t left = deadline_ns - NowUnixNs();
      if (left <= 0) return false;
      cv_.wait_for(lock, std::chrono::nanoseconds(left));
    }
    return true;
  }
  // Waits until any event (of any tag) arrived or `deadline_ns`.
  bool WaitForAny(int64_t deadline_ns) {
    std::unique_lock<std::mutex> lock(mu_);
    while (result_.received + result_.foreign == 0) {
      const int64_t left = deadline_ns - NowUnixNs();
      if (left <= 0) return false;
      cv_.wait_for(lock, std::chrono::nanoseconds(left));
    }
    return true;
  }

  DriveResult Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(result_);
  }
  uint64_t reconnects() {
    std::lock_guard<std::mutex> lock(mu_);
    return reconnects_;
  }

 private:
  void OnEvents(const v1::OrderEventBatch& batch, int64_t now) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& ev : batch.events()) {
      const auto& t = ev.trace();
      if ((t.trace_id() >> 32) != tag_) {
        ++result_.foreign;
        continue;
      }
      const uint64_t k = t.trace_id() & 0xffffffffULL;
      if (k != next_index_) ++result_.out_of_order;
      next_index_ = k + 1;
      ++result_.received;
      result_.latency.Record(now - t.origin_unix_ns());
      // Stamps: loadtest.emit, relay-a, relay-b, relay-c; the last hop ends here.
      if (t.hops_size() == 4) {
        for (int i = 0; i < 4; ++i) {
          const int64_t end = i + 1 < 4 ? t.hops(i + 1).unix_ns() : now;
          result_.hops[i].Record(end - t.hops(i).unix_ns());
        }
      }
    }
    cv_.notify_all();
  }

  std::unique_ptr<v1::ExecutionService::Stub> stub_;
  const uint32_t tag_;
  v1::StreamOrderEventsRequest req_;
  std::mutex mu_;
  std::condition_variable cv_;
  grpc::ClientContext* current_ = nullptr;
  DriveResult result_;
  uint64_t next_index_ = 0;
  uint64_t reconnects_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void StampEmit(v1::MarketEventBatch* batch, int64_t now) {
  for (auto& e : *batch->mutable_events()) {
    if (!e.has_trace()) continue;
    auto* hop = e.mutable_trace()->add_hops();
    hop->set_service("loadtest");
    hop->set_stage("emit");
    hop->set_unix_ns(now);
  }
}

int Drive() {
  std::vector<tickmesh::loadtest::Stage> stages;
  if (absl::GetFlag(FLAGS_warmup_s) > 0) {
    const double r = absl::GetFlag(FLAGS_warmup_rate);
    stages.push_back({absl::GetFlag(FLAGS_warmup_s), r, r, "warm-up"});
  }
  const double rate = absl::GetFlag(FLAGS_rate);
  stages.push_back({absl::GetFlag(FLAGS_seconds), rate, rate, "steady"});
  auto shape = tickmesh::loadtest::LoadShape::Create(stages);
  if (!shape.ok()) {
    std::fprintf(stderr, "drive: %s\n", shape.status().ToString().c_str());
    return 2;
  }
  const int interval_us = absl::GetFlag(FLAGS_send_interval_us);
  if (interval_us < 0 || interval_us > 100000) {
    std::fprintf(stderr, "drive: --send_interval_us must be in 0..100000\n");
    return 2;
  }
  const uint32_t tag = uint32_t(std::random_device{}() | 1u);

  EventFollower follower(absl::GetFlag(FLAGS_events_target), tag);
  auto md = v1::MarketDataService::NewStub(
      tickmesh::runtime::MakeChannel(absl::GetFlag(FLAGS_publish_target)));
  grpc::ClientContext pub_ctx;
  v1::PublishAck ack;
  auto writer = md->Publish(&pub_ctx, &ack);

  // The chain is up once a probe (another run tag) comes back through all four streams.
  {
    v1::MarketEventBatch probe;
    auto* e = probe.add_events();
    e->set_venue("loadtest");
    e->set_symbol("PROBE-USD");
    e->mutable_trade()->set_price_e8(100000000);
    e->mutable_trade()->set_qty_e8(1000000);
    e->mutable_trace()->set_trace_id(uint64_t(tag ^ 0xffffffffu) << 32);
    const int64_t deadline = NowUnixNs() + int64_t(10e9);
    bool up = false;
    while (!up && NowUnixNs() < deadline) {
      if (!writer->Write(probe)) {
        std::fprintf(stderr, "drive: Publish to relay-a failed: %s\n",
                     writer->Finish().error_message().c_str());
        return 1;
      }
      up = follower.WaitForAny(NowUnixNs() + int64_t(50e6));
    }
    if (!up) {
      std::fprintf(stderr, "drive: no probe came back through the chain within 10 s\n");
      return 1;
    }
  }

  tickmesh::loadtest::ScenarioSpec spec;  // tick defaults, as perf-20k: LT-USD, book_every 20
  tickmesh::loadtest::TickSource source(spec, tag);
  v1::MarketEventBatch batch;
  tickmesh::loadtest::GeneratorOptions gopts;
  gopts.max_batch = 256;
  gopts.min_interval_ns = int64_t(interval_us) * 1000;
  bool write_failed = false;
  const int64_t start = NowUnixNs();
  tickmesh::loadtest::GeneratorStats gstats = tickmesh::loadtest::RunOpenLoop(
      *shape, start, gopts, [&](const int64_t* intended, size_t n, uint64_t first) {
        if (write_failed) return;
        source.Build(intended, n, first, NowUnixNs(), &batch);
        StampEmit(&batch, NowUnixNs());
        if (!writer->Write(batch)) write_failed = true;
      });
  writer->WritesDone();
  grpc::Status st = writer->Finish();
  if (write_failed || !st.ok()) {
    std::fprintf(stderr, "drive: Publish stream failed: %s\n", st.error_message().c_str());
  }
  follower.WaitFor(gstats.sent, NowUnixNs() + int64_t(absl::GetFlag(FLAGS_drain_s) * 1e9));
  follower.Stop();
  DriveResult r = follower.Take();
  r.sent = gstats.sent;

  const char* hop_names[4] = {"loadtest.emit->relay-a", "relay-a->relay-b", "relay-b->relay-c",
                              "relay-c->driver"};
  for (int i = 0; i < 4; ++i) {
    std::fprintf(stderr, "  hop %-24s p50 %8.1f us  p99 %8.1f us\n", hop_names[i],
                 double(r.hops[i].Percentile(50)) / 1e3, double(r.hops[i].Percentile(99)) / 1e3);
  }
  std::fprintf(stderr,
               "  sent %llu received %llu out_of_order %llu reconnects %llu max_generator_lag "
               "%.1f us\n",
               static_cast<unsigned long long>(r.sent), static_cast<unsigned long long>(r.received),
               static_cast<unsigned long long>(r.out_of_order),
               static_cast<unsigned long long>(follower.reconnects()),
               double(gstats.max_lag_ns) / 1e3);
  std::printf("%.1f %.1f %.1f %.1f %.1f %llu %llu\n", double(r.latency.Percentile(50)) / 1e3,
              double(r.latency.Percentile(90)) / 1e3, double(r.latency.Percentile(99)) / 1e3,
              double(r.latency.Percentile(99.9)) / 1e3, double(r.latency.max()) / 1e3,
              static_cast<unsigned long long>(r.sent), static_cast<unsigned long long>(r.received));
  const bool complete = r.received == r.sent && r.out_of_order == 0 && !write_failed && st.ok();
  return complete ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = tickmesh::runtime::InitProcess(
      argc, argv, "bench-chain", "tickmesh-bench-chain relay-a|relay-b|relay-c|drive [flags]");
  const size_t capacity = size_t(std::max(1, absl::GetFlag(FLAGS_queue_capacity)));
  const std::string cmd = args.size() == 2 ? std::string(args[1]) : "";
  if (cmd == "relay-a") {
    RelayA relay(capacity);
    return RunRelay<RelayA, void>("bench-chain-a", "tickmesh.v1.MarketDataService", 50161, &relay,
                                  nullptr);
  }
  if (cmd == "relay-b") {
    RelayB relay(capacity);
    return RunRelay<RelayB, v1::MarketEventBatch>(
        "bench-chain-b", "tickmesh.v1.SignalService", 50162, &relay,
        [](const std::shared_ptr<grpc::Channel>& ch, grpc::ClientContext* c,
           grpc::ClientReadReactor<v1::MarketEventBatch>* r) {
          static v1::SubscribeRequest req = [] {
            v1::SubscribeRequest q;
            q.set_subscriber("bench-chain-b");
            return q;
          }();
          static auto stub = v1::MarketDataService::NewStub(ch);
          stub->async()->Subscribe(c, &req, r);
        });
  }
  if (cmd == "relay-c") {
    RelayC relay(capacity);
    return RunRelay<RelayC, v1::SignalBatch>(
        "bench-chain-c", "tickmesh.v1.ExecutionService", 50163, &relay,
        [](const std::shared_ptr<grpc::Channel>& ch, grpc::ClientContext* c,
           grpc::ClientReadReactor<v1::SignalBatch>* r) {
          static v1::SubscribeSignalsRequest req = [] {
            v1::SubscribeSignalsRequest q;
            q.set_subscriber("bench-chain-c");
            return q;
          }();
          static auto stub = v1::SignalService::NewStub(ch);
          stub->async()->Subscribe(c, &req, r);
        });
  }
  if (cmd == "drive") return Drive();
  std::fprintf(stderr, "usage: tickmesh-bench-chain relay-a|relay-b|relay-c|drive [flags]\n");
  return 2;
}
