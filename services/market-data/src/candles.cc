#include "candles.h"

#include <algorithm>

namespace tickmesh::market_data {
namespace {
constexpr int64_t kNsPerSecond = 1'000'000'000;

// Floor division that is correct for negative timestamps too.
int64_t FloorTo(int64_t t, int64_t step) {
  int64_t q = t / step;
  if ((t % step != 0) && ((t < 0) != (step < 0))) --q;
  return q * step;
}
}  // namespace

CandleSeries::CandleSeries(uint32_t interval_s, size_t history)
    : interval_s_(std::max<uint32_t>(1, interval_s)),
      interval_ns_(static_cast<int64_t>(interval_s_) * kNsPerSecond),
      history_(std::max<size_t>(1, history)) {}

bool CandleSeries::AddTrade(int64_t unix_ns, int64_t price_e8, int64_t qty_e8) {
  const int64_t open = FloorTo(unix_ns, interval_ns_);
  if (has_open_ && open < open_.open_unix_ns) {
    ++late_trades_;
    return false;
  }
  if (!has_open_ || open > open_.open_unix_ns) {
    if (has_open_) {
      if (closed_.size() >= history_) closed_.pop_front();
      closed_.push_back(open_);
      ++closed_total_;
    }
    open_ = Bar{open, price_e8, price_e8, price_e8, price_e8, 0, 0};
    has_open_ = true;
  }
  open_.high_e8 = std::max(open_.high_e8, price_e8);
  open_.low_e8 = std::min(open_.low_e8, price_e8);
  open_.close_e8 = price_e8;
  open_.volume_e8 += qty_e8;
  ++open_.trade_count;
  return true;
}

void CandleSeries::ToProto(const Bar& bar, bool closed, const std::string& venue,
                           const std::string& symbol, tickmesh::v1::Candle* out) const {
  out->set_venue(venue);
  out->set_symbol(symbol);
  out->set_interval_s(interval_s_);
  out->set_open_unix_ns(bar.open_unix_ns);
  out->set_open_e8(bar.open_e8);
  out->set_high_e8(bar.high_e8);
  out->set_low_e8(bar.low_e8);
  out->set_close_e8(bar.close_e8);
  out->set_volume_e8(bar.volume_e8);
  out->set_trade_count(bar.trade_count);
  out->set_closed(closed);
}

void CandleSeries::Query(int64_t from_unix_ns, int64_t to_unix_ns, size_t limit,
                         int64_t now_unix_ns, const std::string& venue, const std::string& symbol,
                         std::vector<tickmesh::v1::Candle>* out) const {
  auto in_range = [&](const Bar& b) {
    return (from_unix_ns == 0 || b.open_unix_ns >= from_unix_ns) &&
           (to_unix_ns == 0 || b.open_unix_ns < to_unix_ns);
  };
  // Collect newest first up to `limit`, then emit ascending.
  std::vector<std::pair<const Bar*, bool>> picked;
  if (has_open_ && in_range(open_) && limit > 0) {
    picked.push_back({&open_, now_unix_ns >= open_.open_unix_ns + interval_ns_});
  }
  for (auto it = closed_.rbegin(); it != closed_.rend() && picked.size() < limit; ++it) {
    if (to_unix_ns != 0 && it->open_unix_ns >= to_unix_ns) continue;
    if (from_unix_ns != 0 && it->open_unix_ns < from_unix_ns) break;
    picked.push_back({&*it, true});
  }
  for (auto it = picked.rbegin(); it != picked.rend(); ++it) {
    out->emplace_back();
    ToProto(*it->first, it->second, venue, symbol, &out->back());
  }
}

CandleSet::CandleSet(const std::vector<uint32_t>& intervals_s, size_t history) {
  series_.reserve(intervals_s.size());
  for (uint32_t i : intervals_s) series_.emplace_back(i, history);
}

bool CandleSeries::LastClosed(const std::string& venue, const std::string& symbol,
                              tickmesh::v1::Candle* out) const {
  if (closed_.empty()) return false;
  ToProto(closed_.back(), true, venue, symbol, out);
  return true;
}

int CandleSet::AddTrade(int64_t unix_ns, int64_t price_e8, int64_t qty_e8,
                        std::vector<const CandleSeries*>* closed) {
  int late = 0;
  for (auto& s : series_) {
    const uint64_t before = s.closed_total();
    late += s.AddTrade(unix_ns, price_e8, qty_e8) ? 0 : 1;
    if (closed != nullptr && s.closed_total() != before) closed->push_back(&s);
  }
  return late;
}

const CandleSeries* CandleSet::Find(uint32_t interval_s) const {
  for (auto& s : series_) {
    if (s.interval_s() == interval_s) return &s;
  }
  return nullptr;
}

}  // namespace tickmesh::market_data
