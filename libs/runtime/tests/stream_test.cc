// FanOut / QueuedWriter over real gRPC: fan-out to several subscribers, and a subscriber that does
// not read is ended with RESOURCE_EXHAUSTED without holding the others back.
#include "tickmesh/runtime/stream.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/server.h"
#include "tickmesh/v1/market_data.grpc.pb.h"

namespace tickmesh::runtime {
namespace {

using tickmesh::v1::MarketEventBatch;

class FanOutService final : public tickmesh::v1::MarketDataService::CallbackService {
 public:
  explicit FanOutService(size_t capacity)
      : capacity_(capacity), fanout([this](const std::string&) { overflows++; }) {}
  grpc::ServerWriteReactor<MarketEventBatch>* Subscribe(
      grpc::CallbackServerContext*, const tickmesh::v1::SubscribeRequest* req) override {
    return fanout.Add(req->subscriber(), capacity_);
  }
  size_t capacity_;
  std::atomic<int> overflows{0};
  FanOut<MarketEventBatch, std::string> fanout;
};

struct Host {
  explicit Host(grpc::Service* svc) {
    ServerOptions o;
    o.service = "stream-test";
    o.grpc_address = "127.0.0.1:0";
    o.admin_address = "127.0.0.1:0";
    o.drain_timeout = absl::Seconds(1);
    host = std::make_unique<ServiceHost>(o);
    host->AddService(svc, "tickmesh.v1.MarketDataService");
    EXPECT_TRUE(host->Start().ok());
    channel = MakeChannel("127.0.0.1:" + std::to_string(host->grpc_port()));
  }
  std::unique_ptr<ServiceHost> host;
  std::shared_ptr<grpc::Channel> channel;
};

void WaitForSubscribers(FanOutService& svc, size_t n) {
  for (int i = 0; i < 500 && svc.fanout.size() < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(svc.fanout.size(), n);
}

TEST(FanOut, FilterDecidesWhoReceives) {
  FanOutService svc(64);
  Host host(&svc);
  auto stub = tickmesh::v1::MarketDataService::NewStub(host.channel);
  grpc::ClientContext ca, cb;
  tickmesh::v1::SubscribeRequest ra, rb;
  ra.set_subscriber("a");
  rb.set_subscriber("b");
  auto a = stub->Subscribe(&ca, ra);
  auto b = stub->Subscribe(&cb, rb);
  WaitForSubscribers(svc, 2);
  size_t sent = svc.fanout.Publish([](const std::string& sub, MarketEventBatch* m) {
    m->add_events()->set_symbol(sub);
    return sub == "b";
  });
  EXPECT_EQ(sent, 1u);
  MarketEventBatch batch;
  ASSERT_TRUE(b->Read(&batch));
  EXPECT_EQ(batch.events(0).symbol(), "b");
  svc.fanout.CloseAll(grpc::Status::OK);
  EXPECT_FALSE(a->Read(&batch));  // a got nothing before the close
  EXPECT_TRUE(a->Finish().ok());
}

TEST(FanOut, SlowSubscriberIsDisconnectedWhileFastOneGetsEverything) {
  FanOutService svc(8);
  Host host(&svc);
  auto stub = tickmesh::v1::MarketDataService::NewStub(host.channel);
  grpc::ClientContext slow_ctx, fast_ctx;
  tickmesh::v1::SubscribeRequest slow_req, fast_req;
  slow_req.set_subscriber("slow");
  fast_req.set_subscriber("fast");
  auto slow = stub->Subscribe(&slow_ctx, slow_req);  // never read until the end
  auto fast = stub->Subscribe(&fast_ctx, fast_req);
  WaitForSubscribers(svc, 2);

  constexpr int kBatches = 3000;
  std::atomic<int> received{0};
  std::thread reader([&] {
    MarketEventBatch batch;
    while (fast->Read(&batch)) received++;
  });
  const std::string payload(4096, 'x');  // fills the slow reader's socket buffers quickly
  for (int i = 0; i < kBatches; ++i) {
    // Pace the producer against the fast reader so only the slow one can overflow.
    while (i - received.load() > 4) std::this_thread::yield();
    svc.fanout.Publish([&](const std::string&, MarketEventBatch* m) {
      auto* e = m->add_events();
      e->set_seq(i);
      e->set_symbol(payload);
      return true;
    });
  }
  svc.fanout.CloseAll(grpc::Status::OK);
  reader.join();
  EXPECT_EQ(received.load(), kBatches);
  EXPECT_TRUE(fast->Finish().ok());
  EXPECT_EQ(svc.overflows.load(), 1);
  MarketEventBatch batch;
  while (slow->Read(&batch)) {
  }
  grpc::Status st = slow->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
}

}  // namespace
}  // namespace tickmesh::runtime
