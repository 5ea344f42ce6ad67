#include "rate_limit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>

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
    if (f.size() != 4)
      return bad("expected token:CAPACITY:WINDOW_MS:COSTS or decay:MAX:RATE:COSTS");
    double a = 0, b = 0;
    if (!absl::SimpleAtod(f[1], &a) || !absl::SimpleAtod(f[2], &b) || !(a > 0) || !(b > 0) ||
        !std::isfinite(a) || !std::isfinite(b)) {
      return bad("numbers must be finite and > 0");
    }
    BucketSpec s;
    s.name = vb[1];
    for (double& c : s.cost) c = 0;
    if (f[0] == "token") {
      s.max = a;
      s.decay_per_s = a / (b / 1000.0);
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

void RateLimiter::Bucket::Decay(int64_t now_ns) {
  if (now_ns <= at_ns) return;
  level = std::max(0.0, level - spec.decay_per_s * static_cast<double>(now_ns - at_ns) / 1e9);
  at_ns = now_ns;
}

RateLimiter::RateLimiter(std::map<std::string, std::vector<BucketSpec>> specs, ClockFn clock)
    : specs_(std::move(specs)), clock_(std::move(clock)) {}

bool RateLimiter::limited(const std::string& venue) const {
  return specs_.count(venue) != 0 || specs_.count("*") != 0;
}

std::vector<RateLimiter::Bucket>* RateLimiter::BucketsFor(const std::string& venue) {
  auto it = buckets_.find(venue);
  if (it != buckets_.end()) return &it->second;
  auto sit = specs_.find(venue);
  if (sit == specs_.end()) sit = specs_.find("*");
  if (sit == specs_.end() || buckets_.size() >= kMaxVenues) return nullptr;
  std::vector<Bucket>& b = buckets_[venue];
  for (const BucketSpec& s : sit->second) b.push_back(Bucket{s, 0.0, 0});
  return &b;
}

RateLimiter::Decision RateLimiter::TryAcquire(const std::string& venue, RequestClass cls,
                                              int64_t now_ns) {
  Decision d;
  if (specs_.empty()) return d;
  const int c = static_cast<int>(cls);
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Bucket>* buckets = BucketsFor(venue);
  if (buckets == nullptr) {
    if (buckets_.size() >= kMaxVenues && limited(venue)) {
      d.admitted = false;
      d.bucket = "venues";
      d.ready_ns = kNever;
    }
    return d;
  }
  for (Bucket& b : *buckets) {
    b.Decay(now_ns);
    const double cost = b.spec.cost[c];
    if (b.level + cost <= b.spec.max + 1e-9) continue;
    int64_t ready = kNever;
    if (cost <= b.spec.max) {
      const double wait_s = (b.level + cost - b.spec.max) / b.spec.decay_per_s;
      ready = now_ns + static_cast<int64_t>(std::ceil(wait_s * 1e9));
    }
    if (d.admitted) d.bucket = b.spec.name;
    d.admitted = false;
    d.ready_ns = std::max(d.ready_ns, ready);
  }
  if (!d.admitted) return d;
  for (Bucket& b : *buckets) b.level += b.spec.cost[c];
  return d;
}

std::map<std::string, std::map<std::string, double>> RateLimiter::Levels(int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::map<std::string, double>> out;
  for (auto& [venue, buckets] : buckets_) {
    for (Bucket& b : buckets) {
      b.Decay(now_ns);
      out[venue][b.spec.name] = b.level;
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
