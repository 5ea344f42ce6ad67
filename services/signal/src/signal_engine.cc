#include "signal_engine.h"

#include <algorithm>

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

void AddIndicator(Signal* s, const char* name, double value) {
  auto* v = s->add_indicators();
  v->set_name(name);
  v->set_value(value);
}

const char* SideLabel(tickmesh::v1::Side side) {
  return side == tickmesh::v1::SIDE_BUY ? "buy" : side == tickmesh::v1::SIDE_SELL ? "sell" : "none";
}

}  // namespace

SignalEngine::SignalEngine(SignalEngineOptions options)
    : options_(std::move(options)),
      trades_counter_(
          runtime::CounterFamily(Prefix() + "trades_total", "Trades fed to strategies").Add({})),
      stale_counter_(runtime::CounterFamily(Prefix() + "stale_events_total",
                                            "Market events ignored: seq not after the last one")
                         .Add({})),
      symbols_gauge_(runtime::GaugeFamily(Prefix() + "symbols_tracked",
                                          "(venue, symbol) instruments with strategy state")
                         .Add({})) {}

SignalEngine::Instrument* SignalEngine::GetOrCreate(const std::string& venue,
                                                    const std::string& symbol) {
  auto& by_symbol = instruments_[venue];
  auto it = by_symbol.find(symbol);
  if (it != by_symbol.end()) return it->second.get();
  if (instrument_count_ >= options_.max_symbols) {
    ++ignored_symbols_;
    runtime::WarnOnce("signal-max-symbols", "max_symbols reached; new instruments ignored",
                      {{"max_symbols", static_cast<uint64_t>(options_.max_symbols)}});
    return nullptr;
  }
  auto inst = std::make_unique<Instrument>(options_.macd);
  Instrument* raw = inst.get();
  by_symbol.emplace(symbol, std::move(inst));
  ++instrument_count_;
  symbols_ = instrument_count_;
  symbols_gauge_.Set(static_cast<double>(instrument_count_));
  return raw;
}

void SignalEngine::CountReset(absl::string_view reason) {
  runtime::CounterFamily(Prefix() + "indicator_resets_total",
                         "Indicator state resets, by reason (gap, reconnect)")
      .Add({{"reason", std::string(reason)}})
      .Increment();
}

void SignalEngine::OnBatch(const tickmesh::v1::MarketEventBatch& batch, int64_t recv_ns,
                           std::vector<Signal>* out) {
  for (const MarketEvent& e : batch.events()) {
    if (e.venue().empty() || e.symbol().empty()) continue;
    Instrument* inst = GetOrCreate(e.venue(), e.symbol());
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
        inst->strategy.Reset();
        ++gap_resets_;
        CountReset("gap");
      }
    }
    inst->last_seq = e.seq();
    if (e.payload_case() != MarketEvent::kTrade) continue;
    if (e.trade().price_e8() <= 0) continue;  // market-data validates; stay safe anyway
    ++trades_;
    trades_counter_.Increment();
    auto decision = inst->strategy.OnTrade(e.trade().price_e8(), recv_ns);
    if (!decision) continue;
    Signal& s = out->emplace_back();
    s.set_signal_id(absl::StrCat(MacdCross::kName, "-", e.symbol(), "-", ++next_signal_id_));
    s.set_venue(e.venue());
    s.set_symbol(e.symbol());
    s.set_side(decision->side);
    s.set_strength(decision->strength);
    s.set_target_price_e8(e.trade().price_e8());
    s.set_target_qty_e8(options_.macd.order_qty_e8);
    s.set_strategy(MacdCross::kName);
    s.set_reason(decision->reason);
    AddIndicator(&s, "ema_fast", decision->macd.ema_fast);
    AddIndicator(&s, "ema_slow", decision->macd.ema_slow);
    AddIndicator(&s, "macd", decision->macd.line);
    AddIndicator(&s, "macd_signal", decision->macd.signal);
    AddIndicator(&s, "macd_hist", decision->macd.histogram);
    s.set_market_seq(e.seq());
    *s.mutable_trace() = e.trace();
    auto* hop = s.mutable_trace()->add_hops();
    hop->set_service("signal");
    hop->set_stage("recv");
    hop->set_unix_ns(recv_ns);
  }
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
  s.signals = signals_.load();
  s.gap_resets = gap_resets_.load();
  s.stale_events = stale_events_.load();
  s.ignored_symbols = ignored_symbols_.load();
  s.symbols = symbols_.load();
  return s;
}

}  // namespace tickmesh::signal
