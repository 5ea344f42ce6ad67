// Command-line flags of tickmesh-cache (each also settable as TICKMESH_<FLAG>) and their
// validation into CacheOptions.
#pragma once

#include "absl/status/statusor.h"
#include "cache_service.h"

namespace tickmesh::cache {

// Reads and validates the cache flags. INVALID_ARGUMENT whose message starts with the flag name
// ("--redis_url: ...") on a bad value.
absl::StatusOr<CacheOptions> CacheOptionsFromFlags();

}  // namespace tickmesh::cache
