#include "drivers.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/v1/cache.grpc.pb.h"
#include "tickmesh/v1/execution.grpc.pb.h"
#include "tickmesh/v1/market_data.grpc.pb.h"
#include "tickmesh/v1/persistence.grpc.pb.h"

namespace tickmesh::loadtest {
namespace {

using runtime::NowUnixNs;
using tickmesh::v1::MarketEvent;
using tickmesh::v1::MarketEventBatch;

constexpr int64_t kE8 = 100000000;
constexpr int64_t kReopenIntervalNs = 200'000'000;  // between attempts to reopen a broken stream

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
      return "cancelled";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "invalid_argument";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "deadline_exceeded";
    case grpc::StatusCode::NOT_FOUND:
      return "not_found";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "resource_exhausted";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "failed_precondition";
    case grpc::StatusCode::UNAVAILABLE:
      return "unavailable";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "unimplemented";
    case grpc::StatusCode::INTERNAL:
      return "internal";
    default:
      return "other";
  }
}

void CountError(Recorder* rec, std::string_view op, const grpc::Status& st, uint64_t n = 1) {
  rec->Error(op, n);
  rec->Count(absl::StrCat(std::string(op), "_errors_", CodeName(st.error_code())), n);
}

void FillBook(MarketEvent* e, int64_t mid_e8, int64_t qty_e8) {
  auto* snap = e->mutable_snapshot();
  const int64_t tick = std::max<int64_t>(1, mid_e8 / 100000);  // 1 bp levels
  for (int i = 1; i <= 5; ++i) {
    auto* b = snap->add_bids();
    b->set_price_e8(mid_e8 - i * tick);
    b->set_qty_e8(qty_e8);
    auto* a = snap->add_asks();
    a->set_price_e8(mid_e8 + i * tick);
    a->set_qty_e8(qty_e8);
  }
}

// market-data requires each (venue, symbol)'s seq to increase across publishers and runs: start
// every run's sequences at the wall clock in units of 100 ns, which grows faster (10 M/s) than
// any run publishes to one symbol.
uint64_t SeqBase() { return uint64_t(NowUnixNs() / 100); }

void StampEmit(MarketEventBatch* batch, int64_t now) {
  for (auto& e : *batch->mutable_events()) {
    if (!e.has_trace()) continue;
    auto* hop = e.mutable_trace()->add_hops();
    hop->set_service("loadtest");
    hop->set_stage("emit");
    hop->set_unix_ns(now);
  }
}

// A Publish client stream to market-data that reopens itself (at most every 200 ms) after a
// failure. Used from one thread.
class PublishStream {
 public:
  explicit PublishStream(const std::string& address)
      : stub_(tickmesh::v1::MarketDataService::NewStub(runtime::MakeChannel(address))) {}
  ~PublishStream() { Close(); }

  // False when the stream is (or just became) broken; the batch was then not delivered.
  bool Write(const MarketEventBatch& batch) {
    if (!writer_) {
      const int64_t now = NowUnixNs();
      if (now < next_open_ns_) return false;
      next_open_ns_ = now + kReopenIntervalNs;
      ctx_ = std::make_unique<grpc::ClientContext>();
      writer_ = stub_->Publish(ctx_.get(), &ack_);
    }
    if (writer_->Write(batch)) return true;
    Close();
    return false;
  }

  void Close() {
    if (!writer_) return;
    writer_->WritesDone();
    grpc::Status st = writer_->Finish();
    if (!st.ok()) {
      // One line per distinct failure, not one per reopen attempt.
      if (st.error_message() != last_error_) {
        runtime::LogWarn(
            "publish stream to market-data failed; reopening",
            {{"code", std::to_string(int(st.error_code()))}, {"error", st.error_message()}});
      }
      last_error_ = st.error_message();
    }
    writer_.reset();
    ctx_.reset();
  }

  const std::string& last_error() const { return last_error_; }

 private:
  std::unique_ptr<tickmesh::v1::MarketDataService::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  tickmesh::v1::PublishAck ack_;
  std::unique_ptr<grpc::ClientWriter<MarketEventBatch>> writer_;
  int64_t next_open_ns_ = 0;
  std::string last_error_;
};

// Follows a server stream, reopening it after it ends until Stop(). The stream is read with the
// callback API: each message is handled (and time-stamped) on the gRPC thread that received it,
// without waking a reader thread first; the follower's own thread only (re)opens streams.
template <typename Message>
class Follower {
 public:
  // Starts the call, e.g. `stub->async()->Subscribe(ctx, &request, reactor)`.
  using Open = std::function<void(grpc::ClientContext*, grpc::ClientReadReactor<Message>*)>;
  using OnMessage = std::function<void(const Message&, int64_t now_unix_ns)>;

  void Start(Open open, OnMessage on_message, std::function<void(const grpc::Status&)> on_end) {
    thread_ = std::thread([this, open = std::move(open), on_message = std::move(on_message),
                           on_end = std::move(on_end)] {
      while (!stop_.load()) {
        grpc::ClientContext ctx;
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (stop_.load()) break;
          current_ = &ctx;
        }
        grpc::Status st = runtime::ReadStreamOnCallbacks<Message>(
            ctx, open, nullptr, [&](const Message& msg) { on_message(msg, NowUnixNs()); });
        {
          std::lock_guard<std::mutex> lock(mu_);
          current_ = nullptr;
        }
        if (stop_.load()) break;
        on_end(st);
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stop_.load(); });
      }
    });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(true);
      if (current_) current_->TryCancel();
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

  ~Follower() { Stop(); }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  grpc::ClientContext* current_ = nullptr;
  std::thread thread_;
};

// Bounds outstanding unary calls: Acquire blocks the generator while `max` are in flight.
class InFlight {
 public:
  explicit InFlight(int max) : max_(max) {}
  // Returns true when the generator had to wait.
  bool Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    bool waited = false;
    while (n_ >= max_) {
      waited = true;
      cv_.wait(lock);
    }
    ++n_;
    return waited;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    --n_;
    cv_.notify_all();
  }
  // Waits until none are in flight or `deadline_unix_ns`; true when none are.
  bool WaitIdle(int64_t deadline_unix_ns) {
    std::unique_lock<std::mutex> lock(mu_);
    while (n_ > 0) {
      const int64_t left = deadline_unix_ns - NowUnixNs();
      if (left <= 0) return false;
      cv_.wait_for(lock, std::chrono::nanoseconds(left));
    }
    return true;
  }

 private:
  const int max_;
  std::mutex mu_;
  std::condition_variable cv_;
  int n_ = 0;
};

// The unary calls one driver has in flight: bounded by an InFlight, remembered so a drain can
// cancel the stragglers, and freed by End() from their completion callbacks. `Call` has a
// grpc::ClientContext `ctx`.
template <typename Call>
class UnaryCalls {
 public:
  explicit UnaryCalls(int max) : in_flight_(max) {}
  // Waits for room; true when the generator had to wait.
  bool Acquire() { return in_flight_.Acquire(); }
  // Registers a call started after Acquire().
  void Track(Call* call) {
    std::lock_guard<std::mutex> lock(mu_);
    outstanding_.insert(call);
  }
  // Forgets and frees a completed call and releases its slot.
  void End(Call* call) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      outstanding_.erase(call);
    }
    delete call;
    in_flight_.Release();
  }
  // Waits up to max(drain_s, 0.5) s for the calls in flight, cancels the rest, and waits until
  // every callback has run.
  void Drain(double drain_s) {
    if (!in_flight_.WaitIdle(NowUnixNs() + int64_t(std::max(drain_s, 0.5) * 1e9))) {
      std::lock_guard<std::mutex> lock(mu_);
      for (Call* c : outstanding_) c->ctx.TryCancel();
    }
    in_flight_.WaitIdle(INT64_MAX);
  }

 private:
  InFlight in_flight_;
  std::mutex mu_;
  std::unordered_set<Call*> outstanding_;
};

void SleepUntil(int64_t deadline_unix_ns) {
  const int64_t left = deadline_unix_ns - NowUnixNs();
  if (left > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(left));
}

}  // namespace

TickSource::TickSource(const ScenarioSpec& spec, uint32_t run_tag)
    : spec_(spec), run_tag_(run_tag), rng_(run_tag) {
  const uint64_t base = SeqBase();
  for (size_t i = 0; i < spec_.symbols.size(); ++i) walks_.push_back(Walk{1000 * kE8, base});
}

int TickSource::Build(const int64_t* intended, size_t n, uint64_t first, int64_t now,
                      MarketEventBatch* out) {
  out->Clear();
  int jumps = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t k = first + i;
    const size_t s = k % walks_.size();
    Walk& w = walks_[s];
    ++w.steps;
    bool jumped = false;
    if (spec_.jump_every > 0 && w.steps % uint64_t(spec_.jump_every) == 0) {
      // Alternate up and down so the price stays in range; the jump is what makes the
      // strategies' indicators cross thresholds together.
      const int64_t delta = w.price_e8 / 10000 * spec_.jump_bps;
      w.price_e8 += (w.jumps++ % 2 == 0) ? delta : -delta;
      jumped = true;
      ++jumps;
    } else {
      // Random walk, walk_bps per step (standard deviation), in fixed point; 0 holds the price.
      if (spec_.walk_bps > 0) {
        w.price_e8 += int64_t(step_(rng_) * double(w.price_e8) * spec_.walk_bps * 1e-4);
      }
    }
    w.price_e8 = std::max<int64_t>(kE8, w.price_e8);
    if (jumped || k % uint64_t(spec_.book_every) == 0) {
      MarketEvent* book = out->add_events();
      book->set_venue("loadtest");
      book->set_symbol(spec_.symbols[s]);
      book->set_seq(++w.seq);
      book->set_exchange_unix_ns(intended[i]);
      book->set_receive_unix_ns(now);
      FillBook(book, w.price_e8, 10 * kE8);
    }
    MarketEvent* e = out->add_events();
    e->set_venue("loadtest");
    e->set_symbol(spec_.symbols[s]);
    e->set_seq(++w.seq);
    e->set_exchange_unix_ns(intended[i]);
    e->set_receive_unix_ns(now);
    auto* trade = e->mutable_trade();
    trade->set_price_e8(w.price_e8);
    trade->set_qty_e8(kE8 / 100);
    trade->set_aggressor_side(rng_() & 1 ? tickmesh::v1::SIDE_BUY : tickmesh::v1::SIDE_SELL);
    auto* trace = e->mutable_trace();
    trace->set_trace_id((uint64_t(run_tag_) << 32) | (k & 0xffffffffULL));
    trace->set_origin_unix_ns(intended[i]);
  }
  return jumps;
}

namespace {

// ---------------------------------------------------------------------------------------------
// tick: trades through market-data -> signal -> execution; follows order events.

class TickDriver final : public Driver {
 public:
  explicit TickDriver(const DriverContext& ctx)
      : ctx_(ctx),
        spec_(*ctx.spec),
        rec_(ctx.recorder),
        publish_(ctx.targets.market_data),
        source_(*ctx.spec, ctx.run_tag) {}
  // The follower thread uses members declared after it: stop it first.
  ~TickDriver() override { follower_.Stop(); }

  absl::Status Start() override {
    auto exec =
        tickmesh::v1::ExecutionService::NewStub(runtime::MakeChannel(ctx_.targets.execution));
    exec_ = std::move(exec);
    req_.set_subscriber("loadtest");
    for (const auto& s : spec_.symbols) req_.add_symbols(s);
    follower_.Start(
        [this](grpc::ClientContext* c, grpc::ClientReadReactor<tickmesh::v1::OrderEventBatch>* r) {
          exec_->async()->StreamOrderEvents(c, &req_, r);
        },
        [this](const tickmesh::v1::OrderEventBatch& b, int64_t now) { OnEvents(b, now); },
        [this](const grpc::Status& st) {
          rec_->Count("order_stream_reconnects");
          // One line per distinct failure, not one per reopen attempt.
          if (st.error_message() != last_stream_error_) {
            runtime::LogWarn("order event stream ended; reopening",
                             {{"error", st.error_message()}});
            last_stream_error_ = st.error_message();
          }
        });
    // Follow order events before the first tick so no early fill is missed.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return absl::OkStatus();
  }

  void Send(const int64_t* intended, size_t n, uint64_t first) override {
    const int jumps = source_.Build(intended, n, first, NowUnixNs(), &batch_);
    if (jumps > 0) rec_->Count("price_jumps", jumps);
    StampEmit(&batch_, NowUnixNs());
    const bool ok = publish_.Write(batch_);
    const int64_t done = NowUnixNs();
    if (ok) {
      latencies_.resize(n);
      for (size_t i = 0; i < n; ++i) latencies_[i] = done - intended[i];
      rec_->RecordMany("publish", latencies_.data(), n);
      rec_->Count("ticks_sent", n);
    } else {
      rec_->Error("publish", n);
      rec_->Count("publish_errors_unavailable", n);
    }
  }

  void Finish(double drain_s) override {
    publish_.Close();
    SleepUntil(NowUnixNs() + int64_t(drain_s * 1e9));
    follower_.Stop();
  }

  void CollectAcks(AckLedger* ledger) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, n] : fills_) ledger->fills[id] += n;
    for (const auto& s : spec_.symbols) ledger->fill_symbols.push_back(s);
  }

 private:
  void OnEvents(const tickmesh::v1::OrderEventBatch& batch, int64_t now) {
    for (const auto& ev : batch.events()) {
      const auto& trace = ev.trace();
      if ((trace.trace_id() >> 32) != ctx_.run_tag) continue;
      rec_->Count("order_events");
      const int64_t latency = now - trace.origin_unix_ns();
      bool first;
      {
        std::lock_guard<std::mutex> lock(mu_);
        first = ordered_.insert(trace.trace_id()).second;
        if (ev.type() == tickmesh::v1::ORDER_EVENT_TYPE_FILL) ++fills_[ev.fill().fill_id()];
      }
      if (first) rec_->Record("tick_to_order", latency);
      // An order's first event (version 1): one signal of this run turned into an order.
      if (ev.order().version() == 1) rec_->Count("signal_orders");
      if (ev.type() == tickmesh::v1::ORDER_EVENT_TYPE_REJECTED) rec_->Count("rejects");
      if (ev.type() != tickmesh::v1::ORDER_EVENT_TYPE_FILL) continue;
      rec_->Count("fills");
      rec_->Record("tick_to_fill", latency);
      // Per-hop breakdown along the fill's path, ending with the receipt here.
      for (int i = 1; i <= trace.hops_size(); ++i) {
        const auto& a = trace.hops(i - 1);
        std::string name;
        int64_t b_ns;
        if (i < trace.hops_size()) {
          const auto& b = trace.hops(i);
          name = absl::StrCat(a.service(), ".", a.stage(), "->", b.service(), ".", b.stage());
          b_ns = b.unix_ns();
        } else {
          name = absl::StrCat(a.service(), ".", a.stage(), "->loadtest.recv");
          b_ns = now;
        }
        rec_->Hop(name, b_ns - a.unix_ns());
      }
    }
  }

  DriverContext ctx_;
  const ScenarioSpec& spec_;
  Recorder* rec_;
  PublishStream publish_;
  TickSource source_;
  MarketEventBatch batch_;
  std::vector<int64_t> latencies_;
  std::unique_ptr<tickmesh::v1::ExecutionService::Stub> exec_;
  tickmesh::v1::StreamOrderEventsRequest req_;
  std::string last_stream_error_;  // follower thread only; declared before the follower
  Follower<tickmesh::v1::OrderEventBatch> follower_;
  std::mutex mu_;
  std::unordered_set<uint64_t> ordered_;  // trace ids that produced an order event
  std::map<std::string, int> fills_;
};

// ---------------------------------------------------------------------------------------------
// market_event: a flood of book deltas over many symbols, read back on Subscribe.

class MarketEventDriver final : public Driver {
 public:
  explicit MarketEventDriver(const DriverContext& ctx)
      : ctx_(ctx), spec_(*ctx.spec), rec_(ctx.recorder), publish_(ctx.targets.market_data) {
    for (int i = 0; i < spec_.flood_symbols; ++i) {
      symbols_.push_back(absl::StrCat("FL", i, "-USD"));
      seqs_.push_back(SeqBase());
    }
  }
  ~MarketEventDriver() override { follower_.Stop(); }

  absl::Status Start() override {
    stub_ =
        tickmesh::v1::MarketDataService::NewStub(runtime::MakeChannel(ctx_.targets.market_data));
    sub_.add_venues(kVenue);
    sub_.set_subscriber("loadtest");
    follower_.Start(
        [this](grpc::ClientContext* c, grpc::ClientReadReactor<MarketEventBatch>* r) {
          stub_->async()->Subscribe(c, &sub_, r);
        },
        [this](const MarketEventBatch& b, int64_t now) {
          thread_local std::vector<int64_t> lat;
          lat.clear();
          for (const auto& e : b.events()) {
            if ((e.trace().trace_id() >> 32) != ctx_.run_tag) continue;
            lat.push_back(now - e.trace().origin_unix_ns());
          }
          if (!lat.empty()) rec_->RecordMany("md_delivery", lat.data(), lat.size());
        },
        [this](const grpc::Status& st) {
          // market-data ends a subscriber that cannot keep up (bounded queue).
          rec_->Count("md_subscriber_ended");
          if (st.error_message() != last_stream_error_) {
            runtime::LogWarn("market-data subscription ended; reopening",
                             {{"error", st.error_message()}});
            last_stream_error_ = st.error_message();
          }
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // One snapshot per symbol so the deltas apply to a book.
    MarketEventBatch snaps;
    const int64_t now = NowUnixNs();
    for (size_t i = 0; i < symbols_.size(); ++i) {
      MarketEvent* e = snaps.add_events();
      e->set_venue(kVenue);
      e->set_symbol(symbols_[i]);
      e->set_seq(++seqs_[i]);
      e->set_exchange_unix_ns(now);
      e->set_receive_unix_ns(now);
      FillBook(e, 100 * kE8, kE8);
    }
    if (!publish_.Write(snaps)) {
      return absl::UnavailableError(absl::StrCat("market-data at ", ctx_.targets.market_data,
                                                 ": cannot publish: ", publish_.last_error()));
    }
    return absl::OkStatus();
  }

  void Send(const int64_t* intended, size_t n, uint64_t first) override {
    const int64_t now = NowUnixNs();
    batch_.Clear();
    for (size_t i = 0; i < n; ++i) {
      const uint64_t k = first + i;
      const size_t s = k % symbols_.size();
      MarketEvent* e = batch_.add_events();
      e->set_venue(kVenue);
      e->set_symbol(symbols_[s]);
      e->set_seq(++seqs_[s]);
      e->set_exchange_unix_ns(intended[i]);
      e->set_receive_unix_ns(now);
      // Change one level's quantity on alternating sides (a typical depth-stream update).
      auto* delta = e->mutable_delta();
      const int64_t level = 1 + int64_t(k / symbols_.size()) % 5;
      auto* lv = (k & 1) ? delta->add_bids() : delta->add_asks();
      lv->set_price_e8(100 * kE8 + ((k & 1) ? -level : level) * (100 * kE8 / 100000));
      lv->set_qty_e8(kE8 + int64_t(k % 97) * (kE8 / 100));
      auto* trace = e->mutable_trace();
      trace->set_trace_id((uint64_t(ctx_.run_tag) << 32) | (k & 0xffffffffULL));
      trace->set_origin_unix_ns(intended[i]);
    }
    StampEmit(&batch_, NowUnixNs());
    const bool ok = publish_.Write(batch_);
    const int64_t done = NowUnixNs();
    if (ok) {
      latencies_.resize(n);
      for (size_t i = 0; i < n; ++i) latencies_[i] = done - intended[i];
      rec_->RecordMany("publish", latencies_.data(), n);
    } else {
      rec_->Error("publish", n);
    }
  }

  void Finish(double drain_s) override {
    publish_.Close();
    SleepUntil(NowUnixNs() + int64_t(drain_s * 1e9));
    follower_.Stop();
  }

 private:
  static constexpr const char* kVenue = "loadtest-flood";
  DriverContext ctx_;
  const ScenarioSpec& spec_;
  Recorder* rec_;
  PublishStream publish_;
  std::vector<std::string> symbols_;
  std::vector<uint64_t> seqs_;
  MarketEventBatch batch_;
  std::vector<int64_t> latencies_;
  std::unique_ptr<tickmesh::v1::MarketDataService::Stub> stub_;
  tickmesh::v1::SubscribeRequest sub_;
  std::string last_stream_error_;  // follower thread only; declared before the follower
  Follower<MarketEventBatch> follower_;
};

// ---------------------------------------------------------------------------------------------
// cache_set: async unary Sets of balance-like values.

class CacheSetDriver final : public Driver {
 public:
  explicit CacheSetDriver(const DriverContext& ctx)
      : ctx_(ctx), spec_(*ctx.spec), rec_(ctx.recorder), calls_(spec_.max_in_flight) {}

  ~CacheSetDriver() override { Finish(0); }

  absl::Status Start() override {
    stub_ = tickmesh::v1::CacheService::NewStub(runtime::MakeChannel(ctx_.targets.cache));
    return absl::OkStatus();
  }

  void Send(const int64_t* intended, size_t n, uint64_t first) override {
    for (size_t i = 0; i < n; ++i) {
      if (calls_.Acquire()) rec_->Count("cache_set_backpressure_waits");
      auto* call = new Call;
      const uint64_t k = first + i;
      call->intended = intended[i];
      call->req.set_key(spec_.cache_keys == 0 ? absl::StrCat("lt:", ctx_.run_tag, ":c:", k)
                                              : absl::StrCat("lt:bal:", k % spec_.cache_keys));
      tickmesh::v1::Balance bal;
      bal.set_venue("loadtest");
      bal.set_asset(absl::StrCat("LT", k % 1024));
      bal.set_total_e8(int64_t(k) * kE8);
      bal.set_available_e8(int64_t(k) * kE8);
      bal.set_updated_unix_ns(intended[i]);
      bal.SerializeToString(call->req.mutable_value());
      call->req.set_ttl_ms(spec_.cache_ttl_ms);
      call->ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(5)));
      calls_.Track(call);
      stub_->async()->Set(&call->ctx, &call->req, &call->resp,
                          [this, call](grpc::Status st) { Done(call, st); });
    }
  }

  void Finish(double drain_s) override {
    if (finished_) return;
    finished_ = true;
    calls_.Drain(drain_s);
  }

  void CollectAcks(AckLedger* ledger) override {
    if (spec_.cache_keys != 0) return;  // overwritten keys: no per-write ledger
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& kv : acked_) ledger->cache_writes.push_back(std::move(kv));
    acked_.clear();
  }

 private:
  struct Call {
    grpc::ClientContext ctx;
    tickmesh::v1::SetRequest req;
    tickmesh::v1::SetResponse resp;
    int64_t intended = 0;
  };

  void Done(Call* call, const grpc::Status& st) {
    const int64_t now = NowUnixNs();
    if (st.ok()) {
      rec_->Record("cache_set", now - call->intended);
    } else {
      CountError(rec_, "cache_set", st);
    }
    if (st.ok() && spec_.cache_keys == 0) {
      std::lock_guard<std::mutex> lock(mu_);
      acked_.emplace_back(std::move(*call->req.mutable_key()),
                          std::move(*call->req.mutable_value()));
    }
    calls_.End(call);
  }

  DriverContext ctx_;
  const ScenarioSpec& spec_;
  Recorder* rec_;
  UnaryCalls<Call> calls_;
  bool finished_ = false;
  std::unique_ptr<tickmesh::v1::CacheService::Stub> stub_;
  std::mutex mu_;  // acked_
  std::vector<std::pair<std::string, std::string>> acked_;
};

// ---------------------------------------------------------------------------------------------
// persist_append: Balance records over the Append bidi stream; an ack means durable.

class PersistDriver final : public Driver {
 public:
  explicit PersistDriver(const DriverContext& ctx)
      : ctx_(ctx), spec_(*ctx.spec), rec_(ctx.recorder) {}

  ~PersistDriver() override { CloseSession(); }

  absl::Status Start() override {
    stub_ =
        tickmesh::v1::PersistenceService::NewStub(runtime::MakeChannel(ctx_.targets.persistence));
    return absl::OkStatus();
  }

  void Send(const int64_t* intended, size_t n, uint64_t first) override {
    if (session_ && session_->broken.load()) CloseSession();
    // Bound un-acked records: wait (the intended times keep the measurement honest).
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (pending_records_ >= size_t(spec_.max_in_flight) * 4) {
        rec_->Count("persist_append_backpressure_waits");
        cv_.wait_for(lock, std::chrono::seconds(5),
                     [&] { return pending_records_ < size_t(spec_.max_in_flight) * 4; });
      }
    }
    if (!session_ && !OpenSession()) {
      rec_->Error("persist_append", n);
      rec_->Count("persist_append_errors_unavailable", n);
      return;
    }
    tickmesh::v1::AppendRequest req;
    const uint64_t batch_id = ++next_batch_;
    req.set_batch_id(batch_id);
    for (size_t i = 0; i < n; ++i) {
      const uint64_t k = first + i;
      auto* bal = req.add_records()->mutable_balance();
      bal->set_venue("loadtest");
      bal->set_asset(absl::StrCat("LT", k % 1024));
      bal->set_total_e8(int64_t(k) * kE8);
      bal->set_available_e8(int64_t(k) * kE8);
      bal->set_updated_unix_ns(intended[i]);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_[batch_id].assign(intended, intended + n);
      pending_records_ += n;
    }
    if (!session_->stream->Write(req)) {
      session_->broken.store(true);
      CloseSession();
    }
  }

  void Finish(double drain_s) override {
    const int64_t deadline = NowUnixNs() + int64_t(std::max(drain_s, 0.5) * 1e9);
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (!pending_.empty() && NowUnixNs() < deadline) {
        cv_.wait_for(lock, std::chrono::milliseconds(20));
      }
    }
    CloseSession();
  }

 private:
  struct Session {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReaderWriter<tickmesh::v1::AppendRequest, tickmesh::v1::AppendAck>>
        stream;
    std::thread reader;
    std::atomic<bool> broken{false};
  };

  bool OpenSession() {
    const int64_t now = NowUnixNs();
    if (now < next_open_ns_) return false;
    next_open_ns_ = now + kReopenIntervalNs;
    auto s = std::make_unique<Session>();
    s->stream = stub_->Append(&s->ctx);
    Session* raw = s.get();
    s->reader = std::thread([this, raw] {
      tickmesh::v1::AppendAck ack;
      std::vector<int64_t> lat;
      while (raw->stream->Read(&ack)) {
        const int64_t t = NowUnixNs();
        std::vector<int64_t> intended;
        {
          std::lock_guard<std::mutex> lock(mu_);
          auto it = pending_.find(ack.batch_id());
          if (it == pending_.end()) continue;
          intended = std::move(it->second);
          pending_.erase(it);
          pending_records_ -= intended.size();
          cv_.notify_all();
        }
        if (ack.status_code() != 0) {
          rec_->Error("persist_append", intended.size());
          rec_->Count("persist_append_errors_rejected", intended.size());
          continue;
        }
        if (ack.durability() == tickmesh::v1::DURABILITY_SPOOL) {
          rec_->Count("persist_append_spooled", intended.size());
        }
        lat.resize(intended.size());
        for (size_t i = 0; i < intended.size(); ++i) lat[i] = t - intended[i];
        rec_->RecordMany("persist_append", lat.data(), lat.size());
      }
      raw->broken.store(true);
    });
    session_ = std::move(s);
    return true;
  }

  // Ends the session; batches still un-acked are errors (a broken stream loses their acks).
  void CloseSession() {
    if (!session_) return;
    if (!session_->broken.load()) session_->stream->WritesDone();
    // The reader ends when the server closes its side; cancel if it does not within 2 s.
    for (int i = 0; i < 200 && !session_->broken.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    session_->ctx.TryCancel();
    session_->reader.join();
    grpc::Status st = session_->stream->Finish();
    session_.reset();
    std::lock_guard<std::mutex> lock(mu_);
    if (!pending_.empty()) {
      rec_->Error("persist_append", pending_records_);
      rec_->Count(absl::StrCat("persist_append_errors_", CodeName(st.error_code())),
                  pending_records_);
    }
    pending_.clear();
    pending_records_ = 0;
    cv_.notify_all();
  }

  DriverContext ctx_;
  const ScenarioSpec& spec_;
  Recorder* rec_;
  std::unique_ptr<tickmesh::v1::PersistenceService::Stub> stub_;
  std::unique_ptr<Session> session_;
  uint64_t next_batch_ = 0;
  int64_t next_open_ns_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, std::vector<int64_t>> pending_;  // batch id -> intended times
  size_t pending_records_ = 0;
};

// ---------------------------------------------------------------------------------------------
// order_submit: small market orders against a book this driver keeps fresh.

class OrderDriver final : public Driver {
 public:
  explicit OrderDriver(const DriverContext& ctx)
      : ctx_(ctx), spec_(*ctx.spec), rec_(ctx.recorder), calls_(spec_.max_in_flight) {}

  ~OrderDriver() override { Finish(0); }

  absl::Status Start() override {
    stub_ = tickmesh::v1::ExecutionService::NewStub(runtime::MakeChannel(ctx_.targets.execution));
    // The paper venue fills against market-data's book: publish one now and refresh it every
    // 500 ms so the orders' fills never exhaust it.
    if (!PublishBook()) {
      return absl::UnavailableError(absl::StrCat("market-data at ", ctx_.targets.market_data,
                                                 ": cannot publish the order book"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let execution see it
    refresher_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!stop_) {
        cv_.wait_for(lock, std::chrono::milliseconds(500));
        if (stop_) break;
        lock.unlock();
        PublishBook();
        lock.lock();
      }
    });
    return absl::OkStatus();
  }

  void Send(const int64_t* intended, size_t n, uint64_t first) override {
    for (size_t i = 0; i < n; ++i) {
      if (calls_.Acquire()) rec_->Count("order_submit_backpressure_waits");
      auto* call = new Call;
      const uint64_t k = first + i;
      call->intended = intended[i];
      auto* o = call->req.mutable_order();
      o->set_client_order_id(absl::StrCat("lt-", ctx_.run_tag, "-", k));
      o->set_venue("loadtest");
      o->set_symbol(spec_.symbols[0]);
      o->set_side(k % 2 == 0 ? tickmesh::v1::SIDE_BUY : tickmesh::v1::SIDE_SELL);
      o->set_type(tickmesh::v1::ORDER_TYPE_MARKET);
      o->set_time_in_force(tickmesh::v1::TIME_IN_FORCE_IOC);
      o->set_qty_e8(kE8 / 100);
      o->set_strategy("loadtest");
      call->ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(5)));
      calls_.Track(call);
      stub_->async()->Submit(&call->ctx, &call->req, &call->resp,
                             [this, call](grpc::Status st) { Done(call, st); });
    }
  }

  void Finish(double drain_s) override {
    if (finished_) return;
    finished_ = true;
    calls_.Drain(drain_s);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    if (refresher_.joinable()) refresher_.join();
  }

 private:
  struct Call {
    grpc::ClientContext ctx;
    tickmesh::v1::SubmitOrderRequest req;
    tickmesh::v1::SubmitOrderResponse resp;
    int64_t intended = 0;
  };

  bool PublishBook() {
    std::lock_guard<std::mutex> lock(book_mu_);
    if (!publish_) publish_ = std::make_unique<PublishStream>(ctx_.targets.market_data);
    MarketEventBatch batch;
    MarketEvent* e = batch.add_events();
    const int64_t now = NowUnixNs();
    e->set_venue("loadtest");
    e->set_symbol(spec_.symbols[0]);
    e->set_seq(++book_seq_);
    e->set_exchange_unix_ns(now);
    e->set_receive_unix_ns(now);
    FillBook(e, 1000 * kE8, 1000 * kE8);
    return publish_->Write(batch);
  }

  void Done(Call* call, const grpc::Status& st) {
    const int64_t now = NowUnixNs();
    if (st.ok()) {
      rec_->Record("order_submit", now - call->intended);
      if (call->resp.order().status() == tickmesh::v1::ORDER_STATUS_FILLED) {
        rec_->Count("orders_filled");
      }
    } else {
      CountError(rec_, "order_submit", st);
    }
    calls_.End(call);
  }

  DriverContext ctx_;
  const ScenarioSpec& spec_;
  Recorder* rec_;
  UnaryCalls<Call> calls_;
  bool finished_ = false;
  std::unique_ptr<tickmesh::v1::ExecutionService::Stub> stub_;
  std::mutex book_mu_;
  std::unique_ptr<PublishStream> publish_;
  uint64_t book_seq_ = SeqBase();
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread refresher_;
};

}  // namespace

std::unique_ptr<Driver> MakeDriver(const std::string& operation, const DriverContext& ctx) {
  if (operation == "tick") return std::make_unique<TickDriver>(ctx);
  if (operation == "market_event") return std::make_unique<MarketEventDriver>(ctx);
  if (operation == "cache_set") return std::make_unique<CacheSetDriver>(ctx);
  if (operation == "persist_append") return std::make_unique<PersistDriver>(ctx);
  if (operation == "order_submit") return std::make_unique<OrderDriver>(ctx);
  return nullptr;
}

}  // namespace tickmesh::loadtest
