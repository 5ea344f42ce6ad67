#include "rate_limit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tickmesh::execution {

namespace {
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
}  // namespace

const char* RequestClassName(RequestClass cls) {
  switch (cls) {
    case RequestClass::kOrder:
      return "order";
    case RequestClass::kCancel:
      return "cancel";
    case RequestClass::kQueryOrder:
      return "query_order";
    case RequestClass::kOpenOrders:
      return "open_orders";
    case RequestClass::kOrderTrades:
      return "trades";
    case RequestClass::kBalances:
      return "balances";
  }
  return "unknown";
}

ClockFn SteadyClock() {
  return [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
}

absl::StatusOr<std::map<std::string, std::vector<BucketSpec>>> ParseRateLimits(
    const std::string& spec) {
  std::map<std::string, std::vector<BucketSpec>> out;
  if (spec.empty()) return out;
  for (absl::string_view entry : absl::StrSplit(spec, ';', absl::SkipEmpty())) {
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("--rate_limits entry '", std::string(entry), "': ", std::string(why)));
    };
    std::vector<std::string> kv = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (kv.size() != 2) return bad("expected VENUE/BUCKET=...");
    std::vector<std::string> vb = absl::StrSplit(kv[0], '/');
    if (vb.size() != 2 || vb[0].empty() || vb[1].empty()) return bad("expected VENUE/BUCKET");
    std::vector<std::string> f = absl::StrSplit(kv[1], ':');
    if (f.size() != 4 && f.size() != 5)
      return bad("expected token:CAPACITY:WINDOW_MS:COSTS[:SYNC] or decay:MAX:RATE:COSTS[:SYNC]");
    double a = 0, b = 0;
    if (!absl::SimpleAtod(f[1], &a) || !absl::SimpleAtod(f[2], &b) || !(a > 0) || !(b > 0) ||
        !std::isfinite(a) || !std::isfinite(b)) {
      return bad("numbers must be finite and > 0");
    }
    BucketSpec s;
    s.name = vb[1];
    for (double& c : s.cost) c = 0;
    if (f.size() == 5) {
      const std::string& sync = f[4];
      const bool known = absl::StartsWithIgnoreCase(sync, "X-MBX-USED-WEIGHT-") ||
                         absl::StartsWithIgnoreCase(sync, "X-MBX-ORDER-COUNT-") ||
                         absl::EqualsIgnoreCase(sync, "X-Bapi-Limit-Status");
      if (!known) {
        return bad(
            "SYNC must be X-MBX-USED-WEIGHT-<interval>, X-MBX-ORDER-COUNT-<interval> or "
            "X-Bapi-Limit-Status");
      }
      s.sync = sync;
    }
    if (f[0] == "token") {
      s.max = a;
      s.decay_per_s = a / (b / 1000.0);
      if (b * 1e6 > 9e18) return bad("window too long");
      s.window_ns = static_cast<int64_t>(b * 1e6);
    } else if (f[0] == "decay") {
      s.max = a;
      s.decay_per_s = b;
    } else {
      return bad("kind must be token or decay");
    }
    bool given[kRequestClasses] = {};
    double query_cost = -1;  // `query`: the query classes without their own cost
    for (absl::string_view c : absl::StrSplit(f[3], ',', absl::SkipEmpty())) {
      std::vector<std::string> cc = absl::StrSplit(c, '=');
      double cost = 0;
      if (cc.size() != 2 || !absl::SimpleAtod(cc[1], &cost) || !(cost >= 0) ||
          !std::isfinite(cost)) {
        return bad("costs must be CLASS=COST with COST >= 0");
      }
      if (cc[0] == "query") {
        query_cost = cost;
        continue;
      }
      int cls = -1;
      for (int i = 0; i < kRequestClasses; ++i) {
        if (cc[0] == RequestClassName(static_cast<RequestClass>(i))) cls = i;
      }
      if (cls < 0) {
        return bad(
            "class must be order, cancel, query_order, open_orders, trades, balances or query");
      }
      s.cost[cls] = cost;
      given[cls] = true;
    }
    if (query_cost >= 0) {
      for (RequestClass q : {RequestClass::kQueryOrder, RequestClass::kOpenOrders,
                             RequestClass::kOrderTrades, RequestClass::kBalances}) {
        if (!given[static_cast<int>(q)]) s.cost[static_cast<int>(q)] = query_cost;
      }
    }
    out[vb[0]].push_back(std::move(s));
  }
  return out;
}

namespace {

// The integer after `"name"` and a colon in a JSON text (the first occurrence), if any. Enough
// for the venues' flat error envelopes ({"code":-1015,...}, {"retCode":10006,...}).
bool JsonIntField(const std::string& body, absl::string_view name, int64_t* out) {
  const std::string key = absl::StrCat("\"", name, "\"");
  size_t p = body.find(key);
  if (p == std::string::npos) return false;
  p += key.size();
  while (p < body.size() && (body[p] == ' ' || body[p] == '\t' || body[p] == '\n')) ++p;
  if (p >= body.size() || body[p] != ':') return false;
  ++p;
  while (p < body.size() && (body[p] == ' ' || body[p] == '\t' || body[p] == '\n')) ++p;
  size_t e = p;
  if (e < body.size() && body[e] == '-') ++e;
  while (e < body.size() && absl::ascii_isdigit(static_cast<unsigned char>(body[e]))) ++e;
  return absl::SimpleAtoi(absl::string_view(body).substr(p, e - p), out);
}

// A non-negative integer header value no larger than `max`.
bool HeaderInt(absl::string_view value, int64_t max, int64_t* out) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(value[0]))) return false;
  return absl::SimpleAtoi(value, out) && *out >= 0 && *out <= max;
}

// Binance interval suffix "<n><S|M|H|D>" (e.g. "1M", "10S") in ms.
bool BinanceIntervalMs(absl::string_view suffix, int64_t* ms) {
  if (suffix.size() < 2 || suffix.size() > 5) return false;
  int64_t n = 0;
  if (!HeaderInt(suffix.substr(0, suffix.size() - 1), 9999, &n) || n <= 0) return false;
  int64_t unit = 0;
  switch (absl::ascii_toupper(static_cast<unsigned char>(suffix.back()))) {
    case 'S':
      unit = 1000;
      break;
    case 'M':
      unit = 60'000;
      break;
    case 'H':
      unit = 3'600'000;
      break;
    case 'D':
      unit = 86'400'000;
      break;
    default:
      return false;
  }
  *ms = n * unit;
  return true;
}

constexpr int64_t kMaxCount = 1'000'000'000'000;  // larger used / remaining values are malformed
constexpr int64_t kDayMs = 86'400'000;

void ParseBinance(RequestClass cls, int status,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  const std::string& body, int64_t now_unix_ms, VenueLimitReport* r) {
  for (const auto& [name, value] : headers) {
    const bool weight = absl::StartsWithIgnoreCase(name, "X-MBX-USED-WEIGHT-");
    const bool orders = absl::StartsWithIgnoreCase(name, "X-MBX-ORDER-COUNT-");
    if (!weight && !orders) continue;
    const absl::string_view suffix = absl::string_view(name).substr(18);
    int64_t interval_ms = 0, used = 0;
    if (!BinanceIntervalMs(suffix, &interval_ms)) {
      r->malformed.push_back(absl::StrCat(name, ": interval is not <n><S|M|H|D>"));
      continue;
    }
    if (!HeaderInt(value, kMaxCount, &used)) {
      r->malformed.push_back(absl::StrCat(name, ": not a count"));
      continue;
    }
    LimitUsage u;
    u.key = absl::AsciiStrToUpper(name);
    u.used = static_cast<double>(used);
    // Intervals are fixed: a 1 MINUTE interval starts every minute (and 1 DAY at 00:00 UTC).
    u.reset_in_ms = now_unix_ms > 0 ? interval_ms - now_unix_ms % interval_ms : interval_ms;
    u.fixed_window = true;
    r->usages.push_back(std::move(u));
  }
  if (status != 429 && status != 418) return;
  r->throttled = true;
  int64_t code = 0;
  // -1015: too many new orders (the account's order count); else the IP's request weight.
  r->blocked = status == 429 && JsonIntField(body, "code", &code) && code == -1015
                   ? ClassBit(RequestClass::kOrder)
                   : kAllClasses;
  (void)cls;
  for (const auto& [name, value] : headers) {
    if (!absl::EqualsIgnoreCase(name, "Retry-After")) continue;
    int64_t secs = 0;
    if (HeaderInt(value, 10 * kDayMs / 1000, &secs)) {
      r->retry_after_ms = secs * 1000;
    } else {
      r->malformed.push_back("Retry-After: not a number of seconds");
    }
  }
}

void ParseBybit(RequestClass cls, int status,
                const std::vector<std::pair<std::string, std::string>>& headers,
                const std::string& body, int64_t now_unix_ms, VenueLimitReport* r) {
  const std::string* remaining = nullptr;
  const std::string* limit = nullptr;
  const std::string* reset = nullptr;
  for (const auto& [name, value] : headers) {
    if (absl::EqualsIgnoreCase(name, "X-Bapi-Limit-Status")) remaining = &value;
    if (absl::EqualsIgnoreCase(name, "X-Bapi-Limit")) limit = &value;
    if (absl::EqualsIgnoreCase(name, "X-Bapi-Limit-Reset-Timestamp")) reset = &value;
  }
  int64_t reset_in_ms = -1;
  if (reset != nullptr) {
    int64_t ts = 0;
    if (HeaderInt(*reset, int64_t{1} << 50, &ts) && now_unix_ms > 0 && ts >= now_unix_ms - kDayMs &&
        ts <= now_unix_ms + kDayMs) {
      reset_in_ms = std::max<int64_t>(0, ts - now_unix_ms);
    } else {
      r->malformed.push_back("X-Bapi-Limit-Reset-Timestamp: not a time within a day of now");
    }
  }
  if (remaining != nullptr) {
    int64_t rem = 0, lim = 0;
    if (HeaderInt(*remaining, kMaxCount, &rem)) {
      LimitUsage u;
      u.key = "X-Bapi-Limit-Status";
      u.remaining = static_cast<double>(rem);
      if (limit != nullptr) {
        if (HeaderInt(*limit, kMaxCount, &lim) && lim > 0) {
          u.limit = static_cast<double>(lim);
          u.remaining = std::min(u.remaining, u.limit);
        } else {
          r->malformed.push_back("X-Bapi-Limit: not a positive count");
        }
      }
      u.reset_in_ms = reset_in_ms;
      r->usages.push_back(std::move(u));
    } else {
      r->malformed.push_back("X-Bapi-Limit-Status: not a count");
    }
  }
  int64_t code = 0;
  const bool has_code = JsonIntField(body, "retCode", &code);
  if (has_code && code == 10006) {  // too many visits on this endpoint (per UID)
    r->throttled = true;
    r->blocked = ClassBit(cls);
    if (reset_in_ms > 0) r->retry_after_ms = reset_in_ms;
  } else if ((has_code && code == 10018) || status == 429) {  // the IP's limit
    r->throttled = true;
    r->blocked = kAllClasses;
  } else if (status == 403) {  // IP ban: "wait for at least 10 minutes"
    r->throttled = true;
    r->blocked = kAllClasses;
    r->retry_after_ms = 600'000;
  }
}

void ParseKraken(int status, const std::string& body, VenueLimitReport* r) {
  ClassMask blocked = 0;
  if (absl::StrContains(body, "EAPI:Rate limit exceeded")) blocked |= kQueryClasses;
  if (absl::StrContains(body, "EOrder:Rate limit exceeded")) {
    blocked |= ClassBit(RequestClass::kOrder) | ClassBit(RequestClass::kCancel);
  }
  if (absl::StrContains(body, "EGeneral:Too many requests") || status == 429) {
    blocked = kAllClasses;
  }
  if (blocked == 0) return;
  r->throttled = true;
  r->drain = true;  // Kraken reports no usage: its counter is taken as full
  r->blocked = blocked;
}

}  // namespace

VenueLimitReport ParseVenueLimits(const std::string& venue, RequestClass cls, int http_status,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& body, int64_t now_unix_ms) {
  VenueLimitReport r;
  r.answered = true;
  if (venue == "binance") {
    ParseBinance(cls, http_status, headers, body, now_unix_ms, &r);
  } else if (venue == "bybit") {
    ParseBybit(cls, http_status, headers, body, now_unix_ms, &r);
  } else if (venue == "kraken") {
    ParseKraken(http_status, body, &r);
  }
  return r;
}

int64_t RateLimiter::Bucket::PendingTtlNs() const {
  int64_t window = spec.window_ns;
  if (window <= 0 && spec.decay_per_s > 0) {
    window = static_cast<int64_t>(std::min(9e18, spec.max / spec.decay_per_s * 1e9));
  }
  return std::clamp(window, kPendingMinTtlNs, kPendingMaxTtlNs);
}

void RateLimiter::Bucket::Charge(double cost, int64_t now_ns) {
  if (cost <= 0) return;
  if (outstanding.size() >= kMaxOutstanding) {  // memory bound: fold the oldest two
    const double first = outstanding.front().second;
    outstanding.pop_front();
    outstanding.front().second += first;
  }
  outstanding.emplace_back(now_ns, cost);
  pending += cost;
}

void RateLimiter::Bucket::Answer(double cost) {
  // Requests are answered in about the order they were charged; which charge an answer clears
  // only matters for when unanswered ones expire.
  while (cost > 1e-12 && !outstanding.empty()) {
    double& front = outstanding.front().second;
    const double take = std::min(front, cost);
    front -= take;
    cost -= take;
    pending -= take;
    if (front <= 1e-12) outstanding.pop_front();
  }
  pending = outstanding.empty() ? 0.0 : std::max(0.0, pending);
}

void RateLimiter::Bucket::Decay(int64_t now_ns) {
  // A charge left unanswered for longer than its time to live never reached the venue (or its
  // answer was lost): forgotten. Outstanding charges otherwise stay until answered, however long
  // the request takes.
  const int64_t ttl = PendingTtlNs();
  while (!outstanding.empty() && now_ns - outstanding.front().first > ttl) {
    pending -= outstanding.front().second;
    outstanding.pop_front();
  }
  pending = outstanding.empty() ? 0.0 : std::max(0.0, pending);
  if (now_ns <= at_ns) return;
  if (hold_until_ns > 0) {
    // The venue's count stands until its interval ends.
    at_ns = std::min(now_ns, hold_until_ns);
    if (now_ns < hold_until_ns) return;
    // The venue's interval restarted: it counts only what is still outstanding.
    level = std::min(level, pending);
    hold_until_ns = 0;
  }
  const double d = spec.decay_per_s * static_cast<double>(now_ns - at_ns) / 1e9;
  // Once the venue reported, the level is its count plus what it has not counted yet: only the
  // count part decays, the outstanding charges stay until answered. (Before that the level is the
  // local estimate alone.)
  level = std::max(reported ? std::min(level, pending) : 0.0, level - d);
  at_ns = now_ns;
}

RateLimiter::RateLimiter(std::map<std::string, std::vector<BucketSpec>> specs, ClockFn clock)
    : specs_(std::move(specs)), clock_(std::move(clock)) {}

bool RateLimiter::limited(const std::string& venue) const {
  return specs_.count(venue) != 0 || specs_.count("*") != 0;
}

RateLimiter::VenueState* RateLimiter::StateFor(const std::string& venue) {
  auto it = venues_.find(venue);
  if (it != venues_.end()) return &it->second;
  auto sit = specs_.find(venue);
  if (sit == specs_.end()) sit = specs_.find("*");
  if (sit == specs_.end() || venues_.size() >= kMaxVenues) return nullptr;
  VenueState& st = venues_[venue];
  for (const BucketSpec& s : sit->second) st.buckets.push_back(Bucket{s});
  return &st;
}

RateLimiter::Decision RateLimiter::TryAcquire(const std::string& venue, RequestClass cls,
                                              int64_t now_ns) {
  Decision d;
  if (specs_.empty()) return d;
  const int c = static_cast<int>(cls);
  std::lock_guard<std::mutex> lock(mu_);
  VenueState* st = StateFor(venue);
  if (st == nullptr) {
    if (venues_.size() >= kMaxVenues && limited(venue)) {
      d.admitted = false;
      d.bucket = "venues";
      d.ready_ns = kNever;
    }
    return d;
  }
  if (now_ns < st->blocked_until_ns[c]) {
    d.admitted = false;
    d.bucket = "venue_throttle";
    d.ready_ns = st->blocked_until_ns[c];
    return d;
  }
  for (Bucket& b : st->buckets) {
    b.Decay(now_ns);
    const double cost = b.spec.cost[c];
    if (b.level + cost <= b.spec.max + 1e-9) continue;
    int64_t ready = kNever;
    if (cost <= b.spec.max) {
      if (b.hold_until_ns > now_ns) {
        ready = b.hold_until_ns;  // the venue's interval ends (then it is tried again)
      } else {
        const double wait_s = (b.level + cost - b.spec.max) / b.spec.decay_per_s;
        ready = now_ns + static_cast<int64_t>(std::ceil(wait_s * 1e9));
      }
    }
    if (d.admitted) d.bucket = b.spec.name;
    d.admitted = false;
    d.ready_ns = std::max(d.ready_ns, ready);
  }
  if (!d.admitted) return d;
  for (Bucket& b : st->buckets) {
    b.level += b.spec.cost[c];
    b.Charge(b.spec.cost[c], now_ns);
  }
  return d;
}

std::map<std::string, std::map<std::string, double>> RateLimiter::Levels(int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::map<std::string, double>> out;
  for (auto& [venue, st] : venues_) {
    for (Bucket& b : st.buckets) {
      b.Decay(now_ns);
      out[venue][b.spec.name] = b.level;
    }
  }
  return out;
}

int64_t RateLimiter::Observe(const std::string& venue, RequestClass cls, int units,
                             const VenueLimitReport& report, int64_t now_ns) {
  if (specs_.empty()) return 0;
  const int c = static_cast<int>(cls);
  const double n = static_cast<double>(std::max(units, 1));
  std::lock_guard<std::mutex> lock(mu_);
  VenueState* st = StateFor(venue);
  if (st == nullptr) return 0;
  for (Bucket& b : st->buckets) {
    b.Decay(now_ns);
    const double cost = b.spec.cost[c];
    if (cost <= 0) continue;
    b.Answer(cost * n);  // answered: counted by the venue now
    if (report.throttled && report.drain) {
      b.level = std::max(b.level, b.spec.max);  // no usage reported: take the counter as full
      continue;
    }
    if (b.spec.sync.empty()) continue;
    for (const LimitUsage& u : report.usages) {
      if (!absl::EqualsIgnoreCase(u.key, b.spec.sync)) continue;
      if (u.limit > 0) {
        // The venue's current limit replaces the configured one (token buckets keep their
        // window: the rate follows).
        if (b.spec.window_ns > 0) {
          b.spec.decay_per_s = u.limit / (static_cast<double>(b.spec.window_ns) / 1e9);
        } else if (b.spec.max > 0) {
          b.spec.decay_per_s *= u.limit / b.spec.max;
        }
        b.spec.max = u.limit;
      }
      double used = -1;
      if (u.used >= 0) {
        used = u.used;
      } else if (u.remaining >= 0) {
        used = b.spec.max - u.remaining;
      }
      if (used < 0 && u.remaining < 0) break;
      used = std::clamp(used, 0.0, b.spec.max);
      b.level = used + b.pending;
      b.reported = true;
      b.hold_until_ns = 0;
      const bool exhausted = u.remaining >= 0 && u.remaining <= 0;
      if (u.reset_in_ms > 0 && (u.fixed_window || exhausted)) {
        b.hold_until_ns =
            now_ns + std::min<int64_t>(u.reset_in_ms, kMaxWaitNs / 1'000'000) * 1'000'000;
      }
      break;
    }
  }
  if (!report.throttled) {
    if (report.answered) st->strikes = 0;
    return 0;
  }
  int64_t wait;
  if (report.retry_after_ms >= 0) {
    wait = std::clamp<int64_t>(
        std::min<int64_t>(report.retry_after_ms, kMaxWaitNs / 1'000'000) * 1'000'000, kMinWaitNs,
        kMaxWaitNs);
  } else {
    wait = kBackoffBaseNs;
    for (int i = 0; i < st->strikes && wait < kBackoffMaxNs; ++i) wait *= 2;
    wait = std::min(wait, kBackoffMaxNs);
  }
  st->strikes = std::min(st->strikes + 1, 62);
  const int64_t until = now_ns + wait;
  const ClassMask mask = report.blocked != 0 ? report.blocked : ClassBit(cls);
  for (int i = 0; i < kRequestClasses; ++i) {
    if ((mask & (1u << i)) != 0) {
      st->blocked_until_ns[i] = std::max(st->blocked_until_ns[i], until);
    }
  }
  return until;
}

void RateLimiter::ChargeResend(const std::string& venue, RequestClass cls, int64_t now_ns) {
  if (specs_.empty()) return;
  const int c = static_cast<int>(cls);
  std::lock_guard<std::mutex> lock(mu_);
  VenueState* st = StateFor(venue);
  if (st == nullptr) return;
  for (Bucket& b : st->buckets) {
    b.Decay(now_ns);
    b.level += b.spec.cost[c];
    b.Charge(b.spec.cost[c], now_ns);
  }
}

int64_t RateLimiter::BlockedUntil(const std::string& venue, RequestClass cls,
                                  int64_t now_ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = venues_.find(venue);
  if (it == venues_.end()) return now_ns;
  return std::max(now_ns, it->second.blocked_until_ns[static_cast<int>(cls)]);
}

std::map<std::string, std::map<std::string, double>> RateLimiter::Throttles(int64_t now_ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::map<std::string, double>> out;
  for (const auto& [venue, st] : venues_) {
    for (int i = 0; i < kRequestClasses; ++i) {
      if (st.blocked_until_ns[i] > now_ns) {
        out[venue][RequestClassName(static_cast<RequestClass>(i))] =
            static_cast<double>(st.blocked_until_ns[i] - now_ns) / 1e9;
      }
    }
  }
  return out;
}

AdmissionQueue::AdmissionQueue(
    RateLimiter* limiter, Options options,
    std::function<void(const std::string&, const std::string&, int64_t, bool)> on_wait)
    : limiter_(limiter), options_(options), on_wait_(std::move(on_wait)) {}

AdmissionQueue::~AdmissionQueue() { Stop(); }

void AdmissionQueue::Submit(const std::string& venue, RequestClass cls, std::function<void()> run,
                            std::function<void(absl::Status)> refuse) {
  const int64_t now = limiter_->now();
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto it = waiting_.find(venue);
    // Only requests of a higher priority than every waiting one may try at once.
    const bool may_try =
        it == waiting_.end() || it->second.empty() ||
        (cls == RequestClass::kCancel && it->second.front().cls != RequestClass::kCancel);
    RateLimiter::Decision d;
    if (may_try) {
      d = limiter_->TryAcquire(venue, cls, now);
      if (d.admitted) {
        lock.unlock();
        run();
        return;
      }
    } else {
      d.admitted = false;
      d.bucket = it->second.back().bucket;
    }
    const int64_t budget =
        cls == RequestClass::kCancel ? options_.cancel_budget_ns : options_.order_budget_ns;
    const bool hopeless = may_try && d.ready_ns > now + budget;
    if (!stop_ && !hopeless && queued_ < options_.max_queued_total &&
        (it == waiting_.end() || it->second.size() < options_.max_queued_per_venue)) {
      std::deque<Waiting>& q = waiting_[venue];
      Waiting w{cls, seq_++, now + budget, now, d.bucket, std::move(run), std::move(refuse)};
      if (cls == RequestClass::kCancel) {
        auto pos = std::find_if(q.begin(), q.end(),
                                [](const Waiting& x) { return x.cls != RequestClass::kCancel; });
        q.insert(pos, std::move(w));
      } else {
        q.push_back(std::move(w));
      }
      ++queued_;
      cv_.notify_one();
      return;
    }
    const bool full = !hopeless && !stop_;
    lock.unlock();
    if (on_wait_) on_wait_(venue, full ? "queue_full" : d.bucket, 0, false);
    refuse(absl::ResourceExhaustedError(
        absl::StrCat("rate_limit:", full ? std::string("queue_full") : d.bucket)));
  }
}

int64_t AdmissionQueue::PumpLocked(int64_t now_ns, std::vector<Action>* actions) {
  int64_t next = kNever;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    const std::string& venue = it->first;
    std::deque<Waiting>& q = it->second;
    // Expire first (anywhere in the queue).
    for (auto w = q.begin(); w != q.end();) {
      if (w->deadline_ns > now_ns) {
        ++w;
        continue;
      }
      auto refuse = std::move(w->refuse);
      std::string bucket = w->bucket;
      const int64_t waited = now_ns - w->enqueued_ns;
      actions->push_back([this, refuse = std::move(refuse), bucket, venue, waited] {
        if (on_wait_) on_wait_(venue, bucket, waited, false);
        refuse(absl::ResourceExhaustedError(absl::StrCat("rate_limit:", bucket)));
      });
      w = q.erase(w);
      --queued_;
    }
    while (!q.empty()) {
      Waiting& w = q.front();
      RateLimiter::Decision d = limiter_->TryAcquire(venue, w.cls, now_ns);
      if (!d.admitted) {
        w.bucket = d.bucket;
        next = std::min(next, d.ready_ns);
        break;
      }
      auto run = std::move(w.run);
      const int64_t waited = now_ns - w.enqueued_ns;
      std::string bucket = w.bucket;
      actions->push_back([this, run = std::move(run), venue, bucket, waited] {
        if (on_wait_) on_wait_(venue, bucket, waited, true);
        run();
      });
      q.pop_front();
      --queued_;
    }
    for (const Waiting& w : q) next = std::min(next, w.deadline_ns);
    it = q.empty() ? waiting_.erase(it) : std::next(it);
  }
  return next;
}

int64_t AdmissionQueue::Pump(int64_t now_ns) {
  std::vector<Action> actions;
  int64_t next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    next = PumpLocked(now_ns, &actions);
  }
  for (auto& a : actions) a();
  return next;
}

void AdmissionQueue::Start() {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      std::vector<Action> actions;
      const int64_t now = limiter_->now();
      const int64_t next = PumpLocked(now, &actions);
      if (!actions.empty()) {
        lock.unlock();
        for (auto& a : actions) a();
        lock.lock();
        continue;
      }
      if (next == kNever) {
        cv_.wait(lock);
      } else {
        cv_.wait_for(lock, std::chrono::nanoseconds(std::max<int64_t>(next - now, 50'000)));
      }
    }
  });
}

void AdmissionQueue::Stop() {
  std::vector<std::function<void(absl::Status)>> refusals;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    for (auto& [venue, q] : waiting_) {
      for (auto& w : q) refusals.push_back(std::move(w.refuse));
    }
    waiting_.clear();
    queued_ = 0;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  for (auto& r : refusals) r(absl::UnavailableError("execution shutting down"));
}

size_t AdmissionQueue::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_;
}

// --- CircuitBreaker ---

const char* CircuitBreaker::Name(State s) {
  switch (s) {
    case State::kClosed:
      return "closed";
    case State::kOpen:
      return "open";
    case State::kHalfOpen:
      return "half_open";
  }
  return "unknown";
}

CircuitBreaker::State CircuitBreaker::state(int64_t now_ns) {
  if (state_ == State::kOpen && now_ns - opened_ns_ >= options_.open_ns) {
    state_ = State::kHalfOpen;
    probes_out_ = probes_ok_ = 0;
  }
  return state_;
}

bool CircuitBreaker::Allow(int64_t now_ns) {
  switch (state(now_ns)) {
    case State::kClosed:
      return true;
    case State::kOpen:
      return false;
    case State::kHalfOpen:
      if (probes_out_ + probes_ok_ >= options_.half_open_probes) return false;
      ++probes_out_;
      return true;
  }
  return false;
}

void CircuitBreaker::Release() {
  if (state_ == State::kHalfOpen && probes_out_ > 0) --probes_out_;
}

void CircuitBreaker::Open(int64_t now_ns) {
  state_ = State::kOpen;
  opened_ns_ = now_ns;
  window_.clear();
  failures_ = 0;
  probes_out_ = probes_ok_ = 0;
}

void CircuitBreaker::Record(bool success, int64_t now_ns) {
  switch (state(now_ns)) {
    case State::kOpen:
      return;  // a call let through before it opened
    case State::kHalfOpen:
      if (probes_out_ > 0) --probes_out_;
      if (!success) {
        Open(now_ns);
        return;
      }
      if (++probes_ok_ >= options_.half_open_probes) {
        state_ = State::kClosed;
        window_.clear();
        failures_ = 0;
      }
      return;
    case State::kClosed:
      window_.push_back(!success);
      failures_ += success ? 0 : 1;
      if (window_.size() > options_.window) {
        failures_ -= window_.front() ? 1 : 0;
        window_.pop_front();
      }
      if (window_.size() >= options_.min_calls &&
          static_cast<double>(failures_) >=
              options_.failure_ratio * static_cast<double>(window_.size())) {
        Open(now_ns);
      }
      return;
  }
}

}  // namespace tickmesh::execution
