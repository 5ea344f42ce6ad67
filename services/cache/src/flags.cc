#include "flags.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "validation.h"

// Redis tier: redis://[[user]:password@]host[:port][/db]. Empty = L1 only (breaker DISABLED).
ABSL_FLAG(std::string, redis_url, "",
          "Redis URL redis://[:password@]host:port/db; empty = L1 only");
// L1 bounds: whichever is reached first evicts the least recently used entries.
ABSL_FLAG(int64_t, l1_max_entries, 1000000, "Maximum entries in the in-process L1 tier");
ABSL_FLAG(int64_t, l1_max_bytes, int64_t{512} << 20,
          "Maximum bytes (keys + values + per-entry overhead) in the L1 tier");
// Redis slower than this counts as down (connect and each socket read/write).
ABSL_FLAG(int32_t, redis_timeout_ms, 50, "Redis connect/command timeout in ms");
// Worker threads, each with its own Redis connection. 0 = one per CPU core, between 1 and 8
// (more workers than cores only adds context switches; fewer workers merge more requests into
// each Redis round trip).
ABSL_FLAG(int32_t, redis_pool_size, 0,
          "Redis connections (= cache worker threads); 0 = one per CPU core (1..8)");
// Distinct keys written during a Redis outage that are kept for replay; beyond that, writes of
// new keys are counted in replay_overflow_total and stay in L1 only.
ABSL_FLAG(int64_t, replay_queue_max, 100000, "Maximum keys queued for replay to Redis");
// Bytes (keys + values) of those queued writes; see README for what happens beyond.
ABSL_FLAG(int64_t, replay_queue_max_bytes, int64_t{256} << 20,
          "Maximum key+value bytes queued for replay to Redis");
// Requests waiting for a worker (all workers together); beyond that RESOURCE_EXHAUSTED.
ABSL_FLAG(int64_t, worker_queue_max, 16384, "Maximum requests queued for the Redis workers");
// Warming at start: keys (comma-separated) and/or a key prefix loaded from Redis into L1.
ABSL_FLAG(std::string, warm_keys, "", "Comma-separated keys to load from Redis at start");
ABSL_FLAG(std::string, warm_prefix, "", "Load keys with this prefix from Redis at start");

namespace tickmesh::cache {
namespace {

absl::Status FlagError(absl::string_view flag, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", why));
}

}  // namespace

absl::StatusOr<CacheOptions> CacheOptionsFromFlags() {
  CacheOptions o;
  const std::string url = absl::GetFlag(FLAGS_redis_url);
  if (!url.empty()) {
    auto parsed = ParseRedisUrl(url);
    if (!parsed.ok()) return FlagError("redis_url", parsed.status().message());
    o.redis = *std::move(parsed);
  }
  const int64_t max_entries = absl::GetFlag(FLAGS_l1_max_entries);
  if (max_entries < 1) return FlagError("l1_max_entries", "must be >= 1");
  o.l1.max_entries = static_cast<size_t>(max_entries);
  const int64_t max_bytes = absl::GetFlag(FLAGS_l1_max_bytes);
  if (max_bytes < (int64_t{1} << 20)) return FlagError("l1_max_bytes", "must be >= 1048576");
  o.l1.max_bytes = static_cast<size_t>(max_bytes);
  // Small caches get fewer shards so a 1 MiB value still fits in one shard's share.
  o.l1.shards = static_cast<int>(std::clamp<int64_t>(max_bytes / (int64_t{4} << 20), 1, 16));
  o.redis_timeout_ms = absl::GetFlag(FLAGS_redis_timeout_ms);
  if (o.redis_timeout_ms < 1 || o.redis_timeout_ms > 60000) {
    return FlagError("redis_timeout_ms", "must be 1..60000");
  }
  o.redis_pool_size = absl::GetFlag(FLAGS_redis_pool_size);
  if (o.redis_pool_size < 0 || o.redis_pool_size > 256) {
    return FlagError("redis_pool_size", "must be 0 (one per CPU core) or 1..256");
  }
  if (o.redis_pool_size == 0) {
    o.redis_pool_size =
        static_cast<int>(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 8));
  }
  const int64_t replay_max = absl::GetFlag(FLAGS_replay_queue_max);
  if (replay_max < 1) return FlagError("replay_queue_max", "must be >= 1");
  o.replay_queue_max = static_cast<size_t>(replay_max);
  const int64_t replay_bytes = absl::GetFlag(FLAGS_replay_queue_max_bytes);
  if (replay_bytes < (int64_t{2} << 20)) {
    return FlagError("replay_queue_max_bytes", "must be >= 2097152 (two maximal values)");
  }
  o.replay_queue_max_bytes = static_cast<size_t>(replay_bytes);
  const int64_t worker_max = absl::GetFlag(FLAGS_worker_queue_max);
  if (worker_max < 1) return FlagError("worker_queue_max", "must be >= 1");
  o.worker_queue_max = static_cast<size_t>(worker_max);
  for (absl::string_view key :
       absl::StrSplit(absl::GetFlag(FLAGS_warm_keys), ',', absl::SkipWhitespace())) {
    key = absl::StripAsciiWhitespace(key);
    if (absl::Status s = ValidateKey(absl::StrCat("key '", key, "'"), key); !s.ok()) {
      return FlagError("warm_keys", s.message());
    }
    o.warm_keys.emplace_back(key);
  }
  o.warm_prefix = absl::GetFlag(FLAGS_warm_prefix);
  if (!o.warm_prefix.empty()) {
    if (absl::Status s = ValidateKey("prefix", o.warm_prefix); !s.ok()) {
      return FlagError("warm_prefix", s.message());
    }
  }
  if (!o.redis.has_value() && (!o.warm_keys.empty() || !o.warm_prefix.empty())) {
    return FlagError(o.warm_keys.empty() ? "warm_prefix" : "warm_keys",
                     "warming needs --redis_url");
  }
  return o;
}

}  // namespace tickmesh::cache
