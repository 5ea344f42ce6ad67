#include "paper_venue.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "fixed_point.h"
#include "order_manager.h"
#include "symbol.h"

namespace tickmesh::execution {

using tickmesh::v1::Order;
using tickmesh::v1::Side;

namespace {

std::string QuoteAsset(const std::string& symbol) {
  auto pair = SplitSymbol(symbol);
  return pair.ok() ? pair->quote : std::string();
}

// Walks `levels` (best first) taking up to `qty` at prices acceptable to `accept`. Appends one
// (price, qty) per level touched; returns the quantity taken.
template <typename Levels, typename Accept>
int64_t Walk(const Levels& levels, int64_t qty, Accept accept,
             std::vector<std::pair<int64_t, int64_t>>* takes) {
  int64_t taken = 0;
  for (const auto& [price, level_qty] : levels) {
    if (taken == qty || !accept(price)) break;
    const int64_t take = std::min(level_qty, qty - taken);
    if (take <= 0) continue;
    if (takes != nullptr) takes->emplace_back(price, take);
    taken += take;
  }
  return taken;
}

}  // namespace

absl::Status PaperVenue::ApplyMarketEvent(const tickmesh::v1::MarketEvent& event,
                                          std::vector<VenueFill>* fills) {
  if (!event.has_snapshot() && !event.has_delta()) return absl::OkStatus();
  const std::string key = InstrumentKey(event.venue(), event.symbol());
  auto it = books_.find(key);
  if (it == books_.end()) {
    if (books_.size() >= kMaxInstruments) {
      return absl::ResourceExhaustedError("too many instruments; book not kept");
    }
    if (event.venue().empty() || event.symbol().empty()) {
      return absl::InvalidArgumentError("market event without venue or symbol");
    }
    it = books_.emplace(key, L2Book()).first;
  }
  L2Book& book = it->second;
  absl::Status s = event.has_snapshot() ? book.ApplySnapshot(event.snapshot(), event.seq())
                                        : book.ApplyDelta(event.delta(), event.seq());
  if (s.ok() && book.usable()) MatchResting(key, book, fills);
  return s;
}

void PaperVenue::MatchResting(const std::string& key, const L2Book& book,
                              std::vector<VenueFill>* fills) {
  auto rit = resting_.find(key);
  if (rit == resting_.end() || rit->second.empty()) return;
  auto& orders = rit->second;
  // Candidates per side, best price first then oldest.
  std::vector<Resting*> buys, sells;
  for (auto& [n, r] : orders) (r.side == tickmesh::v1::SIDE_BUY ? buys : sells).push_back(&r);
  std::stable_sort(buys.begin(), buys.end(),
                   [](const Resting* a, const Resting* b) { return a->price_e8 > b->price_e8; });
  std::stable_sort(sells.begin(), sells.end(),
                   [](const Resting* a, const Resting* b) { return a->price_e8 < b->price_e8; });

  std::vector<std::string> done;
  auto match = [&](std::vector<Resting*>& side, auto& levels, auto crosses) {
    // Copy of the crossing liquidity, consumed as resting orders take it within this update.
    std::vector<std::pair<int64_t, int64_t>> avail;
    for (const auto& lv : levels) avail.emplace_back(lv.first, lv.second);
    size_t level = 0;
    for (Resting* r : side) {
      int64_t taken = 0;
      while (level < avail.size() && taken < r->remaining_e8 &&
             crosses(avail[level].first, r->price_e8)) {
        const int64_t take = std::min(avail[level].second, r->remaining_e8 - taken);
        taken += take;
        avail[level].second -= take;
        if (avail[level].second == 0) ++level;
      }
      if (taken == 0) break;  // worse-priced orders cannot cross either
      VenueFill f;
      f.order_id = r->order_id;
      f.price_e8 = r->price_e8;
      f.qty_e8 = taken;
      f.liquidity = tickmesh::v1::LIQUIDITY_MAKER;
      f.fee_e8 = FeeE8(MulE8(f.price_e8, taken).value_or(0), options_.maker_fee_bps).value_or(0);
      r->remaining_e8 -= taken;
      fills->push_back(std::move(f));
      if (r->remaining_e8 == 0) done.push_back(r->order_id);
    }
  };
  match(buys, book.asks(), [](int64_t ask, int64_t limit) { return ask <= limit; });
  match(sells, book.bids(), [](int64_t bid, int64_t limit) { return bid >= limit; });
  if (!fills->empty()) {
    const std::string quote = QuoteAsset(key.substr(key.find('\x1f') + 1));
    for (auto& f : *fills) {
      if (f.fee_asset.empty()) f.fee_asset = quote;
    }
  }
  for (const auto& id : done) CancelResting(id);
}

ExecutionReport PaperVenue::Execute(const Order& order) {
  ExecutionReport report;
  auto bit = books_.find(InstrumentKey(order.venue(), order.symbol()));
  if (bit == books_.end() || !bit->second.usable()) {
    report.reject_reason = "venue:no_market";
    return report;
  }
  const L2Book& book = bit->second;
  const bool buy = order.side() == tickmesh::v1::SIDE_BUY;
  if ((buy && book.asks().empty() && order.type() == tickmesh::v1::ORDER_TYPE_MARKET) ||
      (!buy && book.bids().empty() && order.type() == tickmesh::v1::ORDER_TYPE_MARKET)) {
    report.reject_reason = "venue:no_market";
    return report;
  }
  report.venue_order_id = absl::StrCat("p-", next_venue_id_++);
  const bool is_limit = order.type() == tickmesh::v1::ORDER_TYPE_LIMIT;
  const int64_t limit = order.price_e8();
  const int64_t want = order.qty_e8() - order.filled_qty_e8();
  std::vector<std::pair<int64_t, int64_t>> takes;
  auto walk = [&](std::vector<std::pair<int64_t, int64_t>>* out) {
    return buy ? Walk(
                     book.asks(), want, [&](int64_t p) { return !is_limit || p <= limit; }, out)
               : Walk(
                     book.bids(), want, [&](int64_t p) { return !is_limit || p >= limit; }, out);
  };
  const tickmesh::v1::TimeInForce tif = order.time_in_force();
  if (tif == tickmesh::v1::TIME_IN_FORCE_FOK && walk(nullptr) < want) {
    report.remainder = ExecutionReport::Remainder::kExpire;
    return report;
  }
  const int64_t taken = walk(&takes);
  const std::string quote = QuoteAsset(order.symbol());
  for (const auto& [price, qty] : takes) {
    VenueFill f;
    f.order_id = order.order_id();
    f.price_e8 = price;
    f.qty_e8 = qty;
    f.fee_e8 = FeeE8(MulE8(price, qty).value_or(0), options_.taker_fee_bps).value_or(0);
    f.fee_asset = quote;
    f.liquidity = tickmesh::v1::LIQUIDITY_TAKER;
    report.fills.push_back(std::move(f));
  }
  if (taken == want) return report;
  const bool rests = is_limit && (tif == tickmesh::v1::TIME_IN_FORCE_GTC ||
                                  tif == tickmesh::v1::TIME_IN_FORCE_UNSPECIFIED);
  if (!rests) {
    report.remainder = ExecutionReport::Remainder::kCancel;
    return report;
  }
  report.remainder = ExecutionReport::Remainder::kRest;
  const std::string key = InstrumentKey(order.venue(), order.symbol());
  Resting r;
  r.order_id = order.order_id();
  r.order_number = OrderNumber(order.order_id());
  r.side = order.side();
  r.price_e8 = limit;
  r.remaining_e8 = want - taken;
  resting_[key][r.order_number] = r;
  resting_index_[r.order_id] = key;
  return report;
}

bool PaperVenue::RestoreResting(const Order& order) {
  const bool gtc = order.time_in_force() == tickmesh::v1::TIME_IN_FORCE_GTC ||
                   order.time_in_force() == tickmesh::v1::TIME_IN_FORCE_UNSPECIFIED;
  const int64_t remaining = order.qty_e8() - order.filled_qty_e8();
  if (order.type() != tickmesh::v1::ORDER_TYPE_LIMIT || !gtc || remaining <= 0 ||
      order.price_e8() <= 0 || resting_index_.count(order.order_id()) != 0) {
    return false;
  }
  const std::string key = InstrumentKey(order.venue(), order.symbol());
  Resting r;
  r.order_id = order.order_id();
  r.order_number = OrderNumber(order.order_id());
  r.side = order.side();
  r.price_e8 = order.price_e8();
  r.remaining_e8 = remaining;
  resting_[key][r.order_number] = r;
  resting_index_[r.order_id] = key;
  return true;
}

bool PaperVenue::CancelResting(const std::string& order_id) {
  auto it = resting_index_.find(order_id);
  if (it == resting_index_.end()) return false;
  auto rit = resting_.find(it->second);
  if (rit != resting_.end()) {
    rit->second.erase(OrderNumber(order_id));
    if (rit->second.empty()) resting_.erase(rit);
  }
  resting_index_.erase(it);
  return true;
}

void PaperVenue::MarkAllStale() {
  for (auto& [key, book] : books_) book.MarkStale();
}

std::optional<int64_t> PaperVenue::Mid(const std::string& venue, const std::string& symbol) const {
  const L2Book* b = Book(venue, symbol);
  return b == nullptr ? std::nullopt : b->Mid();
}

const L2Book* PaperVenue::Book(const std::string& venue, const std::string& symbol) const {
  auto it = books_.find(InstrumentKey(venue, symbol));
  return it == books_.end() ? nullptr : &it->second;
}

}  // namespace tickmesh::execution
