// Venue identities and symbol mapping between tickmesh symbols ("BTC-USDT", BASE-QUOTE) and each
// venue's own spelling. Pure: no I/O.
//
// Venue spellings (defaults, overridable per symbol):
//   binance      "BTCUSDT"   (streams use the lower-case form, "btcusdt@depth@100ms")
//   kraken       "BTC/USD"   (WebSocket v2 and REST `pair`; REST also answers with legacy names
//                             such as "XBTUSD", which FromVenueSymbol accepts too)
//   bybit        "BTCUSDT"
//   hyperliquid  "BTC"       (perpetual coin; quoted in USD(C), so only one configured symbol per
//                             base may exist for this venue)
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tickmesh::venues {

enum class Venue { kBinance, kKraken, kBybit, kHyperliquid };

// Every venue, in enum order (for loops in tests, config validation and metrics).
inline constexpr Venue kAllVenues[] = {Venue::kBinance, Venue::kKraken, Venue::kBybit,
                                       Venue::kHyperliquid};

// "binance" | "kraken" | "bybit" | "hyperliquid" — the value of the `venue` field of every
// MarketEvent and of metric labels.
std::string_view VenueName(Venue venue);

// Inverse of VenueName (exact, lower case). INVALID_ARGUMENT for anything else.
absl::StatusOr<Venue> ParseVenue(std::string_view name);

// Splits a tickmesh symbol "BASE-QUOTE" into its parts. INVALID_ARGUMENT unless it is exactly
// two non-empty upper-case alphanumeric parts joined by one '-'.
absl::StatusOr<std::pair<std::string, std::string>> SplitSymbol(std::string_view tickmesh_symbol);

// Bidirectional map between the configured tickmesh symbols and every venue's spelling. Built
// once from the configured symbol list, immutable afterwards, so it is safe to share between
// threads. FromVenueSymbol is unambiguous because it only knows configured symbols.
//
// Example:
//   auto map = SymbolMap::Create({"BTC-USDT", "ETH-USDT"});
//   map->ToVenueSymbol(Venue::kBinance, "BTC-USDT")   -> "BTCUSDT"
//   map->FromVenueSymbol(Venue::kBinance, "ETHUSDT")  -> "ETH-USDT"
class SymbolMap {
 public:
  // An explicit venue spelling for one (venue, tickmesh symbol), used instead of the default
  // rule (e.g. {kKraken, "BTC-USD", "XBT/USD"} or a Binance pair that is not BASE+QUOTE).
  struct Override {
    Venue venue;
    std::string tickmesh_symbol;
    std::string venue_symbol;
  };

  // INVALID_ARGUMENT if a symbol is malformed (see SplitSymbol), duplicated, or an override
  // names a symbol that is not configured. Two configured symbols with the same spelling on one
  // venue (e.g. "BTC-USD" and "BTC-USDC" are both "BTC" on Hyperliquid) do not fail here — the
  // map is still fine for the other venues — but make that venue unusable: see CheckVenue.
  static absl::StatusOr<SymbolMap> Create(std::vector<std::string> tickmesh_symbols,
                                          std::vector<Override> overrides = {});

  // OK when every configured symbol has a distinct spelling on `venue`; INVALID_ARGUMENT naming
  // the clashing symbols otherwise. MakeFeedCodec and MakeOrderApi call it.
  absl::Status CheckVenue(Venue venue) const;

  SymbolMap() = default;

  // The venue spelling of a configured symbol. NOT_FOUND if the symbol is not configured.
  absl::StatusOr<std::string> ToVenueSymbol(Venue venue, std::string_view tickmesh_symbol) const;

  // The configured tickmesh symbol for a venue spelling (case-insensitive for Binance and Bybit,
  // and Kraken's legacy REST names such as "XBTUSD" / "XXBTZUSD" are accepted). NOT_FOUND if no
  // configured symbol matches; INVALID_ARGUMENT if the spelling is ambiguous (see CheckVenue).
  absl::StatusOr<std::string> FromVenueSymbol(Venue venue, std::string_view venue_symbol) const;

  // The configured symbols, in configuration order.
  const std::vector<std::string>& tickmesh_symbols() const { return symbols_; }

 private:
  std::vector<std::string> symbols_;
  // Index by venue: tickmesh -> venue and (normalised) venue -> tickmesh.
  absl::flat_hash_map<std::string, std::string> to_venue_[4];
  absl::flat_hash_map<std::string, std::string> from_venue_[4];
  std::string clash_[4];  // first clash per venue, empty when none
};

// The default venue spelling of a tickmesh symbol, without a SymbolMap (what Create uses when no
// override is given). INVALID_ARGUMENT for a malformed symbol.
absl::StatusOr<std::string> DefaultVenueSymbol(Venue venue, std::string_view tickmesh_symbol);

// Kraken REST `pair` for a tickmesh symbol: its legacy altname ("BTC-USD" -> "XBTUSD",
// "DOGE-USD" -> "XDGUSD"), which every Kraken REST endpoint accepts.
absl::StatusOr<std::string> KrakenRestPair(std::string_view tickmesh_symbol);

// Normalises a Kraken REST asset code to the common ticker: "XXBT" / "XBT" -> "BTC",
// "ZUSD" -> "USD", "XETH" -> "ETH", "XXDG" / "XDG" -> "DOGE"; anything else unchanged.
std::string KrakenNormaliseAsset(std::string_view asset);

}  // namespace tickmesh::venues
