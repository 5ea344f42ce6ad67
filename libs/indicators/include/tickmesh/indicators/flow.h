// Volume- and book-based indicators: VWAP (session and rolling), order-book imbalance and
// microprice. O(1) per update, bounded memory, no allocation after construction.
//
// Example:
//   tickmesh::indicators::SessionVwap vwap(86'400'000'000'000);  // UTC days
//   vwap.Update(price, qty, trade_unix_ns);
//   double imb = tickmesh::indicators::BookImbalance(bid_qty, ask_qty);  // in [-1, 1]
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace tickmesh::indicators {

// Volume-weighted average price since the start of the current session. Sessions are fixed
// windows of `session_ns` aligned to the unix epoch (86 400 s = UTC days); a trade in a later
// session starts a new average. Zero or negative quantities are ignored. Defined after the first
// trade of a session.
class SessionVwap {
 public:
  // `session_ns` <= 0 means one never-ending session.
  explicit SessionVwap(int64_t session_ns) : session_ns_(session_ns) {}

  // Adds a trade at `unix_ns`; returns the session VWAP once defined.
  std::optional<double> Update(double price, double qty, int64_t unix_ns) {
    if (session_ns_ > 0) {
      const int64_t session = unix_ns >= 0 ? unix_ns / session_ns_ : -1;
      if (session != session_) {
        session_ = session;
        pq_ = q_ = 0;
      }
    }
    if (qty > 0) {
      pq_ += price * qty;
      q_ += qty;
    }
    if (!ready()) return std::nullopt;
    return value();
  }
  bool ready() const { return q_ > 0; }
  double value() const { return q_ > 0 ? pq_ / q_ : 0.0; }
  double volume() const { return q_; }
  void Reset() {
    session_ = -2;
    pq_ = q_ = 0;
  }

 private:
  int64_t session_ns_;
  int64_t session_ = -2;
  double pq_ = 0;
  double q_ = 0;
};

// VWAP of the last `window` trades (ring buffer). Defined once `window` trades have been seen and
// their total quantity is positive.
class RollingVwap {
 public:
  explicit RollingVwap(int window)
      : window_(std::max(1, window)), ring_(static_cast<size_t>(window_)) {}

  std::optional<double> Update(double price, double qty) {
    const size_t slot = static_cast<size_t>(count_ % window_);
    if (count_ >= window_) {
      pq_ -= ring_[slot].pq;
      q_ -= ring_[slot].q;
    }
    const double q = qty > 0 ? qty : 0.0;
    ring_[slot] = {price * q, q};
    pq_ += price * q;
    q_ += q;
    ++count_;
    if (!ready()) return std::nullopt;
    return value();
  }
  bool ready() const { return count_ >= window_ && q_ > 0; }
  double value() const { return q_ > 0 ? pq_ / q_ : 0.0; }
  int lookback() const { return window_ - 1; }
  void Reset() {
    count_ = 0;
    pq_ = q_ = 0;
  }

 private:
  struct Entry {
    double pq = 0;
    double q = 0;
  };
  int window_;
  std::vector<Entry> ring_;
  int64_t count_ = 0;
  double pq_ = 0;
  double q_ = 0;
};

// Order-book imbalance (bid_qty - ask_qty) / (bid_qty + ask_qty) in [-1, 1]; +1 = only bids.
// The quantities are usually the top level or the sum of the top N levels. 0 when both are <= 0.
inline double BookImbalance(double bid_qty, double ask_qty) {
  bid_qty = std::max(0.0, bid_qty);
  ask_qty = std::max(0.0, ask_qty);
  const double total = bid_qty + ask_qty;
  return total > 0 ? (bid_qty - ask_qty) / total : 0.0;
}

// Microprice (Stoikov's weighted mid): (bid * ask_qty + ask * bid_qty) / (bid_qty + ask_qty) —
// leans towards the side with less quantity, where the next trade is likelier to move the price.
// The plain mid when both quantities are <= 0.
inline double Microprice(double bid, double bid_qty, double ask, double ask_qty) {
  bid_qty = std::max(0.0, bid_qty);
  ask_qty = std::max(0.0, ask_qty);
  const double total = bid_qty + ask_qty;
  return total > 0 ? (bid * ask_qty + ask * bid_qty) / total : 0.5 * (bid + ask);
}

}  // namespace tickmesh::indicators
