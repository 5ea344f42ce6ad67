#include "venue_connector.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tickmesh/net/url.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"

namespace tickmesh::market_data {
namespace {

using tickmesh::v1::MarketEvent;

std::string Prefix() { return runtime::MetricPrefix("market-data"); }

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// OK when `url` is an origin with one of the two schemes and no path or query.
absl::Status CheckOrigin(absl::string_view field, const std::string& url, absl::string_view plain,
                         absl::string_view tls) {
  absl::StatusOr<net::Url> u = net::ParseUrl(url);
  if (!u.ok()) return Bad(field, u.status().message());
  if (u->scheme != plain && u->scheme != tls) {
    return Bad(field, absl::StrCat(url, " must be ", plain, "://… or ", tls, "://…"));
  }
  if (u->target != "/") {
    return Bad(field, absl::StrCat(url, " must have no path or query (the venue's path is added)"));
  }
  return absl::OkStatus();
}

std::string StripSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The symbol a DATA_LOSS status names ("<symbol>: <why>").
std::string_view SymbolOf(const absl::Status& status) {
  std::string_view m(status.message().data(), status.message().size());
  const size_t colon = m.find(": ");
  return colon == std::string_view::npos ? std::string_view() : m.substr(0, colon);
}

// Non-null codec + (optional) REST client for valid options, else the error naming the field.
absl::Status Build(const VenueConnectorOptions& o, std::unique_ptr<venues::FeedCodec>* codec,
                   std::unique_ptr<net::RestClient>* rest) {
  if (absl::Status s = CheckOrigin("ws_url", o.ws_url, "ws", "wss"); !s.ok()) return s;
  if (o.symbols.empty()) return Bad("symbols", "at least one symbol is needed");
  absl::StatusOr<venues::SymbolMap> map = venues::SymbolMap::Create(o.symbols);
  if (!map.ok()) return Bad("symbols", map.status().message());
  absl::StatusOr<std::unique_ptr<venues::FeedCodec>> c =
      venues::MakeFeedCodec(o.venue, *map, o.feed);
  if (!c.ok()) return Bad("feed", c.status().message());
  if (o.max_batch < 1) return Bad("max_batch", "must be >= 1");
  if (o.stale_after <= absl::ZeroDuration()) return Bad("stale_after", "must be > 0");
  // A venue needs REST when its codec can build a snapshot request.
  const bool needs_rest =
      (*c)->SnapshotRequest(o.symbols.front()).status().code() != absl::StatusCode::kUnimplemented;
  if (needs_rest || !o.rest_url.empty()) {
    if (o.rest_url.empty()) return Bad("rest_url", "required: this venue syncs books by REST");
    if (absl::Status s = CheckOrigin("rest_url", o.rest_url, "http", "https"); !s.ok()) return s;
  }
  if (codec == nullptr) return absl::OkStatus();
  *codec = std::move(*c);
  if (needs_rest) {
    net::RestOptions ro;
    ro.base_url = StripSlash(o.rest_url);
    ro.name = std::string(venues::VenueName(o.venue));
    ro.connect_timeout = absl::Seconds(3);
    ro.read_timeout = absl::Seconds(5);
    ro.max_connections = 2;
    ro.tls_verify = o.tls_verify;
    ro.ca_file = o.ca_file;
    ro.default_headers = {{"User-Agent", "tickmesh-market-data"}};
    absl::StatusOr<std::unique_ptr<net::RestClient>> r = net::RestClient::Create(std::move(ro));
    if (!r.ok()) return Bad("rest_url", r.status().message());
    *rest = std::move(*r);
  }
  return absl::OkStatus();
}

}  // namespace

struct VenueConnector::Metrics {
  explicit Metrics(const std::string& venue) {
    const std::map<std::string, std::string> l = {{"venue", venue}};
    auto counter = [&](const std::string& what, const std::string& help) -> prometheus::Counter& {
      return runtime::CounterFamily(Prefix() + what, help).Add(l);
    };
    connected = &runtime::GaugeFamily(Prefix() + "venue_connected",
                                      "1 while the venue WebSocket is open, else 0")
                     .Add(l);
    reconnects =
        &counter("venue_reconnects_total", "Venue WebSocket reconnections (after the first)");
    frames = &counter("venue_frames_total", "Venue WebSocket frames decoded (rate = messages/s)");
    parse_errors =
        &counter("venue_parse_errors_total", "Malformed or unexpected venue frames skipped");
    gaps = &counter("venue_gaps_total", "Venue book sequence breaks (book dropped and resynced)");
    checksum_failures =
        &counter("venue_checksum_failures_total", "Venue book checksum mismatches (book resynced)");
    resyncs = &counter("venue_resyncs_total",
                       "Venue books re-established after a gap or checksum failure");
    request_errors =
        &counter("venue_request_errors_total", "Requests the venue rejected (e.g. a subscription)");
    batches_rejected = &counter("venue_batches_rejected_total",
                                "Venue event batches market-data's Ingest rejected");
    auto& snap_err = runtime::CounterFamily(
        Prefix() + "venue_snapshot_errors_total",
        "Failed REST book snapshots by reason: transport, http (status >= 400), apply");
    snapshot_transport = &snap_err.Add({{"venue", venue}, {"reason", "transport"}});
    snapshot_http = &snap_err.Add({{"venue", venue}, {"reason", "http"}});
    snapshot_apply = &snap_err.Add({{"venue", venue}, {"reason", "apply"}});
    snapshot_seconds = &runtime::HistogramFamily(Prefix() + "venue_snapshot_seconds",
                                                 "REST book snapshot latency (send -> response)")
                            .Add(l, runtime::LatencyBuckets());
    frame_ingest_seconds =
        &runtime::HistogramFamily(
             Prefix() + "venue_frame_ingest_seconds",
             "Venue WebSocket frame received -> its events ingested and fanned out")
             .Add(l, runtime::LatencyBuckets());
  }
  prometheus::Gauge* connected;
  prometheus::Counter *reconnects, *frames, *parse_errors, *gaps, *checksum_failures, *resyncs,
      *request_errors, *batches_rejected, *snapshot_transport, *snapshot_http, *snapshot_apply;
  prometheus::Histogram *snapshot_seconds, *frame_ingest_seconds;
};

absl::Status ValidateVenueConnectorOptions(const VenueConnectorOptions& options) {
  return Build(options, nullptr, nullptr);
}

absl::StatusOr<std::unique_ptr<VenueConnector>> VenueConnector::Create(
    VenueConnectorOptions options) {
  std::unique_ptr<venues::FeedCodec> codec;
  std::unique_ptr<net::RestClient> rest;
  if (absl::Status s = Build(options, &codec, &rest); !s.ok()) return s;
  return std::unique_ptr<VenueConnector>(
      new VenueConnector(std::move(options), std::move(codec), std::move(rest)));
}

VenueConnector::VenueConnector(VenueConnectorOptions options,
                               std::unique_ptr<venues::FeedCodec> codec,
                               std::unique_ptr<net::RestClient> rest)
    : options_(std::move(options)),
      venue_name_(venues::VenueName(options_.venue)),
      codec_(std::move(codec)),
      rest_(std::move(rest)),
      metrics_(std::make_unique<Metrics>(venue_name_)),
      trace_rng_(std::random_device{}()) {
  metrics_->connected->Set(0);
}

VenueConnector::~VenueConnector() { Stop(); }

std::string VenueConnector::name() const { return venue_name_; }

absl::Status VenueConnector::Start(EventSink sink) {
  if (started_.exchange(true)) return absl::FailedPreconditionError("already started");
  {
    absl::MutexLock lock(&ingest_mu_);
    sink_ = std::move(sink);
  }
  net::WsOptions wo;
  wo.url = StripSlash(options_.ws_url) + codec_->ConnectTarget();
  wo.name = venue_name_;
  wo.idle_timeout = options_.idle_timeout;
  wo.app_ping_frame = codec_->PingFrame();
  if (!wo.app_ping_frame.empty() && codec_->ping_interval_ms() > 0) {
    wo.app_ping_interval = absl::Milliseconds(codec_->ping_interval_ms());
  }
  wo.backoff_initial = options_.reconnect_min;
  wo.backoff_max = std::max(options_.reconnect_max, options_.reconnect_min);
  wo.tls_verify = options_.tls_verify;
  wo.ca_file = options_.ca_file;
  net::WsHandlers h;
  h.on_open = [this] { return OnOpen(); };
  h.on_frame = [this](std::string_view frame, int64_t recv_ns) { OnFrame(frame, recv_ns); };
  h.on_disconnect = [this](const absl::Status& why) { OnDisconnect(why); };
  ws_ = std::make_unique<net::WsClient>(std::move(wo), std::move(h));
  if (rest_ != nullptr) worker_ = std::thread([this] { RunSnapshots(); });
  if (absl::Status s = ws_->Start(); !s.ok()) {
    Stop();
    return s;
  }
  runtime::LogInfo("venue connector started",
                   {{"venue", venue_name_},
                    {"url", ws_->options().url},
                    {"symbols", static_cast<uint64_t>(options_.symbols.size())}});
  return absl::OkStatus();
}

void VenueConnector::Stop() {
  if (!started_.load() || stopped_.exchange(true)) return;
  if (ws_ != nullptr) ws_->Stop();
  {
    absl::MutexLock lock(&queue_mu_);
    stop_ = true;
  }
  if (worker_.joinable()) worker_.join();
  {
    // No sink call after Stop returns, even from a snapshot that was in flight.
    absl::MutexLock lock(&ingest_mu_);
    sink_ = nullptr;
  }
  open_ = false;
  metrics_->connected->Set(0);
}

bool VenueConnector::healthy() const {
  if (!open_.load()) return false;
  const int64_t stale_ns = absl::ToInt64Nanoseconds(options_.stale_after);
  if (runtime::NowUnixNs() - last_frame_unix_ns_.load() > stale_ns) return false;
  const int64_t now_mono = runtime::MonotonicNs();
  absl::MutexLock lock(&queue_mu_);
  for (const auto& [symbol, p] : pending_) {
    if (now_mono - p.since_ns > stale_ns) return false;
  }
  return true;
}

std::vector<std::string> VenueConnector::OnOpen() {
  const uint64_t n = ++connects_;
  if (n > 1) metrics_->reconnects->Increment();
  last_frame_unix_ns_ = runtime::NowUnixNs();  // staleness counts from the open
  open_ = true;
  metrics_->connected->Set(1);
  runtime::ResetWarnOnce("venue-connect:" + venue_name_);
  runtime::LogInfo("venue connected", {{"venue", venue_name_}, {"connects", n}});
  return codec_->SubscribeFrames();
}

void VenueConnector::OnDisconnect(const absl::Status& why) {
  const std::string reason(why.message());
  if (stopped_.load()) {
    open_ = false;
    metrics_->connected->Set(0);
    runtime::LogInfo("venue disconnected (stopping)", {{"venue", venue_name_}});
  } else if (open_.exchange(false)) {
    metrics_->connected->Set(0);
    runtime::LogWarn(
        "venue disconnected; reconnecting with backoff, books resync after",
        {{"venue", venue_name_}, {"code", static_cast<int>(why.code())}, {"error", reason}});
  } else {
    runtime::WarnOnce(
        "venue-connect:" + venue_name_, "venue connect failed; retrying with backoff",
        {{"venue", venue_name_}, {"code", static_cast<int>(why.code())}, {"error", reason}});
  }
  absl::MutexLock lock(&ingest_mu_);
  codec_->Reset();
  ++epoch_;
  absl::MutexLock qlock(&queue_mu_);
  queue_.clear();
  pending_.clear();
}

void VenueConnector::OnFrame(std::string_view frame, int64_t recv_unix_ns) {
  absl::MutexLock lock(&ingest_mu_);
  if (!sink_) return;
  last_frame_unix_ns_ = recv_unix_ns;
  scratch_.clear();
  const absl::Status st = codec_->Decode(frame, recv_unix_ns, &scratch_);
  switch (st.code()) {
    case absl::StatusCode::kOk:
      break;
    case absl::StatusCode::kInvalidArgument:
      // Counted through the codec's stats; logged once per connector with a bounded excerpt.
      if (!first_parse_error_logged_.exchange(true)) {
        runtime::LogWarn("malformed venue frame skipped (further ones only counted)",
                         {{"venue", venue_name_},
                          {"error", st.message()},
                          {"frame", std::string(frame.substr(0, 200))}});
      }
      break;
    case absl::StatusCode::kDataLoss: {
      const std::string symbol(SymbolOf(st));
      runtime::WarnOnce(absl::StrCat("venue-gap:", venue_name_, ":", symbol),
                        "venue book broke; resyncing",
                        {{"venue", venue_name_}, {"error", st.message()}});
      // In-band resync (Kraken/Bybit); Binance's REST snapshot request is queued by the codec
      // and picked up below; Hyperliquid's next l2Book is a full snapshot.
      for (std::string& f : codec_->ResyncFrames(symbol)) ws_->Send(std::move(f));
      break;
    }
    case absl::StatusCode::kFailedPrecondition:
      ++request_errors_;
      metrics_->request_errors->Increment();
      runtime::WarnOnce(absl::StrCat("venue-request:", venue_name_), "venue rejected a request",
                        {{"venue", venue_name_}, {"error", st.message()}});
      break;
    default:
      runtime::WarnOnce(absl::StrCat("venue-decode:", venue_name_), "venue frame not decoded",
                        {{"venue", venue_name_}, {"error", st.ToString()}});
      break;
  }
  PublishLocked(scratch_, recv_unix_ns, /*from_frame=*/true);
  QueueSnapshotRequestsLocked();
  SyncCodecStatsLocked();
}

void VenueConnector::PublishLocked(std::vector<MarketEvent>& events, int64_t recv_unix_ns,
                                   bool from_frame) {
  if (events.empty() || !sink_) return;
  const size_t max_batch = static_cast<size_t>(options_.max_batch);
  for (size_t i = 0; i < events.size(); i += max_batch) {
    batch_.Clear();
    const size_t end = std::min(events.size(), i + max_batch);
    for (size_t k = i; k < end; ++k) {
      MarketEvent* e = batch_.add_events();
      e->Swap(&events[k]);
      uint64_t id = 0;
      while (id == 0) id = trace_rng_();
      e->mutable_trace()->set_trace_id(id);
      e->mutable_trace()->set_origin_unix_ns(recv_unix_ns);
      if (e->has_snapshot()) {
        // The book is whole again: a later break of it is worth a warning again.
        runtime::ResetWarnOnce(absl::StrCat("venue-gap:", venue_name_, ":", e->symbol()));
      }
    }
    if (absl::Status s = sink_(batch_); !s.ok()) {
      ++batches_rejected_;
      metrics_->batches_rejected->Increment();
      runtime::WarnOnce(absl::StrCat("venue-rejected:", venue_name_),
                        "venue events rejected by ingest",
                        {{"venue", venue_name_}, {"error", s.message()}});
    } else {
      events_ += end - i;
    }
  }
  events.clear();
  if (from_frame && recv_unix_ns > 0) {
    metrics_->frame_ingest_seconds->Observe(
        static_cast<double>(runtime::NowUnixNs() - recv_unix_ns) * 1e-9);
  }
}

void VenueConnector::QueueSnapshotRequestsLocked() {
  std::vector<std::string> symbols = codec_->TakeSnapshotRequests();
  if (symbols.empty()) return;
  if (rest_ == nullptr) {
    runtime::WarnOnce(absl::StrCat("venue-norest:", venue_name_),
                      "codec asked for a REST snapshot but the venue has no REST client",
                      {{"venue", venue_name_}});
    return;
  }
  const int64_t now = runtime::MonotonicNs();
  absl::MutexLock lock(&queue_mu_);
  for (std::string& s : symbols) {
    auto [it, inserted] = pending_.try_emplace(s);
    PendingSnapshot& p = it->second;
    if (inserted || p.epoch != epoch_) p = PendingSnapshot{epoch_, now, false, 0};
    if (!p.queued) {
      p.queued = true;
      queue_.push_back(std::move(s));
    }
  }
}

void VenueConnector::SyncCodecStatsLocked() {
  const venues::FeedStats s = codec_->stats();
  auto add = [](prometheus::Counter* c, uint64_t now, uint64_t& seen) {
    if (now > seen) c->Increment(static_cast<double>(now - seen));
    seen = now;
  };
  add(metrics_->frames, s.frames, exported_.frames);
  add(metrics_->parse_errors, s.parse_errors, exported_.parse_errors);
  add(metrics_->gaps, s.gaps, exported_.gaps);
  add(metrics_->checksum_failures, s.checksum_failures, exported_.checksum_failures);
  add(metrics_->resyncs, s.resyncs, exported_.resyncs);
}

void VenueConnector::RunSnapshots() {
  std::mt19937_64 rng(std::random_device{}());
  while (true) {
    std::string symbol;
    PendingSnapshot p;
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(
          +[](VenueConnector* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->queue_mu_) {
            return c->stop_ || !c->queue_.empty();
          },
          this));
      if (stop_) return;
      symbol = std::move(queue_.front());
      queue_.pop_front();
      auto it = pending_.find(symbol);
      if (it == pending_.end()) continue;  // dropped by a disconnect
      it->second.queued = false;
      p = it->second;
    }
    if (p.failures > 0) {
      // Jittered exponential backoff after failed attempts: [d/2, d].
      const int shift = std::min(p.failures - 1, 16);
      absl::Duration d = std::min(options_.snapshot_retry_min * (int64_t{1} << shift),
                                  options_.snapshot_retry_max);
      d = d * std::uniform_real_distribution<double>(0.5, 1.0)(rng);
      if (!SleepUnlessStopped(d)) return;
    }
    const FetchResult r = FetchSnapshot(symbol, p.epoch);
    absl::MutexLock lock(&queue_mu_);
    auto it = pending_.find(symbol);
    if (it == pending_.end() || it->second.epoch != p.epoch) continue;  // a newer connection
    PendingSnapshot& cur = it->second;
    switch (r) {
      case FetchResult::kApplied:
      case FetchResult::kObsolete:
        if (!cur.queued) pending_.erase(it);
        break;
      case FetchResult::kFetchFailed:
        ++cur.failures;
        if (!cur.queued) {
          cur.queued = true;
          queue_.push_back(symbol);
        }
        break;
      case FetchResult::kApplyFailed:
        // The codec re-queued the symbol when a new snapshot can help (stale, gap, bad body).
        ++cur.failures;
        if (!cur.queued) pending_.erase(it);
        break;
    }
  }
}

VenueConnector::FetchResult VenueConnector::FetchSnapshot(const std::string& symbol,
                                                          uint64_t epoch) {
  absl::StatusOr<net::HttpRequest> req = codec_->SnapshotRequest(symbol);
  if (!req.ok()) {
    ++snapshot_errors_;
    metrics_->snapshot_apply->Increment();
    runtime::WarnOnce(
        absl::StrCat("venue-snapreq:", venue_name_), "no snapshot request",
        {{"venue", venue_name_}, {"symbol", symbol}, {"error", req.status().message()}});
    return FetchResult::kObsolete;
  }
  const std::string warn_key = absl::StrCat("venue-snapshot:", venue_name_);
  absl::StatusOr<net::HttpResponse> resp = rest_->Do(*req);
  if (!resp.ok()) {
    ++snapshot_errors_;
    metrics_->snapshot_transport->Increment();
    runtime::WarnOnce(
        warn_key, "book snapshot request failed; retrying with backoff",
        {{"venue", venue_name_}, {"symbol", symbol}, {"error", resp.status().message()}});
    return FetchResult::kFetchFailed;
  }
  metrics_->snapshot_seconds->Observe(static_cast<double>(resp->latency_ns) * 1e-9);
  if (resp->status != 200) {
    ++snapshot_errors_;
    metrics_->snapshot_http->Increment();
    runtime::WarnOnce(warn_key, "book snapshot answered with an error; retrying with backoff",
                      {{"venue", venue_name_},
                       {"symbol", symbol},
                       {"status", resp->status},
                       {"body", resp->body.substr(0, 200)}});
    return FetchResult::kFetchFailed;
  }
  absl::MutexLock lock(&ingest_mu_);
  if (epoch != epoch_ || !sink_) return FetchResult::kObsolete;  // the connection was reset
  scratch_.clear();
  const int64_t recv_ns = runtime::NowUnixNs();
  const absl::Status st = codec_->ApplySnapshot(symbol, resp->body, recv_ns, &scratch_);
  PublishLocked(scratch_, recv_ns, /*from_frame=*/false);
  QueueSnapshotRequestsLocked();
  SyncCodecStatsLocked();
  if (st.ok()) {
    ++snapshots_fetched_;
    runtime::ResetWarnOnce(warn_key);
    return FetchResult::kApplied;
  }
  if (st.code() == absl::StatusCode::kFailedPrecondition) return FetchResult::kObsolete;
  ++snapshot_errors_;
  metrics_->snapshot_apply->Increment();
  runtime::WarnOnce(warn_key, "book snapshot not applied; fetching again",
                    {{"venue", venue_name_}, {"symbol", symbol}, {"error", st.message()}});
  return FetchResult::kApplyFailed;
}

bool VenueConnector::SleepUnlessStopped(absl::Duration d) {
  absl::MutexLock lock(&queue_mu_);
  queue_mu_.AwaitWithTimeout(absl::Condition(&stop_), d);
  return !stop_;
}

VenueConnector::Stats VenueConnector::stats() const {
  Stats s;
  if (ws_ != nullptr) {
    const net::WsStats w = ws_->Stats();
    s.state = std::string(net::WsStateName(ws_->state()));
    s.last_error = w.last_error;
  } else {
    s.state = "idle";
  }
  const venues::FeedStats f = codec_->stats();
  s.connects = connects_.load();
  s.reconnects = s.connects > 0 ? s.connects - 1 : 0;
  s.frames = f.frames;
  s.events = events_.load();
  s.parse_errors = f.parse_errors;
  s.gaps = f.gaps + f.checksum_failures;
  s.resyncs = f.resyncs;
  s.snapshots_fetched = snapshots_fetched_.load();
  s.snapshot_errors = snapshot_errors_.load();
  s.request_errors = request_errors_.load();
  s.batches_rejected = batches_rejected_.load();
  s.last_frame_unix_ns = last_frame_unix_ns_.load();
  absl::MutexLock lock(&queue_mu_);
  s.snapshots_pending = pending_.size();
  return s;
}

nlohmann::json VenueConnector::StatusJson() const {
  const Stats s = stats();
  return nlohmann::json{{"healthy", healthy()},
                        {"state", s.state},
                        {"url", StripSlash(options_.ws_url)},
                        {"symbols", options_.symbols},
                        {"connects", s.connects},
                        {"reconnects", s.reconnects},
                        {"frames", s.frames},
                        {"events", s.events},
                        {"parse_errors", s.parse_errors},
                        {"gaps", s.gaps},
                        {"resyncs", s.resyncs},
                        {"snapshots_fetched", s.snapshots_fetched},
                        {"snapshot_errors", s.snapshot_errors},
                        {"snapshots_pending", s.snapshots_pending},
                        {"request_errors", s.request_errors},
                        {"batches_rejected", s.batches_rejected},
                        {"last_frame_unix_ns", s.last_frame_unix_ns},
                        {"last_error", s.last_error}};
}

}  // namespace tickmesh::market_data
