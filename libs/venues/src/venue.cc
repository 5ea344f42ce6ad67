#include "tickmesh/venues/venue.h"

#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "util.h"

namespace tickmesh::venues {
namespace {

using internal::AV;

int Index(Venue v) { return static_cast<int>(v); }

// Kraken's legacy (REST altname) spelling of an asset: BTC -> XBT, DOGE -> XDG.
std::string KrakenLegacyAsset(std::string_view asset) {
  if (asset == "BTC") return "XBT";
  if (asset == "DOGE") return "XDG";
  return std::string(asset);
}

// Lookup key of a venue spelling: upper case, for case-insensitive matching.
std::string Key(std::string_view venue_symbol) { return absl::AsciiStrToUpper(AV(venue_symbol)); }

}  // namespace

std::string_view VenueName(Venue venue) {
  switch (venue) {
    case Venue::kBinance:
      return "binance";
    case Venue::kKraken:
      return "kraken";
    case Venue::kBybit:
      return "bybit";
    case Venue::kHyperliquid:
      return "hyperliquid";
  }
  return "unknown";
}

absl::StatusOr<Venue> ParseVenue(std::string_view name) {
  for (Venue v : kAllVenues) {
    if (VenueName(v) == name) return v;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown venue \"", AV(name.substr(0, 40)),
                   "\" (expected binance | kraken | bybit | hyperliquid)"));
}

absl::StatusOr<std::pair<std::string, std::string>> SplitSymbol(std::string_view symbol) {
  const size_t dash = symbol.find('-');
  auto valid_part = [](std::string_view part) {
    if (part.empty() || part.size() > 20) return false;
    for (char c : part) {
      if (!(std::isupper(static_cast<unsigned char>(c)) ||
            std::isdigit(static_cast<unsigned char>(c)))) {
        return false;
      }
    }
    return true;
  };
  if (dash == std::string_view::npos || !valid_part(symbol.substr(0, dash)) ||
      !valid_part(symbol.substr(dash + 1))) {
    return absl::InvalidArgumentError(
        absl::StrCat("symbol \"", AV(symbol.substr(0, 40)),
                     "\" must be BASE-QUOTE in upper case, e.g. BTC-USDT"));
  }
  return std::make_pair(std::string(symbol.substr(0, dash)), std::string(symbol.substr(dash + 1)));
}

absl::StatusOr<std::string> DefaultVenueSymbol(Venue venue, std::string_view tickmesh_symbol) {
  auto parts = SplitSymbol(tickmesh_symbol);
  if (!parts.ok()) return parts.status();
  const auto& [base, quote] = *parts;
  switch (venue) {
    case Venue::kBinance:
    case Venue::kBybit:
      return base + quote;
    case Venue::kKraken:
      return absl::StrCat(base, "/", quote);
    case Venue::kHyperliquid:
      return base;
  }
  return absl::InvalidArgumentError("unknown venue");
}

absl::StatusOr<std::string> KrakenRestPair(std::string_view tickmesh_symbol) {
  auto parts = SplitSymbol(tickmesh_symbol);
  if (!parts.ok()) return parts.status();
  return KrakenLegacyAsset(parts->first) + KrakenLegacyAsset(parts->second);
}

std::string KrakenNormaliseAsset(std::string_view asset) {
  // Legacy four-letter codes: X prefix for crypto, Z prefix for fiat (XXBT, XETH, ZUSD, ZEUR).
  std::string_view core = asset;
  if (asset.size() == 4 && (asset[0] == 'X' || asset[0] == 'Z')) core = asset.substr(1);
  if (core == "XBT") return "BTC";
  if (core == "XDG") return "DOGE";
  return std::string(core);
}

absl::StatusOr<SymbolMap> SymbolMap::Create(std::vector<std::string> tickmesh_symbols,
                                            std::vector<Override> overrides) {
  SymbolMap map;
  absl::flat_hash_set<std::string> seen;
  for (const std::string& s : tickmesh_symbols) {
    if (auto parts = SplitSymbol(s); !parts.ok()) return parts.status();
    if (!seen.insert(s).second) {
      return absl::InvalidArgumentError(absl::StrCat("symbol ", s, " configured twice"));
    }
  }
  for (const Override& o : overrides) {
    if (!seen.contains(o.tickmesh_symbol)) {
      return absl::InvalidArgumentError(absl::StrCat("symbol override for ", o.tickmesh_symbol,
                                                     " which is not a configured symbol"));
    }
    if (o.venue_symbol.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("empty venue symbol override for ", o.tickmesh_symbol));
    }
  }
  for (Venue v : kAllVenues) {
    auto& to = map.to_venue_[Index(v)];
    auto& from = map.from_venue_[Index(v)];
    auto add_from = [&](const std::string& key, const std::string& tm) -> absl::Status {
      auto [it, inserted] = from.emplace(key, tm);
      if (!inserted && it->second != tm && !it->second.empty()) {
        if (map.clash_[Index(v)].empty()) {
          map.clash_[Index(v)] = absl::StrCat("symbols ", it->second, " and ", tm, " are both \"",
                                              key, "\" on ", AV(VenueName(v)));
        }
        it->second.clear();  // ambiguous: FromVenueSymbol refuses it
      }
      return absl::OkStatus();
    };
    for (const std::string& s : tickmesh_symbols) {
      std::string venue_symbol;
      bool overridden = false;
      for (const Override& o : overrides) {
        if (o.venue == v && o.tickmesh_symbol == s) {
          venue_symbol = o.venue_symbol;
          overridden = true;
        }
      }
      if (!overridden) venue_symbol = *DefaultVenueSymbol(v, s);
      if (absl::Status st = add_from(Key(venue_symbol), s); !st.ok()) return st;
      if (v == Venue::kKraken) {
        // Kraken REST answers with legacy names: "XBTUSD" and "XXBTZUSD".
        auto parts = SplitSymbol(s);
        const std::string base = KrakenLegacyAsset(parts->first);
        const std::string quote = KrakenLegacyAsset(parts->second);
        if (absl::Status st = add_from(base + quote, s); !st.ok()) return st;
        if (base.size() == 3 && quote.size() == 3) {
          const bool fiat = quote == "USD" || quote == "EUR" || quote == "GBP" || quote == "JPY" ||
                            quote == "CAD" || quote == "CHF" || quote == "AUD";
          const std::string legacy = absl::StrCat("X", base, fiat ? "Z" : "X", quote);
          if (absl::Status st = add_from(legacy, s); !st.ok()) return st;
        }
        if (absl::Status st = add_from(base + "/" + quote, s); !st.ok()) return st;
      }
      to.emplace(s, std::move(venue_symbol));
    }
  }
  map.symbols_ = std::move(tickmesh_symbols);
  return map;
}

absl::StatusOr<std::string> SymbolMap::ToVenueSymbol(Venue venue,
                                                     std::string_view tickmesh_symbol) const {
  const auto& to = to_venue_[Index(venue)];
  auto it = to.find(AV(tickmesh_symbol));
  if (it == to.end()) {
    return absl::NotFoundError(
        absl::StrCat("symbol \"", AV(tickmesh_symbol.substr(0, 40)), "\" is not configured"));
  }
  return it->second;
}

absl::Status SymbolMap::CheckVenue(Venue venue) const {
  if (clash_[Index(venue)].empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(clash_[Index(venue)]);
}

absl::StatusOr<std::string> SymbolMap::FromVenueSymbol(Venue venue,
                                                       std::string_view venue_symbol) const {
  const auto& from = from_venue_[Index(venue)];
  auto it = from.find(Key(venue_symbol));
  if (it != from.end() && it->second.empty()) {
    return absl::InvalidArgumentError(clash_[Index(venue)]);
  }
  if (it == from.end()) {
    return absl::NotFoundError(absl::StrCat(AV(VenueName(venue)), " symbol \"",
                                            AV(venue_symbol.substr(0, 40)),
                                            "\" is not a configured symbol"));
  }
  return it->second;
}

}  // namespace tickmesh::venues
