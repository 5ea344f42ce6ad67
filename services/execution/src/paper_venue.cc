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
  for (const auto& [price, level_qty] : levels) {  // book::Level, best first
    if (taken == qty || !accept(price)) break;
    const int64_t take = std::min(level_qty, qty - taken);
    if (take <= 0) continue;
    if (takes != nullptr) takes->emplace_back(price, take);
    taken += take;
  }
  return taken;
}

// Displayed quantity at `price` on `side`'s own side of `book` (bids for a buy), 0 if none.
int64_t OwnLevelQty(const L2Book& book, Side side, int64_t price) {
  return side == tickmesh::v1::SIDE_BUY ? book.BidQtyAt(price) : book.AskQtyAt(price);
}

}  // namespace

void PaperVenue::JoinQueue(Resting& r, const L2Book& book) {
  r.queue_known = true;
  r.level_e8 = OwnLevelQty(book, r.side, r.price_e8);
  r.queue_ahead_e8 = r.level_e8;
}

std::optional<int64_t> PaperVenue::QueueAhead(const std::string& order_id) const {
  auto it = resting_index_.find(order_id);
  if (it == resting_index_.end()) return std::nullopt;
  auto rit = resting_.find(it->second);
  if (rit == resting_.end()) return std::nullopt;
  auto oit = rit->second.find(OrderNumber(order_id));
  if (oit == rit->second.end() || !oit->second.queue_known) return std::nullopt;
  return oit->second.queue_ahead_e8;
}

VenueFill PaperVenue::MakerFill(const Resting& r, int64_t qty) const {
  VenueFill f;
  f.order_id = r.order_id;
  f.price_e8 = r.price_e8;
  f.qty_e8 = qty;
  f.liquidity = tickmesh::v1::LIQUIDITY_MAKER;
  f.fee_e8 = FeeE8(MulE8(f.price_e8, qty).value_or(0), options_.maker_fee_bps).value_or(0);
  return f;
}

void PaperVenue::UpdateQueues(const std::string& key, const L2Book& book) {
  auto rit = resting_.find(key);
  if (rit == resting_.end()) return;
  for (auto& [n, r] : rit->second) {
    if (!r.queue_known) {
      JoinQueue(r, book);
      continue;
    }
    const int64_t level = OwnLevelQty(book, r.side, r.price_e8);
    if (level < r.level_e8) {
      // Cancels spread evenly over the queue: the share ahead shrinks in proportion.
      r.queue_ahead_e8 =
          static_cast<int64_t>(static_cast<__int128>(r.queue_ahead_e8) * level / r.level_e8);
    }
    r.level_e8 = level;
  }
}

void PaperVenue::MatchTrade(const std::string& key, const tickmesh::v1::Trade& trade,
                            std::vector<VenueFill>* fills) {
  auto rit = resting_.find(key);
  if (rit == resting_.end() || rit->second.empty()) return;
  const int64_t p = trade.price_e8();
  const int64_t q = trade.qty_e8();
  // A sell aggressor hits bids (resting buys at or above the print), a buy aggressor lifts asks.
  const bool hits_buys = trade.aggressor_side() != tickmesh::v1::SIDE_BUY;
  const bool hits_sells = trade.aggressor_side() != tickmesh::v1::SIDE_SELL;
  std::vector<Resting*> reached;
  for (auto& [n, r] : rit->second) {
    const bool buy = r.side == tickmesh::v1::SIDE_BUY;
    if (buy ? (hits_buys && r.price_e8 >= p) : (hits_sells && r.price_e8 <= p)) {
      reached.push_back(&r);
    }
  }
  // Best price first (highest buy, lowest sell), then oldest (map order).
  std::stable_sort(reached.begin(), reached.end(), [](const Resting* a, const Resting* b) {
    const int64_t ka = a->side == tickmesh::v1::SIDE_BUY ? -a->price_e8 : a->price_e8;
    const int64_t kb = b->side == tickmesh::v1::SIDE_BUY ? -b->price_e8 : b->price_e8;
    return ka < kb;
  });
  const std::string quote = QuoteAsset(key.substr(key.find('\x1f') + 1));
  int64_t left = q;      // what the print can still give to paper orders
  int64_t at_level = 0;  // given to paper orders at the print's price (older ones first)
  std::vector<std::string> done;
  for (Resting* r : reached) {
    int64_t eligible;
    if (r->price_e8 != p) {  // traded through the order's level
      r->queue_known = true;
      r->queue_ahead_e8 = 0;
      r->level_e8 = 0;
      eligible = left;
    } else {
      if (!r->queue_known) continue;  // no queue to place it in yet
      const int64_t consumed = std::min(r->queue_ahead_e8, q);
      r->queue_ahead_e8 -= consumed;
      r->level_e8 -= std::min(r->level_e8, q);
      eligible = std::min(left, q - consumed - at_level);
    }
    const int64_t take = std::min(eligible, r->remaining_e8);
    if (take <= 0) continue;
    if (r->price_e8 == p) at_level += take;
    VenueFill f = MakerFill(*r, take);
    f.fee_asset = quote;
    fills->push_back(std::move(f));
    left -= take;
    r->remaining_e8 -= take;
    if (r->remaining_e8 == 0) done.push_back(r->order_id);
  }
  for (const auto& id : done) CancelResting(id);
}

absl::Status PaperVenue::ApplyMarketEvent(const tickmesh::v1::MarketEvent& event,
                                          std::vector<VenueFill>* fills) {
  if (event.has_trade() || event.has_ticker()) {
    if (event.has_trade() && (event.trade().price_e8() <= 0 || event.trade().qty_e8() <= 0)) {
      return absl::InvalidArgumentError("trade: price_e8 and qty_e8 must be > 0");
    }
    const std::string key = InstrumentKey(event.venue(), event.symbol());
    // Trades and tickers share the book's sequence numbering: account for them so the next
    // delta is not taken for a gap.
    absl::Status s;
    if (auto it = books_.find(key); it != books_.end()) s = it->second.AdvanceSeq(event.seq());
    if (event.has_trade()) MatchTrade(key, event.trade(), fills);
    return s;
  }
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
  if (s.ok() && book.usable()) {
    UpdateQueues(key, book);
    MatchResting(key, book, fills);
  }
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
  auto match = [&](std::vector<Resting*>& side, const L2Book::Levels& levels, auto crosses) {
    if (side.empty()) return;
    // Copy of the crossing liquidity, consumed as resting orders take it within this update
    // (only the levels that cross the best-priced order).
    std::vector<std::pair<int64_t, int64_t>> avail;
    for (const auto& [price, qty] : levels) {
      if (!crosses(price, side.front()->price_e8)) break;
      avail.emplace_back(price, qty);
    }
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
      r->queue_ahead_e8 = 0;  // the market traded through its level
      r->remaining_e8 -= taken;
      fills->push_back(MakerFill(*r, taken));
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
  JoinQueue(r, book);
  resting_[key][r.order_number] = r;
  resting_index_[r.order_id] = key;
  return report;
}

absl::Status PaperVenue::Send(const Order& order, int64_t now_ns) {
  if (in_flight_.size() >= kMaxInFlight) {
    return absl::ResourceExhaustedError("paper venue: too many orders in flight");
  }
  int64_t arrival = now_ns + std::max<int64_t>(options_.ack_latency_ns, 0);
  if (options_.ack_jitter_ns > 0) {
    std::uniform_int_distribution<int64_t> jitter(0, options_.ack_jitter_ns);
    arrival += jitter(jitter_rng_);
  }
  if (!in_flight_.empty()) arrival = std::max(arrival, in_flight_.back().arrival_ns);
  in_flight_.push_back(InFlight{arrival, order});
  return absl::OkStatus();
}

std::vector<std::pair<Order, ExecutionReport>> PaperVenue::Arrive(int64_t now_ns) {
  std::vector<std::pair<Order, ExecutionReport>> out;
  while (!in_flight_.empty() && in_flight_.front().arrival_ns <= now_ns) {
    Order order = std::move(in_flight_.front().order);
    in_flight_.pop_front();
    ExecutionReport report = Execute(order);
    out.emplace_back(std::move(order), std::move(report));
  }
  return out;
}

bool PaperVenue::CancelInFlight(const std::string& order_id) {
  for (auto it = in_flight_.begin(); it != in_flight_.end(); ++it) {
    if (it->order.order_id() == order_id) {
      in_flight_.erase(it);
      return true;
    }
  }
  return false;
}

std::optional<int64_t> PaperVenue::next_arrival_ns() const {
  if (in_flight_.empty()) return std::nullopt;
  return in_flight_.front().arrival_ns;
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
  if (auto bit = books_.find(key); bit != books_.end() && bit->second.usable())
    JoinQueue(r, bit->second);
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
  // InstrumentKey(venue, symbol) assembled on the stack and looked up as a string_view, no
  // allocation: this runs once per marked position on every risk check after a book change
  // (docs/performance.md, Execution). Longer keys (not a real instrument) take the allocating
  // path.
  const size_t size = venue.size() + 1 + symbol.size();
  if (size > kInlineKeyBytes) {
    auto it = books_.find(InstrumentKey(venue, symbol));
    return it == books_.end() ? nullptr : &it->second;
  }
  char buf[kInlineKeyBytes];
  char* end = std::copy(venue.begin(), venue.end(), buf);
  *end++ = kInstrumentKeySeparator;
  std::copy(symbol.begin(), symbol.end(), end);
  auto it = books_.find(absl::string_view(buf, size));
  return it == books_.end() ? nullptr : &it->second;
}

}  // namespace tickmesh::execution
