// CacheWriter against a real in-process gRPC CacheService on 127.0.0.1:0 that records every MSet:
// the flush interval (linger) batches conflated updates into one MSet, 0 writes at once, and
// Stop() flushes without waiting out the interval. Plus the --cache_flush_ms flag's range check.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cache_writer.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "service.h"
#include "tickmesh/v1/cache.grpc.pb.h"

ABSL_DECLARE_FLAG(int64_t, cache_flush_ms);

namespace tickmesh::execution {
namespace {

namespace v1 = tickmesh::v1;

// A CacheService that keeps the entries of each MSet call.
class RecordingCache final : public v1::CacheService::Service {
 public:
  grpc::Status MSet(grpc::ServerContext*, const v1::MSetRequest* req, v1::MSetResponse*) override {
    std::map<std::string, std::string> call;
    for (const auto& e : req->entries()) call[e.key()] = e.value();
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(std::move(call));
    return grpc::Status::OK;
  }

  std::vector<std::map<std::string, std::string>> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

  // Waits (bounded) until at least `n` MSet calls arrived; returns how many did.
  size_t WaitCalls(size_t n, absl::Duration timeout = absl::Seconds(5)) const {
    const absl::Time until = absl::Now() + timeout;
    while (calls().size() < n && absl::Now() < until) absl::SleepFor(absl::Milliseconds(5));
    return calls().size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::map<std::string, std::string>> calls_;
};

class CacheWriterGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&cache_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    address_ = "127.0.0.1:" + std::to_string(port);
  }
  void TearDown() override { server_->Shutdown(std::chrono::system_clock::now()); }

  RecordingCache cache_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

TEST_F(CacheWriterGrpcTest, UpdatesWithinTheFlushIntervalGoOutAsOneMSetWithLatestValues) {
  CacheWriter writer(address_, nullptr, 1000, absl::Milliseconds(500));
  writer.Start();
  writer.Put("balance:sim:USD", "1");
  writer.Put("position:sim:BTC-USD", "p1");
  writer.Put("balance:sim:USD", "2");
  writer.Put("position:sim:BTC-USD", "p2");
  ASSERT_EQ(cache_.WaitCalls(1), 1u);
  absl::SleepFor(absl::Milliseconds(100));  // nothing else is pending: no second MSet follows
  auto calls = cache_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], (std::map<std::string, std::string>{{"balance:sim:USD", "2"},
                                                          {"position:sim:BTC-USD", "p2"}}));
  EXPECT_EQ(writer.pending(), 0u);
  writer.Stop(absl::Seconds(1));
  EXPECT_EQ(cache_.calls().size(), 1u);
}

TEST_F(CacheWriterGrpcTest, ZeroFlushIntervalWritesEachUpdateWithoutLinger) {
  // With a long interval a lone update waits; with 0 it is written while the writer runs.
  CacheWriter lingering(address_, nullptr, 1000, absl::Hours(1));
  lingering.Start();
  lingering.Put("balance:sim:BTC", "held");
  CacheWriter writer(address_, nullptr, 1000, absl::ZeroDuration());
  writer.Start();
  writer.Put("balance:sim:USD", "1");
  ASSERT_EQ(cache_.WaitCalls(1), 1u);
  writer.Put("balance:sim:USD", "2");
  ASSERT_EQ(cache_.WaitCalls(2), 2u);
  auto calls = cache_.calls();
  EXPECT_EQ(calls[0], (std::map<std::string, std::string>{{"balance:sim:USD", "1"}}));
  EXPECT_EQ(calls[1], (std::map<std::string, std::string>{{"balance:sim:USD", "2"}}));
  EXPECT_EQ(lingering.pending(), 1u);  // still lingering, never written
  writer.Stop(absl::Seconds(1));
  lingering.Stop(absl::Seconds(1));
  EXPECT_EQ(cache_.calls().size(), 3u);
}

TEST_F(CacheWriterGrpcTest, StopFlushesPendingAtOnceWithoutWaitingOutTheInterval) {
  CacheWriter writer(address_, nullptr, 1000, absl::Hours(1));
  writer.Start();
  writer.Put("position:sim:ETH-USD", "x");
  writer.Put("position:sim:ETH-USD", "y");
  absl::SleepFor(absl::Milliseconds(50));  // the writer is lingering now
  EXPECT_TRUE(cache_.calls().empty());
  const absl::Time start = absl::Now();
  writer.Stop(absl::Seconds(2));
  EXPECT_LT(absl::Now() - start, absl::Minutes(1));  // not the hour-long interval
  auto calls = cache_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], (std::map<std::string, std::string>{{"position:sim:ETH-USD", "y"}}));
  EXPECT_EQ(writer.pending(), 0u);
}

// --cache_flush_ms reaches the service config; out of range it is a clear startup error.
TEST(CacheFlushFlag, RangeCheckedAndPassedToTheServiceConfig) {
  const int64_t saved = absl::GetFlag(FLAGS_cache_flush_ms);
  auto defaults = ConfigFromFlags();
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->cache_flush_ms, 10);
  absl::SetFlag(&FLAGS_cache_flush_ms, 0);
  auto zero = ConfigFromFlags();
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(zero->cache_flush_ms, 0);
  for (int64_t bad : {-1, 1'001}) {
    absl::SetFlag(&FLAGS_cache_flush_ms, bad);
    auto c = ConfigFromFlags();
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(c.status().message(),
              absl::StrCat("--cache_flush_ms=", bad, " must be in [0, 1000]"));
  }
  absl::SetFlag(&FLAGS_cache_flush_ms, saved);
}

}  // namespace
}  // namespace tickmesh::execution
