// Internal: helpers shared by the OrderApi implementations.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "feed_common.h"
#include "tickmesh/net/http.h"
#include "tickmesh/venues/orders.h"

namespace tickmesh::venues::internal {

// Runs `fn(doc)` over a JSON body with a thread-local on-demand parser. simdjson and FrameError
// exceptions become INTERNAL "<venue>: unparsable response: ..." (a venue answering something we
// do not understand is not the caller's fault). `fn` returns a Status of its own.
absl::Status WithJson(Venue venue, std::string_view body,
                      const std::function<absl::Status(od::document&)>& fn);

// Validates common OrderParams fields; INVALID_ARGUMENT with the reason.
absl::Status ValidateOrder(const OrderParams& p);
absl::Status ValidateClientOrderId(std::string_view id);

// Wall clock unless options.now_unix_ms is set.
int64_t NowMs(const OrderApiOptions& options);

absl::StatusOr<std::unique_ptr<OrderApi>> MakeBinanceOrderApi(const SymbolMap& symbols,
                                                              Credentials credentials,
                                                              OrderApiOptions options);
absl::StatusOr<std::unique_ptr<OrderApi>> MakeKrakenOrderApi(const SymbolMap& symbols,
                                                             Credentials credentials,
                                                             OrderApiOptions options);
absl::StatusOr<std::unique_ptr<OrderApi>> MakeBybitOrderApi(const SymbolMap& symbols,
                                                            Credentials credentials,
                                                            OrderApiOptions options);

// avg = quote / qty at scale 1e8, with 128-bit intermediates; 0 when qty is 0.
int64_t AveragePriceE8(int64_t quote_e8, int64_t qty_e8);

}  // namespace tickmesh::venues::internal
