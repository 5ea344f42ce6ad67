#include "rest_limits.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tickmesh::venue_sim {

namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr size_t kMaxBybitWindow = 100'000;  // request times kept per endpoint (memory bound)

// "<n><S|M|H|D>" -> ms; 0 when malformed.
int64_t IntervalMs(const std::string& s) {
  if (s.size() < 2 || s.size() > 5) return 0;
  int64_t n = 0;
  if (!absl::SimpleAtoi(s.substr(0, s.size() - 1), &n) || n <= 0) return 0;
  switch (absl::ascii_toupper(static_cast<unsigned char>(s.back()))) {
    case 'S':
      return n * 1000;
    case 'M':
      return n * 60'000;
    case 'H':
      return n * 3'600'000;
    case 'D':
      return n * kDayMs;
  }
  return 0;
}

// The query parameter `key` of a raw query string, or "".
std::string QueryParam(const std::string& query, std::string_view key) {
  for (const auto& [k, v] : ParseForm(query)) {
    if (k == key) return v;
  }
  return "";
}

// Binance's documented REST weight of a request.
int64_t BinanceWeight(const RestRequest& r) {
  if (r.path == "/api/v3/order") return r.method == "GET" ? 4 : 1;
  if (r.path == "/api/v3/openOrders") return QueryParam(r.query, "symbol").empty() ? 80 : 6;
  if (r.path == "/api/v3/account") return 20;
  if (r.path == "/api/v3/myTrades") return QueryParam(r.query, "orderId").empty() ? 20 : 5;
  if (r.path == "/api/v3/depth") {
    int64_t limit = 100;
    (void)absl::SimpleAtoi(QueryParam(r.query, "limit"), &limit);
    if (limit <= 100) return 5;
    if (limit <= 500) return 25;
    if (limit <= 1000) return 50;
    return 250;
  }
  return 1;
}

bool BybitPrivate(const std::string& path) {
  return path.rfind("/v5/", 0) == 0 && path.rfind("/v5/market/", 0) != 0;
}

}  // namespace

absl::Status ValidateRestLimits(const RestLimitOptions& o) {
  if (IntervalMs(o.binance_weight_interval) == 0) {
    return absl::InvalidArgumentError(absl::StrCat("binance weight interval '",
                                                   o.binance_weight_interval,
                                                   "' is not <n><S|M|H|D> (e.g. 1M, 10S)"));
  }
  if (o.binance_weight_limit < 0 || o.binance_order_limit_10s < 0 || o.bybit_limit_per_s < 0) {
    return absl::InvalidArgumentError("rate limits must be >= 0");
  }
  return absl::OkStatus();
}

int64_t RestLimits::Window::Count(int64_t now_ms) {
  const int64_t start = now_ms / interval_ms * interval_ms;
  if (start != start_ms) {
    start_ms = start;
    count = 0;
  }
  return count;
}

RestLimits::RestLimits(std::string venue, RestLimitOptions options, std::function<int64_t()> now_ms)
    : venue_(std::move(venue)), options_(std::move(options)), now_ms_(std::move(now_ms)) {
  weight_suffix_ = absl::AsciiStrToUpper(options_.binance_weight_interval);
  weight_.interval_ms = std::max<int64_t>(IntervalMs(weight_suffix_), 1000);
  orders_10s_.interval_ms = 10'000;
  orders_1d_.interval_ms = kDayMs;
}

int64_t RestLimits::binance_used_weight() { return weight_.Count(now_ms_()); }

std::optional<RestReply> RestLimits::Charge(const RestRequest& request) {
  const int64_t now = now_ms_();
  if (venue_ == "binance") return ChargeBinance(request, now);
  if (venue_ == "bybit") return ChargeBybit(request, now);
  return std::nullopt;
}

std::optional<RestReply> RestLimits::ChargeBinance(const RestRequest& r, int64_t now) {
  const int64_t weight = BinanceWeight(r);
  auto refuse = [&](int code, std::string msg, const Window& w) {
    ++refusals_;
    RestReply reply(429, absl::StrCat("{\"code\":", code, ",\"msg\":\"", msg, "\"}"));
    const int64_t secs = std::max<int64_t>(1, (w.EndMs(now) - now + 999) / 1000);
    reply.headers.emplace_back("Retry-After", absl::StrCat(secs));
    return reply;
  };
  if (options_.binance_weight_limit > 0 &&
      weight_.Count(now) + weight > options_.binance_weight_limit) {
    return refuse(
        -1003,
        absl::StrCat("Too many requests; current limit of IP is ", options_.binance_weight_limit,
                     " requests per ", weight_suffix_, "."),
        weight_);
  }
  if (options_.binance_order_limit_10s > 0 && r.path == "/api/v3/order" && r.method == "POST" &&
      orders_10s_.Count(now) + 1 > options_.binance_order_limit_10s) {
    return refuse(-1015,
                  absl::StrCat("Too many new orders; current limit is ",
                               options_.binance_order_limit_10s, " orders per 10 SECOND."),
                  orders_10s_);
  }
  weight_.Count(now);
  weight_.count += weight;
  return std::nullopt;
}

int64_t RestLimits::BybitLimit(const std::string& path) const {
  if (options_.bybit_limit_per_s > 0) return options_.bybit_limit_per_s;
  if (path.rfind("/v5/order/create", 0) == 0 || path.rfind("/v5/order/cancel", 0) == 0) return 20;
  return 50;
}

std::deque<int64_t>& RestLimits::BybitWindow(const std::string& path, int64_t now) {
  std::deque<int64_t>& q = bybit_[path];
  while (!q.empty() && q.front() <= now - 1000) q.pop_front();
  return q;
}

std::optional<RestReply> RestLimits::ChargeBybit(const RestRequest& r, int64_t now) {
  if (!BybitPrivate(r.path) || (bybit_.size() > 64 && bybit_.count(r.path) == 0)) {
    return std::nullopt;  // public, or one more made-up path than worth tracking
  }
  std::deque<int64_t>& q = BybitWindow(r.path, now);
  const int64_t limit = BybitLimit(r.path);
  if (options_.bybit_limit_per_s > 0 && static_cast<int64_t>(q.size()) >= limit) {
    ++refusals_;
    return RestReply(200, absl::StrCat("{\"retCode\":10006,\"retMsg\":\"Too many visits!\","
                                       "\"result\":{},\"retExtInfo\":{},\"time\":",
                                       now, "}"));
  }
  q.push_back(now);
  if (q.size() > kMaxBybitWindow) q.pop_front();
  return std::nullopt;
}

void RestLimits::Decorate(const RestRequest& r, RestReply* reply) {
  const int64_t now = now_ms_();
  if (venue_ == "binance") {
    reply->headers.emplace_back(absl::StrCat("X-MBX-USED-WEIGHT-", weight_suffix_),
                                absl::StrCat(weight_.Count(now)));
    if (r.path == "/api/v3/order" && r.method == "POST") {
      if (reply->status == 200) {
        orders_10s_.Count(now);
        orders_1d_.Count(now);
        ++orders_10s_.count;
        ++orders_1d_.count;
      }
      reply->headers.emplace_back("X-MBX-ORDER-COUNT-10S", absl::StrCat(orders_10s_.Count(now)));
      reply->headers.emplace_back("X-MBX-ORDER-COUNT-1D", absl::StrCat(orders_1d_.Count(now)));
    }
    return;
  }
  if (venue_ == "bybit" && BybitPrivate(r.path)) {
    auto it = bybit_.find(r.path);
    if (it == bybit_.end()) return;
    std::deque<int64_t>& q = BybitWindow(r.path, now);
    const int64_t limit = BybitLimit(r.path);
    const int64_t remaining = std::max<int64_t>(0, limit - static_cast<int64_t>(q.size()));
    const int64_t reset = remaining == 0 && !q.empty() ? q.front() + 1000 : now;
    reply->headers.emplace_back("X-Bapi-Limit", absl::StrCat(limit));
    reply->headers.emplace_back("X-Bapi-Limit-Status", absl::StrCat(remaining));
    reply->headers.emplace_back("X-Bapi-Limit-Reset-Timestamp", absl::StrCat(reset));
  }
}

}  // namespace tickmesh::venue_sim
