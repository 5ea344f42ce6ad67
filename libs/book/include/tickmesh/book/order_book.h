// OrderBook: one L2 price-level book for one (venue, symbol), keyed by int64 fixed-point prices
// (price_e8), with a bounded number of levels per side.
//
// Layout: each side is a vector of levels sorted so that the best level is at the back (bids
// ascending, asks descending). Feed updates cluster at the top of the book, so inserts and
// removals there move only a few elements and finding a level is a short binary search over
// contiguous memory. No allocation per update once a side has reached its working size.
//
// Bounded depth: a side never holds more than max_depth() levels. A new level that would be worse
// than the worst held level of a full side is discarded; a new level better than it evicts the
// worst level. Levels beyond the bound are therefore not tracked (count them via
// discarded_levels()); a consumer that needs the full book must configure a larger depth.
//
// Example:
//   OrderBook book(/*max_depth=*/1000);
//   if (auto s = book.ApplySnapshot(snapshot); !s.ok()) return s;
//   book.ApplyDelta(delta);
//   if (auto bid = book.BestBid()) Use(bid->price_e8);
//
// Not thread-safe: the owner serialises access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "tickmesh/v1/market_data.pb.h"

namespace tickmesh::book {

// One price level: price and absolute quantity, both scaled by 1e8.
struct Level {
  int64_t price_e8 = 0;
  int64_t qty_e8 = 0;
  friend bool operator==(const Level&, const Level&) = default;
};

class OrderBook {
 public:
  // Default number of levels kept per side.
  static constexpr size_t kDefaultMaxDepth = 1000;

  // Read-only view of one side's held levels, best first, without copying (iterates `Level`s;
  // `for (const auto& [price_e8, qty_e8] : book.BidLevels())`). Invalidated by any change to the
  // book.
  class SideView {
   public:
    using const_iterator = std::vector<Level>::const_reverse_iterator;
    const_iterator begin() const { return side_->rbegin(); }
    const_iterator end() const { return side_->rend(); }
    size_t size() const { return side_->size(); }
    bool empty() const { return side_->empty(); }
    // The i-th best level; i < size().
    const Level& operator[](size_t i) const { return (*side_)[side_->size() - 1 - i]; }

   private:
    friend class OrderBook;
    explicit SideView(const std::vector<Level>* side) : side_(side) {}
    const std::vector<Level>* side_;
  };

  // `max_depth` levels per side are kept (at least 1).
  explicit OrderBook(size_t max_depth = kDefaultMaxDepth);

  // INVALID_ARGUMENT naming the side and level index unless every level has price > 0 and
  // qty > 0, bids are strictly descending and asks strictly ascending (best first, as in the
  // proto). A crossed snapshot is valid (it is detected, not rejected).
  static absl::Status ValidateSnapshot(const tickmesh::v1::BookSnapshot& snapshot);
  // INVALID_ARGUMENT naming the side and level index unless every level has price > 0 and
  // qty >= 0 (qty 0 removes the level). Repeated prices are allowed; the last one wins.
  static absl::Status ValidateDelta(const tickmesh::v1::BookDelta& delta);

  // Replaces the whole book with `snapshot` (truncated to max_depth() levels a side). On an
  // invalid snapshot returns ValidateSnapshot's error and leaves the book unchanged.
  absl::Status ApplySnapshot(const tickmesh::v1::BookSnapshot& snapshot);
  // Applies changed levels (absolute quantities; qty 0 removes the level, removing an absent
  // level is a no-op). On an invalid delta returns ValidateDelta's error and leaves the book
  // unchanged.
  absl::Status ApplyDelta(const tickmesh::v1::BookDelta& delta);

  // Single-level updates without validation; `price_e8` must be > 0 and `qty_e8` >= 0.
  // ~tens of ns near the top of the book; no allocation unless the side grows.
  void SetBid(int64_t price_e8, int64_t qty_e8);
  void SetAsk(int64_t price_e8, int64_t qty_e8);

  // Removes every level.
  void Clear();

  // Best (highest) bid / best (lowest) ask, if the side is not empty.
  std::optional<Level> BestBid() const;
  std::optional<Level> BestAsk() const;

  // True when both sides are non-empty and best bid >= best ask.
  bool crossed() const;

  // Every held level of a side, best first, as a view (no copy, no allocation).
  SideView BidLevels() const { return SideView(&bids_); }
  SideView AskLevels() const { return SideView(&asks_); }
  // Quantity held at exactly `price_e8`, 0 when the side holds no such level (binary search).
  int64_t BidQtyAt(int64_t price_e8) const;
  int64_t AskQtyAt(int64_t price_e8) const;

  // Up to `n` levels per side, best first (n == 0 means all held levels).
  std::vector<Level> Bids(size_t n = 0) const;
  std::vector<Level> Asks(size_t n = 0) const;
  // Writes up to `n` levels per side (0 = all) into `out`, best first, replacing its content.
  void Depth(size_t n, tickmesh::v1::BookSnapshot* out) const;

  size_t bid_levels() const { return bids_.size(); }
  size_t ask_levels() const { return asks_.size(); }
  size_t max_depth() const { return max_depth_; }
  // Levels dropped because a side was full (since construction).
  uint64_t discarded_levels() const { return discarded_levels_; }

 private:
  // Sets one level of a best-at-back side (bids ascending, asks descending).
  template <bool kIsBid>
  void Set(std::vector<Level>& side, int64_t price_e8, int64_t qty_e8);

  size_t max_depth_;
  std::vector<Level> bids_;  // ascending price; best bid at back()
  std::vector<Level> asks_;  // descending price; best ask at back()
  uint64_t discarded_levels_ = 0;
};

}  // namespace tickmesh::book
