// RestClient: HTTP/1.1 requests to one base URL ("http://127.0.0.1:9001",
// "https://api.binance.com") over a small pool of keep-alive connections (cpp-httplib, TLS via
// OpenSSL), so concurrent Do() calls from several threads run in parallel instead of serialising
// on one socket. Venue knowledge (signing, parsing) stays with the caller: it hands over an
// HttpRequest (tickmesh/net/http.h) and gets the HttpResponse back whatever its status.
//
// Thread-safe. Do() performs blocking network I/O on the calling thread.
//
// Example:
//   tickmesh::net::RestOptions o;
//   o.base_url = "https://api.binance.com";
//   o.name = "binance";
//   auto client = tickmesh::net::RestClient::Create(o);   // StatusOr<unique_ptr<RestClient>>
//   if (!client.ok()) return client.status();
//   absl::StatusOr<HttpResponse> r = (*client)->Do(order_api->PlaceOrder(params));
//   // r.ok() for any HTTP status (400 venue error bodies included); !r.ok() only for transport
//   // failures: UNAVAILABLE (refused, reset, TLS) or DEADLINE_EXCEEDED (timeout).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tickmesh/net/http.h"

namespace tickmesh::net {

struct RestOptions {
  // Scheme, host and optional port; a path here is an error (targets come with each request).
  std::string base_url;
  // Low-cardinality label for logs and metrics ("binance"); never a secret.
  std::string name = "rest";
  // TCP (+TLS) connect bound per new connection.
  absl::Duration connect_timeout = absl::Seconds(5);
  // Bound on each socket read/write wait while sending the request and reading the response.
  absl::Duration read_timeout = absl::Seconds(10);
  // Most connections open (and requests in flight) at once; Do() beyond this waits for a free
  // connection up to read_timeout, then fails RESOURCE_EXHAUSTED.
  size_t max_connections = 4;
  // https only: verify the server certificate chain and host name (SNI is always sent).
  // Turning it off is for tests against self-signed servers only.
  bool tls_verify = true;
  // https only: PEM file of trusted CAs; empty = the system default trust store.
  std::string ca_file;
  // Headers added to every request (e.g. a User-Agent); per-request headers come after.
  std::vector<std::pair<std::string, std::string>> default_headers;
  // Called after every Do() on the calling thread with the request and its outcome; lets the
  // caller export metrics (latency by endpoint, errors) without this library depending on them.
  std::function<void(const HttpRequest&, const absl::StatusOr<HttpResponse>&)> on_complete;
};

// Totals for one request endpoint (HttpRequest::endpoint, "" when unnamed).
struct RestEndpointStats {
  std::string endpoint;
  uint64_t requests = 0;          // Do() calls
  uint64_t transport_errors = 0;  // Do() returned an error status
  uint64_t http_errors = 0;       // responses with status >= 400 (returned as responses)
  int64_t total_latency_ns = 0;   // summed over responses
  int64_t max_latency_ns = 0;
};

class RestClient {
 public:
  // INVALID_ARGUMENT for a base_url that is not http(s)://host[:port] or bad options.
  // Opens no connection yet.
  static absl::StatusOr<std::unique_ptr<RestClient>> Create(RestOptions options);
  ~RestClient();
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  // Sends `request` (method GET | POST | PUT | DELETE | PATCH, target = path+query) on a pooled
  // keep-alive connection and returns the response with any HTTP status, its body, headers and
  // latency_ns (send -> full response). Errors: INVALID_ARGUMENT for an unsupported method or a
  // target not starting with '/'; DEADLINE_EXCEEDED when connect or a read timed out;
  // UNAVAILABLE for refused/reset connections, TLS failures and other I/O errors (the message
  // names base URL and endpoint, never header values); RESOURCE_EXHAUSTED when no connection
  // became free in time. Never retries: whether a request is safe to repeat is the caller's call.
  absl::StatusOr<HttpResponse> Do(const HttpRequest& request);

  // Per-endpoint totals, sorted by endpoint name.
  std::vector<RestEndpointStats> Stats() const;
  const RestOptions& options() const { return options_; }

 private:
  class Impl;
  explicit RestClient(RestOptions options, std::unique_ptr<Impl> impl);
  RestOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickmesh::net
