// libFuzzer target for the replay line parser (replay_parser.h): arbitrary bytes as one line
// must never crash, hang or leak, and a parsed event must satisfy what the parser promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "replay_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* parser = new tickmesh::market_data::ReplayLineParser();
  const absl::string_view line(reinterpret_cast<const char*>(data), size);
  tickmesh::v1::MarketEvent event;
  if (parser->Parse(line, &event).ok()) {
    // Promises of a successful parse.
    if (event.venue().empty() || event.symbol().empty() || event.seq() == 0 ||
        event.receive_unix_ns() <= 0 ||
        event.payload_case() == tickmesh::v1::MarketEvent::PAYLOAD_NOT_SET) {
      std::abort();
    }
  }
  if (auto d = tickmesh::market_data::ParseDecimalE8(line); d.ok() && *d < 0) std::abort();
  return 0;
}
