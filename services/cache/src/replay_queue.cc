#include "replay_queue.h"

namespace tickmesh::cache {

ReplayQueue::ReplayQueue(size_t max_keys, size_t max_bytes)
    : max_keys_(max_keys), max_bytes_(max_bytes) {}

ReplayQueue::PushResult ReplayQueue::Push(std::string_view key, PendingWrite write) {
  std::lock_guard<std::mutex> lock(mu_);
  write.version = next_version_++;
  auto it = pending_.find(absl::string_view(key.data(), key.size()));
  if (it != pending_.end()) {
    const size_t old_charge = Charge(key.size(), it->second);
    PushResult result = PushResult::kCoalesced;
    if (bytes_ - old_charge + Charge(key.size(), write) > max_bytes_) {
      // Newest wins even when it does not fit: invalidate the key in Redis instead of leaving
      // the older queued value to be replayed.
      write.value = nullptr;
      write.expire_at_ms = 0;
      overflow_total_.fetch_add(1, std::memory_order_relaxed);
      result = PushResult::kOverflow;
    }
    bytes_ = bytes_ - old_charge + Charge(key.size(), write);
    it->second = std::move(write);
    return result;
  }
  const size_t charge = Charge(key.size(), write);
  if (pending_.size() >= max_keys_ || bytes_ + charge > max_bytes_) {
    overflow_total_.fetch_add(1, std::memory_order_relaxed);
    return PushResult::kOverflow;
  }
  bytes_ += charge;
  pending_.emplace(std::string(key), std::move(write));
  depth_.store(pending_.size(), std::memory_order_release);
  return PushResult::kQueued;
}

size_t ReplayQueue::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

std::optional<PendingWrite> ReplayQueue::Lookup(std::string_view key) const {
  if (empty()) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(absl::string_view(key.data(), key.size()));
  if (it == pending_.end()) return std::nullopt;
  return it->second;
}

bool ReplayQueue::Contains(std::string_view key) const {
  if (empty()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.contains(absl::string_view(key.data(), key.size()));
}

std::vector<ReplayQueue::Item> ReplayQueue::PeekBatch(size_t max_items, size_t max_bytes) const {
  std::vector<Item> batch;
  std::lock_guard<std::mutex> lock(mu_);
  size_t bytes = 0;
  for (const auto& [key, write] : pending_) {
    if (batch.size() >= max_items) break;
    const size_t size = key.size() + (write.value ? write.value->size() : 0);
    if (!batch.empty() && bytes + size > max_bytes) break;
    bytes += size;
    batch.push_back(Item{key, write});
  }
  return batch;
}

size_t ReplayQueue::Ack(const std::vector<Item>& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t removed = 0;
  for (const Item& item : batch) {
    auto it = pending_.find(absl::string_view(item.key));
    if (it != pending_.end() && it->second.version == item.write.version) {
      bytes_ -= Charge(it->first.size(), it->second);
      pending_.erase(it);
      ++removed;
    }
  }
  depth_.store(pending_.size(), std::memory_order_release);
  return removed;
}

}  // namespace tickmesh::cache
