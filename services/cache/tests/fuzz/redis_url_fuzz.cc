// Fuzz target: ParseRedisUrl (the --redis_url flag) on arbitrary bytes. It must never crash, and
// whatever it accepts must be a usable address: non-empty host of allowed characters, port
// 1..65535, db 0..65535, a redacted form that hides the password and parses back to the same
// host, port and db.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "redis_tier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view url(reinterpret_cast<const char*>(data), size);
  auto parsed = tickmesh::cache::ParseRedisUrl(url);
  if (!parsed.ok()) {
    if (parsed.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  const tickmesh::cache::RedisUrl& u = *parsed;
  if (u.host.empty() || u.port < 1 || u.port > 65535 || u.db < 0 || u.db > 65535) std::abort();
  for (char c : u.host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_' || c == ':';
    if (!ok) std::abort();
  }
  const std::string redacted = u.Redacted();
  if (!u.password.empty() && redacted.find(":***@") == std::string::npos) std::abort();
  // The redacted form names no credentials we could not print back safely; without user info it
  // must parse back to the same endpoint.
  if (u.username.empty() && u.password.empty()) {
    auto again = tickmesh::cache::ParseRedisUrl(redacted);
    if (!again.ok() || again->host != u.host || again->port != u.port || again->db != u.db) {
      std::abort();
    }
  }
  return 0;
}
