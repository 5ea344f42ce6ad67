// Candles: OHLCV bars aggregated from trades for one (venue, symbol) at several intervals
// (e.g. 1 s, 1 m, 5 m, 1 h), with a bounded history of closed bars per interval.
//
// A bar covers [open, open + interval) on the trade's timestamp (venue time when known, else
// receive time). Intervals with no trades produce no bar. A trade older than the open bar of an
// interval cannot be placed without rewriting closed bars; it is not applied to that interval and
// is counted as late. History is bounded: when `history` closed bars are held, the oldest is
// dropped.
//
// Not thread-safe: the owner serialises access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "tickmesh/v1/market_data.pb.h"

namespace tickmesh::market_data {

// One interval's bars.
class CandleSeries {
 public:
  // `interval_s` > 0; `history` closed bars are kept (at least 1).
  CandleSeries(uint32_t interval_s, size_t history);

  // Adds a trade at `unix_ns`. Returns false (nothing changed) if the trade is older than the
  // open bar. Closes the open bar when the trade falls in a later interval. No allocation except
  // when the history grows to its bound.
  bool AddTrade(int64_t unix_ns, int64_t price_e8, int64_t qty_e8);

  // Appends bars with open time in [from_unix_ns, to_unix_ns) (0 = unbounded) ascending by open
  // time, at most `limit` (the most recent ones when more match). The open bar is reported
  // `closed` once `now_unix_ns` has passed its end.
  void Query(int64_t from_unix_ns, int64_t to_unix_ns, size_t limit, int64_t now_unix_ns,
             const std::string& venue, const std::string& symbol,
             std::vector<tickmesh::v1::Candle>* out) const;

  // The most recently closed bar, as a closed Candle; false if none was closed yet.
  bool LastClosed(const std::string& venue, const std::string& symbol,
                  tickmesh::v1::Candle* out) const;

  uint32_t interval_s() const { return interval_s_; }
  uint64_t late_trades() const { return late_trades_; }
  // Bars closed since construction (a bar closes when a trade of a later interval arrives).
  uint64_t closed_total() const { return closed_total_; }
  size_t closed_bars() const { return closed_.size(); }

 private:
  struct Bar {
    int64_t open_unix_ns = 0;
    int64_t open_e8 = 0, high_e8 = 0, low_e8 = 0, close_e8 = 0;
    int64_t volume_e8 = 0;
    uint32_t trade_count = 0;
  };
  void ToProto(const Bar& bar, bool closed, const std::string& venue, const std::string& symbol,
               tickmesh::v1::Candle* out) const;

  uint32_t interval_s_;
  int64_t interval_ns_;
  size_t history_;
  std::deque<Bar> closed_;
  Bar open_;
  bool has_open_ = false;
  uint64_t late_trades_ = 0;
  uint64_t closed_total_ = 0;
};

// Every configured interval for one (venue, symbol).
class CandleSet {
 public:
  CandleSet(const std::vector<uint32_t>& intervals_s, size_t history);

  // Adds the trade to every interval. Returns how many intervals rejected it as late. When
  // `closed` is set, appends the series whose open bar this trade closed.
  int AddTrade(int64_t unix_ns, int64_t price_e8, int64_t qty_e8,
               std::vector<const CandleSeries*>* closed = nullptr);

  // The series for `interval_s`, or nullptr if that interval is not configured.
  const CandleSeries* Find(uint32_t interval_s) const;

 private:
  std::vector<CandleSeries> series_;
};

}  // namespace tickmesh::market_data
