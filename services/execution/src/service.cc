#include "service.h"

#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cache_writer.h"
#include "execution_grpc.h"
#include "outbox.h"
#include "reconcile.h"
#include "symbol.h"
#include "tickmesh/runtime/clock.h"
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

ABSL_FLAG(int64_t, reconcile_timeout_ms, 30'000,
          "At start, how long to wait for persistence to answer the restart reconciliation "
          "(open orders, positions, balances); past it the process exits 1 rather than serve "
          "without its state");
ABSL_FLAG(std::string, paper_static_book, "",
          "Fixed paper books for tests and benchmarks, applied once at start: comma-separated "
          "VENUE:SYMBOL:BID_E8:ASK_E8:QTY_E8 (one level per side); market-data snapshots of the "
          "same instrument replace them. Empty = none");

ABSL_FLAG(std::string, rate_limits, "",
          "Venue rate limits, ';'-separated VENUE/BUCKET=token:CAPACITY:WINDOW_MS:CLASS=COST[,..] "
          "(Binance-style weights) or VENUE/BUCKET=decay:MAX:DECAY_PER_S:CLASS=COST[,..] "
          "(Kraken-style decaying counter); CLASS is order or cancel; VENUE * = every other "
          "venue. Empty = no limits");
ABSL_FLAG(
    int64_t, rate_limit_order_wait_ms, 100,
    "Longest a new order waits for a rate limit before RESOURCE_EXHAUSTED rate_limit:<bucket>");
ABSL_FLAG(int64_t, rate_limit_cancel_wait_ms, 1000,
          "Longest a cancel waits for a rate limit (cancels are served before new orders)");
ABSL_FLAG(int64_t, rate_limit_queue, 10'000,
          "Requests waiting for a rate limit per venue; beyond, RESOURCE_EXHAUSTED "
          "rate_limit:queue_full");
ABSL_FLAG(int64_t, breaker_failure_pct, 50,
          "Circuit breaker: share of failed venue calls (errors, timeouts) among the last 50, "
          "at least 20 calls, that opens a venue's breaker; 0 = no breaker");
ABSL_FLAG(int64_t, breaker_open_ms, 5000,
          "Circuit breaker: how long an open breaker refuses orders before 3 half-open probes");
ABSL_FLAG(int64_t, venue_timeout_ms, 1000,
          "A venue call slower than this counts as a failure for the circuit breaker");

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

absl::StatusOr<std::vector<tickmesh::v1::MarketEvent>> ParseStaticBooks(const std::string& spec) {
  std::vector<tickmesh::v1::MarketEvent> out;
  if (spec.empty()) return out;
  for (absl::string_view entry : absl::StrSplit(spec, ',')) {
    std::vector<std::string> f = absl::StrSplit(entry, ':');
    int64_t bid = 0, ask = 0, qty = 0;
    if (f.size() != 5 || f[0].empty() || !SplitSymbol(f[1]).ok() || !absl::SimpleAtoi(f[2], &bid) ||
        !absl::SimpleAtoi(f[3], &ask) || !absl::SimpleAtoi(f[4], &qty) || bid <= 0 || ask <= bid ||
        qty <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--paper_static_book entry '", std::string(entry),
          "' must be VENUE:BASE-QUOTE:BID_E8:ASK_E8:QTY_E8 with 0 < bid < ask, qty > 0"));
    }
    tickmesh::v1::MarketEvent& ev = out.emplace_back();
    ev.set_venue(f[0]);
    ev.set_symbol(f[1]);
    ev.set_seq(1);
    auto* b = ev.mutable_snapshot()->add_bids();
    b->set_price_e8(bid);
    b->set_qty_e8(qty);
    auto* a = ev.mutable_snapshot()->add_asks();
    a->set_price_e8(ask);
    a->set_qty_e8(qty);
  }
  return out;
}

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
      {"reconcile_timeout_ms", absl::GetFlag(FLAGS_reconcile_timeout_ms), 1, 3'600'000},
      {"rate_limit_order_wait_ms", absl::GetFlag(FLAGS_rate_limit_order_wait_ms), 0, 60'000},
      {"rate_limit_cancel_wait_ms", absl::GetFlag(FLAGS_rate_limit_cancel_wait_ms), 0, 60'000},
      {"rate_limit_queue", absl::GetFlag(FLAGS_rate_limit_queue), 1, 1'000'000},
      {"breaker_failure_pct", absl::GetFlag(FLAGS_breaker_failure_pct), 0, 100},
      {"breaker_open_ms", absl::GetFlag(FLAGS_breaker_open_ms), 1, 3'600'000},
      {"venue_timeout_ms", absl::GetFlag(FLAGS_venue_timeout_ms), 1, 600'000},
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
  c.reconcile_timeout_ms = absl::GetFlag(FLAGS_reconcile_timeout_ms);
  auto books = ParseStaticBooks(absl::GetFlag(FLAGS_paper_static_book));
  if (!books.ok()) return books.status();
  c.static_books = std::move(*books);
  auto limits = ParseRateLimits(absl::GetFlag(FLAGS_rate_limits));
  if (!limits.ok()) return limits.status();
  c.rate_limits = std::move(*limits);
  c.admission.order_budget_ns = absl::GetFlag(FLAGS_rate_limit_order_wait_ms) * 1'000'000;
  c.admission.cancel_budget_ns = absl::GetFlag(FLAGS_rate_limit_cancel_wait_ms) * 1'000'000;
  c.admission.max_queued_per_venue = static_cast<size_t>(absl::GetFlag(FLAGS_rate_limit_queue));
  c.engine.breaker_enabled = absl::GetFlag(FLAGS_breaker_failure_pct) > 0;
  c.engine.breaker.failure_ratio =
      static_cast<double>(absl::GetFlag(FLAGS_breaker_failure_pct)) / 100.0;
  c.engine.breaker.open_ns = absl::GetFlag(FLAGS_breaker_open_ms) * 1'000'000;
  c.engine.venue_timeout_ns = absl::GetFlag(FLAGS_venue_timeout_ms) * 1'000'000;
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

  if (outbox) {
    // Ids of this process start past every id an earlier process persisted: counters are seeded
    // from the clock in microseconds (an earlier process would have had to issue more ids than
    // microseconds it lived to collide), and Restore moves them past every restored order.
    const uint64_t seed = static_cast<uint64_t>(tickmesh::runtime::NowUnixNs() / 1000);
    config->engine.orders.first_order_number = seed;
    config->engine.orders.first_fill_number = seed;
    config->engine.venue.first_venue_id = seed;
  }
  ExecutionEngine engine(config->engine, outbox.get(), cache_put);
  if (!config->static_books.empty()) {
    tickmesh::v1::MarketEventBatch batch;
    for (const auto& ev : config->static_books) *batch.add_events() = ev;
    (void)engine.OnMarketBatch(batch);
  }
  if (outbox) {
    // Restart reconciliation before the server takes a request.
    ReconcileOptions ro;
    ro.persistence_address = config->persistence_address;
    ro.timeout = absl::Milliseconds(config->reconcile_timeout_ms);
    ro.max_open_orders = config->engine.orders.max_open_orders;
    auto state = LoadPersistedState(ro);
    if (!state.ok()) {
      tickmesh::runtime::LogError("restart reconciliation failed; not serving without state",
                                  {{"error", state.status().ToString()}});
      return 1;
    }
    const ExecutionEngine::RestoreSummary sum =
        engine.Restore(state->open_orders, state->positions, state->balances);
    tickmesh::runtime::LogInfo("restart reconciliation done", {{"open_orders", sum.open_orders},
                                                               {"closed_orders", sum.closed_orders},
                                                               {"positions", sum.positions},
                                                               {"balances", sum.balances},
                                                               {"skipped", sum.skipped}});
  }
  // Venue rate limits: API Submit/Cancel and signal orders go through the admission queue.
  auto& waits = tickmesh::runtime::CounterFamily(
      tickmesh::runtime::MetricPrefix("execution") + "rate_limit_waits_total",
      "Requests that met a rate limit, by venue, bucket and result (admitted after waiting, "
      "refused)");
  auto& wait_seconds = tickmesh::runtime::HistogramFamily(
                           tickmesh::runtime::MetricPrefix("execution") + "rate_limit_wait_seconds",
                           "Time requests waited for a rate limit")
                           .Add({}, tickmesh::runtime::LatencyBuckets());
  RateLimiter limiter(config->rate_limits, SteadyClock());
  AdmissionQueue admission(
      &limiter, config->admission,
      [&waits, &wait_seconds](const std::string& venue, const std::string& bucket,
                              int64_t waited_ns, bool admitted) {
        waits
            .Add({{"venue", venue},
                  {"bucket", bucket},
                  {"result", admitted ? "admitted" : "refused"}})
            .Increment();
        wait_seconds.Observe(static_cast<double>(waited_ns) / 1e9);
      });
  const bool limited = !config->rate_limits.empty();
  if (limited) engine.SetAdmission(&admission);
  ExecutionGrpc grpc_service(&engine, limited ? &admission : nullptr);
  host.AddService(&grpc_service, "tickmesh.v1.ExecutionService");

  UpstreamFeeds::Options feeds_options{config->signal_address, config->market_data_address};
  if (!feeds_options.signal_address.empty()) host.AddDependency("signal", false);
  if (!feeds_options.market_data_address.empty()) host.AddDependency("market-data", false);
  UpstreamFeeds feeds(&engine, feeds_options, [&host](const std::string& peer, bool up) {
    host.SetDependencyUp(peer, up);
  });

  host.SetStatusProvider([&engine, &limiter, &admission, c = cache.get()] {
    nlohmann::json j = engine.StatusJson();
    j["rate_limit_levels"] = limiter.Levels(limiter.now());
    j["rate_limit_queued"] = admission.queued();
    if (c != nullptr) {
      j["cache_pending_keys"] = c->pending();
      j["cache_write_errors"] = c->errors();
    }
    return j;
  });
  // Drain: stop taking signals and books, end event streams.
  host.OnDrain([&] {
    feeds.Stop();
    admission.Stop();  // waiting requests are answered UNAVAILABLE
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
  if (limited) admission.Start();
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
