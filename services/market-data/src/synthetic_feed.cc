#include "synthetic_feed.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"

namespace tickmesh::market_data {
namespace {

using tickmesh::v1::BookDelta;
using tickmesh::v1::BookSnapshot;
using tickmesh::v1::MarketEvent;
using tickmesh::v1::MarketEventBatch;

// A plausible starting price (in whole units) so the synthetic market looks like the real one.
double InitialPrice(const std::string& symbol) {
  if (absl::StartsWith(symbol, "BTC")) return 60'000.0;
  if (absl::StartsWith(symbol, "ETH")) return 3'000.0;
  if (absl::StartsWith(symbol, "SOL")) return 150.0;
  return 100.0;
}

void AddLevel(google::protobuf::RepeatedPtrField<tickmesh::v1::PriceLevel>* side, int64_t price,
              int64_t qty) {
  auto* l = side->Add();
  l->set_price_e8(price);
  l->set_qty_e8(qty);
}

}  // namespace

SyntheticGenerator::SyntheticGenerator(SyntheticOptions options) : options_(std::move(options)) {
  options_.levels = std::max(1, options_.levels);
  options_.tick_e8 = std::max<int64_t>(0, options_.tick_e8);
  symbols_.reserve(options_.symbols.size());
  for (size_t i = 0; i < options_.symbols.size(); ++i) {
    const std::string& sym = options_.symbols[i];
    // Independent stream per symbol: seed mixed with the symbol's position (splitmix64 step).
    uint64_t z = options_.seed + 0x9E3779B97F4A7C15ull * (i + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const double price_e8 = InitialPrice(sym) * 1e8;
    int64_t tick = options_.tick_e8;
    if (tick == 0) {
      tick = 1;
      while (static_cast<double>(tick) * 10 <= price_e8 * 1e-4) tick *= 10;
    }
    symbols_.emplace_back(sym, z, tick, price_e8 / static_cast<double>(tick),
                          static_cast<size_t>(options_.levels) * 4);
  }
}

int64_t SyntheticGenerator::RandomQty(SymbolState& s) {
  // 0.01 .. 5.00 units in steps of 0.01.
  return std::uniform_int_distribution<int64_t>(1, 500)(s.rng) * 1'000'000;
}

void SyntheticGenerator::StepMid(SymbolState& s) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  if (u(s.rng) < options_.regime_switch_probability) s.volatile_regime = !s.volatile_regime;
  const double vol =
      options_.volatility_bps * 1e-4 * (s.volatile_regime ? options_.volatile_multiplier : 1.0);
  double ret = vol * std::normal_distribution<double>(0.0, 1.0)(s.rng);
  if (u(s.rng) < options_.jump_probability) {
    ret += (u(s.rng) < 0.5 ? -1.0 : 1.0) * options_.jump_bps * 1e-4;
  }
  // Keep the mid well above zero whatever the parameters.
  s.mid_ticks = std::max(10.0 * options_.levels, s.mid_ticks * std::exp(ret));
}

void SyntheticGenerator::MakeSnapshot(SymbolState& s, BookSnapshot* out) {
  const int64_t tick = s.tick_e8;
  const int64_t best_bid = static_cast<int64_t>(std::floor(s.mid_ticks));
  for (int i = 0; i < options_.levels; ++i) {
    AddLevel(out->mutable_bids(), (best_bid - i) * tick, RandomQty(s));
  }
  for (int i = 0; i < options_.levels; ++i) {
    AddLevel(out->mutable_asks(), (best_bid + 1 + i) * tick, RandomQty(s));
  }
  (void)s.book.ApplySnapshot(*out);  // Valid by construction.
}

void SyntheticGenerator::MakeDelta(SymbolState& s, BookDelta* out) {
  StepMid(s);
  const int64_t tick = s.tick_e8;
  const int64_t levels = options_.levels;
  const int64_t best_bid = static_cast<int64_t>(std::floor(s.mid_ticks)) * tick;
  const int64_t best_ask = best_bid + tick;
  const int64_t worst_bid = best_bid - (levels - 1) * tick;
  const int64_t worst_ask = best_ask + (levels - 1) * tick;

  // Remove levels outside the new window, add the missing ones.
  for (const book::Level& l : s.book.Bids()) {
    if (l.price_e8 > best_bid || l.price_e8 < worst_bid)
      AddLevel(out->mutable_bids(), l.price_e8, 0);
  }
  for (const book::Level& l : s.book.Asks()) {
    if (l.price_e8 < best_ask || l.price_e8 > worst_ask)
      AddLevel(out->mutable_asks(), l.price_e8, 0);
  }
  // Presence check against the current book: the window is small, a merge walk is enough.
  auto bids = s.book.Bids();
  auto asks = s.book.Asks();
  auto has = [](const std::vector<book::Level>& side, int64_t p) {
    return std::any_of(side.begin(), side.end(),
                       [p](const book::Level& l) { return l.price_e8 == p; });
  };
  for (int64_t p = best_bid; p >= worst_bid; p -= tick) {
    if (!has(bids, p)) AddLevel(out->mutable_bids(), p, RandomQty(s));
  }
  for (int64_t p = best_ask; p <= worst_ask; p += tick) {
    if (!has(asks, p)) AddLevel(out->mutable_asks(), p, RandomQty(s));
  }
  // And one size change inside the window, so every delta changes something.
  const int64_t offset = std::uniform_int_distribution<int64_t>(0, levels - 1)(s.rng);
  if (std::uniform_int_distribution<int>(0, 1)(s.rng) == 0) {
    AddLevel(out->mutable_bids(), best_bid - offset * tick, RandomQty(s));
  } else {
    AddLevel(out->mutable_asks(), best_ask + offset * tick, RandomQty(s));
  }
  (void)s.book.ApplyDelta(*out);  // Valid by construction.
}

void SyntheticGenerator::MakeTrade(SymbolState& s, tickmesh::v1::Trade* out) {
  const bool buy = std::uniform_int_distribution<int>(0, 1)(s.rng) == 0;
  auto best = buy ? s.book.BestAsk() : s.book.BestBid();
  const int64_t fallback = static_cast<int64_t>(std::floor(s.mid_ticks)) * s.tick_e8;
  out->set_price_e8(best ? best->price_e8 : fallback);
  out->set_qty_e8(std::uniform_int_distribution<int64_t>(1, 100)(s.rng) * 1'000'000);
  out->set_aggressor_side(buy ? tickmesh::v1::SIDE_BUY : tickmesh::v1::SIDE_SELL);
  out->set_trade_id(std::to_string(++s.trade_id));
}

void SyntheticGenerator::Next(size_t index, int64_t now_unix_ns, MarketEvent* out) {
  SymbolState& s = symbols_.at(index);
  out->Clear();
  out->set_venue(options_.venue);
  out->set_symbol(s.symbol);
  out->set_seq(++s.seq);
  out->set_exchange_unix_ns(now_unix_ns);
  out->set_receive_unix_ns(now_unix_ns);
  uint64_t trace_id = 0;
  while (trace_id == 0) trace_id = s.rng();
  out->mutable_trace()->set_trace_id(trace_id);
  out->mutable_trace()->set_origin_unix_ns(now_unix_ns);
  if (!s.snapshot_sent) {
    s.snapshot_sent = true;
    MakeSnapshot(s, out->mutable_snapshot());
  } else if (std::uniform_real_distribution<double>(0.0, 1.0)(s.rng) < options_.trade_probability) {
    MakeTrade(s, out->mutable_trade());
  } else {
    MakeDelta(s, out->mutable_delta());
  }
}

SyntheticFeed::SyntheticFeed(SyntheticOptions options, double rate_per_symbol)
    : generator_(std::move(options)), rate_per_symbol_(rate_per_symbol) {}

SyntheticFeed::~SyntheticFeed() { Stop(); }

absl::Status SyntheticFeed::Start(EventSink sink) {
  if (thread_.joinable()) return absl::FailedPreconditionError("synthetic feed already started");
  if (rate_per_symbol_ <= 0 || generator_.symbols() == 0) {
    runtime::LogInfo("synthetic feed off", {{"rate", rate_per_symbol_}});
    return absl::OkStatus();
  }
  {
    absl::MutexLock lock(&mu_);
    stop_ = false;
  }
  running_ = true;
  thread_ = std::thread([this, sink = std::move(sink)] { Run(sink); });
  runtime::LogInfo("synthetic feed started",
                   {{"symbols", static_cast<uint64_t>(generator_.symbols())},
                    {"rate_per_symbol", rate_per_symbol_},
                    {"venue", generator_.options().venue}});
  return absl::OkStatus();
}

void SyntheticFeed::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  running_ = false;
}

void SyntheticFeed::Run(EventSink sink) {
  constexpr absl::Duration kBatchInterval = absl::Milliseconds(10);
  const size_t n = generator_.symbols();
  const int64_t start_ns = runtime::MonotonicNs();
  double emitted_per_symbol = 0;  // events per symbol emitted so far (fractional accounting)
  MarketEventBatch batch;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), kBatchInterval);
      if (stop_) break;
    }
    const double elapsed_s = static_cast<double>(runtime::MonotonicNs() - start_ns) * 1e-9;
    double due = elapsed_s * rate_per_symbol_ - emitted_per_symbol;
    // Catch up at most one second after a stall instead of flooding.
    if (due > rate_per_symbol_) {
      emitted_per_symbol += due - rate_per_symbol_;
      due = rate_per_symbol_;
    }
    const auto count = static_cast<size_t>(due);
    if (count == 0) continue;
    emitted_per_symbol += static_cast<double>(count);
    batch.Clear();
    const int64_t now = runtime::NowUnixNs();
    for (size_t k = 0; k < count; ++k) {
      for (size_t i = 0; i < n; ++i) generator_.Next(i, now, batch.add_events());
    }
    if (absl::Status s = sink(batch); !s.ok()) {
      ++batches_rejected_;
      runtime::WarnOnce("synthetic-rejected", "synthetic batch rejected",
                        {{"error", std::string(s.message())}});
    }
  }
}

}  // namespace tickmesh::market_data
