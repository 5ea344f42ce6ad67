#include "venue_worker.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tickmesh::execution {

namespace {
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr int64_t kMaxPollBackoffNs = 30'000'000'000;
}  // namespace

const char* VenueWorker::CallName(Call call) {
  switch (call) {
    case Call::kPlace:
      return "place";
    case Call::kCancel:
      return "cancel";
    case Call::kQuery:
      return "query";
  }
  return "unknown";
}

VenueWorker::VenueWorker(std::unique_ptr<Venue> venue, RateLimiter* limiter, Options options,
                         Callbacks callbacks)
    : venue_(std::move(venue)),
      name_(venue_->name()),
      limiter_(limiter),
      options_(options),
      clock_(options.clock ? options.clock : SteadyClock()),
      cb_(std::move(callbacks)) {
  if (limiter_ != nullptr) {
    venue_gated_ = venue_->SetRequestGate([this](RequestClass cls) { return Gate(cls); });
  }
}

VenueWorker::~VenueWorker() { Stop(); }

bool VenueWorker::Enqueue(Call call, tickmesh::v1::Order order) {
  const int64_t now = clock_();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return false;
    ++enqueues_;
    auto& places = queues_[static_cast<int>(Call::kPlace)];
    if (call == Call::kCancel) {
      // The place has not left yet: drop it, answer the cancel locally.
      auto it = std::find_if(places.begin(), places.end(),
                             [&](const Task& t) { return t.order.order_id() == order.order_id(); });
      if (it != places.end()) {
        places.erase(it);
        queues_[static_cast<int>(Call::kCancel)].push_back(
            Task{Call::kCancel, std::move(order), /*unsent_cancel=*/true, now});
        ++stats_.queued;
        cv_.notify_one();
        return true;
      }
    }
    auto& q = queues_[static_cast<int>(call)];
    if (q.size() >= options_.max_queue) return false;
    q.push_back(Task{call, std::move(order), false, now});
    ++stats_.queued;
  }
  cv_.notify_one();
  return true;
}

bool VenueWorker::HasRoom(Call call) const {
  std::lock_guard<std::mutex> lock(mu_);
  return !stop_ && queues_[static_cast<int>(call)].size() < options_.max_queue;
}

void VenueWorker::PollSoon() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poll_now_ = true;
  }
  cv_.notify_one();
}

void VenueWorker::RefreshBalancesSoon() {
  std::lock_guard<std::mutex> lock(mu_);
  balances_now_ = true;  // picked up at the next poll (no need to wake the thread for it)
}

void VenueWorker::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stop_) return;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void VenueWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  reconciled_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool VenueWorker::WaitReconciled(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  reconciled_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                          [&] { return stop_ || (open_reconciled_ && balances_reconciled_); });
  return open_reconciled_ && balances_reconciled_;
}

VenueWorker::Stats VenueWorker::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.reconciled = open_reconciled_ && balances_reconciled_;
  return s;
}

bool VenueWorker::AcquireQuery(RequestClass cls) {
  if (limiter_ == nullptr || venue_gated_) return true;
  if (limiter_->TryAcquire(name_, cls, clock_()).admitted) return true;
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.polls_rate_limited;
  return false;
}

absl::Status VenueWorker::Gate(RequestClass cls) {
  const RateLimiter::Decision d = limiter_->TryAcquire(name_, cls, clock_());
  if (d.admitted) return absl::OkStatus();
  gate_refused_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.polls_rate_limited;
  }
  return absl::ResourceExhaustedError(absl::StrCat("rate_limit:", d.bucket));
}

bool VenueWorker::TakeGateRefusal(const absl::Status& status) {
  const bool refused = gate_refused_ && !status.ok();
  gate_refused_ = false;
  return refused;
}

int64_t VenueWorker::BlockedUntil(Call call, int64_t now_ns) const {
  if (limiter_ == nullptr || call == Call::kQuery) return now_ns;
  const RequestClass cls = call == Call::kPlace ? RequestClass::kOrder : RequestClass::kCancel;
  const int64_t lnow = limiter_->now();
  const int64_t until = limiter_->BlockedUntil(name_, cls, lnow);
  return until <= lnow ? now_ns : now_ns + (until - lnow);
}

bool VenueWorker::RequeueThrottled(Task& task, const absl::Status& status) {
  if (limiter_ == nullptr || task.call == Call::kQuery || task.unsent_cancel ||
      status.code() != absl::StatusCode::kResourceExhausted ||
      task.throttle_resends >= kMaxThrottleResends) {
    return false;
  }
  const int64_t now = clock_();
  if (BlockedUntil(task.call, now) <= now) return false;  // not the venue's rate limit
  ++task.throttle_resends;
  const RequestClass cls = task.call == Call::kPlace ? RequestClass::kOrder : RequestClass::kCancel;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return false;
    queues_[static_cast<int>(task.call)].push_front(std::move(task));
    ++stats_.queued;
    ++stats_.throttled_resends;
  }
  // The refusal's answer cleared the request's charge; the resend is one more request the venue
  // will count (and answer): outstanding again. Only venues that report their answers to the
  // limiter (LiveVenue, gated) clear it.
  if (venue_gated_) limiter_->ChargeResend(name_, cls, limiter_->now());
  return true;
}

bool VenueWorker::Run(Task task) {
  if (task.unsent_cancel) {
    VenueOrderState st;
    st.client_order_id = task.order.client_order_id();
    st.status = VenueOrderStatus::kCancelled;
    cb_.on_answer(Call::kCancel, task.order, st, 0, /*counted=*/true);
    return true;
  }
  gate_refused_ = false;
  const int64_t t0 = clock_();
  absl::StatusOr<VenueOrderState> answer;
  switch (task.call) {
    case Call::kPlace:
      answer = venue_->Place(task.order);
      break;
    case Call::kCancel:
      answer = venue_->Cancel(task.order);
      break;
    case Call::kQuery:
      answer = venue_->Query(task.order);
      break;
  }
  const int64_t took = clock_() - t0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.calls;
  }
  // A query cut short by the rate limit says nothing about the order: asked again at a later poll.
  if (TakeGateRefusal(answer.status()) && task.call == Call::kQuery) return false;
  // Refused by the venue's rate limit: not processed there; sent again after the pause.
  if (RequeueThrottled(task, answer.status())) return true;
  cb_.on_answer(task.call, task.order, answer, took, /*counted=*/true);
  return true;
}

int64_t VenueWorker::PollIfDue(int64_t now_ns) {
  bool poll_now = false, balances_now = false, reconciled = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    poll_now = poll_now_;
    balances_now = balances_now_;
    reconciled = open_reconciled_ && balances_reconciled_;
  }
  if (!poll_now && now_ns < next_poll_ns_) return next_poll_ns_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    poll_now_ = false;
    ++stats_.polls;
  }
  next_poll_ns_ = now_ns + options_.poll_interval_ns;
  bool failed = false;
  // Orders: needed while something is tracked, and once at start (unknown orders are reported).
  bool open_done = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_done = open_reconciled_;
  }
  if ((!open_done || cb_.has_open_orders()) && AcquireQuery(RequestClass::kOpenOrders)) {
    gate_refused_ = false;
    const int64_t t0 = clock_();
    auto open = venue_->OpenOrders();
    const int64_t took = clock_() - t0;
    if (!TakeGateRefusal(open.status())) {
      std::vector<tickmesh::v1::Order> missing = cb_.on_open_orders(open, took);
      if (open.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        open_reconciled_ = true;
      } else {
        failed = true;
      }
      for (const auto& order : missing) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (stop_) return kNever;
        }
        if (!AcquireQuery(RequestClass::kQueryOrder)) break;   // the rest at the next poll
        if (!Run(Task{Call::kQuery, order, false, 0})) break;  // rate limited: next poll
      }
    }
  }
  // Balances: the venue is the source of truth; at start, periodically and soon after fills.
  if ((balances_now || !reconciled || now_ns >= next_balances_ns_) &&
      AcquireQuery(RequestClass::kBalances)) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      balances_now_ = false;
    }
    gate_refused_ = false;
    const int64_t t0 = clock_();
    auto balances = venue_->Balances();
    const int64_t took = clock_() - t0;
    if (TakeGateRefusal(balances.status())) {
      // Not fetched (rate limit): still wanted, at the next poll; not a venue failure.
      std::lock_guard<std::mutex> lock(mu_);
      balances_now_ = true;
    } else {
      cb_.on_balances(balances, took);
      if (balances.ok()) {
        next_balances_ns_ = clock_() + options_.balance_interval_ns;
        std::lock_guard<std::mutex> lock(mu_);
        balances_reconciled_ = true;
      } else {
        failed = true;
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed) ++stats_.poll_errors;
  }
  // A failing venue is polled less and less often (up to every 30 s): its answers would not
  // change, and every poll spends request weight.
  failed_polls_ = failed ? failed_polls_ + 1 : 0;
  if (failed_polls_ > 0) {
    int64_t wait = options_.poll_interval_ns;
    for (int i = 0; i < failed_polls_ && wait < kMaxPollBackoffNs; ++i) wait *= 2;
    next_poll_ns_ = now_ns + std::min(std::max(wait, options_.poll_interval_ns),
                                      std::max(kMaxPollBackoffNs, options_.poll_interval_ns));
  }
  reconciled_cv_.notify_all();
  return next_poll_ns_;
}

void VenueWorker::GatherLocked(std::deque<Task>& q, const std::string& key, size_t cap,
                               std::vector<Task>* batch) {
  for (auto it = q.begin(); it != q.end() && batch->size() < cap;) {
    if (!it->unsent_cancel && venue_->BatchKey(it->order) == key) {
      batch->push_back(std::move(*it));
      it = q.erase(it);
      --stats_.queued;
    } else {
      ++it;
    }
  }
}

std::vector<VenueWorker::Task> VenueWorker::TakeLocked(int64_t now_ns, int64_t* linger_until) {
  *linger_until = kNever;
  std::vector<Task> batch;
  auto& cancels = queues_[static_cast<int>(Call::kCancel)];
  auto& queries = queues_[static_cast<int>(Call::kQuery)];
  auto& places = queues_[static_cast<int>(Call::kPlace)];
  // Classes paused by a venue rate-limit refusal stay queued until the pause ends.
  const int64_t cancels_at = cancels.empty() ? now_ns : BlockedUntil(Call::kCancel, now_ns);
  const int64_t places_at = places.empty() ? now_ns : BlockedUntil(Call::kPlace, now_ns);
  if (!cancels.empty() && cancels_at > now_ns && !cancels.front().unsent_cancel) {
    *linger_until = std::min(*linger_until, cancels_at);
  } else if (!cancels.empty()) {
    batch.push_back(std::move(cancels.front()));
    cancels.pop_front();
    --stats_.queued;
    const size_t cap = std::min(options_.max_batch, venue_->max_cancel_batch());
    if (!batch[0].unsent_cancel && cap > 1) {
      GatherLocked(cancels, venue_->BatchKey(batch[0].order), cap, &batch);
    }
    return batch;
  }
  if (!queries.empty()) {
    batch.push_back(std::move(queries.front()));
    queries.pop_front();
    --stats_.queued;
    return batch;
  }
  if (places.empty()) return batch;
  if (places_at > now_ns) {
    *linger_until = std::min(*linger_until, places_at);
    return batch;
  }
  const size_t cap = std::min(options_.max_batch, venue_->max_place_batch());
  if (cap <= 1) {
    batch.push_back(std::move(places.front()));
    places.pop_front();
    --stats_.queued;
    return batch;
  }
  const std::string key = venue_->BatchKey(places.front().order);
  if (options_.batch_linger_ns > 0) {
    const int64_t deadline = places.front().enqueued_ns + options_.batch_linger_ns;
    size_t same = 0;
    for (const Task& t : places) same += venue_->BatchKey(t.order) == key ? 1 : 0;
    if (same < cap && now_ns < deadline) {
      *linger_until = std::min(*linger_until, deadline);
      return batch;
    }
  }
  batch.push_back(std::move(places.front()));
  places.pop_front();
  --stats_.queued;
  GatherLocked(places, key, cap, &batch);
  return batch;
}

void VenueWorker::RunBatch(std::vector<Task> tasks) {
  if (tasks.size() == 1) {
    // Queued queries (placements of unknown outcome) spend the query weight like the polls' ones;
    // one the limit has no room for is dropped — the polls resolve the order.
    if (tasks[0].call == Call::kQuery && !AcquireQuery(RequestClass::kQueryOrder)) return;
    (void)Run(std::move(tasks[0]));
    return;
  }
  const Call call = tasks[0].call;
  std::vector<tickmesh::v1::Order> orders;
  orders.reserve(tasks.size());
  for (const Task& t : tasks) orders.push_back(t.order);
  const int64_t t0 = clock_();
  std::vector<absl::StatusOr<VenueOrderState>> answers =
      call == Call::kPlace ? venue_->PlaceBatch(orders) : venue_->CancelBatch(orders);
  const int64_t took = clock_() - t0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.calls;
    ++stats_.batches;
    stats_.batched_orders += tasks.size();
  }
  // A venue that answered fewer orders than it was given leaves their fate unknown.
  answers.resize(tasks.size(), absl::StatusOr<VenueOrderState>(
                                   absl::InternalError("batch answer without this order")));
  // One request, one breaker outcome when it succeeded or failed as a whole; per-order verdicts
  // that differ are each counted.
  bool uniform = true;
  for (size_t i = 1; i < answers.size() && uniform; ++i) {
    uniform = answers[i].status() == answers[0].status();
  }
  // Orders the venue's rate limit refused go back to the front of their queue, in order.
  std::vector<bool> requeued(tasks.size(), false);
  for (size_t i = tasks.size(); i-- > 0;) {
    requeued[i] = RequeueThrottled(tasks[i], answers[i].status());
  }
  bool first = true;
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (requeued[i]) continue;
    cb_.on_answer(call, tasks[i].order, answers[i], took, /*counted=*/first || !uniform);
    first = false;
  }
}

void VenueWorker::Loop() {
  while (true) {
    const int64_t next_poll = PollIfDue(clock_());
    std::vector<Task> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stop_) return;
      int64_t linger_until = kNever;
      batch = TakeLocked(clock_(), &linger_until);
      if (batch.empty()) {
        const int64_t now = clock_();
        const int64_t until = std::min(next_poll, linger_until);
        if (!poll_now_ && until > now) {
          const int64_t wait = until == kNever ? 1'000'000'000 : until - now;
          const uint64_t seen = enqueues_;
          const bool lingering = linger_until != kNever;
          cv_.wait_for(lock, std::chrono::nanoseconds(wait), [&] {
            // Lingering places do not wake the worker; a new call (or stop / poll) does.
            return stop_ || poll_now_ || enqueues_ != seen ||
                   (!lingering &&
                    (!queues_[0].empty() || !queues_[1].empty() || !queues_[2].empty()));
          });
        }
        if (stop_) return;
        continue;
      }
    }
    RunBatch(std::move(batch));
  }
}

}  // namespace tickmesh::execution
