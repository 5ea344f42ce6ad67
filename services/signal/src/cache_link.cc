#include "cache_link.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"
#include "tickmesh/v1/execution.pb.h"

namespace tickmesh::signal {
namespace {

constexpr size_t kChunk = 1000;  // CacheService MGet/MSet limit

std::string Prefix() { return runtime::MetricPrefix("signal"); }

void CountError(const char* op) {
  runtime::CounterFamily(Prefix() + "cache_errors_total", "Failed cache RPCs, by operation")
      .Add({{"op", op}})
      .Increment();
}

}  // namespace

CacheLink::CacheLink(CacheLinkOptions options, PositionTable* positions,
                     std::function<void(bool)> on_state)
    : options_(std::move(options)),
      positions_(positions),
      on_state_(std::move(on_state)),
      stub_(tickmesh::v1::CacheService::NewStub(runtime::MakeChannel(
          options_.address, runtime::RetryServiceConfig({{"tickmesh.v1.CacheService", "MGet"},
                                                         {"tickmesh.v1.CacheService", "MSet"}})))),
      written_counter_(runtime::CounterFamily(Prefix() + "cache_signals_written_total",
                                              "Latest signals written to the cache")
                           .Add({})),
      conflated_counter_(
          runtime::CounterFamily(Prefix() + "cache_signals_conflated_total",
                                 "Latest signals replaced by a newer one before being written")
              .Add({})),
      dropped_counter_(runtime::CounterFamily(Prefix() + "cache_signals_dropped_total",
                                              "Latest signals dropped: pending map full")
                           .Add({})) {}

CacheLink::~CacheLink() { Stop(); }

void CacheLink::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Loop(); });
}

void CacheLink::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void CacheLink::Offer(const tickmesh::v1::Signal& s) {
  std::string key = absl::StrCat("signal:", s.venue(), ":", s.symbol());
  absl::MutexLock lock(&mu_);
  auto it = pending_.find(key);
  if (it != pending_.end()) {
    it->second = s;
    ++conflated_;
    conflated_counter_.Increment();
    return;
  }
  if (pending_.size() >= options_.max_pending) {
    ++dropped_;
    dropped_counter_.Increment();
    return;
  }
  pending_.emplace(std::move(key), s);
}

void CacheLink::Loop() {
  absl::Time next_poll = absl::Now();
  while (true) {
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      if (!stop_) cv_.WaitWithTimeout(&mu_, options_.flush_interval);
      stopping = stop_;
    }
    Flush();
    if (stopping) return;
    if (positions_ != nullptr && absl::Now() >= next_poll) {
      PollPositions();
      next_poll = absl::Now() + options_.position_poll;
    }
  }
}

void CacheLink::SetUp(bool up) {
  if (up_state_ == static_cast<int>(up)) return;
  up_state_ = up ? 1 : 0;
  if (!up) runtime::LogWarn("cache unavailable: latest signals and positions not synced", {});
  if (on_state_) on_state_(up);
}

void CacheLink::Flush() {
  absl::flat_hash_map<std::string, tickmesh::v1::Signal> batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return;
  std::vector<std::pair<const std::string*, const tickmesh::v1::Signal*>> items;
  items.reserve(batch.size());
  for (const auto& [k, v] : batch) items.emplace_back(&k, &v);
  for (size_t i = 0; i < items.size(); i += kChunk) {
    tickmesh::v1::MSetRequest req;
    for (size_t k = i; k < std::min(items.size(), i + kChunk); ++k) {
      auto* e = req.add_entries();
      e->set_key(*items[k].first);
      items[k].second->SerializeToString(e->mutable_value());
      e->set_ttl_ms(options_.signal_ttl_ms);
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(runtime::DeadlineIn(options_.rpc_timeout));
    tickmesh::v1::MSetResponse resp;
    grpc::Status st = stub_->MSet(&ctx, req, &resp);
    if (!st.ok()) {
      ++errors_;
      CountError("mset");
      runtime::WarnOnce(
          "signal-cache-mset", "cache MSet failed; latest signals not written",
          {{"code", static_cast<int>(st.error_code())}, {"message", st.error_message()}});
      SetUp(false);
      continue;
    }
    SetUp(true);
    written_ += static_cast<uint64_t>(req.entries_size());
    written_counter_.Increment(req.entries_size());
  }
}

void CacheLink::PollPositions() {
  std::vector<PositionTable::Slot*> slots = positions_->Slots();
  if (slots.empty()) {
    // Nothing to read: a cheap Get keeps the dependency state (health, /status) current.
    grpc::ClientContext ctx;
    ctx.set_deadline(runtime::DeadlineIn(options_.rpc_timeout));
    tickmesh::v1::GetRequest req;
    req.set_key("signal:probe");
    tickmesh::v1::GetResponse resp;
    grpc::Status st = stub_->Get(&ctx, req, &resp);
    SetUp(st.ok());
    return;
  }
  for (size_t i = 0; i < slots.size(); i += kChunk) {
    tickmesh::v1::MGetRequest req;
    const size_t end = std::min(slots.size(), i + kChunk);
    for (size_t k = i; k < end; ++k) {
      req.add_keys(absl::StrCat("position:", slots[k]->venue, ":", slots[k]->symbol));
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(runtime::DeadlineIn(options_.rpc_timeout));
    tickmesh::v1::MGetResponse resp;
    grpc::Status st = stub_->MGet(&ctx, req, &resp);
    if (!st.ok() || resp.entries_size() != static_cast<int>(end - i)) {
      ++errors_;
      CountError("mget");
      runtime::WarnOnce(
          "signal-cache-mget", "cache MGet failed; positions not refreshed",
          {{"code", static_cast<int>(st.error_code())}, {"message", st.error_message()}});
      SetUp(false);
      continue;
    }
    SetUp(true);
    for (size_t k = i; k < end; ++k) {
      const auto& entry = resp.entries(static_cast<int>(k - i));
      PositionTable::Slot* slot = slots[k];
      tickmesh::v1::Position pos;
      if (!entry.found()) {
        slot->qty_e8.store(0, std::memory_order_relaxed);
        slot->known.store(false, std::memory_order_relaxed);
      } else if (!pos.ParseFromString(entry.value())) {
        ++errors_;
        CountError("position_parse");
        runtime::WarnOnce("signal-position-parse", "unparseable position in cache",
                          {{"key", entry.key()}});
      } else {
        slot->qty_e8.store(pos.qty_e8(), std::memory_order_relaxed);
        slot->known.store(true, std::memory_order_relaxed);
        ++position_reads_;
      }
    }
  }
}

CacheLink::Stats CacheLink::stats() const {
  Stats s;
  s.written = written_.load();
  s.conflated = conflated_.load();
  s.dropped = dropped_.load();
  s.errors = errors_.load();
  s.position_reads = position_reads_.load();
  return s;
}

}  // namespace tickmesh::signal
