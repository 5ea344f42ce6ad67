// market-data and signal gRPC services in-process (two ServiceHosts on 127.0.0.1:0): a price
// series published to market-data over Publish comes out of signal's Subscribe as a crossover.
#include <chrono>
#include <thread>

#include "gtest/gtest.h"
#include "market_data_grpc.h"
#include "signal_grpc.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/server.h"
#include "upstream.h"
#include "yaml-cpp/yaml.h"

namespace tickmesh::signal {
namespace {

using tickmesh::v1::MarketEventBatch;

constexpr int64_t kE8 = 100'000'000;

runtime::ServerOptions Loopback(const std::string& service) {
  runtime::ServerOptions o;
  o.service = service;
  o.grpc_address = "127.0.0.1:0";
  o.admin_address = "127.0.0.1:0";
  o.drain_timeout = absl::Milliseconds(500);
  return o;
}

TEST(SignalPipeline, PublishedPriceSeriesYieldsCrossoverSignalWithFullTrace) {
  // market-data
  market_data::MarketData md(market_data::MarketDataOptions{});
  market_data::MarketDataGrpc md_service(&md);
  runtime::ServiceHost md_host(Loopback("market-data"));
  md_host.AddService(&md_service, "tickmesh.v1.MarketDataService");
  md_host.OnDrain([&] { md.CloseSubscribers(grpc::Status(grpc::StatusCode::UNAVAILABLE, "")); });
  ASSERT_TRUE(md_host.Start().ok());
  const std::string md_address = "127.0.0.1:" + std::to_string(md_host.grpc_port());

  // signal
  SignalEngine engine(SignalEngineOptions{});
  SignalGrpc sig_service(&engine, 1024);
  runtime::ServiceHost sig_host(Loopback("signal"));
  sig_host.AddService(&sig_service, "tickmesh.v1.SignalService");
  sig_host.AddDependency("market-data", true);
  MarketDataUpstream upstream(md_address, &engine, &sig_service,
                              [&](bool up) { sig_host.SetDependencyUp("market-data", up); });
  sig_host.OnDrain([&] {
    upstream.Stop();
    sig_service.CloseSubscribers(grpc::Status(grpc::StatusCode::UNAVAILABLE, ""));
  });
  ASSERT_TRUE(sig_host.Start().ok());
  upstream.Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!upstream.connected() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(upstream.connected());

  // A client of signal, registered before any trade.
  auto sig_stub = tickmesh::v1::SignalService::NewStub(
      runtime::MakeChannel("127.0.0.1:" + std::to_string(sig_host.grpc_port())));
  grpc::ClientContext sub_ctx;
  sub_ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(20)));
  tickmesh::v1::SubscribeSignalsRequest sub_req;
  sub_req.add_symbols("BTC-USD");
  sub_req.set_subscriber("test");
  auto signals = sig_stub->Subscribe(&sub_ctx, sub_req);
  signals->WaitForInitialMetadata();

  // Publish flat, falling, then rising trades (one upward crossover) over market-data's Publish.
  std::vector<int64_t> prices;
  for (int i = 0; i < 40; ++i) prices.push_back(100 * kE8);
  for (int i = 1; i <= 20; ++i) prices.push_back(100 * kE8 - i * kE8 / 10);
  for (int i = 1; i <= 30; ++i) prices.push_back(98 * kE8 + i * kE8 / 2);
  auto md_stub = tickmesh::v1::MarketDataService::NewStub(runtime::MakeChannel(md_address));
  grpc::ClientContext pub_ctx;
  pub_ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(20)));
  tickmesh::v1::PublishAck ack;
  auto publisher = md_stub->Publish(&pub_ctx, &ack);
  for (size_t i = 0; i < prices.size(); i += 10) {
    MarketEventBatch batch;
    for (size_t k = i; k < i + 10 && k < prices.size(); ++k) {
      auto* e = batch.add_events();
      e->set_venue("sim");
      e->set_symbol("BTC-USD");
      e->set_seq(k + 1);
      e->mutable_trace()->set_trace_id(5000 + k);
      e->mutable_trace()->set_origin_unix_ns(1);
      e->mutable_trade()->set_price_e8(prices[k]);
      e->mutable_trade()->set_qty_e8(kE8);
      e->mutable_trade()->set_aggressor_side(tickmesh::v1::SIDE_BUY);
    }
    ASSERT_TRUE(publisher->Write(batch));
  }
  publisher->WritesDone();
  grpc::Status pub_status = publisher->Finish();
  ASSERT_TRUE(pub_status.ok()) << pub_status.error_message();
  EXPECT_EQ(ack.events_accepted(), prices.size());

  tickmesh::v1::SignalBatch batch;
  ASSERT_TRUE(signals->Read(&batch)) << signals->Finish().error_message();
  ASSERT_EQ(batch.signals_size(), 1);
  const tickmesh::v1::Signal& s = batch.signals(0);
  EXPECT_EQ(s.side(), tickmesh::v1::SIDE_BUY);
  EXPECT_EQ(s.strategy(), "macd_cross");
  EXPECT_EQ(s.symbol(), "BTC-USD");
  EXPECT_EQ(s.target_price_e8(), prices[s.market_seq() - 1]);
  EXPECT_EQ(s.trace().trace_id(), 5000 + s.market_seq() - 1);
  ASSERT_EQ(s.trace().hops_size(), 4);
  const char* expected[4][2] = {
      {"market-data", "recv"}, {"market-data", "emit"}, {"signal", "recv"}, {"signal", "emit"}};
  for (int h = 0; h < 4; ++h) {
    EXPECT_EQ(s.trace().hops(h).service(), expected[h][0]) << h;
    EXPECT_EQ(s.trace().hops(h).stage(), expected[h][1]) << h;
    if (h > 0) {
      EXPECT_LE(s.trace().hops(h - 1).unix_ns(), s.trace().hops(h).unix_ns()) << h;
    }
  }

  grpc::ClientContext latest_ctx;
  latest_ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(10)));
  tickmesh::v1::GetLatestSignalsRequest latest_req;
  tickmesh::v1::GetLatestSignalsResponse latest;
  ASSERT_TRUE(sig_stub->GetLatestSignals(&latest_ctx, latest_req, &latest).ok());
  ASSERT_EQ(latest.signals_size(), 1);
  EXPECT_EQ(latest.signals(0).signal_id(), s.signal_id());

  sub_ctx.TryCancel();
  sig_host.Shutdown();
  md_host.Shutdown();
}

// With a --config style strategy set: book_imbalance runs on market-data's book events (snapshot
// then deltas published over Publish) and a subscriber filtering by strategy gets only its
// signals; the default macd_cross is absent.
TEST(SignalPipeline, ConfiguredBookStrategyRunsOnPublishedBookEvents) {
  market_data::MarketData md(market_data::MarketDataOptions{});
  market_data::MarketDataGrpc md_service(&md);
  runtime::ServiceHost md_host(Loopback("market-data"));
  md_host.AddService(&md_service, "tickmesh.v1.MarketDataService");
  md_host.OnDrain([&] { md.CloseSubscribers(grpc::Status(grpc::StatusCode::UNAVAILABLE, "")); });
  ASSERT_TRUE(md_host.Start().ok());
  const std::string md_address = "127.0.0.1:" + std::to_string(md_host.grpc_port());

  SignalEngineOptions options;
  auto config =
      ParseStrategyConfig(YAML::Load("strategies:\n"
                                     "  - {type: book_imbalance, symbols: ['sim:BTC-USD'],\n"
                                     "     params: {smoothing: 1, entry: 0.5, exit: 0.1}}\n"
                                     "  - {type: macd_rsi, symbols: ['sim:BTC-USD']}\n"),
                          MacdCrossParams{});
  ASSERT_TRUE(config.ok()) << config.status();
  options.strategies = *config;
  SignalEngine engine(options);
  SignalGrpc sig_service(&engine, 1024);
  runtime::ServiceHost sig_host(Loopback("signal"));
  sig_host.AddService(&sig_service, "tickmesh.v1.SignalService");
  MarketDataUpstream upstream(md_address, &engine, &sig_service, nullptr);
  sig_host.OnDrain([&] {
    upstream.Stop();
    sig_service.CloseSubscribers(grpc::Status(grpc::StatusCode::UNAVAILABLE, ""));
  });
  ASSERT_TRUE(sig_host.Start().ok());
  upstream.Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!upstream.connected() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(upstream.connected());

  auto sig_stub = tickmesh::v1::SignalService::NewStub(
      runtime::MakeChannel("127.0.0.1:" + std::to_string(sig_host.grpc_port())));
  grpc::ClientContext sub_ctx;
  sub_ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(20)));
  tickmesh::v1::SubscribeSignalsRequest sub_req;
  sub_req.add_strategies("book_imbalance");
  sub_req.set_subscriber("test");
  auto signals = sig_stub->Subscribe(&sub_ctx, sub_req);
  signals->WaitForInitialMetadata();

  auto md_stub = tickmesh::v1::MarketDataService::NewStub(runtime::MakeChannel(md_address));
  grpc::ClientContext pub_ctx;
  pub_ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(20)));
  tickmesh::v1::PublishAck ack;
  auto publisher = md_stub->Publish(&pub_ctx, &ack);
  MarketEventBatch batch;
  auto* snap = batch.add_events();
  snap->set_venue("sim");
  snap->set_symbol("BTC-USD");
  snap->set_seq(1);
  for (int i = 0; i < 3; ++i) {
    auto* b = snap->mutable_snapshot()->add_bids();
    b->set_price_e8((100 - i) * kE8);
    b->set_qty_e8(kE8);
    auto* a = snap->mutable_snapshot()->add_asks();
    a->set_price_e8((101 + i) * kE8);
    a->set_qty_e8(kE8);
  }
  auto* delta = batch.add_events();  // bids grow: imbalance (12 - 3) / 15 = 0.6 over 3 levels
  delta->set_venue("sim");
  delta->set_symbol("BTC-USD");
  delta->set_seq(2);
  delta->mutable_trace()->set_trace_id(77);
  auto* level = delta->mutable_delta()->add_bids();
  level->set_price_e8(100 * kE8);
  level->set_qty_e8(10 * kE8);
  ASSERT_TRUE(publisher->Write(batch));
  publisher->WritesDone();
  ASSERT_TRUE(publisher->Finish().ok());

  tickmesh::v1::SignalBatch got;
  ASSERT_TRUE(signals->Read(&got)) << signals->Finish().error_message();
  ASSERT_EQ(got.signals_size(), 1);
  const auto& s = got.signals(0);
  EXPECT_EQ(s.strategy(), "book_imbalance");
  EXPECT_EQ(s.side(), tickmesh::v1::SIDE_BUY);
  EXPECT_EQ(s.target_price_e8(), 101 * kE8);
  EXPECT_EQ(s.market_seq(), 2u);
  EXPECT_EQ(s.trace().trace_id(), 77u);
  EXPECT_EQ(engine.stats().book_updates, 2u);

  sub_ctx.TryCancel();
  sig_host.Shutdown();
  md_host.Shutdown();
}

}  // namespace
}  // namespace tickmesh::signal
