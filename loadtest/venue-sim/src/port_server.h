// One simulated venue's loopback port: HTTP/1.1 (keep-alive) and WebSocket upgrade on the same
// port, over Boost.Beast. Everything runs on the simulator's single io thread, so venue state
// needs no locks. The generic fault controls (/sim/fault) live here; wire formats live in the
// VenueEndpoint implementations (binance_venue.h, kraken_venue.h).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tickmesh::venue_sim {

// A parsed REST request as the venue sees it.
struct RestRequest {
  std::string method;  // "GET", "POST", "DELETE", ...
  std::string path;    // "/api/v3/order"
  std::string query;   // raw query string, without '?'
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Header value by case-insensitive name; "" if absent.
  std::string Header(std::string_view name) const;
};

struct RestReply {
  RestReply() = default;
  RestReply(int s, std::string b) : status(s), body(std::move(b)) {}
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Decodes application/x-www-form-urlencoded / query strings into ordered (key, value) pairs.
// '+' becomes ' ', %XX is decoded; malformed escapes are kept literally.
std::vector<std::pair<std::string, std::string>> ParseForm(std::string_view text);
// First value of `key` in parsed form pairs, or nullptr.
const std::string* FormValue(const std::vector<std::pair<std::string, std::string>>& form,
                             std::string_view key);

// One accepted WebSocket connection. Only touched on the io thread.
class WsConn {
 public:
  virtual ~WsConn() = default;
  virtual uint64_t id() const = 0;
  // Handshake target (path + query) the client asked for.
  virtual const std::string& target() const = 0;
  // Queues a text frame. A client that lets more than the queue bound pile up is disconnected
  // (a slow consumer must not grow the simulator's memory).
  virtual void Send(std::string frame) = 0;
  virtual void Close() = 0;
};

// What a venue implements. All calls on the io thread.
class VenueEndpoint {
 public:
  virtual ~VenueEndpoint() = default;
  virtual const char* name() const = 0;  // "binance" | "kraken"
  virtual RestReply HandleRest(const RestRequest& request) = 0;
  // The venue's documented rate-limit answer (Binance 429 -1003; Kraken EAPI:Rate limit exceeded).
  virtual RestReply RateLimitReply() = 0;
  // true if `target` is a WebSocket path this venue serves.
  virtual bool AcceptsWs(const std::string& target) const = 0;
  virtual void OnWsOpen(const std::shared_ptr<WsConn>& conn) = 0;
  virtual void OnWsFrame(const std::shared_ptr<WsConn>& conn, std::string_view frame) = 0;
  virtual void OnWsClose(uint64_t conn_id) = 0;
  // Venue-specific faults: "gap" (skip `count` sequence numbers / drop book updates),
  // "checksum" (corrupt the next `count` checksums), "malformed" (send `count` malformed frames
  // to every connection). INVALID_ARGUMENT for a kind the venue does not support.
  virtual absl::Status InjectFault(const std::string& kind, int64_t count,
                                   const std::string& symbol) = 0;
  // Extra JSON fields for GET /sim/state (counters etc.).
  virtual std::string StateJson() const = 0;
};

class RestLimits;  // rest_limits.h

struct PortFaults {
  int64_t rate_limit_remaining = 0;  // next N REST requests get RateLimitReply()
  int64_t rate_limit_every = 0;      // every Nth REST request gets it (0 = off)
  int64_t latency_ms = 0;            // added before every REST response
};

class PortServer {
 public:
  // Binds host:port (port 0 = any free port). UNAVAILABLE if the bind fails.
  static absl::StatusOr<std::unique_ptr<PortServer>> Create(boost::asio::io_context& io,
                                                            const std::string& host, int port,
                                                            VenueEndpoint* venue,
                                                            PortFaults faults);
  ~PortServer();
  int port() const { return port_; }
  // Starts accepting (io thread or before the io thread runs).
  void Start();
  // Stops accepting and closes every connection (io thread).
  void Close();
  // Closes every WebSocket connection now (fault "disconnect"); returns how many.
  int DropWebSockets();
  PortFaults& faults() { return faults_; }
  // The venue's REST rate limits (rest_limits.h): every REST request is charged (or refused) and
  // every reply gets the usage headers. None = not limited. Before Start().
  void SetLimits(std::unique_ptr<RestLimits> limits);
  size_t ws_connections() const;
  uint64_t rest_requests() const { return rest_requests_; }

 private:
  class Impl;
  PortServer(std::unique_ptr<Impl> impl, int port, PortFaults faults);
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  PortFaults faults_;
  std::unique_ptr<RestLimits> limits_;
  uint64_t rest_requests_ = 0;
  friend class Impl;
};

}  // namespace tickmesh::venue_sim
