#include "l2_book.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace tickmesh::execution {
namespace {

absl::Status ValidateLevels(const google::protobuf::RepeatedPtrField<tickmesh::v1::PriceLevel>& lv,
                            const char* side) {
  for (int i = 0; i < lv.size(); ++i) {
    if (lv[i].price_e8() <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(side, "[", i, "].price_e8 must be > 0"));
    }
    if (lv[i].qty_e8() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(side, "[", i, "].qty_e8 must be >= 0"));
    }
  }
  return absl::OkStatus();
}

template <typename Map>
void SetLevel(Map& side, int64_t price, int64_t qty) {
  if (qty == 0) {
    side.erase(price);
    return;
  }
  side[price] = qty;
  if (side.size() > kMaxLevelsPerSide) side.erase(std::prev(side.end()));  // worst price
}

}  // namespace

absl::Status L2Book::ApplySnapshot(const tickmesh::v1::BookSnapshot& snapshot, uint64_t seq) {
  if (auto s = ValidateLevels(snapshot.bids(), "bids"); !s.ok()) return s;
  if (auto s = ValidateLevels(snapshot.asks(), "asks"); !s.ok()) return s;
  bids_.clear();
  asks_.clear();
  for (const auto& l : snapshot.bids()) SetLevel(bids_, l.price_e8(), l.qty_e8());
  for (const auto& l : snapshot.asks()) SetLevel(asks_, l.price_e8(), l.qty_e8());
  last_seq_ = seq;
  usable_ = true;
  return absl::OkStatus();
}

absl::Status L2Book::ApplyDelta(const tickmesh::v1::BookDelta& delta, uint64_t seq) {
  if (!usable_) return absl::FailedPreconditionError("book stale: waiting for a snapshot");
  if (seq != 0 && seq <= last_seq_) return absl::OkStatus();  // old or repeated
  if (seq != 0 && seq != last_seq_ + 1) {
    const uint64_t expected = last_seq_ + 1;
    MarkStale();
    return absl::DataLossError(absl::StrCat("seq gap: expected ", expected, " got ", seq));
  }
  if (auto s = ValidateLevels(delta.bids(), "bids"); !s.ok()) return s;
  if (auto s = ValidateLevels(delta.asks(), "asks"); !s.ok()) return s;
  for (const auto& l : delta.bids()) SetLevel(bids_, l.price_e8(), l.qty_e8());
  for (const auto& l : delta.asks()) SetLevel(asks_, l.price_e8(), l.qty_e8());
  if (seq != 0) last_seq_ = seq;
  return absl::OkStatus();
}

absl::Status L2Book::AdvanceSeq(uint64_t seq) {
  if (!usable_) return absl::FailedPreconditionError("book stale: waiting for a snapshot");
  if (seq == 0 || seq <= last_seq_) return absl::OkStatus();
  if (seq != last_seq_ + 1) {
    const uint64_t expected = last_seq_ + 1;
    MarkStale();
    return absl::DataLossError(absl::StrCat("seq gap: expected ", expected, " got ", seq));
  }
  last_seq_ = seq;
  return absl::OkStatus();
}

void L2Book::MarkStale() {
  bids_.clear();
  asks_.clear();
  usable_ = false;
}

std::optional<std::pair<int64_t, int64_t>> L2Book::BestBid() const {
  if (!usable_ || bids_.empty()) return std::nullopt;
  return *bids_.begin();
}

std::optional<std::pair<int64_t, int64_t>> L2Book::BestAsk() const {
  if (!usable_ || asks_.empty()) return std::nullopt;
  return *asks_.begin();
}

std::optional<int64_t> L2Book::Mid() const {
  auto bid = BestBid();
  auto ask = BestAsk();
  if (bid && ask) return bid->first + (ask->first - bid->first) / 2;
  if (bid) return bid->first;
  if (ask) return ask->first;
  return std::nullopt;
}

}  // namespace tickmesh::execution
