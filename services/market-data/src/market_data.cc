#include "market_data.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"

namespace tickmesh::market_data {
namespace {

using tickmesh::v1::EventKind;
using tickmesh::v1::MarketEvent;
using tickmesh::v1::MarketEventBatch;

constexpr size_t kMaxNameBytes = 64;
constexpr size_t kSnapshotsPerBatch = 64;
constexpr uint32_t kDefaultCandleLimit = 500;
constexpr uint32_t kMaxCandleLimit = 10'000;
constexpr int64_t kGaugeIntervalNs = 250'000'000;
constexpr int kKinds = 5;  // EventKind values 0..4

const std::string& Prefix() {
  static const std::string* p = new std::string(runtime::MetricPrefix("market-data"));
  return *p;
}

const char* KindLabel(EventKind kind) {
  switch (kind) {
    case tickmesh::v1::EVENT_KIND_BOOK:
      return "book";
    case tickmesh::v1::EVENT_KIND_TRADE:
      return "trade";
    case tickmesh::v1::EVENT_KIND_TICKER:
      return "ticker";
    case tickmesh::v1::EVENT_KIND_CANDLE:
      return "candle";
    default:
      return "none";
  }
}

// Subscriber names become metric labels: keep them short and tame.
std::string SanitizeName(const std::string& name) {
  std::string out;
  for (char c : name.substr(0, 32)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out.empty() ? "anonymous" : out;
}

absl::Status ValidatePayload(const MarketEvent& e) {
  switch (e.payload_case()) {
    case MarketEvent::kSnapshot:
      return book::OrderBook::ValidateSnapshot(e.snapshot());
    case MarketEvent::kDelta:
      return book::OrderBook::ValidateDelta(e.delta());
    case MarketEvent::kTrade: {
      const auto& t = e.trade();
      if (t.price_e8() <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("trade.price_e8 must be > 0, got ", t.price_e8()));
      }
      if (t.qty_e8() <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("trade.qty_e8 must be > 0, got ", t.qty_e8()));
      }
      if (!tickmesh::v1::Side_IsValid(t.aggressor_side())) {
        return absl::InvalidArgumentError("trade.aggressor_side is not a Side");
      }
      return absl::OkStatus();
    }
    case MarketEvent::kTicker: {
      const auto& t = e.ticker();
      if (t.bid_price_e8() < 0 || t.bid_qty_e8() < 0 || t.ask_price_e8() < 0 ||
          t.ask_qty_e8() < 0 || t.last_price_e8() < 0) {
        return absl::InvalidArgumentError("ticker prices and quantities must be >= 0");
      }
      return absl::OkStatus();
    }
    case MarketEvent::kCandle: {
      const auto& c = e.candle();
      if (c.interval_s() == 0) return absl::InvalidArgumentError("candle.interval_s must be > 0");
      if (c.low_e8() <= 0 || c.high_e8() < c.low_e8() || c.open_e8() < c.low_e8() ||
          c.open_e8() > c.high_e8() || c.close_e8() < c.low_e8() || c.close_e8() > c.high_e8()) {
        return absl::InvalidArgumentError(
            "candle prices must satisfy 0 < low <= open, close <= high");
      }
      if (c.volume_e8() < 0) return absl::InvalidArgumentError("candle.volume_e8 must be >= 0");
      return absl::OkStatus();
    }
    case MarketEvent::PAYLOAD_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("no payload set");
}

}  // namespace

tickmesh::v1::EventKind KindOf(const MarketEvent& event) {
  switch (event.payload_case()) {
    case MarketEvent::kSnapshot:
    case MarketEvent::kDelta:
      return tickmesh::v1::EVENT_KIND_BOOK;
    case MarketEvent::kTrade:
      return tickmesh::v1::EVENT_KIND_TRADE;
    case MarketEvent::kTicker:
      return tickmesh::v1::EVENT_KIND_TICKER;
    case MarketEvent::kCandle:
      return tickmesh::v1::EVENT_KIND_CANDLE;
    case MarketEvent::PAYLOAD_NOT_SET:
      break;
  }
  return tickmesh::v1::EVENT_KIND_UNSPECIFIED;
}

absl::StatusOr<SubscriberFilter> SubscriberFilter::FromRequest(
    const tickmesh::v1::SubscribeRequest& req) {
  SubscriberFilter f;
  f.symbols.assign(req.symbols().begin(), req.symbols().end());
  f.venues.assign(req.venues().begin(), req.venues().end());
  for (int i = 0; i < req.kinds_size(); ++i) {
    const int k = req.kinds(i);
    if (k <= 0 || k >= kKinds) {
      return absl::InvalidArgumentError(
          absl::StrCat("kinds[", i, "] must be BOOK, TRADE, TICKER or CANDLE, got ", k));
    }
    f.kinds_mask |= 1u << k;
  }
  f.name = SanitizeName(req.subscriber());
  if (req.coalesce_ms() > kMaxCoalesceMs) {
    return absl::InvalidArgumentError(
        absl::StrCat("coalesce_ms must be <= ", kMaxCoalesceMs, ", got ", req.coalesce_ms()));
  }
  f.coalesce_ms = req.coalesce_ms();
  return f;
}

bool SubscriberFilter::WantsInstrument(absl::string_view venue, absl::string_view symbol) const {
  auto in = [](const std::vector<std::string>& list, absl::string_view v) {
    return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
  };
  return in(venues, venue) && in(symbols, symbol);
}

bool SubscriberFilter::WantsKind(EventKind kind) const {
  return kinds_mask == 0 || (kinds_mask & (1u << static_cast<int>(kind))) != 0;
}

// Metric children of one venue, resolved once.
struct MarketData::VenueMetrics {
  std::array<prometheus::Counter*, kKinds> events_in{};
  std::array<prometheus::Counter*, kKinds> events_out{};
  prometheus::Counter* gaps = nullptr;
  prometheus::Counter* crossed = nullptr;
  prometheus::Counter* late_trades = nullptr;
  prometheus::Histogram* feed_lag = nullptr;
};

struct MarketData::Instrument {
  std::string venue, symbol;
  uint32_t id = 0;  // index in by_id_
  uint64_t last_seq = 0;
  bool stale = false;           // a gap was seen; no snapshot since
  bool crossed = false;         // book currently crossed
  uint64_t touched_epoch = 0;   // last batch that touched it (observer dedupe)
  tickmesh::v1::Ticker ticker;  // derived: book top, last trade (or the venue's ticker)
  book::OrderBook book;
  CandleSet candles;
  VenueMetrics* metrics = nullptr;
  Instrument(std::string v, std::string s, const MarketDataOptions& o)
      : venue(std::move(v)),
        symbol(std::move(s)),
        book(o.book_depth),
        candles(o.candle_intervals_s, o.candle_history) {}
};

absl::Status MarketData::ValidateOptions(const MarketDataOptions& o) {
  if (o.book_depth == 0) return absl::InvalidArgumentError("book_depth must be > 0");
  if (o.subscriber_queue < 4) return absl::InvalidArgumentError("subscriber_queue must be >= 4");
  if (o.candle_history == 0) return absl::InvalidArgumentError("candle_history must be > 0");
  if (o.max_instruments == 0) return absl::InvalidArgumentError("max_instruments must be > 0");
  for (size_t i = 0; i < o.candle_intervals_s.size(); ++i) {
    if (o.candle_intervals_s[i] == 0) {
      return absl::InvalidArgumentError("candle_intervals: every interval must be > 0 seconds");
    }
    for (size_t j = 0; j < i; ++j) {
      if (o.candle_intervals_s[j] == o.candle_intervals_s[i]) {
        return absl::InvalidArgumentError(
            absl::StrCat("candle_intervals: ", o.candle_intervals_s[i], " is listed twice"));
      }
    }
  }
  return absl::OkStatus();
}

namespace {
MarketDataOptions Clamped(MarketDataOptions o) {
  o.book_depth = std::max<size_t>(1, o.book_depth);
  o.subscriber_queue = std::max<size_t>(4, o.subscriber_queue);
  o.max_subscriber_labels = std::max<size_t>(1, o.max_subscriber_labels);
  o.candle_history = std::max<size_t>(1, o.candle_history);
  o.max_instruments = std::max<size_t>(1, o.max_instruments);
  return o;
}
}  // namespace

MarketData::MarketData(MarketDataOptions options)
    : options_(Clamped(std::move(options))),
      rejected_family_(runtime::CounterFamily(
          Prefix() + "parse_errors_total",
          "Rejected input, by source: batches failing validation (publish, synthetic, replay) and "
          "malformed replay file lines (replay_line)")),
      drops_family_(runtime::CounterFamily(
          Prefix() + "subscriber_disconnects_total",
          "Subscribers ended with RESOURCE_EXHAUSTED: a trade, ticker or candle did not fit their "
          "bounded queue")),
      conflations_family_(runtime::CounterFamily(
          Prefix() + "subscriber_conflations_total",
          "Book events not sent to a slow subscriber because its book state was conflated (sent "
          "later as one snapshot of the current book)")),
      coalesced_family_(runtime::CounterFamily(
          Prefix() + "subscriber_coalesced_batches_total",
          "Published batches merged into a larger message for a subscriber that asked for "
          "coalescing (SubscribeRequest.coalesce_ms > 0) instead of being sent on their own")),
      depth_family_(runtime::GaugeFamily(Prefix() + "subscriber_queue_depth",
                                         "Batches queued per subscriber name (refreshed at most "
                                         "every 250 ms while events flow)")),
      resyncs_(runtime::CounterFamily(Prefix() + "resyncs_total",
                                      "Stale books (after a seq gap) recovered by a snapshot")
                   .Add({})),
      apply_seconds_(runtime::HistogramFamily(Prefix() + "book_apply_seconds",
                                              "Time to validate and apply one batch to books "
                                              "and candles")
                         .Add({}, runtime::LatencyBuckets())),
      subscribers_gauge_(
          runtime::GaugeFamily(Prefix() + "subscribers", "Connected Subscribe streams").Add({})),
      instruments_gauge_(
          runtime::GaugeFamily(Prefix() + "books", "(venue, symbol) books held").Add({})) {}

MarketData::~MarketData() {
  CloseSubscribers(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
}

MarketData::VenueMetrics& MarketData::VenueMetricsFor(const std::string& venue) {
  auto it = venue_metrics_.find(venue);
  if (it != venue_metrics_.end()) return *it->second;
  auto m = std::make_unique<VenueMetrics>();
  auto& in = runtime::CounterFamily(Prefix() + "events_in_total",
                                    "Market events accepted, by venue and kind");
  auto& out =
      runtime::CounterFamily(Prefix() + "events_out_total",
                             "Market events offered to subscriber queues, by venue and kind");
  // Validated events always have a payload, so kind 0 never needs a series.
  for (int k = 1; k < kKinds; ++k) {
    const char* kind = KindLabel(static_cast<EventKind>(k));
    m->events_in[k] = &in.Add({{"venue", venue}, {"kind", kind}});
    m->events_out[k] = &out.Add({{"venue", venue}, {"kind", kind}});
  }
  m->gaps = &runtime::CounterFamily(Prefix() + "seq_gaps_total",
                                    "Forward sequence gaps per (venue, symbol), by venue")
                 .Add({{"venue", venue}});
  m->crossed = &runtime::CounterFamily(Prefix() + "crossed_books_total",
                                       "Times a book became crossed (best bid >= best ask)")
                    .Add({{"venue", venue}});
  m->late_trades =
      &runtime::CounterFamily(Prefix() + "candle_late_trades_total",
                              "Trades older than an interval's open candle (not aggregated), "
                              "summed over intervals")
           .Add({{"venue", venue}});
  m->feed_lag = &runtime::HistogramFamily(
                     Prefix() + "feed_lag_seconds",
                     "Receive time (connector stamp, else ingest time) minus venue event time, "
                     "sampled once per batch and venue")
                     .Add({{"venue", venue}}, runtime::LatencyBuckets());
  auto& ref = *m;
  venue_metrics_.emplace(venue, std::move(m));
  return ref;
}

MarketData::Instrument* MarketData::FindLocked(absl::string_view venue,
                                               absl::string_view symbol) const {
  auto v = books_.find(venue);
  if (v == books_.end()) return nullptr;
  auto s = v->second.find(symbol);
  return s == v->second.end() ? nullptr : s->second.get();
}

MarketData::Instrument* MarketData::GetOrCreateLocked(const std::string& venue,
                                                      const std::string& symbol) {
  if (Instrument* inst = FindLocked(venue, symbol)) return inst;
  auto inst = std::make_unique<Instrument>(venue, symbol, options_);
  inst->metrics = &VenueMetricsFor(venue);
  inst->id = static_cast<uint32_t>(by_id_.size());
  Instrument* raw = inst.get();
  by_id_.push_back(raw);
  books_[venue].emplace(symbol, std::move(inst));
  ++instrument_count_;
  instruments_gauge_.Set(static_cast<double>(instrument_count_));
  return raw;
}

absl::Status MarketData::ValidateBatchLocked(const MarketEventBatch& batch) {
  pending_seq_.clear();
  size_t new_instruments = 0;
  for (int i = 0; i < batch.events_size(); ++i) {
    const MarketEvent& e = batch.events(i);
    auto fail = [i](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("event ", i, ": ", why));
    };
    if (e.venue().empty()) return fail("venue is empty");
    if (e.symbol().empty()) return fail("symbol is empty");
    if (e.venue().size() > kMaxNameBytes || e.symbol().size() > kMaxNameBytes) {
      return fail(absl::StrCat("venue and symbol must be at most ", kMaxNameBytes, " bytes"));
    }
    if (e.seq() == 0) return fail("seq must be > 0");
    if (absl::Status s = ValidatePayload(e); !s.ok()) return fail(s.message());

    const std::pair<absl::string_view, absl::string_view> key(e.venue(), e.symbol());
    uint64_t last = 0;
    if (auto it = pending_seq_.find(key); it != pending_seq_.end()) {
      last = it->second;
    } else if (const Instrument* inst = FindLocked(e.venue(), e.symbol())) {
      last = inst->last_seq;
    } else {
      ++new_instruments;
    }
    if (e.seq() <= last) {
      return fail(absl::StrCat("seq ", e.seq(), " is not after the last seq ", last, " of ",
                               e.venue(), "/", e.symbol()));
    }
    pending_seq_[key] = e.seq();
  }
  if (instrument_count_ + new_instruments > options_.max_instruments) {
    return absl::ResourceExhaustedError(
        absl::StrCat("batch would exceed max_instruments (", options_.max_instruments, " books)"));
  }
  return absl::OkStatus();
}

void MarketData::ApplyLocked(MarketEvent& e, Instrument& inst, int64_t recv_ns) {
  if (inst.last_seq != 0 && e.seq() > inst.last_seq + 1) {
    ++gaps_;
    inst.metrics->gaps->Increment();
    inst.stale = true;
    runtime::WarnOnce(absl::StrCat("md-gap:", inst.venue, "/", inst.symbol),
                      "sequence gap; book stale until next snapshot",
                      {{"venue", inst.venue},
                       {"symbol", inst.symbol},
                       {"expected", inst.last_seq + 1},
                       {"got", e.seq()}});
  }
  inst.last_seq = e.seq();
  const EventKind kind = KindOf(e);
  switch (e.payload_case()) {
    case MarketEvent::kSnapshot:
      (void)inst.book.ApplySnapshot(e.snapshot());  // validated
      if (inst.stale) resyncs_.Increment();
      inst.stale = false;
      break;
    case MarketEvent::kDelta:
      (void)inst.book.ApplyDelta(e.delta());  // validated
      break;
    case MarketEvent::kTrade: {
      const int64_t ts = e.exchange_unix_ns() > 0  ? e.exchange_unix_ns()
                         : e.receive_unix_ns() > 0 ? e.receive_unix_ns()
                                                   : recv_ns;
      scratch_closed_.clear();
      if (const int late = inst.candles.AddTrade(ts, e.trade().price_e8(), e.trade().qty_e8(),
                                                 observers_.empty() ? nullptr : &scratch_closed_)) {
        inst.metrics->late_trades->Increment(late);
      }
      inst.ticker.set_last_price_e8(e.trade().price_e8());
      if (!scratch_closed_.empty()) {
        tickmesh::v1::Candle candle;
        for (const CandleSeries* series : scratch_closed_) {
          if (!series->LastClosed(inst.venue, inst.symbol, &candle)) continue;
          for (IngestObserver* o : observers_) o->OnCandleClosed(candle);
        }
      }
      break;
    }
    case MarketEvent::kTicker:
      inst.ticker = e.ticker();
      break;
    default:
      break;
  }
  if (kind == tickmesh::v1::EVENT_KIND_BOOK) {
    const auto bid = inst.book.BestBid();
    const auto ask = inst.book.BestAsk();
    inst.ticker.set_bid_price_e8(bid ? bid->price_e8 : 0);
    inst.ticker.set_bid_qty_e8(bid ? bid->qty_e8 : 0);
    inst.ticker.set_ask_price_e8(ask ? ask->price_e8 : 0);
    inst.ticker.set_ask_qty_e8(ask ? ask->qty_e8 : 0);
    const bool crossed = inst.book.crossed();
    if (crossed && !inst.crossed) {
      ++crossed_;
      inst.metrics->crossed->Increment();
    }
    inst.crossed = crossed;
  }
  inst.metrics->events_in[kind]->Increment();
  auto* hop = e.mutable_trace()->add_hops();
  hop->set_service("market-data");
  hop->set_stage("recv");
  hop->set_unix_ns(recv_ns);
}

absl::Status MarketData::Ingest(MarketEventBatch& batch, absl::string_view source) {
  const int64_t recv_ns = runtime::NowUnixNs();
  const int64_t t0 = runtime::MonotonicNs();
  absl::MutexLock lock(&mu_);
  if (absl::Status s = ValidateBatchLocked(batch); !s.ok()) {
    ++batches_rejected_;
    rejected_family_.Add({{"source", std::string(source)}}).Increment();
    return s;
  }
  scratch_targets_.clear();
  // Feed lag: venue time -> receive time (the connector's receive stamp when it has one, e.g. a
  // replayed recording; else now), sampled once per batch and venue.
  VenueMetrics* lag_venue = nullptr;
  int64_t lag_ns = 0;
  for (MarketEvent& e : *batch.mutable_events()) {
    Instrument* inst = GetOrCreateLocked(e.venue(), e.symbol());
    ApplyLocked(e, *inst, recv_ns);
    scratch_targets_.push_back(inst);
    if (e.exchange_unix_ns() > 0) {
      if (lag_venue != nullptr && lag_venue != inst->metrics) {
        lag_venue->feed_lag->Observe(static_cast<double>(lag_ns) * 1e-9);
      }
      lag_venue = inst->metrics;
      lag_ns = (e.receive_unix_ns() > 0 ? e.receive_unix_ns() : recv_ns) - e.exchange_unix_ns();
    }
  }
  if (lag_venue != nullptr) lag_venue->feed_lag->Observe(static_cast<double>(lag_ns) * 1e-9);
  if (!observers_.empty()) {
    ++batch_epoch_;
    for (Instrument* inst : scratch_targets_) {
      if (inst->touched_epoch == batch_epoch_) continue;
      inst->touched_epoch = batch_epoch_;
      for (IngestObserver* o : observers_)
        o->OnTicker(inst->id, inst->venue, inst->symbol, inst->ticker);
    }
  }
  apply_seconds_.Observe(static_cast<double>(runtime::MonotonicNs() - t0) * 1e-9);
  ++batches_accepted_;
  events_accepted_ += static_cast<uint64_t>(batch.events_size());

  // Fan out. Every subscriber gets its own copy of the events it asked for.
  const int64_t emit_ns = runtime::NowUnixNs();
  for (MarketEvent& e : *batch.mutable_events()) {
    auto* hop = e.mutable_trace()->add_hops();
    hop->set_service("market-data");
    hop->set_stage("emit");
    hop->set_unix_ns(emit_ns);
  }
  FanOutLocked(batch);
  UpdateQueueGaugesLocked(emit_ns);
  return absl::OkStatus();
}

void MarketData::FanOutLocked(const MarketEventBatch& batch) {
  if (streams_.empty()) return;
  // One immutable copy shared by every subscriber that takes the whole batch.
  const auto shared = std::make_shared<const MarketEventBatch>(batch);
  const size_t n = static_cast<size_t>(batch.events_size());
  scratch_ids_.resize(n);
  for (size_t i = 0; i < n; ++i) scratch_ids_[i] = scratch_targets_[i]->id;
  for (size_t k = 0; k < streams_.size();) {
    Subscriber& sub = streams_[k];
    const SubscriberFilter& f = sub.filter;
    const bool all = f.kinds_mask == 0 && f.symbols.empty() && f.venues.empty();
    bool any = all && n > 0;
    scratch_wanted_.assign(n, all);
    if (!all) {
      for (size_t i = 0; i < n; ++i) {
        if (f.Matches(batch.events(static_cast<int>(i)))) scratch_wanted_[i] = any = true;
      }
    }
    if (!any) {
      ++k;
      continue;
    }
    const SubscriberStream::OfferResult r =
        sub.stream->Offer(shared, &scratch_wanted_, scratch_ids_);
    // Count runs of the same (venue, kind) with one increment each (counters are atomics).
    prometheus::Counter* run = nullptr;
    double run_len = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!scratch_wanted_[i]) continue;
      prometheus::Counter* c =
          scratch_targets_[i]->metrics->events_out[KindOf(batch.events(static_cast<int>(i)))];
      if (c != run) {
        if (run != nullptr) run->Increment(run_len);
        run = c;
        run_len = 0;
      }
      ++run_len;
    }
    if (run != nullptr) run->Increment(run_len);
    if (r.conflated_events > 0) {
      conflations_ += static_cast<uint64_t>(r.conflated_events);
      conflations_family_.Add({{"subscriber", sub.label}}).Increment(r.conflated_events);
    }
    if (r.overflow) {
      ++subscribers_dropped_;
      drops_family_.Add({{"subscriber", sub.label}}).Increment();
      runtime::LogWarn("subscriber too slow for trades, disconnected",
                       {{"subscriber", sub.filter.name}});
      streams_[k] = std::move(streams_.back());
      streams_.pop_back();
      continue;
    }
    ++k;
  }
}

void MarketData::UpdateQueueGaugesLocked(int64_t now_ns) {
  if (now_ns - last_gauge_update_ns_ < kGaugeIntervalNs) return;
  last_gauge_update_ns_ = now_ns;
  absl::flat_hash_map<std::string, size_t> sums;
  for (const Subscriber& s : streams_) sums[s.label] += s.stream->depth();
  for (auto& [label, gauge] : depth_gauges_) {
    auto it = sums.find(label);
    gauge->Set(it == sums.end() ? 0.0 : static_cast<double>(it->second));
  }
  subscribers_gauge_.Set(static_cast<double>(streams_.size()));
}

std::string MarketData::LabelLocked(const std::string& name) {
  if (depth_gauges_.contains(name)) return name;
  const std::string label =
      depth_gauges_.size() < options_.max_subscriber_labels ? name : std::string("other");
  if (!depth_gauges_.contains(label)) {
    depth_gauges_.emplace(label, &depth_family_.Add({{"subscriber", label}}));
  }
  return label;
}

void MarketData::FillSnapshotLocked(const Instrument& inst, int64_t now_ns, MarketEvent* e) const {
  e->set_venue(inst.venue);
  e->set_symbol(inst.symbol);
  e->set_seq(inst.last_seq);
  e->set_receive_unix_ns(now_ns);
  e->mutable_trace()->set_origin_unix_ns(now_ns);
  auto* hop = e->mutable_trace()->add_hops();
  hop->set_service("market-data");
  hop->set_stage("emit");
  hop->set_unix_ns(now_ns);
  inst.book.Depth(0, e->mutable_snapshot());
}

MarketData::Writer* MarketData::Subscribe(SubscriberFilter filter) {
  SubscriberStreamOptions stream_options =
      SubscriberStreamOptions::FromQueue(options_.subscriber_queue);
  stream_options.coalesce_ms = std::min(filter.coalesce_ms, kMaxCoalesceMs);
  {
    absl::MutexLock lock(&mu_);
    if (!closed_) {
      const std::string label = LabelLocked(filter.name);
      if (stream_options.coalesce_ms > 0) {
        stream_options.coalesced_batches = &coalesced_family_.Add({{"subscriber", label}});
      }
      auto* stream = new SubscriberStream(this, stream_options, filter.name);
      // Headers go out now so the client sees the stream established even before any event.
      stream->StartSendInitialMetadata();
      size_t snapshot_batches = 0, deferred = 0;
      if (filter.WantsKind(tickmesh::v1::EVENT_KIND_BOOK)) {
        // Snapshots in batches of kSnapshotsPerBatch; what does not fit the queue below its
        // book watermark is marked dirty and sent when the queue drains (same as conflation).
        const int64_t now = runtime::NowUnixNs();
        MarketEventBatch batch;
        std::vector<uint32_t> ids;
        bool room = true;
        auto flush = [&] {
          if (batch.events_size() == 0) return;
          if (room && stream->PushIfRoom(std::move(batch))) {
            ++snapshot_batches;
          } else {
            room = false;
            for (uint32_t id : ids) stream->MarkDirty(id);
            deferred += ids.size();
          }
          batch = MarketEventBatch();
          ids.clear();
        };
        for (const Instrument* inst : by_id_) {
          if (!filter.WantsInstrument(inst->venue, inst->symbol)) continue;
          FillSnapshotLocked(*inst, now, batch.add_events());
          ids.push_back(inst->id);
          if (batch.events_size() >= static_cast<int>(kSnapshotsPerBatch)) flush();
        }
        flush();
      }
      runtime::LogInfo("subscriber joined",
                       {{"subscriber", filter.name},
                        {"snapshot_batches", uint64_t{snapshot_batches}},
                        {"snapshots_deferred", uint64_t{deferred}},
                        {"coalesce_ms", uint64_t{stream_options.coalesce_ms}}});
      streams_.push_back(Subscriber{stream, std::move(filter), label});
      subscribers_gauge_.Set(static_cast<double>(streams_.size()));
      return stream;
    }
  }
  // Outside the lock: finishing may run StreamDone, which takes it.
  auto* stream = new SubscriberStream(this, stream_options, filter.name);
  stream->Close(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
  return stream;
}

void MarketData::FlushConflated(SubscriberStream* stream) {
  // Shared: Ingest (exclusive) cannot interleave, so the snapshot's seq and the live events
  // queued after it are consistent.
  absl::ReaderMutexLock lock(&mu_);
  const std::vector<uint32_t> ids = stream->TakeDirty();
  MarketEventBatch batch;
  const int64_t now = runtime::NowUnixNs();
  for (uint32_t id : ids) {
    if (id < by_id_.size()) FillSnapshotLocked(*by_id_[id], now, batch.add_events());
  }
  stream->CompleteFlush(std::move(batch));
}

void MarketData::StreamDone(SubscriberStream* stream) {
  absl::MutexLock lock(&mu_);
  for (size_t k = 0; k < streams_.size(); ++k) {
    if (streams_[k].stream == stream) {
      streams_[k] = std::move(streams_.back());
      streams_.pop_back();
      break;
    }
  }
  subscribers_gauge_.Set(static_cast<double>(streams_.size()));
}

void MarketData::AddObserver(IngestObserver* observer) {
  absl::MutexLock lock(&mu_);
  observers_.push_back(observer);
}

void MarketData::CloseSubscribers(grpc::Status status) {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  for (Subscriber& s : streams_) s.stream->Close(status);
  streams_.clear();
  subscribers_gauge_.Set(0);
  for (auto& [label, gauge] : depth_gauges_) gauge->Set(0);
}

absl::StatusOr<const MarketData::Instrument*> MarketData::ResolveLocked(
    const std::string& venue, const std::string& symbol) const {
  if (symbol.empty()) return absl::InvalidArgumentError("symbol is empty");
  if (!venue.empty()) {
    if (const Instrument* inst = FindLocked(venue, symbol)) return inst;
    return absl::NotFoundError(absl::StrCat("no book for ", venue, "/", symbol));
  }
  const Instrument* found = nullptr;
  for (auto& [v, symbols] : books_) {
    auto it = symbols.find(symbol);
    if (it == symbols.end()) continue;
    if (found != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("venue is empty and ", symbol, " is on several venues"));
    }
    found = it->second.get();
  }
  if (found == nullptr) return absl::NotFoundError(absl::StrCat("no book for symbol ", symbol));
  return found;
}

absl::StatusOr<tickmesh::v1::GetBookResponse> MarketData::GetBook(
    const tickmesh::v1::GetBookRequest& request) const {
  absl::ReaderMutexLock lock(&mu_);
  auto inst = ResolveLocked(request.venue(), request.symbol());
  if (!inst.ok()) return inst.status();
  tickmesh::v1::GetBookResponse resp;
  resp.set_venue((*inst)->venue);
  resp.set_symbol((*inst)->symbol);
  resp.set_seq((*inst)->last_seq);
  (*inst)->book.Depth(request.depth(), resp.mutable_book());
  resp.set_unix_ns(runtime::NowUnixNs());
  return resp;
}

absl::StatusOr<tickmesh::v1::GetCandlesResponse> MarketData::GetCandles(
    const tickmesh::v1::GetCandlesRequest& request) const {
  if (request.limit() > kMaxCandleLimit) {
    return absl::InvalidArgumentError(absl::StrCat("limit must be <= ", kMaxCandleLimit));
  }
  if (request.from_unix_ns() != 0 && request.to_unix_ns() != 0 &&
      request.from_unix_ns() > request.to_unix_ns()) {
    return absl::InvalidArgumentError("from_unix_ns must be <= to_unix_ns");
  }
  absl::ReaderMutexLock lock(&mu_);
  auto inst = ResolveLocked(request.venue(), request.symbol());
  if (!inst.ok()) return inst.status();
  const CandleSeries* series = (*inst)->candles.Find(request.interval_s());
  if (series == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "interval_s ", request.interval_s(),
        " is not configured (configured: ", absl::StrJoin(options_.candle_intervals_s, ","), ")"));
  }
  std::vector<tickmesh::v1::Candle> candles;
  series->Query(request.from_unix_ns(), request.to_unix_ns(),
                request.limit() == 0 ? kDefaultCandleLimit : request.limit(), runtime::NowUnixNs(),
                (*inst)->venue, (*inst)->symbol, &candles);
  tickmesh::v1::GetCandlesResponse resp;
  resp.mutable_candles()->Reserve(static_cast<int>(candles.size()));
  for (auto& c : candles) *resp.add_candles() = std::move(c);
  return resp;
}

MarketData::Stats MarketData::stats() const {
  Stats s;
  s.batches_accepted = batches_accepted_.load();
  s.batches_rejected = batches_rejected_.load();
  s.events_accepted = events_accepted_.load();
  s.gaps = gaps_.load();
  s.crossed = crossed_.load();
  s.subscribers_dropped = subscribers_dropped_.load();
  s.conflations = conflations_.load();
  absl::ReaderMutexLock lock(&mu_);
  s.instruments = instrument_count_;
  s.subscribers = streams_.size();
  return s;
}

}  // namespace tickmesh::market_data
