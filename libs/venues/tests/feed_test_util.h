// Helpers for the FeedCodec tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "tickmesh/venues/feed.h"

namespace tickmesh::venues::testing {

inline constexpr int64_t kRecvNs = 1'700'000'000'123'456'789;

struct Decoded {
  absl::Status status;
  std::vector<tickmesh::v1::MarketEvent> events;
};

inline Decoded Decode(FeedCodec& codec, std::string_view frame) {
  Decoded d;
  d.status = codec.Decode(frame, kRecvNs, &d.events);
  return d;
}

inline std::unique_ptr<FeedCodec> MakeCodec(Venue venue, std::vector<std::string> symbols,
                                            FeedOptions options = {}) {
  auto map = SymbolMap::Create(std::move(symbols));
  EXPECT_TRUE(map.ok()) << map.status();
  auto codec = MakeFeedCodec(venue, *map, std::move(options));
  EXPECT_TRUE(codec.ok()) << codec.status();
  return std::move(*codec);
}

// Every event of one symbol must carry seq = previous + 1.
inline void ExpectContiguousSeqs(const std::vector<tickmesh::v1::MarketEvent>& events,
                                 uint64_t first) {
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].seq(), first + i) << i;
}

}  // namespace tickmesh::venues::testing
