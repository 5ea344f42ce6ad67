// Request validation for the cache API (limits from proto/tickmesh/v1/cache.proto). Each check
// returns INVALID_ARGUMENT with a reason that names the field, e.g.
// "entries[3].key: must be 1..512 bytes, got 0", and never touches any state.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tickmesh::cache {

inline constexpr size_t kMaxKeyBytes = 512;
inline constexpr size_t kMaxValueBytes = size_t{1} << 20;  // 1 MiB
inline constexpr size_t kMaxBatchEntries = 1000;

// Key: 1..512 bytes of printable ASCII (0x21..0x7e; no spaces or control characters).
absl::Status ValidateKey(absl::string_view field, absl::string_view key);
// Value: at most 1 MiB.
absl::Status ValidateValue(absl::string_view field, absl::string_view value);
// TTL: >= 0 ms (0 = no expiry).
absl::Status ValidateTtl(absl::string_view field, int64_t ttl_ms);
// Batch: at most 1000 entries.
absl::Status ValidateBatchSize(absl::string_view field, size_t n);

}  // namespace tickmesh::cache
