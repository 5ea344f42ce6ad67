// Request signing exactly as each venue documents it, plus Kraken's order-book checksum. Exposed
// on their own so the venue simulator verifies signatures (and produces checksums) with the same
// code the live adapters use. Pure functions (OpenSSL's SHA-2/HMAC and zlib-compatible CRC32);
// thread-safe; secrets are never logged or copied anywhere but the caller's buffers.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tickmesh::venues {

// ---- Binance spot (SIGNED endpoints) ----
// Lower-case hex HMAC-SHA256(key = secret, data = payload), where payload is the query string and
// request body concatenated exactly as sent ("symbol=LTCBTC&side=BUY&...&timestamp=1499827319559").
std::string BinanceSignature(std::string_view secret, std::string_view payload);

// ---- Kraken spot REST (private endpoints) ----
// The API-Sign header: base64(HMAC-SHA512(key = base64decode(base64_secret),
// data = uri_path + SHA256(nonce + post_data))). uri_path is "/0/private/AddOrder"; post_data is
// the exact url-encoded body sent (which itself contains "nonce=<nonce>").
// INVALID_ARGUMENT if base64_secret is not valid base64.
absl::StatusOr<std::string> KrakenSignature(std::string_view base64_secret,
                                            std::string_view uri_path, std::string_view nonce,
                                            std::string_view post_data);

// ---- Bybit v5 (private REST) ----
// The X-BAPI-SIGN header (HMAC variant): lower-case hex HMAC-SHA256(key = secret,
// data = timestamp + api_key + recv_window + payload), where payload is the query string for GET
// and the raw JSON body for POST, timestamp and recv_window are decimal milliseconds.
std::string BybitSignature(std::string_view secret, int64_t timestamp_ms, std::string_view api_key,
                           int64_t recv_window_ms, std::string_view payload);

// ---- Building blocks (hex output, lower case) ----
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// Standard base64 (RFC 4648, with padding). Base64Decode: INVALID_ARGUMENT on bad input;
// whitespace is not accepted.
std::string Base64Encode(std::string_view bytes);
absl::StatusOr<std::string> Base64Decode(std::string_view text);

// A keyed HMAC whose key schedule (ipad/opad states) is computed once, so each signature costs
// only the message blocks: what the OrderApi implementations use on the hot path. Immutable after
// construction, so one instance may sign from many threads at once.
class HmacKey {
 public:
  enum class Hash { kSha256, kSha512 };
  HmacKey(Hash hash, std::string_view key);
  ~HmacKey();
  HmacKey(const HmacKey&) = delete;
  HmacKey& operator=(const HmacKey&) = delete;

  // Raw MAC of the concatenation of `parts` (32 or 64 bytes).
  std::string Mac(std::initializer_list<std::string_view> parts) const;
  // Lower-case hex of Mac.
  std::string Hex(std::initializer_list<std::string_view> parts) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// ---- Kraken WebSocket v2 `book` checksum ----
// One book level as the venue sent it: the value at scale 1e8 and how many digits followed the
// decimal point in the venue's text ("45283.5" -> price_e8 4528350000000, price_decimals 1;
// "0.00100000" -> qty_decimals 8). Decimals > 8 mean trailing zeros beyond 1e-8.
struct KrakenChecksumLevel {
  int64_t price_e8 = 0;
  int64_t qty_e8 = 0;
  int price_decimals = 0;
  int qty_decimals = 0;
};

// CRC32 (IEEE, as zlib's crc32) of the top 10 asks (best = lowest first) then the top 10 bids
// (best = highest first), each level written as its price then its qty with the '.' removed and
// leading zeros stripped — exactly the venue's text, reconstructed from (value, decimals). Only
// the first 10 entries of each span are used; pass them best first. Per
// https://docs.kraken.com/exchange/guides/websockets/book-checksum-v2 .
uint32_t KrakenBookChecksum(absl::Span<const KrakenChecksumLevel> asks_best_first,
                            absl::Span<const KrakenChecksumLevel> bids_best_first);

// The checksum string itself (before CRC32), for tests and the simulator's diagnostics.
std::string KrakenChecksumInput(absl::Span<const KrakenChecksumLevel> asks_best_first,
                                absl::Span<const KrakenChecksumLevel> bids_best_first);

// IEEE CRC32 of bytes (zlib's crc32(0, data, len)).
uint32_t Crc32(std::string_view bytes);

}  // namespace tickmesh::venues
