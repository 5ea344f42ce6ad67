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

}  // namespace

absl::Status L2Book::ApplySnapshot(const tickmesh::v1::BookSnapshot& snapshot, uint64_t seq) {
  if (auto s = ValidateLevels(snapshot.bids(), "bids"); !s.ok()) return s;
  if (auto s = ValidateLevels(snapshot.asks(), "asks"); !s.ok()) return s;
  if (tickmesh::book::OrderBook::ValidateSnapshot(snapshot).ok()) {
    // The usual case (sorted best first, no empty levels): loaded in one pass.
    (void)book_.ApplySnapshot(snapshot);
  } else {
    // Valid for this stream but not in book order (unsorted, qty 0 levels, repeated prices):
    // level by level, with the same depth bound.
    book_.Clear();
    for (const auto& l : snapshot.bids()) book_.SetBid(l.price_e8(), l.qty_e8());
    for (const auto& l : snapshot.asks()) book_.SetAsk(l.price_e8(), l.qty_e8());
  }
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
  // Validates every level first (price > 0, qty >= 0): a malformed delta changes nothing.
  if (auto s = book_.ApplyDelta(delta); !s.ok()) return s;
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
  book_.Clear();
  usable_ = false;
}

std::optional<std::pair<int64_t, int64_t>> L2Book::BestBid() const {
  if (!usable_) return std::nullopt;
  auto b = book_.BestBid();
  if (!b) return std::nullopt;
  return std::pair{b->price_e8, b->qty_e8};
}

std::optional<std::pair<int64_t, int64_t>> L2Book::BestAsk() const {
  if (!usable_) return std::nullopt;
  auto a = book_.BestAsk();
  if (!a) return std::nullopt;
  return std::pair{a->price_e8, a->qty_e8};
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
