#include "service.h"

#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cache_writer.h"
#include "execution_grpc.h"
#include "outbox.h"
#include "tickmesh/runtime/config.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"
#include "tickmesh/runtime/server.h"
#include "upstream.h"

// Peers. An empty address disables that peer (all four are optional).
ABSL_FLAG(std::string, signal_address, "127.0.0.1:50052",
          "host:port of the signal service (signals become orders); empty = no signal feed");
ABSL_FLAG(std::string, market_data_address, "127.0.0.1:50051",
          "host:port of market-data (books for paper fills, mids for risk); empty = no books");
ABSL_FLAG(std::string, persistence_address, "127.0.0.1:50055",
          "host:port of persistence (orders, events, fills via the outbox); empty = not persisted");
ABSL_FLAG(
    std::string, cache_address, "127.0.0.1:50054",
    "host:port of the cache service (balances/positions after fills); empty = no cache writes");

// Pre-trade risk. 0 disables a limit.
ABSL_FLAG(int64_t, max_order_qty_e8, 1'000LL * 100'000'000LL,
          "Largest order quantity (e8 units of base); 0 = no limit");
ABSL_FLAG(
    int64_t, max_order_notional_e8, 1'000'000LL * 100'000'000LL,
    "Largest order notional (e8 units of quote), at the limit price or the mid; 0 = no limit");
ABSL_FLAG(int64_t, max_position_e8, 10'000LL * 100'000'000LL,
          "Largest absolute position per (venue, symbol) including open orders (e8); 0 = no limit");
ABSL_FLAG(int64_t, price_band_bps, 500,
          "Largest distance of a LIMIT price from the mid, in basis points; 0 = no check");

// Paper venue and portfolio.
ABSL_FLAG(int64_t, taker_fee_bps, 10, "Paper venue taker fee in basis points, charged in quote");
ABSL_FLAG(int64_t, maker_fee_bps, 0,
          "Paper venue maker fee (resting orders filled by the market) in basis points");
ABSL_FLAG(int64_t, initial_quote_e8, 1'000'000LL * 100'000'000LL,
          "Starting balance of each quote asset per venue (e8)");

// Bounds.
ABSL_FLAG(
    int64_t, outbox_max_records, 1'000'000,
    "Records waiting for persistence acks before new orders are refused (RESOURCE_EXHAUSTED)");
ABSL_FLAG(int64_t, outbox_flush_timeout_ms, 2000,
          "On shutdown, how long to wait for persistence to ack the outbox");
ABSL_FLAG(int64_t, max_open_orders, 10'000,
          "Open orders at most; beyond, Submit answers RESOURCE_EXHAUSTED");
ABSL_FLAG(int64_t, order_retention, 200'000,
          "Terminal orders kept in memory (and idempotent by client_order_id); oldest forgotten");
ABSL_FLAG(int64_t, event_subscriber_queue, 4096,
          "Batches queued per StreamOrderEvents subscriber before it is ended as too slow");

namespace tickmesh::execution {
namespace {

absl::Status CheckRange(const char* flag, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, "=", value, " must be in [", lo, ", ", hi, "]"));
  }
  return absl::OkStatus();
}

absl::Status CheckAddress(const char* flag, const std::string& address) {
  if (address.empty()) return absl::OkStatus();
  return tickmesh::runtime::ValidateHostPort(absl::StrCat("--", flag), address);
}

}  // namespace

absl::StatusOr<ServiceConfig> ConfigFromFlags() {
  ServiceConfig c;
  c.signal_address = absl::GetFlag(FLAGS_signal_address);
  c.market_data_address = absl::GetFlag(FLAGS_market_data_address);
  c.persistence_address = absl::GetFlag(FLAGS_persistence_address);
  c.cache_address = absl::GetFlag(FLAGS_cache_address);
  for (auto [flag, addr] : {std::pair{"signal_address", &c.signal_address},
                            std::pair{"market_data_address", &c.market_data_address},
                            std::pair{"persistence_address", &c.persistence_address},
                            std::pair{"cache_address", &c.cache_address}}) {
    if (auto s = CheckAddress(flag, *addr); !s.ok()) return s;
  }
  constexpr int64_t kMax = INT64_MAX;
  struct IntFlag {
    const char* name;
    int64_t value;
    int64_t lo, hi;
  };
  const IntFlag flags[] = {
      {"max_order_qty_e8", absl::GetFlag(FLAGS_max_order_qty_e8), 0, kMax},
      {"max_order_notional_e8", absl::GetFlag(FLAGS_max_order_notional_e8), 0, kMax},
      {"max_position_e8", absl::GetFlag(FLAGS_max_position_e8), 0, kMax},
      {"price_band_bps", absl::GetFlag(FLAGS_price_band_bps), 0, 10'000},
      {"taker_fee_bps", absl::GetFlag(FLAGS_taker_fee_bps), 0, 1'000},
      {"maker_fee_bps", absl::GetFlag(FLAGS_maker_fee_bps), 0, 1'000},
      {"initial_quote_e8", absl::GetFlag(FLAGS_initial_quote_e8), 0, kMax / 4},
      {"outbox_max_records", absl::GetFlag(FLAGS_outbox_max_records), 1'000, 100'000'000},
      {"outbox_flush_timeout_ms", absl::GetFlag(FLAGS_outbox_flush_timeout_ms), 0, 600'000},
      {"max_open_orders", absl::GetFlag(FLAGS_max_open_orders), 1, 10'000'000},
      {"order_retention", absl::GetFlag(FLAGS_order_retention), 1, 100'000'000},
      {"event_subscriber_queue", absl::GetFlag(FLAGS_event_subscriber_queue), 1, 1'000'000},
  };
  for (const auto& f : flags) {
    if (auto s = CheckRange(f.name, f.value, f.lo, f.hi); !s.ok()) return s;
  }
  c.engine.risk.max_order_qty_e8 = absl::GetFlag(FLAGS_max_order_qty_e8);
  c.engine.risk.max_order_notional_e8 = absl::GetFlag(FLAGS_max_order_notional_e8);
  c.engine.risk.max_position_e8 = absl::GetFlag(FLAGS_max_position_e8);
  c.engine.risk.price_band_bps = absl::GetFlag(FLAGS_price_band_bps);
  c.engine.venue.taker_fee_bps = absl::GetFlag(FLAGS_taker_fee_bps);
  c.engine.venue.maker_fee_bps = absl::GetFlag(FLAGS_maker_fee_bps);
  c.engine.initial_quote_e8 = absl::GetFlag(FLAGS_initial_quote_e8);
  c.engine.orders.max_open_orders = static_cast<size_t>(absl::GetFlag(FLAGS_max_open_orders));
  c.engine.orders.terminal_retention = static_cast<size_t>(absl::GetFlag(FLAGS_order_retention));
  c.engine.subscriber_queue = static_cast<size_t>(absl::GetFlag(FLAGS_event_subscriber_queue));
  c.outbox_max_records = static_cast<size_t>(absl::GetFlag(FLAGS_outbox_max_records));
  c.outbox_flush_timeout_ms = absl::GetFlag(FLAGS_outbox_flush_timeout_ms);
  return c;
}

int RunExecutionService() {
  auto config = ConfigFromFlags();
  if (!config.ok()) {
    std::cerr << "tickmesh-execution: " << config.status().message() << "\n";
    return 2;
  }
  tickmesh::runtime::ServiceHost host(
      tickmesh::runtime::ServiceHost::OptionsFromFlags("execution", 50053, 9103));

  std::unique_ptr<OutboxQueue> outbox;
  std::unique_ptr<OutboxWriter> outbox_writer;
  if (!config->persistence_address.empty()) {
    OutboxQueue::Options o;
    o.max_records = config->outbox_max_records;
    outbox = std::make_unique<OutboxQueue>(o);
    host.AddDependency("persistence", /*required=*/false);
    outbox_writer = std::make_unique<OutboxWriter>(
        outbox.get(), config->persistence_address,
        [&host](bool up) { host.SetDependencyUp("persistence", up); });
  }
  std::unique_ptr<CacheWriter> cache;
  CachePut cache_put;
  if (!config->cache_address.empty()) {
    host.AddDependency("cache", /*required=*/false);
    cache = std::make_unique<CacheWriter>(config->cache_address,
                                          [&host](bool up) { host.SetDependencyUp("cache", up); });
    cache_put = [c = cache.get()](std::string k, std::string v) {
      c->Put(std::move(k), std::move(v));
    };
  }

  ExecutionEngine engine(config->engine, outbox.get(), cache_put);
  ExecutionGrpc grpc_service(&engine);
  host.AddService(&grpc_service, "tickmesh.v1.ExecutionService");

  UpstreamFeeds::Options feeds_options{config->signal_address, config->market_data_address};
  if (!feeds_options.signal_address.empty()) host.AddDependency("signal", false);
  if (!feeds_options.market_data_address.empty()) host.AddDependency("market-data", false);
  UpstreamFeeds feeds(&engine, feeds_options, [&host](const std::string& peer, bool up) {
    host.SetDependencyUp(peer, up);
  });

  host.SetStatusProvider([&engine, c = cache.get()] {
    nlohmann::json j = engine.StatusJson();
    if (c != nullptr) {
      j["cache_pending_keys"] = c->pending();
      j["cache_write_errors"] = c->errors();
    }
    return j;
  });
  // Drain: stop taking signals and books, end event streams.
  host.OnDrain([&] {
    feeds.Stop();
    engine.CloseStreams();
  });
  // Stop: the gRPC server is down, nothing produces records any more; flush them.
  const absl::Duration flush = absl::Milliseconds(config->outbox_flush_timeout_ms);
  host.OnStop([&, flush] {
    if (outbox_writer) outbox_writer->Stop(flush);
    if (cache) cache->Stop(absl::Seconds(1));
  });

  if (auto s = host.Start(); !s.ok()) {
    tickmesh::runtime::LogError("start failed", {{"error", s.ToString()}});
    return 1;
  }
  if (outbox_writer) outbox_writer->Start();
  if (cache) cache->Start();
  feeds.Start();
  tickmesh::runtime::LogInfo("execution serving", {{"grpc_port", host.grpc_port()},
                                                   {"admin_port", host.admin_port()},
                                                   {"signal", config->signal_address},
                                                   {"market_data", config->market_data_address},
                                                   {"persistence", config->persistence_address},
                                                   {"cache", config->cache_address}});
  return host.Run();
}

}  // namespace tickmesh::execution
