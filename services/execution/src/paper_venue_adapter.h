// PaperVenueAdapter: the paper venue (paper_venue.h) behind the Venue contract, so the engine
// routes every order through one interface. In-process: no I/O, called under the engine mutex.
//
// Without latency (PaperVenue::delayed() false, the default), Place executes against the current
// books at once (fills, with liquidity and fee, in VenueOrderState::fills; the unfilled part
// rests, is cancelled or expires per the order's time in force).
//
// With the latency model on, the engine does not call Place: it records the order NEW, calls
// Send (the order goes in flight) and returns. One timer thread (ArrivalTimer; a timer queue —
// the in-flight orders are one FIFO whose head is the next deadline, so no thread or sleep per
// order) wakes at the head's arrival time and calls the owner's `on_due` callback, which takes
// the owner's lock and calls TakeArrivals: every order due executes then against the books as
// they are at that time, and its answer (ack, fills, rest/cancel/expire, or a rejection such as
// venue:no_market) is applied through the same path as a live venue's answer. The timer thread
// never holds the owner's lock while it waits.
//
// Cancel removes an order still in flight (it never reaches the book) or a resting one. Query,
// OpenOrders and Balances answer UNIMPLEMENTED: the engine itself holds the paper venue's orders
// and balances (nothing to reconcile).
//
// Threading: Place, Send, TakeArrivals, Cancel, HasRoom are not thread-safe (the owner
// serialises them under its lock, as for the PaperVenue). StartArrivals / StopArrivals are
// thread-safe but must not be called under the lock `on_due` takes. The PaperVenue must outlive
// the adapter.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "paper_venue.h"
#include "rate_limit.h"
#include "venue.h"

namespace tickmesh::execution {

// One thread that calls `on_due` once the earliest armed deadline has passed on `clock`
// (monotonic ns). Arming is cheap and never blocks on `on_due`; deadlines armed while `on_due`
// runs are kept. With an injected clock that real time does not advance, the thread re-reads
// the clock at least every kMaxWaitNs, so tests that move the clock see `on_due` soon after.
class ArrivalTimer {
 public:
  static constexpr int64_t kMaxWaitNs = 10'000'000;

  explicit ArrivalTimer(ClockFn clock);
  ~ArrivalTimer();  // Stop()s.
  ArrivalTimer(const ArrivalTimer&) = delete;
  ArrivalTimer& operator=(const ArrivalTimer&) = delete;

  // Starts the thread (once; later calls are ignored).
  void Start(std::function<void()> on_due);
  // `on_due` runs once at or after `due_ns` (the earliest armed deadline wins; one call serves
  // every deadline passed by then).
  void ArmAt(int64_t due_ns);
  // Joins the thread; idempotent. `on_due` never runs after it returns.
  void Stop();
  int64_t now() const { return clock_(); }

 private:
  void Loop();

  const ClockFn clock_;
  std::function<void()> on_due_;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t due_ns_ ABSL_GUARDED_BY(mu_) = INT64_MAX;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

class PaperVenueAdapter final : public Venue {
 public:
  // `clock` (monotonic ns; empty = steady clock) times the latency model.
  explicit PaperVenueAdapter(PaperVenue* paper, ClockFn clock = {});
  ~PaperVenueAdapter() override;  // StopArrivals().

  const std::string& name() const override { return name_; }
  bool remote() const override { return false; }
  // Executes at once (the zero-latency path; also used by tests with the model on).
  absl::StatusOr<VenueOrderState> Place(const tickmesh::v1::Order& order) override;
  // Removes the order from flight (kCancelled, it never reaches the book) or from the book.
  absl::StatusOr<VenueOrderState> Cancel(const tickmesh::v1::Order& order) override;
  absl::StatusOr<VenueOrderState> Query(const tickmesh::v1::Order& order) override;
  absl::StatusOr<std::vector<VenueOrderState>> OpenOrders() override;
  absl::StatusOr<std::vector<VenueAssetBalance>> Balances() override;

  // Latency model (see the banner). True when orders must go through Send / TakeArrivals.
  bool delayed() const { return paper_->delayed(); }
  // Whether Send would find room (PaperVenue::kMaxInFlight).
  bool HasRoom() const { return paper_->in_flight_count() < PaperVenue::kMaxInFlight; }
  // Puts the order in flight now and arms the timer for the next arrival. RESOURCE_EXHAUSTED
  // (nothing queued) when full.
  absl::Status Send(const tickmesh::v1::Order& order);
  // Executes every in-flight order due now, in the order sent, against the current books; the
  // orders (as sent) with their venue answers. Re-arms the timer for what is still in flight.
  std::vector<std::pair<tickmesh::v1::Order, VenueOrderState>> TakeArrivals();
  size_t in_flight() const { return paper_->in_flight_count(); }
  // Starts / stops the timer thread that calls `on_due` when orders are due (see Threading).
  void StartArrivals(std::function<void()> on_due) { timer_.Start(std::move(on_due)); }
  void StopArrivals() { timer_.Stop(); }

  // The paper venue's report as a VenueOrderState (exposed for tests).
  static VenueOrderState ToState(const tickmesh::v1::Order& order, ExecutionReport report);

 private:
  PaperVenue* const paper_;
  const std::string name_ = "paper";
  ArrivalTimer timer_;
};

}  // namespace tickmesh::execution
