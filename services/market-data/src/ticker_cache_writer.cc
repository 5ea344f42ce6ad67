#include "ticker_cache_writer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"

namespace tickmesh::market_data {
namespace {
constexpr size_t kMaxEntriesPerMSet = 1000;
constexpr char kWarnKey[] = "md-cache-write";
}  // namespace

TickerCacheWriter::TickerCacheWriter(TickerCacheOptions options)
    : options_(std::move(options)),
      stub_(tickmesh::v1::CacheService::NewStub(runtime::MakeChannel(options_.address))),
      written_counter_(runtime::CounterFamily(
                           runtime::MetricPrefix("market-data") + "cache_tickers_written_total",
                           "Latest tickers written to the cache (MSet)")
                           .Add({})),
      error_counter_(
          runtime::CounterFamily(runtime::MetricPrefix("market-data") + "cache_write_errors_total",
                                 "Failed cache MSet requests (their tickers dropped)")
              .Add({})) {}

TickerCacheWriter::~TickerCacheWriter() { Stop(); }

void TickerCacheWriter::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void TickerCacheWriter::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void TickerCacheWriter::OnTicker(uint32_t book_id, const std::string& venue,
                                 const std::string& symbol, const tickmesh::v1::Ticker& ticker) {
  absl::MutexLock lock(&mu_);
  if (book_id >= slots_.size()) slots_.resize(book_id + 1);
  Slot& slot = slots_[book_id];
  if (slot.key.empty()) slot.key = absl::StrCat("ticker:", venue, ":", symbol);
  slot.ticker = ticker;
  if (slot.dirty) {
    ++conflated_;
  } else {
    slot.dirty = true;
    dirty_.push_back(book_id);
  }
}

void TickerCacheWriter::Run() {
  tickmesh::v1::MSetRequest request;
  std::vector<uint32_t> ids;
  int failures = 0;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !dirty_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (stop_) return;
      request.Clear();
      const size_t n = std::min(dirty_.size(), kMaxEntriesPerMSet);
      ids.assign(dirty_.begin(), dirty_.begin() + static_cast<std::ptrdiff_t>(n));
      dirty_.erase(dirty_.begin(), dirty_.begin() + static_cast<std::ptrdiff_t>(n));
      for (uint32_t id : ids) {
        Slot& slot = slots_[id];
        slot.dirty = false;
        auto* entry = request.add_entries();
        entry->set_key(slot.key);
        entry->set_value(slot.ticker.SerializeAsString());
        entry->set_ttl_ms(absl::ToInt64Milliseconds(options_.ttl));
      }
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(runtime::DeadlineIn(options_.rpc_timeout));
    tickmesh::v1::MSetResponse response;
    const grpc::Status status = stub_->MSet(&ctx, request, &response);
    if (status.ok()) {
      written_ += static_cast<uint64_t>(request.entries_size());
      written_counter_.Increment(request.entries_size());
      if (!up_.exchange(true)) {
        runtime::ResetWarnOnce(kWarnKey);
        runtime::LogInfo("cache writes recovered", {{"peer", options_.address}});
      }
    } else {
      ++errors_;
      error_counter_.Increment();
      up_ = false;
      runtime::WarnOnce(kWarnKey, "cache write failed; tickers dropped until it recovers",
                        {{"peer", options_.address},
                         {"code", static_cast<int64_t>(status.error_code())},
                         {"error", status.error_message()}});
    }
    // Pace: at most one request per min_interval (more changes conflate meanwhile); after a
    // failure back off exponentially up to 2 s so a down cache is not hammered.
    failures = status.ok() ? 0 : std::min(failures + 1, 8);
    const absl::Duration wait =
        failures == 0 ? options_.min_interval
                      : std::min(absl::Seconds(2), absl::Milliseconds(50) * (1 << failures));
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stop_), wait);
    if (stop_) return;
  }
}

}  // namespace tickmesh::market_data
