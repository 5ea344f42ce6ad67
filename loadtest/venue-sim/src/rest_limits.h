// RestLimits: the simulated venues' REST rate limits — what they count, the usage headers they
// send with every response and, when a limit is configured, their refusal past it. Runs on the
// simulator's io thread (no locks). Per the venues' documentation:
//  - Binance spot (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits):
//    request weight per fixed interval (`weight_interval`, "1M" by default: an interval starts
//    every minute and the count restarts at 0), each endpoint its documented weight (order
//    POST / DELETE 1, GET order 4, openOrders 6 with a symbol / 80 without, account 20, myTrades 5
//    with orderId / 20 without, depth 5 / 25 / 50 / 250 by limit, others 1); every response
//    carries `X-MBX-USED-WEIGHT-<interval>`. Accepted new orders are counted per 10 s and per day
//    (`X-MBX-ORDER-COUNT-10S`, `X-MBX-ORDER-COUNT-1D` on order responses). Past a configured
//    limit: HTTP 429, `{"code":-1003,...}` (weight) / `{"code":-1015,...}` (orders), with
//    `Retry-After` = whole seconds until the interval ends; the refused request is not counted.
//  - Bybit v5 (https://bybit-exchange.github.io/docs/v5/rate-limit): per private endpoint
//    (path), requests in the last second (rolling); every private response carries
//    `X-Bapi-Limit` (the endpoint's limit), `X-Bapi-Limit-Status` (remaining) and
//    `X-Bapi-Limit-Reset-Timestamp` (ms: when the oldest counted request leaves the window if none
//    remain, else now). Past a configured limit: retCode 10006 "Too many visits!" (HTTP 200).
//  - Kraken: no usage headers (its counters are not exposed); nothing here.
// With the default options every limit is counted and reported but never enforced (limits of
// 0), so existing clients of the simulator are not refused; Bybit then reports its documented
// per-endpoint defaults (order create / cancel 20/s, others 50/s).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "port_server.h"

namespace tickmesh::venue_sim {

struct RestLimitOptions {
  // Binance request weight per interval; 0 = counted and reported, never refused.
  int64_t binance_weight_limit = 0;
  // Binance weight interval "<n><S|M|H|D>" (the header suffix), e.g. "1M", "10S".
  std::string binance_weight_interval = "1M";
  // Binance new orders per 10 s; 0 = counted and reported, never refused.
  int64_t binance_order_limit_10s = 0;
  // Bybit requests per second per private endpoint; 0 = the documented defaults, reported and
  // never refused.
  int64_t bybit_limit_per_s = 0;
};

// INVALID_ARGUMENT for a bad interval or a negative limit.
absl::Status ValidateRestLimits(const RestLimitOptions& options);

class RestLimits {
 public:
  // `venue`: "binance" | "bybit" | others (nothing counted). `now_ms`: wall clock in ms.
  RestLimits(std::string venue, RestLimitOptions options, std::function<int64_t()> now_ms);

  // Counts `request`; the venue's refusal instead when it is past an enforced limit (not
  // counted then).
  std::optional<RestReply> Charge(const RestRequest& request);
  // Adds the usage headers to `reply` (and counts an accepted new order).
  void Decorate(const RestRequest& request, RestReply* reply);
  // Refusals so far (for /sim/state).
  uint64_t refusals() const { return refusals_; }
  // Binance weight used in the current interval (for /sim/state).
  int64_t binance_used_weight();

 private:
  struct Window {  // a fixed interval's count
    int64_t interval_ms = 0;
    int64_t start_ms = -1;
    int64_t count = 0;
    int64_t Count(int64_t now_ms);  // restarts at each interval
    int64_t EndMs(int64_t now_ms) const { return (now_ms / interval_ms + 1) * interval_ms; }
  };
  std::optional<RestReply> ChargeBinance(const RestRequest& request, int64_t now);
  std::optional<RestReply> ChargeBybit(const RestRequest& request, int64_t now);
  int64_t BybitLimit(const std::string& path) const;
  std::deque<int64_t>& BybitWindow(const std::string& path, int64_t now);

  const std::string venue_;
  const RestLimitOptions options_;
  const std::function<int64_t()> now_ms_;
  std::string weight_suffix_;  // "1M"
  Window weight_;
  Window orders_10s_;
  Window orders_1d_;
  std::map<std::string, std::deque<int64_t>> bybit_;  // path -> request times in the last second
  uint64_t refusals_ = 0;
};

}  // namespace tickmesh::venue_sim
