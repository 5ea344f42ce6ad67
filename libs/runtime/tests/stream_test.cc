// FanOut / QueuedWriter over real gRPC: fan-out to several subscribers, and a subscriber that does
// not read is ended with RESOURCE_EXHAUSTED without holding the others back; PublishShared hands
// one object to several subscribers; ReadStreamOnCallbacks reads a stream on callback threads.
#include "tickmesh/runtime/stream.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

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

TEST(FanOut, PublishSharedQueuesTheSameObjectOrAPerSubscriberOne) {
  FanOutService svc(64);
  Host host(&svc);
  auto stub = tickmesh::v1::MarketDataService::NewStub(host.channel);
  grpc::ClientContext ca, cb, cc;
  tickmesh::v1::SubscribeRequest ra, rb, rc;
  ra.set_subscriber("all");
  rb.set_subscriber("filtered");
  rc.set_subscriber("none");
  auto a = stub->Subscribe(&ca, ra);
  auto b = stub->Subscribe(&cb, rb);
  auto c = stub->Subscribe(&cc, rc);
  WaitForSubscribers(svc, 3);
  auto shared = std::make_shared<MarketEventBatch>();
  shared->add_events()->set_symbol("X-USD");
  shared->add_events()->set_symbol("Y-USD");
  std::vector<const MarketEventBatch*> picked;
  size_t sent = svc.fanout.PublishShared(
      shared,
      [&](const std::string& sub, const std::shared_ptr<const MarketEventBatch>& all)
          -> std::shared_ptr<const MarketEventBatch> {
        if (sub == "none") return nullptr;
        if (sub == "all") {
          picked.push_back(all.get());
          return all;
        }
        auto out = std::make_shared<MarketEventBatch>();
        *out->add_events() = all->events(1);
        return out;
      });
  EXPECT_EQ(sent, 2u);
  ASSERT_EQ(picked.size(), 1u);
  EXPECT_EQ(picked[0], shared.get());  // handed over as is, not copied
  MarketEventBatch batch;
  ASSERT_TRUE(a->Read(&batch));
  EXPECT_EQ(batch.events_size(), 2);
  ASSERT_TRUE(b->Read(&batch));
  ASSERT_EQ(batch.events_size(), 1);
  EXPECT_EQ(batch.events(0).symbol(), "Y-USD");
  svc.fanout.CloseAll(grpc::Status::OK);
  EXPECT_FALSE(c->Read(&batch));  // skipped
  EXPECT_TRUE(a->Finish().ok());
  EXPECT_TRUE(b->Finish().ok());
  EXPECT_TRUE(c->Finish().ok());
}

TEST(ReadStreamOnCallbacks, DeliversEveryMessageInOrderThenTheFinalStatus) {
  FanOutService svc(256);
  Host host(&svc);
  auto stub = tickmesh::v1::MarketDataService::NewStub(host.channel);
  tickmesh::v1::SubscribeRequest req;
  req.set_subscriber("cb");
  grpc::ClientContext ctx;
  std::vector<uint64_t> seqs;
  std::atomic<bool> concurrent{false};
  std::atomic<int> inside{0};
  std::thread producer([&] {
    WaitForSubscribers(svc, 1);
    for (int i = 0; i < 200; ++i) {
      svc.fanout.Publish([&](const std::string&, MarketEventBatch* m) {
        m->add_events()->set_seq(static_cast<uint64_t>(i));
        return true;
      });
    }
    svc.fanout.CloseAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
  });
  grpc::Status st = ReadStreamOnCallbacks<MarketEventBatch>(
      ctx,
      [&](grpc::ClientContext* c, grpc::ClientReadReactor<MarketEventBatch>* r) {
        stub->async()->Subscribe(c, &req, r);
      },
      nullptr,
      [&](const MarketEventBatch& b) {
        if (inside.fetch_add(1) != 0) concurrent = true;
        seqs.push_back(b.events(0).seq());
        inside.fetch_sub(1);
      });
  producer.join();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(st.error_message(), "bye");
  EXPECT_FALSE(concurrent.load());
  ASSERT_EQ(seqs.size(), 200u);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i);
}

TEST(ReadStreamOnCallbacks, RejectedHeadersCancelTheStreamBeforeAnyMessage) {
  FanOutService svc(16);
  Host host(&svc);
  auto stub = tickmesh::v1::MarketDataService::NewStub(host.channel);
  tickmesh::v1::SubscribeRequest req;
  req.set_subscriber("picky");
  grpc::ClientContext ctx;
  std::thread producer([&] {
    WaitForSubscribers(svc, 1);
    svc.fanout.Publish([](const std::string&, MarketEventBatch* m) {
      m->add_events()->set_seq(1);
      return true;
    });
  });
  int messages = 0;
  int established = 0;
  grpc::Status st = ReadStreamOnCallbacks<MarketEventBatch>(
      ctx,
      [&](grpc::ClientContext* c, grpc::ClientReadReactor<MarketEventBatch>* r) {
        stub->async()->Subscribe(c, &req, r);
      },
      [&](const grpc::ClientContext& c) {
        ++established;
        return c.GetServerInitialMetadata().count("tickmesh-stream") != 0;  // never sent here
      },
      [&](const MarketEventBatch&) { ++messages; });
  producer.join();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(established, 1);
  EXPECT_EQ(messages, 0);
}

TEST(ReadStreamOnCallbacks, CancellingTheContextEndsTheCall) {
  FanOutService svc(16);
  Host host(&svc);
  auto stub = tickmesh::v1::MarketDataService::NewStub(host.channel);
  tickmesh::v1::SubscribeRequest req;
  req.set_subscriber("idle");
  grpc::ClientContext ctx;
  std::thread canceller([&] {
    WaitForSubscribers(svc, 1);
    ctx.TryCancel();
  });
  grpc::Status st = ReadStreamOnCallbacks<MarketEventBatch>(
      ctx,
      [&](grpc::ClientContext* c, grpc::ClientReadReactor<MarketEventBatch>* r) {
        stub->async()->Subscribe(c, &req, r);
      },
      nullptr, [](const MarketEventBatch&) {});
  canceller.join();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::CANCELLED);
}

}  // namespace
}  // namespace tickmesh::runtime
