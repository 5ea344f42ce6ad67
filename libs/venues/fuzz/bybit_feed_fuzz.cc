// libFuzzer target for the bybit FeedCodec (see feed_fuzz.h for the input format and checks).
#include "feed_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return tickmesh::venues::fuzz::RunFeedFuzz(tickmesh::venues::Venue::kBybit, {"BTC-USDT"}, data,
                                             size);
}
