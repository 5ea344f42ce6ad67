#include "tickmesh/venues/feed.h"

#include "feed_codecs.h"

namespace tickmesh::venues {

absl::StatusOr<std::unique_ptr<FeedCodec>> MakeFeedCodec(Venue venue, const SymbolMap& symbols,
                                                         FeedOptions options) {
  if (symbols.tickmesh_symbols().empty()) {
    return absl::InvalidArgumentError("a feed needs at least one symbol");
  }
  if (options.max_buffered_events == 0 || options.max_frame_bytes == 0) {
    return absl::InvalidArgumentError("max_buffered_events and max_frame_bytes must be > 0");
  }
  if (absl::Status s = symbols.CheckVenue(venue); !s.ok()) return s;
  switch (venue) {
    case Venue::kBinance:
      return internal::MakeBinanceFeed(symbols, std::move(options));
    case Venue::kKraken:
      return internal::MakeKrakenFeed(symbols, std::move(options));
    case Venue::kBybit:
      return internal::MakeBybitFeed(symbols, std::move(options));
    case Venue::kHyperliquid:
      return internal::MakeHyperliquidFeed(symbols, std::move(options));
  }
  return absl::InvalidArgumentError("unknown venue");
}

}  // namespace tickmesh::venues
