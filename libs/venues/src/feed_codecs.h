// Internal: per-venue FeedCodec factories (MakeFeedCodec dispatches to these).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "tickmesh/venues/feed.h"

namespace tickmesh::venues::internal {

absl::StatusOr<std::unique_ptr<FeedCodec>> MakeBinanceFeed(const SymbolMap& symbols,
                                                           FeedOptions options);
absl::StatusOr<std::unique_ptr<FeedCodec>> MakeKrakenFeed(const SymbolMap& symbols,
                                                          FeedOptions options);
absl::StatusOr<std::unique_ptr<FeedCodec>> MakeBybitFeed(const SymbolMap& symbols,
                                                         FeedOptions options);
absl::StatusOr<std::unique_ptr<FeedCodec>> MakeHyperliquidFeed(const SymbolMap& symbols,
                                                               FeedOptions options);

}  // namespace tickmesh::venues::internal
