// Plain HTTP request/response values shared by the venue codecs (libs/venues builds signed
// requests and parses responses) and the transport (libs/net RestClient sends them). No I/O here.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tickmesh::net {

struct HttpRequest {
  std::string method = "GET";  // GET | POST | DELETE | PUT
  // Path plus query string, already encoded: "/api/v3/order?symbol=BTCUSDT&...&signature=...".
  std::string target;
  // Extra headers (API keys, signatures); Content-Type goes in content_type.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;  // e.g. "application/x-www-form-urlencoded", "application/json"
  // Low-cardinality name of the endpoint for metrics and logs ("place_order", "depth").
  std::string endpoint;
};

struct HttpResponse {
  int status = 0;  // HTTP status code
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t latency_ns = 0;  // send -> full response
};

}  // namespace tickmesh::net
