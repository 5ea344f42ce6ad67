#include "signal_engine.h"

#include <algorithm>
#include <chrono>
#include <functional>

#include "absl/strings/str_cat.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"

namespace tickmesh::signal {
namespace {

using tickmesh::v1::MarketEvent;
using tickmesh::v1::Signal;

const std::string& Prefix() {
  static const std::string* p = new std::string(runtime::MetricPrefix("signal"));
  return *p;
}

const char* SideLabel(tickmesh::v1::Side side) {
  return side == tickmesh::v1::SIDE_BUY ? "buy" : side == tickmesh::v1::SIDE_SELL ? "sell" : "none";
}

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// Skip counters of one configured strategy, by reason.
struct SignalEngine::SpecMetrics final : SkipSink {
  std::array<prometheus::Counter*, kSkipReasons> skipped{};
  std::atomic<uint64_t>* total = nullptr;
  void Skipped(SkipReason r) override {
    skipped[static_cast<int>(r)]->Increment();
    ++*total;
  }
};

struct SignalEngine::Instrument {
  struct Slot {
    size_t spec = 0;
    std::unique_ptr<Strategy> strategy;
    std::optional<indicators::RealizedVol> quiet;  // quiet-market gate
  };
  struct Candles {
    int interval_s = 0;
    int64_t bucket = -1;
    Bar bar;
  };
  std::string venue, symbol;
  uint64_t last_seq = 0;
  int64_t last_price_e8 = 0;
  std::vector<Slot> slots;
  std::vector<Candles> candles;
  bool needs_book = false;
  bool book_seen = false;  // a snapshot since the last reset
  std::map<int64_t, int64_t, std::greater<int64_t>> bids;
  std::map<int64_t, int64_t> asks;
  BookTop top;
  Ensemble::State ensemble;
  PositionTable::Slot* position = nullptr;
};

SignalEngine::SignalEngine(SignalEngineOptions options, PositionTable* positions)
    : options_(std::move(options)),
      positions_(positions),
      ensemble_(options_.strategies),
      trades_counter_(
          runtime::CounterFamily(Prefix() + "trades_total", "Trades fed to strategies").Add({})),
      stale_counter_(runtime::CounterFamily(Prefix() + "stale_events_total",
                                            "Market events ignored: seq not after the last one")
                         .Add({})),
      symbols_gauge_(runtime::GaugeFamily(Prefix() + "symbols_tracked",
                                          "(venue, symbol) instruments with strategy state")
                         .Add({})),
      update_latency_(
          runtime::HistogramFamily(Prefix() + "indicator_update_seconds",
                                   "Time to apply one market batch to indicators and strategies")
              .Add({}, runtime::LatencyBuckets())) {
  auto& family = runtime::CounterFamily(Prefix() + "skipped_cycles_total",
                                        "Strategy decision cycles skipped, by strategy and reason");
  for (const auto& spec : options_.strategies.strategies) {
    auto m = std::make_unique<SpecMetrics>();
    for (int r = 0; r < kSkipReasons; ++r) {
      m->skipped[r] = &family.Add(
          {{"strategy", spec.id}, {"reason", SkipReasonName(static_cast<SkipReason>(r))}});
    }
    m->total = &skipped_;
    spec_metrics_.push_back(std::move(m));
  }
  scratch_.reserve(8);
}

SignalEngine::~SignalEngine() = default;

SignalEngine::Instrument* SignalEngine::GetOrCreate(const MarketEvent& e) {
  auto& by_symbol = instruments_[e.venue()];
  auto it = by_symbol.find(e.symbol());
  if (it != by_symbol.end()) return it->second.get();
  if (instrument_count_ >= options_.max_symbols) {
    ++ignored_symbols_;
    runtime::WarnOnce("signal-max-symbols", "max_symbols reached; new instruments ignored",
                      {{"max_symbols", static_cast<uint64_t>(options_.max_symbols)}});
    return nullptr;
  }
  auto inst = std::make_unique<Instrument>();
  inst->venue = e.venue();
  inst->symbol = e.symbol();
  const auto& specs = options_.strategies.strategies;
  std::vector<size_t> indices;
  bool needs_position = false;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!specs[i].Matches(e.venue(), e.symbol())) continue;
    indices.push_back(i);
    Instrument::Slot slot;
    slot.spec = i;
    slot.strategy = specs[i].Make();
    if (specs[i].quiet_min_vol_bps > 0) slot.quiet.emplace(specs[i].quiet_window);
    inst->slots.push_back(std::move(slot));
    inst->needs_book |= specs[i].NeedsBook();
    needs_position |= specs[i].type == StrategyType::kMarketMaking;
    const int interval = specs[i].candle_interval_s;
    const bool wants_bars = specs[i].input == InputKind::kCandle ||
                            (specs[i].type == StrategyType::kMarketMaking && specs[i].mm.use_atr);
    if (wants_bars && interval > 0 &&
        std::none_of(inst->candles.begin(), inst->candles.end(),
                     [&](const auto& c) { return c.interval_s == interval; })) {
      inst->candles.push_back({interval, -1, Bar{}});
    }
  }
  inst->ensemble = ensemble_.NewState(indices);
  if (needs_position && positions_ != nullptr) {
    inst->position = positions_->Register(e.venue(), e.symbol());
  }
  Instrument* raw = inst.get();
  by_symbol.emplace(e.symbol(), std::move(inst));
  ++instrument_count_;
  symbols_ = instrument_count_;
  symbols_gauge_.Set(static_cast<double>(instrument_count_));
  return raw;
}

void SignalEngine::ResetInstrument(Instrument& inst) {
  for (auto& slot : inst.slots) {
    slot.strategy->Reset();
    if (slot.quiet) slot.quiet->Reset();
  }
  for (auto& c : inst.candles) c.bucket = -1;
  inst.bids.clear();
  inst.asks.clear();
  inst.book_seen = false;
  inst.top = BookTop{};
  inst.last_price_e8 = 0;
  const int last_dir = inst.ensemble.last_dir;
  for (auto& v : inst.ensemble.votes) v = Ensemble::Vote{};
  inst.ensemble.last_dir = last_dir;  // what was sent downstream survives
}

void SignalEngine::CountReset(absl::string_view reason) {
  runtime::CounterFamily(Prefix() + "indicator_resets_total",
                         "Indicator state resets, by reason (gap, reconnect)")
      .Add({{"reason", std::string(reason)}})
      .Increment();
}

void SignalEngine::OnBatch(const tickmesh::v1::MarketEventBatch& batch, int64_t recv_ns,
                           std::vector<Signal>* out) {
  const int64_t start = SteadyNs();
  for (const MarketEvent& e : batch.events()) {
    if (e.venue().empty() || e.symbol().empty()) continue;
    Instrument* inst = GetOrCreate(e);
    if (inst == nullptr) continue;
    if (inst->last_seq != 0) {
      if (e.seq() <= inst->last_seq) {
        ++stale_events_;
        stale_counter_.Increment();
        continue;
      }
      if (e.seq() > inst->last_seq + 1) {
        runtime::LogInfo("indicator state reset", {{"reason", "gap"},
                                                   {"venue", e.venue()},
                                                   {"symbol", e.symbol()},
                                                   {"expected", inst->last_seq + 1},
                                                   {"got", e.seq()}});
        ResetInstrument(*inst);
        ++gap_resets_;
        CountReset("gap");
      }
    }
    inst->last_seq = e.seq();
    switch (e.payload_case()) {
      case MarketEvent::kTrade:
        OnTrade(*inst, e, recv_ns, out);
        break;
      case MarketEvent::kSnapshot:
      case MarketEvent::kDelta:
      case MarketEvent::kTicker:
        if (inst->needs_book) OnBookEvent(*inst, e, recv_ns, out);
        break;
      default:
        break;
    }
  }
  update_latency_.Observe(static_cast<double>(SteadyNs() - start) * 1e-9);
}

void SignalEngine::OnTrade(Instrument& inst, const MarketEvent& e, int64_t recv_ns,
                           std::vector<Signal>* out) {
  const auto& t = e.trade();
  if (t.price_e8() <= 0) return;  // market-data validates; stay safe anyway
  ++trades_;
  trades_counter_.Increment();
  inst.last_price_e8 = t.price_e8();
  const auto& specs = options_.strategies.strategies;
  Context ctx;
  ctx.now_ns = recv_ns;
  ctx.book = &inst.top;
  if (inst.position != nullptr) {
    ctx.inventory_known = inst.position->known.load(std::memory_order_relaxed);
    ctx.inventory_e8 = inst.position->qty_e8.load(std::memory_order_relaxed);
  }
  const double price = static_cast<double>(t.price_e8()) / kE8;
  // Candles: a trade in a later bucket closes the current bar first.
  const int64_t trade_ns = e.exchange_unix_ns() > 0
                               ? e.exchange_unix_ns()
                               : (e.receive_unix_ns() > 0 ? e.receive_unix_ns() : recv_ns);
  for (auto& c : inst.candles) {
    const int64_t bucket = trade_ns / (static_cast<int64_t>(c.interval_s) * 1'000'000'000);
    if (c.bucket >= 0 && bucket > c.bucket) {
      for (size_t i = 0; i < inst.slots.size(); ++i) {
        const StrategySpec& spec = specs[inst.slots[i].spec];
        if (spec.candle_interval_s != c.interval_s) continue;
        if (spec.input == InputKind::kCandle) {
          auto& slot = inst.slots[i];
          if (slot.quiet) slot.quiet->Update(c.bar.close);
          ctx.quiet = slot.quiet && slot.quiet->ready() &&
                      slot.quiet->value() * 1e4 < spec.quiet_min_vol_bps;
          ctx.skips = spec_metrics_[slot.spec].get();
          scratch_.clear();
          slot.strategy->OnBar(c.bar, ctx, &scratch_);
          Collect(inst, i, e, recv_ns, out);
        } else if (spec.type == StrategyType::kMarketMaking) {
          scratch_.clear();
          inst.slots[i].strategy->OnBar(c.bar, ctx, &scratch_);
        }
      }
    }
    if (bucket != c.bucket) {
      c.bucket = bucket;
      c.bar =
          Bar{price, price, price, price, 0, bucket * c.interval_s * 1'000'000'000LL, c.interval_s};
    }
    c.bar.high = std::max(c.bar.high, price);
    c.bar.low = std::min(c.bar.low, price);
    c.bar.close = price;
    c.bar.volume += static_cast<double>(t.qty_e8()) / kE8;
  }
  Tick tick{t.price_e8(), t.qty_e8(), t.aggressor_side(), trade_ns};
  for (size_t i = 0; i < inst.slots.size(); ++i) {
    auto& slot = inst.slots[i];
    const StrategySpec& spec = specs[slot.spec];
    if (spec.input != InputKind::kTrade) continue;
    if (slot.quiet) slot.quiet->Update(price);
    ctx.quiet =
        slot.quiet && slot.quiet->ready() && slot.quiet->value() * 1e4 < spec.quiet_min_vol_bps;
    ctx.skips = spec_metrics_[slot.spec].get();
    scratch_.clear();
    slot.strategy->OnTrade(tick, ctx, &scratch_);
    Collect(inst, i, e, recv_ns, out);
  }
}

void SignalEngine::OnBookEvent(Instrument& inst, const MarketEvent& e, int64_t recv_ns,
                               std::vector<Signal>* out) {
  auto apply = [&](const auto& levels, auto& side) {
    for (const auto& l : levels) {
      if (l.price_e8() <= 0) continue;
      if (l.qty_e8() <= 0) {
        side.erase(l.price_e8());
      } else {
        side[l.price_e8()] = l.qty_e8();
      }
    }
    while (side.size() > options_.max_book_levels) side.erase(std::prev(side.end()));
  };
  if (e.has_snapshot()) {
    inst.bids.clear();
    inst.asks.clear();
    apply(e.snapshot().bids(), inst.bids);
    apply(e.snapshot().asks(), inst.asks);
    inst.book_seen = true;
  } else if (e.has_delta()) {
    if (!inst.book_seen) return;  // deltas before a snapshot (or after a gap) mean nothing
    apply(e.delta().bids(), inst.bids);
    apply(e.delta().asks(), inst.asks);
  } else if (e.has_ticker()) {
    if (inst.book_seen) return;  // the L2 book is better information
    const auto& t = e.ticker();
    inst.bids.clear();
    inst.asks.clear();
    if (t.bid_price_e8() > 0 && t.bid_qty_e8() > 0) inst.bids[t.bid_price_e8()] = t.bid_qty_e8();
    if (t.ask_price_e8() > 0 && t.ask_qty_e8() > 0) inst.asks[t.ask_price_e8()] = t.ask_qty_e8();
  }
  BookTop top;
  if (!inst.bids.empty() && !inst.asks.empty() &&
      inst.bids.begin()->first < inst.asks.begin()->first) {
    top.valid = true;
    top.bid_e8 = inst.bids.begin()->first;
    top.bid_qty_e8 = inst.bids.begin()->second;
    top.ask_e8 = inst.asks.begin()->first;
    top.ask_qty_e8 = inst.asks.begin()->second;
    int n = 0;
    for (auto it = inst.bids.begin(); it != inst.bids.end() && n < options_.strategies.book_levels;
         ++it, ++n) {
      top.bid_depth += static_cast<double>(it->second) / kE8;
    }
    n = 0;
    for (auto it = inst.asks.begin(); it != inst.asks.end() && n < options_.strategies.book_levels;
         ++it, ++n) {
      top.ask_depth += static_cast<double>(it->second) / kE8;
    }
  }
  const BookTop& old = inst.top;
  if (top.valid == old.valid && top.bid_e8 == old.bid_e8 && top.ask_e8 == old.ask_e8 &&
      top.bid_qty_e8 == old.bid_qty_e8 && top.ask_qty_e8 == old.ask_qty_e8 &&
      top.bid_depth == old.bid_depth && top.ask_depth == old.ask_depth) {
    return;
  }
  inst.top = top;
  if (!top.valid) return;
  ++book_updates_;
  const double mid = 0.5 * static_cast<double>(top.bid_e8 + top.ask_e8) / kE8;
  const auto& specs = options_.strategies.strategies;
  Context ctx;
  ctx.now_ns = recv_ns;
  ctx.book = &inst.top;
  if (inst.position != nullptr) {
    ctx.inventory_known = inst.position->known.load(std::memory_order_relaxed);
    ctx.inventory_e8 = inst.position->qty_e8.load(std::memory_order_relaxed);
  }
  for (size_t i = 0; i < inst.slots.size(); ++i) {
    auto& slot = inst.slots[i];
    const StrategySpec& spec = specs[slot.spec];
    if (spec.input != InputKind::kBook) continue;
    if (slot.quiet) slot.quiet->Update(mid);
    ctx.quiet =
        slot.quiet && slot.quiet->ready() && slot.quiet->value() * 1e4 < spec.quiet_min_vol_bps;
    ctx.skips = spec_metrics_[slot.spec].get();
    scratch_.clear();
    slot.strategy->OnBook(ctx, &scratch_);
    Collect(inst, i, e, recv_ns, out);
  }
}

void SignalEngine::Collect(Instrument& inst, size_t slot, const MarketEvent& e, int64_t now_ns,
                           std::vector<Signal>* out) {
  if (scratch_.empty()) return;
  const size_t spec_index = inst.slots[slot].spec;
  const StrategySpec& spec = options_.strategies.strategies[spec_index];
  const EnsembleConfig& ens = options_.strategies.ensemble;
  const int64_t price_e8 = inst.last_price_e8 > 0
                               ? inst.last_price_e8
                               : (inst.top.valid ? (inst.top.bid_e8 + inst.top.ask_e8) / 2 : 0);
  for (const Decision& d : scratch_) {
    if (!ens.enabled || ens.emit_components) AppendSignal(inst, spec.id, d, e, now_ns, out);
    if (ens.enabled) {
      if (auto consensus = ensemble_.OnDecision(inst.ensemble, spec_index, d, now_ns, price_e8)) {
        AppendSignal(inst, ens.id, *consensus, e, now_ns, out);
      }
    }
  }
}

void SignalEngine::AppendSignal(const Instrument& inst, const std::string& strategy,
                                const Decision& d, const MarketEvent& e, int64_t recv_ns,
                                std::vector<Signal>* out) {
  Signal& s = out->emplace_back();
  s.set_signal_id(absl::StrCat(strategy, "-", inst.symbol, "-", ++next_signal_id_));
  s.set_venue(inst.venue);
  s.set_symbol(inst.symbol);
  s.set_side(d.side);
  s.set_strength(d.strength);
  s.set_target_price_e8(d.target_price_e8);
  s.set_target_qty_e8(d.target_qty_e8);
  s.set_strategy(strategy);
  s.set_reason(d.reason);
  for (int i = 0; i < d.indicator_count; ++i) {
    auto* v = s.add_indicators();
    v->set_name(d.indicators[i].name);
    v->set_value(d.indicators[i].value);
  }
  s.set_market_seq(e.seq());
  *s.mutable_trace() = e.trace();
  auto* hop = s.mutable_trace()->add_hops();
  hop->set_service("signal");
  hop->set_stage("recv");
  hop->set_unix_ns(recv_ns);
}

void SignalEngine::ResetAll(absl::string_view reason) {
  if (instrument_count_ > 0) {
    runtime::LogInfo("indicator state reset",
                     {{"reason", std::string(reason)},
                      {"instruments", static_cast<uint64_t>(instrument_count_)}});
    CountReset(reason);
  }
  instruments_.clear();
  instrument_count_ = 0;
  symbols_ = 0;
  symbols_gauge_.Set(0);
}

void SignalEngine::MarkEmitted(std::vector<Signal>& signals, int64_t emit_ns) {
  const EnsembleConfig& ens = options_.strategies.ensemble;
  absl::MutexLock lock(&mu_);
  for (Signal& s : signals) {
    s.set_unix_ns(emit_ns);
    auto* hop = s.mutable_trace()->add_hops();
    hop->set_service("signal");
    hop->set_stage("emit");
    hop->set_unix_ns(emit_ns);
    runtime::CounterFamily(Prefix() + "signals_total", "Signals emitted, by strategy and side")
        .Add({{"strategy", s.strategy()}, {"side", SideLabel(s.side())}})
        .Increment();
    ++signals_;
    latest_[{s.symbol(), s.strategy()}] = s;
    if (latest_sink_ && (!ens.enabled || s.strategy() == ens.id)) latest_sink_(s);
  }
}

std::vector<Signal> SignalEngine::Latest(const std::vector<std::string>& symbols) const {
  absl::MutexLock lock(&mu_);
  std::vector<Signal> out;
  for (const auto& [key, s] : latest_) {
    if (symbols.empty() || std::find(symbols.begin(), symbols.end(), key.first) != symbols.end()) {
      out.push_back(s);
    }
  }
  return out;
}

SignalEngine::Stats SignalEngine::stats() const {
  Stats s;
  s.trades = trades_.load();
  s.book_updates = book_updates_.load();
  s.signals = signals_.load();
  s.gap_resets = gap_resets_.load();
  s.stale_events = stale_events_.load();
  s.ignored_symbols = ignored_symbols_.load();
  s.skipped = skipped_.load();
  s.symbols = symbols_.load();
  return s;
}

}  // namespace tickmesh::signal
