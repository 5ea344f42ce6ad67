// Request validation for the cache API (limits from proto/tickmesh/v1/cache.proto). Each check
// returns INVALID_ARGUMENT with a reason that names the field, e.g.
// "entries[3].key: must be 1..512 bytes, got 0", and never touches any state.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tickmesh/v1/cache.pb.h"

namespace tickmesh::cache {

inline constexpr size_t kMaxKeyBytes = 512;
inline constexpr size_t kMaxValueBytes = size_t{1} << 20;  // 1 MiB
inline constexpr size_t kMaxBatchEntries = 1000;
// 100 years. Larger TTLs would overflow deadline arithmetic here and in Redis (which refuses a
// SET … PX whose deadline overflows, and such a write could never be replayed).
inline constexpr int64_t kMaxTtlMs = int64_t{100} * 365 * 24 * 3600 * 1000;

// Key: 1..512 bytes of printable ASCII (0x21..0x7e; no spaces or control characters).
absl::Status ValidateKey(absl::string_view field, absl::string_view key);
// Value: at most 1 MiB.
absl::Status ValidateValue(absl::string_view field, absl::string_view value);
// TTL: 0..kMaxTtlMs ms (0 = no expiry).
absl::Status ValidateTtl(absl::string_view field, int64_t ttl_ms);
// Batch: at most 1000 entries.
absl::Status ValidateBatchSize(absl::string_view field, size_t n);

// Whole requests, as the service checks them before doing anything: the first bad field wins
// (fields named as in the proto: "key", "value", "ttl_ms", "keys[i]", "entries[i].key", ...).
// A valid request costs no allocation (field names are built only for the error message).
absl::Status ValidateRequest(const v1::GetRequest& req);
absl::Status ValidateRequest(const v1::SetRequest& req);
absl::Status ValidateRequest(const v1::DeleteRequest& req);
absl::Status ValidateRequest(const v1::MGetRequest& req);
absl::Status ValidateRequest(const v1::MSetRequest& req);

}  // namespace tickmesh::cache
