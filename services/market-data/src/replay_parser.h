// The replay line format (normalised JSON lines) and its parser, used by the replay connector
// (replay_feed.h) and fuzzed on its own.
//
// Line format (the built-in normalised format; unknown fields are ignored):
//   {"venue":"binance","symbol":"BTC-USDT","seq":42,"recv_ns":1700000000123456789,
//    "exchange_ns":1700000000120000000,"type":"delta",
//    "bids":[["60000.5","1.25"]],"asks":[["60001","0"]]}
//   venue, symbol  non-empty strings (<= 64 bytes)
//   seq            integer > 0, per (venue, symbol)
//   recv_ns        integer > 0: when the recorder received the event (unix ns); drives pacing
//   exchange_ns    integer >= 0, optional: venue time (unix ns)
//   type           "snapshot" | "delta" (bids/asks: [["price","qty"], ...], best first for a
//                  snapshot; qty "0" removes a level in a delta)
//                  "trade"  (price, qty, optional side "buy"|"sell", optional trade_id)
//                  "ticker" (bid_price, bid_qty, ask_price, ask_qty, last_price; each optional)
//   Prices and quantities are decimal strings ("60000.5", "0.00000001"): digits with an optional
//   fraction of at most 8 significant decimals, converted to the 1e8 fixed-point scale exactly
//   (no floating point). Signs, exponents and more precision than 1e-8 are malformed.
// Anything after the object on the same line is malformed. Event validity beyond the format (seq
// order, level ordering, crossed books) is MarketData::Ingest's job.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tickmesh/v1/market_data.pb.h"

namespace tickmesh::market_data {

// "60000.5" -> 6000050000000. INVALID_ARGUMENT for anything but digits with an optional '.'
// fraction, more than 8 significant fractional digits, or a value above INT64_MAX / 1e8.
absl::StatusOr<int64_t> ParseDecimalE8(absl::string_view text);

// Parses lines of the replay format. Reuses its buffers: no allocation per line once warm
// beyond the event's own fields. Not thread-safe.
class ReplayLineParser {
 public:
  ReplayLineParser();
  ~ReplayLineParser();
  ReplayLineParser(const ReplayLineParser&) = delete;
  ReplayLineParser& operator=(const ReplayLineParser&) = delete;

  // Parses one line into `out` (cleared first). INVALID_ARGUMENT naming the field on malformed
  // input; `out` is then unspecified.
  absl::Status Parse(absl::string_view line, tickmesh::v1::MarketEvent* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickmesh::market_data
