#include "upstream.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "grpcpp/grpcpp.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/v1/market_data.grpc.pb.h"
#include "tickmesh/v1/signal.grpc.pb.h"

namespace tickmesh::execution {

using tickmesh::runtime::StreamLoop;

class UpstreamFeeds::Impl {
 public:
  using Instrument = std::pair<std::string, std::string>;  // (venue, symbol)

  Impl(ExecutionEngine* engine, Options options,
       std::function<void(const std::string&, bool)> on_state)
      : engine_(engine), options_(std::move(options)), on_state_(std::move(on_state)) {
    if (!options_.signal_address.empty()) {
      signal_channel_ = tickmesh::runtime::MakeChannel(options_.signal_address);
      signal_stub_ = tickmesh::v1::SignalService::NewStub(signal_channel_);
      signal_loop_ = std::make_unique<StreamLoop>(
          "execution", "signal",
          [this](grpc::ClientContext& ctx, const std::function<void()>& connected) {
            return RunSignals(ctx, connected);
          });
    }
    if (!options_.market_data_address.empty()) {
      md_channel_ = tickmesh::runtime::MakeChannel(
          options_.market_data_address,
          tickmesh::runtime::RetryServiceConfig({{"tickmesh.v1.MarketDataService", "GetBook"}}));
      md_stub_ = tickmesh::v1::MarketDataService::NewStub(md_channel_);
      md_loop_ = std::make_unique<StreamLoop>(
          "execution", "market-data",
          [this](grpc::ClientContext& ctx, const std::function<void()>& connected) {
            return RunBooks(ctx, connected);
          });
    }
  }

  void Start() {
    if (md_loop_ && !rs_thread_.joinable()) rs_thread_ = std::thread([this] { ResyncLoop(); });
    if (signal_loop_) signal_loop_->Start();
    if (md_loop_) md_loop_->Start();
  }

  void Stop() {
    if (signal_loop_) signal_loop_->Stop();
    if (md_loop_) md_loop_->Stop();  // the stream has ended (and its resyncs cleared) on return
    StopResync();
  }

 private:
  void SetState(const std::string& peer, bool up) {
    if (on_state_) on_state_(peer, up);
  }

  grpc::Status RunSignals(grpc::ClientContext& ctx, const std::function<void()>& connected) {
    if (!signal_channel_->WaitForConnected(
            tickmesh::runtime::DeadlineIn(absl::Milliseconds(500)))) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "signal not reachable");
    }
    tickmesh::v1::SubscribeSignalsRequest req;
    req.set_subscriber("execution");
    connected();
    SetState("signal", true);
    // Callback-API reads: each batch is turned into orders on the gRPC thread that received it
    // (one thread wake-up less per signal than a blocking Read on this thread).
    grpc::Status status = tickmesh::runtime::ReadStreamOnCallbacks<tickmesh::v1::SignalBatch>(
        ctx,
        [&](grpc::ClientContext* c, grpc::ClientReadReactor<tickmesh::v1::SignalBatch>* r) {
          signal_stub_->async()->Subscribe(c, &req, r);
        },
        nullptr, [this](const tickmesh::v1::SignalBatch& batch) { engine_->OnSignalBatch(batch); });
    SetState("signal", false);
    tickmesh::runtime::WarnOnce(
        "execution-signal-stream", "signal stream ended",
        {{"code", static_cast<int>(status.error_code())}, {"error", status.error_message()}});
    return status;
  }

  grpc::Status RunBooks(grpc::ClientContext& ctx, const std::function<void()>& connected) {
    if (!md_channel_->WaitForConnected(tickmesh::runtime::DeadlineIn(absl::Milliseconds(500)))) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "market-data not reachable");
    }
    tickmesh::v1::SubscribeRequest req;
    // Books for paper fills; trades advance paper queue positions; every payload kind that takes
    // a seq in market-data's per-instrument numbering is needed so deltas are not taken for gaps.
    req.add_kinds(tickmesh::v1::EVENT_KIND_BOOK);
    req.add_kinds(tickmesh::v1::EVENT_KIND_TRADE);
    req.add_kinds(tickmesh::v1::EVENT_KIND_TICKER);
    req.set_subscriber("execution");
    req.set_coalesce_ms(options_.md_coalesce_ms);
    connected();
    SetState("market-data", true);
    // Callback-API reads: each batch is applied on the gRPC thread that received it (no hand-off
    // to this thread per message). Resyncs (a blocking GetBook) go to the resync thread.
    grpc::Status status = tickmesh::runtime::ReadStreamOnCallbacks<tickmesh::v1::MarketEventBatch>(
        ctx,
        [&](grpc::ClientContext* c, grpc::ClientReadReactor<tickmesh::v1::MarketEventBatch>* r) {
          md_stub_->async()->Subscribe(c, &req, r);
        },
        nullptr, [this](const tickmesh::v1::MarketEventBatch& batch) { OnBooks(batch); });
    {
      // Resyncs of this stream are void: every book goes stale until the next stream's snapshots.
      std::lock_guard<std::mutex> lock(rs_mu_);
      ++rs_generation_;
      rs_pending_.clear();
      rs_queue_.clear();
      rs_buffered_ = 0;
      rs_pending_count_.store(0, std::memory_order_release);
      if (rs_call_ != nullptr) rs_call_->TryCancel();
      engine_->OnMarketDataDisconnected();
    }
    SetState("market-data", false);
    tickmesh::runtime::WarnOnce(
        "execution-md-stream", "market-data book stream ended",
        {{"code", static_cast<int>(status.error_code())}, {"error", status.error_message()}});
    return status;
  }

  // One batch of the book stream, on a gRPC callback thread (never concurrent with itself).
  // Events of an instrument waiting for its resync are held back and replayed after the snapshot,
  // as if the stream had paused for that instrument; the others are applied at once.
  void OnBooks(const tickmesh::v1::MarketEventBatch& batch) {
    if (rs_pending_count_.load(std::memory_order_acquire) == 0) {
      // Only this thread adds pending resyncs, so none can appear before the next batch.
      auto gapped = engine_->OnMarketBatch(batch);
      if (gapped.empty()) return;
      std::lock_guard<std::mutex> lock(rs_mu_);
      for (auto& key : gapped) RequestResyncLocked(std::move(key));
      return;
    }
    std::lock_guard<std::mutex> lock(rs_mu_);  // the resync thread replays under it
    tickmesh::v1::MarketEventBatch live;
    for (const auto& ev : batch.events()) {
      auto it = rs_pending_.find(Instrument(ev.venue(), ev.symbol()));
      if (it == rs_pending_.end()) {
        *live.add_events() = ev;
      } else if (rs_buffered_ < kMaxHeldEvents) {
        *it->second.add_events() = ev;
        ++rs_buffered_;
      } else {
        // The replay then sees a seq gap and asks for another resync.
        tickmesh::runtime::WarnOnce("execution-book-resync-held",
                                    "too many book events held for resyncs; dropping (the book is "
                                    "resynced again)",
                                    {{"venue", ev.venue()}, {"symbol", ev.symbol()}});
      }
    }
    if (live.events_size() == 0) return;
    for (auto& key : engine_->OnMarketBatch(live)) RequestResyncLocked(std::move(key));
  }

  // Queues a resync of `key` unless one is pending already (deduplicated, bounded).
  void RequestResyncLocked(Instrument key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(rs_mu_) {
    if (rs_pending_.count(key) != 0) return;
    if (rs_pending_.size() >= kMaxPendingResyncs) {
      tickmesh::runtime::WarnOnce(
          "execution-book-resync-full",
          "too many book resyncs pending; book stale until the next snapshot",
          {{"venue", key.first}, {"symbol", key.second}});
      return;
    }
    rs_pending_.emplace(key, tickmesh::v1::MarketEventBatch());
    rs_queue_.push_back(std::move(key));
    rs_pending_count_.store(rs_pending_.size(), std::memory_order_release);
    rs_cv_.notify_one();
  }

  // The resync thread: one GetBook at a time, oldest request first. Asleep while none is pending.
  void ResyncLoop() {
    std::unique_lock<std::mutex> lock(rs_mu_);
    while (true) {
      rs_cv_.wait(lock, [&] { return rs_stop_ || !rs_queue_.empty(); });
      if (rs_stop_) return;
      Instrument key = std::move(rs_queue_.front());
      rs_queue_.pop_front();
      const uint64_t generation = rs_generation_;
      lock.unlock();
      tickmesh::v1::GetBookResponse resp;
      grpc::Status s = FetchBook(key, &resp);
      lock.lock();
      if (rs_stop_) return;
      if (generation != rs_generation_) continue;  // the stream ended meanwhile
      auto it = rs_pending_.find(key);
      if (it == rs_pending_.end()) continue;
      if (s.ok()) {
        engine_->ApplyBook(resp);
      } else {
        tickmesh::runtime::WarnOnce(
            "execution-book-resync", "book resync failed; book stale until the next snapshot",
            {{"venue", key.first}, {"symbol", key.second}, {"error", s.error_message()}});
      }
      // Events held meanwhile, in stream order: older than the snapshot are ignored, newer apply.
      tickmesh::v1::MarketEventBatch held = std::move(it->second);
      rs_buffered_ -= static_cast<size_t>(held.events_size());
      rs_pending_.erase(it);
      if (held.events_size() != 0) {
        for (auto& gap : engine_->OnMarketBatch(held)) RequestResyncLocked(std::move(gap));
      }
      // Only now may the callback thread apply this instrument's events without the lock.
      rs_pending_count_.store(rs_pending_.size(), std::memory_order_release);
    }
  }

  // Fetches a fresh snapshot of one book (blocking I/O on the resync thread, no lock held).
  grpc::Status FetchBook(const Instrument& key, tickmesh::v1::GetBookResponse* resp) {
    tickmesh::v1::GetBookRequest req;
    req.set_venue(key.first);
    req.set_symbol(key.second);
    grpc::ClientContext ctx;
    ctx.set_deadline(tickmesh::runtime::DeadlineIn(absl::Milliseconds(500)));
    {
      std::lock_guard<std::mutex> lock(rs_mu_);
      if (rs_stop_) return grpc::Status(grpc::StatusCode::CANCELLED, "stopping");
      rs_call_ = &ctx;
    }
    grpc::Status s = md_stub_->GetBook(&ctx, req, resp);
    std::lock_guard<std::mutex> lock(rs_mu_);
    rs_call_ = nullptr;
    return s;
  }

  void StopResync() {
    {
      std::lock_guard<std::mutex> lock(rs_mu_);
      rs_stop_ = true;
      if (rs_call_ != nullptr) rs_call_->TryCancel();
    }
    rs_cv_.notify_all();
    if (rs_thread_.joinable()) rs_thread_.join();
  }

  // Instruments with a resync queued or in flight at most (beyond: stale until a snapshot), and
  // events held for them in total (beyond: dropped, which makes the replay resync again).
  static constexpr size_t kMaxPendingResyncs = 4096;
  static constexpr size_t kMaxHeldEvents = 100'000;

  ExecutionEngine* engine_;
  Options options_;
  std::function<void(const std::string&, bool)> on_state_;
  std::shared_ptr<grpc::Channel> signal_channel_, md_channel_;
  std::unique_ptr<tickmesh::v1::SignalService::Stub> signal_stub_;
  std::unique_ptr<tickmesh::v1::MarketDataService::Stub> md_stub_;
  // Book resyncs: pending instruments (each with the events held for it), the request queue, the
  // stream generation (a resync of an ended stream is dropped) and the GetBook in flight.
  std::mutex rs_mu_;
  std::condition_variable rs_cv_;
  std::map<Instrument, tickmesh::v1::MarketEventBatch> rs_pending_ ABSL_GUARDED_BY(rs_mu_);
  std::deque<Instrument> rs_queue_ ABSL_GUARDED_BY(rs_mu_);
  size_t rs_buffered_ ABSL_GUARDED_BY(rs_mu_) = 0;
  uint64_t rs_generation_ ABSL_GUARDED_BY(rs_mu_) = 0;
  bool rs_stop_ ABSL_GUARDED_BY(rs_mu_) = false;
  grpc::ClientContext* rs_call_ ABSL_GUARDED_BY(rs_mu_) = nullptr;
  std::atomic<size_t> rs_pending_count_{0};  // rs_pending_.size(), for the lock-free fast path
  std::thread rs_thread_;
  std::unique_ptr<StreamLoop> signal_loop_, md_loop_;  // last: their threads use the above
};

UpstreamFeeds::UpstreamFeeds(ExecutionEngine* engine, Options options,
                             std::function<void(const std::string&, bool)> on_state)
    : impl_(std::make_unique<Impl>(engine, std::move(options), std::move(on_state))) {}

UpstreamFeeds::~UpstreamFeeds() { Stop(); }

void UpstreamFeeds::Start() { impl_->Start(); }

void UpstreamFeeds::Stop() { impl_->Stop(); }

}  // namespace tickmesh::execution
