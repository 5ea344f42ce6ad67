#include "tickmesh/book/order_book.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"

namespace tickmesh::book {
namespace {

using tickmesh::v1::PriceLevel;

// Index of the first level not worse than `price` in a best-at-back side, i.e. the position where
// `price` is or would be inserted. Bids are ascending (worse = lower), asks descending (worse =
// higher). Feed updates cluster near the best level, so a short scan from the back runs first.
template <bool kIsBid>
size_t FindPosition(const std::vector<Level>& side, int64_t price) {
  auto worse = [](int64_t a, int64_t b) { return kIsBid ? a < b : a > b; };
  const size_t n = side.size();
  constexpr size_t kScan = 8;
  size_t i = n;
  for (size_t steps = 0; i > 0 && steps < kScan; --i, ++steps) {
    if (worse(side[i - 1].price_e8, price)) return i;
  }
  if (i == 0) return 0;
  // side[i] is not worse than price (or i == n - kScan); search [0, i).
  auto it = std::partition_point(side.begin(), side.begin() + static_cast<ptrdiff_t>(i),
                                 [&](const Level& l) { return worse(l.price_e8, price); });
  return static_cast<size_t>(it - side.begin());
}

absl::Status ValidateLevels(const google::protobuf::RepeatedPtrField<PriceLevel>& levels,
                            const char* side, bool allow_zero_qty, int order) {
  for (int i = 0; i < levels.size(); ++i) {
    const PriceLevel& l = levels[i];
    if (l.price_e8() <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(side, "[", i, "].price_e8 must be > 0, got ", l.price_e8()));
    }
    if (l.qty_e8() < 0 || (!allow_zero_qty && l.qty_e8() == 0)) {
      return absl::InvalidArgumentError(absl::StrCat(side, "[", i, "].qty_e8 must be ",
                                                     allow_zero_qty ? ">= 0" : "> 0", ", got ",
                                                     l.qty_e8()));
    }
    if (order != 0 && i > 0) {
      const int64_t prev = levels[i - 1].price_e8();
      const bool ok = order < 0 ? l.price_e8() < prev : l.price_e8() > prev;
      if (!ok) {
        return absl::InvalidArgumentError(
            absl::StrCat(side, "[", i, "].price_e8 ", l.price_e8(), " must be strictly ",
                         order < 0 ? "below" : "above", " the previous level ", prev));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

OrderBook::OrderBook(size_t max_depth) : max_depth_(std::max<size_t>(1, max_depth)) {}

absl::Status OrderBook::ValidateSnapshot(const tickmesh::v1::BookSnapshot& snapshot) {
  if (auto s = ValidateLevels(snapshot.bids(), "bids", /*allow_zero_qty=*/false, -1); !s.ok()) {
    return s;
  }
  return ValidateLevels(snapshot.asks(), "asks", /*allow_zero_qty=*/false, +1);
}

absl::Status OrderBook::ValidateDelta(const tickmesh::v1::BookDelta& delta) {
  if (auto s = ValidateLevels(delta.bids(), "bids", /*allow_zero_qty=*/true, 0); !s.ok()) {
    return s;
  }
  return ValidateLevels(delta.asks(), "asks", /*allow_zero_qty=*/true, 0);
}

absl::Status OrderBook::ApplySnapshot(const tickmesh::v1::BookSnapshot& snapshot) {
  if (auto s = ValidateSnapshot(snapshot); !s.ok()) return s;
  auto load = [&](const google::protobuf::RepeatedPtrField<PriceLevel>& in,
                  std::vector<Level>& side) {
    const size_t keep = std::min<size_t>(static_cast<size_t>(in.size()), max_depth_);
    discarded_levels_ += static_cast<size_t>(in.size()) - keep;
    side.clear();
    side.reserve(keep);
    // Input is best first; the side is stored best at the back.
    for (size_t i = keep; i > 0; --i) {
      const PriceLevel& l = in[static_cast<int>(i - 1)];
      side.push_back(Level{l.price_e8(), l.qty_e8()});
    }
  };
  load(snapshot.bids(), bids_);
  load(snapshot.asks(), asks_);
  return absl::OkStatus();
}

absl::Status OrderBook::ApplyDelta(const tickmesh::v1::BookDelta& delta) {
  if (auto s = ValidateDelta(delta); !s.ok()) return s;
  for (const PriceLevel& l : delta.bids()) SetBid(l.price_e8(), l.qty_e8());
  for (const PriceLevel& l : delta.asks()) SetAsk(l.price_e8(), l.qty_e8());
  return absl::OkStatus();
}

template <bool kIsBid>
void OrderBook::Set(std::vector<Level>& side, int64_t price_e8, int64_t qty_e8) {
  size_t pos = FindPosition<kIsBid>(side, price_e8);
  if (pos < side.size() && side[pos].price_e8 == price_e8) {
    if (qty_e8 == 0) {
      side.erase(side.begin() + static_cast<ptrdiff_t>(pos));
    } else {
      side[pos].qty_e8 = qty_e8;
    }
    return;
  }
  if (qty_e8 == 0) return;  // Removing an absent level.
  if (side.size() >= max_depth_) {
    if (pos == 0) {  // Worse than the worst held level of a full side.
      ++discarded_levels_;
      return;
    }
    side.erase(side.begin());  // Evict the worst level.
    ++discarded_levels_;
    --pos;
  }
  side.insert(side.begin() + static_cast<ptrdiff_t>(pos), Level{price_e8, qty_e8});
}

void OrderBook::SetBid(int64_t price_e8, int64_t qty_e8) { Set<true>(bids_, price_e8, qty_e8); }

int64_t OrderBook::BidQtyAt(int64_t price_e8) const {
  const size_t pos = FindPosition<true>(bids_, price_e8);
  return pos < bids_.size() && bids_[pos].price_e8 == price_e8 ? bids_[pos].qty_e8 : 0;
}

int64_t OrderBook::AskQtyAt(int64_t price_e8) const {
  const size_t pos = FindPosition<false>(asks_, price_e8);
  return pos < asks_.size() && asks_[pos].price_e8 == price_e8 ? asks_[pos].qty_e8 : 0;
}
void OrderBook::SetAsk(int64_t price_e8, int64_t qty_e8) { Set<false>(asks_, price_e8, qty_e8); }

void OrderBook::Clear() {
  bids_.clear();
  asks_.clear();
}

std::optional<Level> OrderBook::BestBid() const {
  if (bids_.empty()) return std::nullopt;
  return bids_.back();
}

std::optional<Level> OrderBook::BestAsk() const {
  if (asks_.empty()) return std::nullopt;
  return asks_.back();
}

bool OrderBook::crossed() const {
  return !bids_.empty() && !asks_.empty() && bids_.back().price_e8 >= asks_.back().price_e8;
}

namespace {
std::vector<Level> TopOf(const std::vector<Level>& side, size_t n) {
  const size_t k = (n == 0 || n > side.size()) ? side.size() : n;
  return std::vector<Level>(side.rbegin(), side.rbegin() + static_cast<ptrdiff_t>(k));
}
void CopyTop(const std::vector<Level>& side, size_t n,
             google::protobuf::RepeatedPtrField<PriceLevel>* out) {
  const size_t k = (n == 0 || n > side.size()) ? side.size() : n;
  out->Clear();
  out->Reserve(static_cast<int>(k));
  for (size_t i = 0; i < k; ++i) {
    const Level& l = side[side.size() - 1 - i];
    PriceLevel* p = out->Add();
    p->set_price_e8(l.price_e8);
    p->set_qty_e8(l.qty_e8);
  }
}
}  // namespace

std::vector<Level> OrderBook::Bids(size_t n) const { return TopOf(bids_, n); }
std::vector<Level> OrderBook::Asks(size_t n) const { return TopOf(asks_, n); }

void OrderBook::Depth(size_t n, tickmesh::v1::BookSnapshot* out) const {
  CopyTop(bids_, n, out->mutable_bids());
  CopyTop(asks_, n, out->mutable_asks());
}

}  // namespace tickmesh::book
