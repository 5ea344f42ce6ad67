#include "venue_worker.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>
#include <utility>

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
      cb_(std::move(callbacks)) {}

VenueWorker::~VenueWorker() { Stop(); }

bool VenueWorker::Enqueue(Call call, tickmesh::v1::Order order) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return false;
    auto& places = queues_[static_cast<int>(Call::kPlace)];
    if (call == Call::kCancel) {
      // The place has not left yet: drop it, answer the cancel locally.
      auto it = std::find_if(places.begin(), places.end(),
                             [&](const Task& t) { return t.order.order_id() == order.order_id(); });
      if (it != places.end()) {
        places.erase(it);
        queues_[static_cast<int>(Call::kCancel)].push_back(
            Task{Call::kCancel, std::move(order), /*unsent_cancel=*/true});
        ++stats_.queued;
        cv_.notify_one();
        return true;
      }
    }
    auto& q = queues_[static_cast<int>(call)];
    if (q.size() >= options_.max_queue) return false;
    q.push_back(Task{call, std::move(order), false});
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

bool VenueWorker::AcquireQuery(int64_t now_ns) {
  if (limiter_ == nullptr) return true;
  if (limiter_->TryAcquire(name_, RequestClass::kQuery, now_ns).admitted) return true;
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.polls_rate_limited;
  return false;
}

void VenueWorker::Run(Task task) {
  if (task.unsent_cancel) {
    VenueOrderState st;
    st.client_order_id = task.order.client_order_id();
    st.status = VenueOrderStatus::kCancelled;
    cb_.on_answer(Call::kCancel, task.order, st, 0);
    return;
  }
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
  cb_.on_answer(task.call, task.order, answer, took);
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
  if ((!open_done || cb_.has_open_orders()) && AcquireQuery(now_ns)) {
    const int64_t t0 = clock_();
    auto open = venue_->OpenOrders();
    const int64_t took = clock_() - t0;
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
      if (!AcquireQuery(clock_())) break;  // the rest at the next poll
      Run(Task{Call::kQuery, order, false});
    }
  }
  // Balances: the venue is the source of truth; at start, periodically and soon after fills.
  if ((balances_now || !reconciled || now_ns >= next_balances_ns_) && AcquireQuery(clock_())) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      balances_now_ = false;
    }
    const int64_t t0 = clock_();
    auto balances = venue_->Balances();
    const int64_t took = clock_() - t0;
    cb_.on_balances(balances, took);
    if (balances.ok()) {
      next_balances_ns_ = clock_() + options_.balance_interval_ns;
      std::lock_guard<std::mutex> lock(mu_);
      balances_reconciled_ = true;
    } else {
      failed = true;
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

void VenueWorker::Loop() {
  while (true) {
    const int64_t next_poll = PollIfDue(clock_());
    std::optional<Task> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stop_) return;
      for (auto& q : {&queues_[1], &queues_[2], &queues_[0]}) {  // cancel, query, place
        if (!q->empty()) {
          task = std::move(q->front());
          q->pop_front();
          --stats_.queued;
          break;
        }
      }
      if (!task) {
        const int64_t now = clock_();
        if (!poll_now_ && next_poll > now) {
          const int64_t wait = next_poll == kNever ? 1'000'000'000 : next_poll - now;
          cv_.wait_for(lock, std::chrono::nanoseconds(wait), [&] {
            return stop_ || poll_now_ || !queues_[0].empty() || !queues_[1].empty() ||
                   !queues_[2].empty();
          });
        }
        if (stop_) return;
        continue;
      }
    }
    Run(std::move(*task));
  }
}

}  // namespace tickmesh::execution
