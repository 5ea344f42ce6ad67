#include "service.h"

#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "algos_engine.h"
#include "cache_writer.h"
#include "execution_grpc.h"
#include "live_venue.h"
#include "outbox.h"
#include "reconcile.h"
#include "risk_config.h"
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
ABSL_FLAG(int64_t, risk_max_open_orders, 0,
          "Risk limit on open orders, rejected as risk:max_open_orders (--max_open_orders is the "
          "memory bound); 0 = no limit");
ABSL_FLAG(int64_t, max_daily_loss_e8, 0,
          "Largest loss (realised + unrealised, e8 quote units) since the trading day started; "
          "beyond it only position-reducing orders pass (risk:max_daily_loss); 0 = no limit");
ABSL_FLAG(int64_t, risk_day_reset_hour_utc, 0,
          "Hour (UTC, 0..23) at which the trading day of --max_daily_loss_e8 starts");
ABSL_FLAG(std::string, kill_switch, "",
          "Non-empty: start with the kill switch engaged for this reason (open orders restored "
          "from persistence are cancelled, new ones rejected as risk:kill_switch until "
          "SetKillSwitch disengages it)");
ABSL_FLAG(std::string, risk_state_file, "",
          "File keeping the account's daily-loss baseline of the current trading day across "
          "restarts (written once per trading day); empty = the baseline is re-taken at start");
ABSL_FLAG(std::string, risk_config, "",
          "YAML file with global and per-strategy risk limits (see src/risk_config.h); its global "
          "keys replace the risk flags; empty = flags only");

// Paper venue and portfolio.
ABSL_FLAG(int64_t, taker_fee_bps, 10, "Paper venue taker fee in basis points, charged in quote");
ABSL_FLAG(int64_t, maker_fee_bps, 0,
          "Paper venue maker fee (resting orders filled by the market) in basis points");
ABSL_FLAG(int64_t, paper_latency_us, 0,
          "Paper venue latency model: microseconds from Submit to the order reaching the paper "
          "matching engine (it executes against the book as it is then; Submit answers NEW and "
          "the ack/fills follow as events; cancellable in flight). 0 = execute at once");
ABSL_FLAG(int64_t, paper_latency_jitter_us, 0,
          "Extra paper latency per order, uniform in [0, this] microseconds (orders still reach "
          "the book in the order sent); 0 = none");
ABSL_FLAG(int64_t, initial_quote_e8, 1'000'000LL * 100'000'000LL,
          "Starting balance of each quote asset per venue (e8)");

// Bounds.
ABSL_FLAG(
    int64_t, outbox_max_records, 1'000'000,
    "Records waiting for persistence acks before new orders are refused (RESOURCE_EXHAUSTED)");
ABSL_FLAG(int64_t, cache_flush_ms, 10,
          "Cache writes linger this long after the first pending balance/position so later "
          "updates join the same MSet (latest value per key); 0 = write at once");
ABSL_FLAG(int64_t, md_coalesce_ms, 5,
          "Let market-data hold this service's book/trade/ticker events up to this many ms and "
          "send them as one message (SubscribeRequest.coalesce_ms; 0 = every batch at once)");
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
          "(Kraken-style decaying counter), each optionally followed by :SYNC, the venue header "
          "the bucket follows (X-MBX-USED-WEIGHT-<interval>, X-MBX-ORDER-COUNT-<interval>, "
          "X-Bapi-Limit-Status); CLASS is order, cancel, query_order, open_orders, trades, "
          "balances or query; VENUE * = every other venue. Empty = no limits (live venues get "
          "their documented scheme)");
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

// Live venues (default: none, paper only).
ABSL_FLAG(std::string, live_venues, "",
          "Comma-separated live venues orders go to instead of the paper venue: binance, kraken, "
          "bybit. Orders for any other venue name stay on the paper venue. Empty = paper only");
ABSL_FLAG(std::string, binance_rest_url, "https://api.binance.com",
          "Binance spot REST base URL (http(s)://host[:port]), e.g. the venue simulator's");
ABSL_FLAG(std::string, kraken_rest_url, "https://api.kraken.com", "Kraken REST base URL");
ABSL_FLAG(std::string, bybit_rest_url, "https://api.bybit.com", "Bybit v5 REST base URL");
ABSL_FLAG(std::string, live_symbols, "",
          "Comma-separated BASE-QUOTE symbols traded on live venues (the venue symbol map); "
          "required with --live_venues");
ABSL_FLAG(std::string, venue_secrets_file, "",
          "API keys for live venues when not in TICKMESH_<VENUE>_API_KEY / _API_SECRET: a "
          "KEY=VALUE or YAML file readable by its owner only. Never logged");
ABSL_FLAG(int64_t, live_poll_interval_ms, 1000,
          "Live venues: how often open orders are polled for fills and state changes");
ABSL_FLAG(int64_t, live_balance_interval_ms, 30'000,
          "Live venues: how often balances are refreshed from the venue (also soon after fills)");
ABSL_FLAG(int64_t, live_request_timeout_ms, 5000,
          "Live venues: connect and read timeout of each REST request");
ABSL_FLAG(int64_t, live_recv_window_ms, 5000,
          "Live venues: Binance recvWindow / Bybit X-BAPI-RECV-WINDOW, ms");
ABSL_FLAG(int64_t, live_reconcile_timeout_ms, 10'000,
          "Live venues: at start, how long to wait for balances and open orders from every live "
          "venue before serving anyway (the worker keeps trying; /status shows it)");
ABSL_FLAG(int64_t, live_batch_max, 5,
          "Live venues with batch endpoints (Bybit, Kraken): most new orders / cancels sent in "
          "one request (capped by the venue: Bybit 10, Kraken 15 of one pair); 1 = no batching");
ABSL_FLAG(int64_t, live_batch_linger_ms, 0,
          "How long a new live order may wait for others to fill its batch; 0 = never (orders "
          "queued while a request is in flight are still sent together)");
ABSL_FLAG(int64_t, live_queue, 10'000,
          "Live venues: venue calls of each kind waiting per venue; beyond, RESOURCE_EXHAUSTED");

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

absl::Status LiveVenuesFromFlags(ServiceConfig* c) {
  namespace venues = tickmesh::venues;
  const std::string list = absl::GetFlag(FLAGS_live_venues);
  c->live_worker.poll_interval_ns = absl::GetFlag(FLAGS_live_poll_interval_ms) * 1'000'000;
  c->live_worker.balance_interval_ns = absl::GetFlag(FLAGS_live_balance_interval_ms) * 1'000'000;
  c->live_worker.max_queue = static_cast<size_t>(absl::GetFlag(FLAGS_live_queue));
  c->live_worker.max_batch = static_cast<size_t>(absl::GetFlag(FLAGS_live_batch_max));
  c->live_worker.batch_linger_ns = absl::GetFlag(FLAGS_live_batch_linger_ms) * 1'000'000;
  c->live_request_timeout_ms = absl::GetFlag(FLAGS_live_request_timeout_ms);
  c->live_recv_window_ms = absl::GetFlag(FLAGS_live_recv_window_ms);
  c->live_reconcile_timeout_ms = absl::GetFlag(FLAGS_live_reconcile_timeout_ms);
  if (list.empty()) return absl::OkStatus();
  std::vector<std::string> symbols =
      absl::StrSplit(absl::GetFlag(FLAGS_live_symbols), ',', absl::SkipEmpty());
  if (symbols.empty()) {
    return absl::InvalidArgumentError("--live_symbols is required with --live_venues");
  }
  auto map = venues::SymbolMap::Create(symbols);
  if (!map.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--live_symbols: ", map.status().message()));
  }
  c->live_symbols = std::move(*map);
  const std::string secrets = absl::GetFlag(FLAGS_venue_secrets_file);
  for (absl::string_view raw : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
    auto venue = venues::ParseVenue(name);
    if (!venue.ok() || *venue == venues::Venue::kHyperliquid) {
      return absl::InvalidArgumentError(
          absl::StrCat("--live_venues: '", name, "' is not a live venue (binance, kraken, bybit)"));
    }
    for (const auto& lv : c->live_venues) {
      if (lv.venue == *venue) {
        return absl::InvalidArgumentError(absl::StrCat("--live_venues: '", name, "' twice"));
      }
    }
    ServiceConfig::LiveVenueConfig lv;
    lv.venue = *venue;
    const char* url_flag = "binance_rest_url";
    switch (*venue) {
      case venues::Venue::kBinance:
        lv.base_url = absl::GetFlag(FLAGS_binance_rest_url);
        break;
      case venues::Venue::kKraken:
        lv.base_url = absl::GetFlag(FLAGS_kraken_rest_url);
        url_flag = "kraken_rest_url";
        break;
      default:
        lv.base_url = absl::GetFlag(FLAGS_bybit_rest_url);
        url_flag = "bybit_rest_url";
        break;
    }
    if (!absl::StartsWith(lv.base_url, "http://") && !absl::StartsWith(lv.base_url, "https://")) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", url_flag, "=", lv.base_url, " must be http(s)://host[:port]"));
    }
    auto creds = venues::LoadCredentials(*venue, secrets);
    if (!creds.ok()) {
      // The message names the source (env vars / file), never a key.
      return absl::InvalidArgumentError(
          absl::StrCat("--venue_secrets_file (or TICKMESH_", absl::AsciiStrToUpper(name),
                       "_API_KEY/_API_SECRET): ", creds.status().message()));
    }
    lv.credentials = std::move(*creds);
    // Built once here so a bad URL or credential format is refused at start (exit 2).
    LiveVenueOptions probe;
    probe.venue = lv.venue;
    probe.base_url = lv.base_url;
    probe.symbols = c->live_symbols;
    if (auto v = LiveVenue::Create(probe, lv.credentials); !v.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", url_flag, " / credentials for ", name, ": ", v.status().message()));
    }
    // The venue's documented rate-limit scheme unless --rate_limits configures that venue.
    if (c->rate_limits.count(name) == 0) {
      auto defaults = ParseRateLimits(DefaultRateLimits(lv.venue));
      if (!defaults.ok()) return defaults.status();
      for (auto& [v, specs] : *defaults) c->rate_limits[v] = std::move(specs);
    }
    c->live_venues.push_back(std::move(lv));
  }
  return absl::OkStatus();
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
      {"risk_max_open_orders", absl::GetFlag(FLAGS_risk_max_open_orders), 0, 10'000'000},
      {"max_daily_loss_e8", absl::GetFlag(FLAGS_max_daily_loss_e8), 0, kMax},
      {"risk_day_reset_hour_utc", absl::GetFlag(FLAGS_risk_day_reset_hour_utc), 0, 23},
      {"taker_fee_bps", absl::GetFlag(FLAGS_taker_fee_bps), 0, 1'000},
      {"maker_fee_bps", absl::GetFlag(FLAGS_maker_fee_bps), 0, 1'000},
      {"paper_latency_us", absl::GetFlag(FLAGS_paper_latency_us), 0, 60'000'000},
      {"paper_latency_jitter_us", absl::GetFlag(FLAGS_paper_latency_jitter_us), 0, 60'000'000},
      {"initial_quote_e8", absl::GetFlag(FLAGS_initial_quote_e8), 0, kMax / 4},
      {"outbox_max_records", absl::GetFlag(FLAGS_outbox_max_records), 1'000, 100'000'000},
      {"outbox_flush_timeout_ms", absl::GetFlag(FLAGS_outbox_flush_timeout_ms), 0, 600'000},
      {"cache_flush_ms", absl::GetFlag(FLAGS_cache_flush_ms), 0, 1'000},
      {"md_coalesce_ms", absl::GetFlag(FLAGS_md_coalesce_ms), 0, 1'000},
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
      {"live_poll_interval_ms", absl::GetFlag(FLAGS_live_poll_interval_ms), 10, 600'000},
      {"live_balance_interval_ms", absl::GetFlag(FLAGS_live_balance_interval_ms), 100, 86'400'000},
      {"live_request_timeout_ms", absl::GetFlag(FLAGS_live_request_timeout_ms), 10, 600'000},
      {"live_recv_window_ms", absl::GetFlag(FLAGS_live_recv_window_ms), 1, 60'000},
      {"live_reconcile_timeout_ms", absl::GetFlag(FLAGS_live_reconcile_timeout_ms), 0, 3'600'000},
      {"live_queue", absl::GetFlag(FLAGS_live_queue), 1, 1'000'000},
      {"live_batch_max", absl::GetFlag(FLAGS_live_batch_max), 1, 100},
      {"live_batch_linger_ms", absl::GetFlag(FLAGS_live_batch_linger_ms), 0, 1'000},
  };
  for (const auto& f : flags) {
    if (auto s = CheckRange(f.name, f.value, f.lo, f.hi); !s.ok()) return s;
  }
  c.engine.risk.max_order_qty_e8 = absl::GetFlag(FLAGS_max_order_qty_e8);
  c.engine.risk.max_order_notional_e8 = absl::GetFlag(FLAGS_max_order_notional_e8);
  c.engine.risk.max_position_e8 = absl::GetFlag(FLAGS_max_position_e8);
  c.engine.risk.price_band_bps = absl::GetFlag(FLAGS_price_band_bps);
  c.engine.risk.max_open_orders = absl::GetFlag(FLAGS_risk_max_open_orders);
  c.engine.risk.max_daily_loss_e8 = absl::GetFlag(FLAGS_max_daily_loss_e8);
  c.engine.risk_day_reset_hour_utc = static_cast<int>(absl::GetFlag(FLAGS_risk_day_reset_hour_utc));
  c.kill_switch_reason = absl::GetFlag(FLAGS_kill_switch);
  if (const std::string path = absl::GetFlag(FLAGS_risk_state_file); !path.empty()) {
    auto state = ReadRiskDayState(path);
    if (!state.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--risk_state_file: ", state.status().message()));
    }
    if (*state) {
      c.engine.risk_day_seed = std::make_pair((*state)->trading_day, (*state)->account_baseline_e8);
    }
    c.engine.risk_on_roll = [path](int64_t day, int64_t baseline) {
      if (absl::Status s = WriteRiskDayState(path, RiskDayState{day, baseline}); !s.ok()) {
        tickmesh::runtime::LogError("daily-loss baseline not stored; a restart today re-takes it",
                                    {{"error", s.ToString()}});
      }
    };
  }
  if (const std::string path = absl::GetFlag(FLAGS_risk_config); !path.empty()) {
    RiskConfig base;
    base.account = c.engine.risk;
    base.day_reset_hour_utc = c.engine.risk_day_reset_hour_utc;
    auto risk = LoadRiskConfigFile(path, base);
    if (!risk.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--risk_config: ", risk.status().message()));
    }
    c.engine.risk = risk->account;
    c.engine.strategy_risk = std::move(risk->strategies);
    c.engine.risk_day_reset_hour_utc = risk->day_reset_hour_utc;
  }
  c.cache_flush_ms = absl::GetFlag(FLAGS_cache_flush_ms);
  c.md_coalesce_ms = absl::GetFlag(FLAGS_md_coalesce_ms);
  c.engine.venue.taker_fee_bps = absl::GetFlag(FLAGS_taker_fee_bps);
  c.engine.venue.maker_fee_bps = absl::GetFlag(FLAGS_maker_fee_bps);
  c.engine.venue.ack_latency_ns = absl::GetFlag(FLAGS_paper_latency_us) * 1'000;
  c.engine.venue.ack_jitter_ns = absl::GetFlag(FLAGS_paper_latency_jitter_us) * 1'000;
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
  if (auto s = LiveVenuesFromFlags(&c); !s.ok()) return s;
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
    cache = std::make_unique<CacheWriter>(
        config->cache_address, [&host](bool up) { host.SetDependencyUp("cache", up); },
        /*max_keys=*/100'000, absl::Milliseconds(config->cache_flush_ms));
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
  // Venue rate limits (also charged by the live venues' polls).
  RateLimiter limiter(config->rate_limits, SteadyClock());
  for (const auto& lv : config->live_venues) {
    LiveVenueOptions lo;
    lo.venue = lv.venue;
    lo.base_url = lv.base_url;
    lo.symbols = config->live_symbols;
    lo.api.recv_window_ms = config->live_recv_window_ms;
    lo.connect_timeout = absl::Milliseconds(config->live_request_timeout_ms);
    lo.request_timeout = absl::Milliseconds(config->live_request_timeout_ms);
    lo.limiter = &limiter;  // the venue's rate-limit headers / refusals update the buckets
    auto venue = LiveVenue::Create(std::move(lo), lv.credentials);
    absl::Status s = venue.ok()
                         ? engine.AddRemoteVenue(std::move(*venue), &limiter, config->live_worker)
                         : venue.status();
    if (!s.ok()) {
      std::cerr << "tickmesh-execution: live venue " << tickmesh::venues::VenueName(lv.venue)
                << ": " << s.message() << "\n";
      return 2;
    }
  }
  if (!config->static_books.empty()) {
    tickmesh::v1::MarketEventBatch batch;
    for (const auto& ev : config->static_books) *batch.add_events() = ev;
    (void)engine.OnMarketBatch(batch);
  }
  PersistedState restored_algos;  // algo parents and children, for the runner once it exists
  if (outbox) {
    // Restart reconciliation before the server takes a request.
    ReconcileOptions ro;
    ro.persistence_address = config->persistence_address;
    ro.timeout = absl::Milliseconds(config->reconcile_timeout_ms);
    ro.max_open_orders = config->engine.orders.max_open_orders;
    ro.strategy_ledgers = !config->engine.strategy_risk.empty();
    ro.risk_day_reset_hour_utc = config->engine.risk_day_reset_hour_utc;
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
    RestoreStrategyLedgers(*state, &engine);
    restored_algos.algo_parents = std::move(state->algo_parents);
    restored_algos.algo_children = std::move(state->algo_children);
    restored_algos.algo_children_incomplete = std::move(state->algo_children_incomplete);
    restored_algos.open_orders = std::move(state->open_orders);
  }
  if (!config->live_venues.empty()) {
    // Live venues reconcile before the server takes a request: the venue's balances replace
    // execution's, its open orders update the known ones (unknown ones are reported).
    engine.StartVenues();
    for (const std::string& v :
         engine.WaitVenuesReconciled(absl::Milliseconds(config->live_reconcile_timeout_ms))) {
      tickmesh::runtime::LogWarn("live venue not reconciled at start; serving anyway",
                                 {{"venue", v}});
    }
  }
  if (!config->kill_switch_reason.empty()) {
    // After reconciliation, so restored open orders are cancelled too.
    tickmesh::v1::SetKillSwitchRequest engage;
    engage.set_engaged(true);
    engage.set_reason(config->kill_switch_reason);
    (void)engine.SetKillSwitch(engage);  // a reason is given: cannot fail
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
  // Execution algorithms: parents run on the runner's timer thread; children go through Submit
  // (and the admission queue); the runner follows them through the engine's order events.
  AlgoRunner::Options algo_options;
  // Parent ids "a-<n>" of this process start past every persisted one (as the engine's ids).
  if (outbox) algo_options.first_parent_id = tickmesh::runtime::NowUnixNs() / 1000;
  AlgoRunner algos(algo_options,
                   EngineAlgoHooks(&engine, limited ? &admission : nullptr,
                                   [&engine](const std::string& venue, const std::string& symbol) {
                                     return engine.BookSnapshot(venue, symbol, 100);
                                   }));
  engine.SetEventObserver(
      [&algos](const tickmesh::v1::OrderEventBatch& batch) { algos.OnOrderEvents(batch); });
  if (outbox) {
    // Open parents resume (or end with a reason) once the runner follows the engine's events.
    const AlgoRunner::RestoreSummary sum = RestoreAlgoParents(restored_algos, engine, &algos);
    tickmesh::runtime::LogInfo("algo parents restored",
                               {{"resumed", sum.resumed},
                                {"ended", sum.ended},
                                {"skipped", sum.skipped},
                                {"cancelled_orphans", sum.cancelled_orphans.size()}});
    restored_algos = PersistedState();
  }
  ExecutionGrpc grpc_service(&engine, limited ? &admission : nullptr);
  grpc_service.SetAlgoRunner(&algos);
  host.AddService(&grpc_service, "tickmesh.v1.ExecutionService");

  UpstreamFeeds::Options feeds_options{config->signal_address, config->market_data_address};
  feeds_options.md_coalesce_ms = static_cast<uint32_t>(config->md_coalesce_ms);
  if (!feeds_options.signal_address.empty()) host.AddDependency("signal", false);
  if (!feeds_options.market_data_address.empty()) host.AddDependency("market-data", false);
  UpstreamFeeds feeds(&engine, feeds_options, [&host](const std::string& peer, bool up) {
    host.SetDependencyUp(peer, up);
  });

  host.SetStatusProvider([&engine, &limiter, &admission, c = cache.get()] {
    nlohmann::json j = engine.StatusJson();
    j["rate_limit_levels"] = limiter.Levels(limiter.now());
    j["rate_limit_venue_throttles"] = limiter.Throttles(limiter.now());
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
    grpc_service.SetAlgoRunner(nullptr);  // new algo parents are refused from now on
    algos.Stop();                         // no more children
    admission.Stop();                     // waiting requests are answered UNAVAILABLE
    engine.CloseStreams();
  });
  // Stop: the gRPC server is down, nothing produces records any more; flush them.
  const absl::Duration flush = absl::Milliseconds(config->outbox_flush_timeout_ms);
  host.OnStop([&, flush] {
    engine.StopVenues();  // their last answers reach the outbox before it is flushed
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
  algos.Start();
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
