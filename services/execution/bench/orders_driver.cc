// scripts/bench orders driver: keeps --clients requests in flight against a running
// tickmesh-execution for --duration_s and prints "<ops/s> <p50 us> <p99 us> <errors>".
//   --mode=submit  paper MARKET orders (alternating buy/sell so the position stays flat),
//                  unique client_order_ids; needs a book (--paper_static_book on the server).
//   --mode=health  grpc.health.v1.Health/Check on the same server: the plain-unary baseline.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tickmesh/runtime/config.h"
#include "tickmesh/v1/execution.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50053", "ExecutionService to drive");
ABSL_FLAG(int, clients, 64, "Requests kept in flight");
ABSL_FLAG(double, duration_s, 5, "Seconds to run");
ABSL_FLAG(std::string, mode, "submit", "submit (paper orders) or health (baseline unary RPC)");
ABSL_FLAG(std::string, venue, "sim", "Venue of the orders");
ABSL_FLAG(std::string, symbol, "BTC-USD", "Symbol of the orders");
ABSL_FLAG(int, channels, 4, "gRPC channels the clients are spread over");

namespace {

using Clock = std::chrono::steady_clock;

struct Shared {
  std::vector<std::unique_ptr<tickmesh::v1::ExecutionService::Stub>> exec;
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> health;
  bool submit = true;
  std::string venue, symbol;
  Clock::time_point end;
  std::atomic<uint64_t> ok{0}, errors{0};
  std::mutex mu;
  std::condition_variable cv;
  int active = 0;
  std::vector<uint32_t> latencies_us;  // under mu, merged at the end of each slot
};

// One in-flight request slot: issues the next request from the completion of the previous.
class Slot {
 public:
  Slot(Shared* s, int id) : s_(s), id_(id) {}
  void Next() {
    if (Clock::now() >= s_->end) {
      std::lock_guard<std::mutex> lock(s_->mu);
      s_->latencies_us.insert(s_->latencies_us.end(), lat_.begin(), lat_.end());
      if (--s_->active == 0) s_->cv.notify_all();
      return;
    }
    ctx_ = std::make_unique<grpc::ClientContext>();
    ctx_->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    start_ = Clock::now();
    auto done = [this](grpc::Status st) {
      lat_.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count()));
      if (st.ok()) {
        s_->ok.fetch_add(1, std::memory_order_relaxed);
      } else {
        if (s_->errors.fetch_add(1) == 0) {
          std::fprintf(stderr, "first error: %d %s\n", st.error_code(), st.error_message().c_str());
        }
      }
      Next();
    };
    const size_t ch = static_cast<size_t>(id_) % (s_->submit ? s_->exec.size() : s_->health.size());
    if (s_->submit) {
      req_.Clear();
      auto* o = req_.mutable_order();
      o->set_client_order_id(
          absl::StrCat("bench-", id_, "-", n_++, "-", start_.time_since_epoch().count()));
      o->set_venue(s_->venue);
      o->set_symbol(s_->symbol);
      o->set_side(n_ % 2 ? tickmesh::v1::SIDE_BUY : tickmesh::v1::SIDE_SELL);
      o->set_type(tickmesh::v1::ORDER_TYPE_MARKET);
      o->set_qty_e8(100'000);  // 0.001
      o->set_strategy("bench");
      s_->exec[ch]->async()->Submit(ctx_.get(), &req_, &resp_, done);
    } else {
      s_->health[ch]->async()->Check(ctx_.get(), &hreq_, &hresp_, done);
    }
  }

 private:
  Shared* s_;
  int id_;
  uint64_t n_ = 0;
  Clock::time_point start_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  tickmesh::v1::SubmitOrderRequest req_;
  tickmesh::v1::SubmitOrderResponse resp_;
  grpc::health::v1::HealthCheckRequest hreq_;
  grpc::health::v1::HealthCheckResponse hresp_;
  std::vector<uint32_t> lat_;
};

}  // namespace

int main(int argc, char** argv) {
  tickmesh::runtime::InitProcess(argc, argv, "bench-orders",
                                 "tickmesh-bench-orders: paper orders/s through ExecutionService");
  Shared s;
  s.submit = absl::GetFlag(FLAGS_mode) == "submit";
  if (!s.submit && absl::GetFlag(FLAGS_mode) != "health") {
    std::fprintf(stderr, "--mode must be submit or health\n");
    return 2;
  }
  const int clients = absl::GetFlag(FLAGS_clients);
  const int channels = absl::GetFlag(FLAGS_channels);
  if (clients < 1 || channels < 1 || absl::GetFlag(FLAGS_duration_s) <= 0) {
    std::fprintf(stderr, "--clients, --channels and --duration_s must be > 0\n");
    return 2;
  }
  s.venue = absl::GetFlag(FLAGS_venue);
  s.symbol = absl::GetFlag(FLAGS_symbol);
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per channel
    auto ch = grpc::CreateCustomChannel(absl::GetFlag(FLAGS_target),
                                        grpc::InsecureChannelCredentials(), args);
    s.exec.push_back(tickmesh::v1::ExecutionService::NewStub(ch));
    s.health.push_back(grpc::health::v1::Health::NewStub(ch));
  }
  // Warm up the connections.
  for (auto& h : s.health) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::health::v1::HealthCheckRequest rq;
    grpc::health::v1::HealthCheckResponse rs;
    (void)h->Check(&ctx, rq, &rs);
  }
  std::vector<std::unique_ptr<Slot>> slots;
  for (int i = 0; i < clients; ++i) slots.push_back(std::make_unique<Slot>(&s, i));
  const auto start = Clock::now();
  s.end = start +
          std::chrono::microseconds(static_cast<int64_t>(absl::GetFlag(FLAGS_duration_s) * 1e6));
  s.active = clients;
  for (auto& slot : slots) slot->Next();
  {
    std::unique_lock<std::mutex> lock(s.mu);
    s.cv.wait(lock, [&] { return s.active == 0; });
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  auto& l = s.latencies_us;
  std::sort(l.begin(), l.end());
  auto pct = [&](double p) {
    return l.empty() ? 0u : l[std::min(l.size() - 1, static_cast<size_t>(p * l.size()))];
  };
  std::printf("%.0f %u %u %llu\n", static_cast<double>(s.ok.load()) / secs, pct(0.50), pct(0.99),
              static_cast<unsigned long long>(s.errors.load()));
  return 0;
}
