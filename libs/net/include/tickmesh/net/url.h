// URL parsing for the transports: splits "ws://host:port/path?q", "wss://…", "http://…" and
// "https://…" into the pieces a socket needs. No I/O, no allocation beyond the result.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tickmesh::net {

struct Url {
  std::string scheme;  // "ws" | "wss" | "http" | "https" (lower case)
  std::string host;    // host name or IP literal, without brackets ("::1" for "[::1]")
  int port = 0;        // explicit port, else the scheme default (80 / 443)
  std::string target;  // path + query, "/" when the URL has none
  bool tls = false;    // true for wss and https

  // "host:port" as it goes into a Host header (IPv6 hosts bracketed; default ports omitted).
  std::string HostHeader() const;
  // "scheme://host:port" (no target); what RestClient hands to its HTTP library.
  std::string Origin() const;
};

// Parses an absolute ws/wss/http/https URL. INVALID_ARGUMENT naming the URL for any other
// scheme, an empty host, a port outside 1..65535, user-info ("user@host") or a fragment.
absl::StatusOr<Url> ParseUrl(std::string_view url);

}  // namespace tickmesh::net
