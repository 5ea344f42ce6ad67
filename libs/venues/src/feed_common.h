// Internal: what every venue's FeedCodec shares — symbol table, per-symbol seq, the reusable
// padded simdjson buffer, the thread-safety wrapper around Decode/ApplySnapshot, and JSON
// helpers. Parsing code throws FrameError / simdjson_error internally; FeedCodecBase turns both
// into INVALID_ARGUMENT at the public boundary, so no exception leaves the library.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "simdjson.h"
#include "tickmesh/venues/feed.h"
#include "tickmesh/venues/venue.h"
#include "util.h"

namespace tickmesh::venues::internal {

namespace od = simdjson::ondemand;

// A semantic error in a frame (missing field, bad decimal, unknown symbol...).
class FrameError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One book level as parsed; decimals only matter for Kraken's checksum.
struct Level {
  int64_t price_e8 = 0;
  int64_t qty_e8 = 0;
  int price_decimals = 0;
  int qty_decimals = 0;
};

// Decimal from a JSON string ("0.01") or number (0.01, its exact text). Throws FrameError.
int64_t DecimalValue(od::value v, std::string_view field, int* decimals = nullptr);
int64_t DecimalText(std::string_view text, std::string_view field, int* decimals = nullptr);
// Unsigned / signed integer from a JSON number or a numeric string. Throws FrameError.
int64_t IntValue(od::value v, std::string_view field);
// String value; throws FrameError if not a string.
std::string_view StringValue(od::value v, std::string_view field);
// [["price","qty"], ...] (Binance, Bybit) appended to *out. Throws.
void PairLevels(od::value v, std::string_view field, std::vector<Level>* out);
// "2023-10-06T17:35:55.440295Z" -> unix ns. Throws FrameError.
int64_t ParseRfc3339Ns(std::string_view text);
// Milliseconds since epoch -> ns, rejecting absurd values (negative or beyond year 2400).
int64_t MillisToNs(int64_t ms, std::string_view field);

// A reusable padded copy of the current frame for simdjson on-demand.
class PaddedFrame {
 public:
  // Copies `frame` into the buffer (growing it only when a larger frame arrives).
  simdjson::padded_string_view Load(std::string_view frame);

 private:
  std::string buffer_;
};

class FeedCodecBase : public FeedCodec {
 public:
  FeedCodecBase(Venue venue, const SymbolMap& symbols, FeedOptions options);

  Venue venue() const override { return venue_; }
  absl::Status Decode(std::string_view frame, int64_t recv_unix_ns,
                      std::vector<tickmesh::v1::MarketEvent>* out) final;
  absl::Status ApplySnapshot(std::string_view symbol, std::string_view body, int64_t recv_unix_ns,
                             std::vector<tickmesh::v1::MarketEvent>* out) final;
  std::vector<std::string> TakeSnapshotRequests() override;
  absl::StatusOr<net::HttpRequest> SnapshotRequest(std::string_view symbol) const override;
  std::vector<std::string> ResyncFrames(std::string_view symbol) const override { return {}; }
  void Reset() final;
  FeedStats stats() const final;

 protected:
  struct SymbolInfo {
    std::string symbol;        // tickmesh
    std::string venue_symbol;  // as the venue spells it in frames
    uint64_t seq = 0;
  };

  // Venue-specific work, called with mu_ held. DecodeLocked must not append anything when it
  // throws (parse completely, then apply); the base rolls `out` back defensively anyway.
  virtual absl::Status DecodeLocked(od::document& doc, int64_t recv_unix_ns,
                                    std::vector<tickmesh::v1::MarketEvent>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  virtual absl::Status ApplySnapshotLocked(int index, od::document& doc, int64_t recv_unix_ns,
                                           std::vector<tickmesh::v1::MarketEvent>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return absl::UnimplementedError("this venue is synced in-band, not by REST snapshot");
  }
  virtual void ResetLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;

  // Index of a venue symbol as it appears in frames; -1 if not configured.
  int FindVenueSymbol(std::string_view venue_symbol) const;
  // Index of a tickmesh symbol; -1 if not configured.
  int FindSymbol(std::string_view symbol) const;
  // Appends an event for symbols_[index] with the next seq, venue/symbol/timestamps set.
  tickmesh::v1::MarketEvent& NewEvent(int index, int64_t exchange_unix_ns, int64_t recv_unix_ns,
                                      std::vector<tickmesh::v1::MarketEvent>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Emits a snapshot / delta event from levels.
  void EmitBook(int index, bool snapshot, const std::vector<Level>& bids,
                const std::vector<Level>& asks, int64_t exchange_unix_ns, int64_t recv_unix_ns,
                std::vector<tickmesh::v1::MarketEvent>* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Venue venue_;
  const FeedOptions options_;
  std::vector<SymbolInfo> symbols_;  // fixed after construction (seq guarded by mu_)
  absl::flat_hash_map<std::string, int> by_venue_symbol_;
  absl::flat_hash_map<std::string, int> by_symbol_;

  mutable absl::Mutex mu_;
  FeedStats stats_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> snapshot_requests_ ABSL_GUARDED_BY(mu_);

 private:
  od::parser parser_ ABSL_GUARDED_BY(mu_);
  PaddedFrame padded_ ABSL_GUARDED_BY(mu_);
};

// Binance depth / trade / bookTicker streams for the venue symbol in lower case.
std::string LowerAscii(std::string_view s);

}  // namespace tickmesh::venues::internal
