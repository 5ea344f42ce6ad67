// Shared libFuzzer body for the per-venue FeedCodec targets: the input is split into lines, each
// line one WebSocket frame (a line starting with "SNAPSHOT " is instead a REST snapshot body for
// every pending snapshot request). Checks what FeedCodec promises: no crash, nothing appended on
// INVALID_ARGUMENT, and per-symbol seqs contiguous from 1 with every event fully labelled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tickmesh/venues/feed.h"

namespace tickmesh::venues::fuzz {

inline void CheckEvents(const std::vector<tickmesh::v1::MarketEvent>& events, size_t from,
                        std::string_view venue, std::map<std::string, uint64_t>* last_seq) {
  for (size_t i = from; i < events.size(); ++i) {
    const auto& e = events[i];
    if (e.venue() != venue || e.symbol().empty() || e.receive_unix_ns() != 42 ||
        e.payload_case() == tickmesh::v1::MarketEvent::PAYLOAD_NOT_SET) {
      std::abort();
    }
    uint64_t& last = (*last_seq)[e.symbol()];
    if (e.seq() != last + 1) std::abort();
    last = e.seq();
  }
}

inline int RunFeedFuzz(Venue venue, const std::vector<std::string>& symbols, const uint8_t* data,
                       size_t size) {
  static const SymbolMap* map = new SymbolMap(*SymbolMap::Create(symbols));
  auto codec = MakeFeedCodec(venue, *map);
  if (!codec.ok()) std::abort();
  std::map<std::string, uint64_t> last_seq;
  std::vector<tickmesh::v1::MarketEvent> events;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    const size_t nl = input.find('\n');
    const std::string_view line = input.substr(0, nl);
    input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    const size_t before = events.size();
    if (line.substr(0, 9) == "SNAPSHOT ") {
      for (const std::string& symbol : (*codec)->TakeSnapshotRequests()) {
        const absl::Status s = (*codec)->ApplySnapshot(symbol, line.substr(9), 42, &events);
        if (!s.ok() && events.size() != before) std::abort();
      }
    } else {
      const absl::Status s = (*codec)->Decode(line, 42, &events);
      if (absl::IsInvalidArgument(s) && events.size() != before) std::abort();
    }
    CheckEvents(events, before, VenueName(venue), &last_seq);
    if (events.size() > 100'000) events.clear();
  }
  return 0;
}

}  // namespace tickmesh::venues::fuzz
