// Strategy: the one interface every signal strategy implements, and the inputs it sees. A
// Strategy instance belongs to one (venue, symbol) and one configured strategy entry; the engine
// feeds it trades, closed candles (bars) and top-of-book updates, on one thread, and collects the
// Decisions it appends. Strategies update their indicators on every input (O(1)) and evaluate a
// decision only when their rules allow it; each evaluation they skip is reported through
// Context::skips with a reason (warm-up, throttle, quiet market, unchanged quote).
//
// Prices/quantities arrive as int64 e8 fixed point; indicators are analytics, hence doubles.
// Decisions carry int64 e8 targets.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tickmesh/v1/common.pb.h"

namespace tickmesh::signal {

inline constexpr double kE8 = 1e8;

// One public trade.
struct Tick {
  int64_t price_e8 = 0;
  int64_t qty_e8 = 0;
  tickmesh::v1::Side aggressor = tickmesh::v1::SIDE_UNSPECIFIED;
  int64_t unix_ns = 0;
};

// One closed OHLCV bar (prices as doubles: indicator input).
struct Bar {
  double open = 0, high = 0, low = 0, close = 0, volume = 0;
  int64_t open_unix_ns = 0;
  int32_t interval_s = 0;
};

// Top of the book and the depth of the first `levels` levels on each side.
struct BookTop {
  bool valid = false;  // both sides present, bid < ask
  int64_t bid_e8 = 0, bid_qty_e8 = 0, ask_e8 = 0, ask_qty_e8 = 0;
  double bid_depth = 0, ask_depth = 0;  // summed quantity (units, not e8) of the top levels
};

// Why a decision cycle was skipped: not enough data yet; too soon after the previous signal;
// quiet market; the quote would not change; a filter (e.g. RSI) vetoed it.
enum class SkipReason { kWarmup = 0, kThrottle = 1, kQuiet = 2, kUnchanged = 3, kFiltered = 4 };
inline constexpr int kSkipReasons = 5;
const char* SkipReasonName(SkipReason r);

// Receives skipped decision cycles (the engine counts them per strategy and reason).
class SkipSink {
 public:
  virtual ~SkipSink() = default;
  virtual void Skipped(SkipReason reason) = 0;
};

// What a strategy may look at besides its own input.
struct Context {
  int64_t now_ns = 0;
  const BookTop* book = nullptr;  // never null when called by the engine
  // Execution's position of this instrument (1e8 scale), from the cache; 0 when unknown.
  int64_t inventory_e8 = 0;
  bool inventory_known = false;
  // True when the market is quiet (realised volatility under the configured floor): strategies
  // update indicators but skip decision cycles (reported as kQuiet).
  bool quiet = false;
  SkipSink* skips = nullptr;  // may be null

  void Skip(SkipReason r) const {
    if (skips != nullptr) skips->Skipped(r);
  }
};

// A named indicator value behind a decision. `name` points at a string literal.
struct NamedValue {
  const char* name = "";
  double value = 0;
};

// What a strategy decided. Allocation: `reason` only (built when a decision is made).
struct Decision {
  tickmesh::v1::Side side = tickmesh::v1::SIDE_UNSPECIFIED;
  double strength = 0;          // [0, 1]
  int64_t target_price_e8 = 0;  // 0 = market
  int64_t target_qty_e8 = 0;
  std::string reason;
  std::array<NamedValue, 10> indicators{};
  int indicator_count = 0;

  void Add(const char* name, double value) {
    if (indicator_count < static_cast<int>(indicators.size())) {
      indicators[indicator_count++] = {name, value};
    }
  }
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  // Each appends zero or more decisions to `out` (never clears it).
  virtual void OnTrade(const Tick& tick, const Context& ctx, std::vector<Decision>* out) {}
  virtual void OnBar(const Bar& bar, const Context& ctx, std::vector<Decision>* out) {}
  // The book's top changed (ctx.book).
  virtual void OnBook(const Context& ctx, std::vector<Decision>* out) {}
  // Forgets all indicator state (sequence gap, reconnect): warm-up starts again.
  virtual void Reset() = 0;
};

}  // namespace tickmesh::signal
