// Instrument naming helpers shared by the execution pieces.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tickmesh::execution {

struct AssetPair {
  std::string base;
  std::string quote;
};

// "BTC-USD" -> {"BTC", "USD"}. INVALID_ARGUMENT "symbol must be BASE-QUOTE" unless the symbol is
// exactly two different non-empty parts of at most 32 chars separated by one '-'.
inline absl::StatusOr<AssetPair> SplitSymbol(absl::string_view symbol) {
  const size_t dash = symbol.find('-');
  if (dash == absl::string_view::npos || dash == 0 || dash + 1 == symbol.size() ||
      symbol.find('-', dash + 1) != absl::string_view::npos || dash > 32 ||
      symbol.size() - dash - 1 > 32 || symbol.substr(0, dash) == symbol.substr(dash + 1)) {
    return absl::InvalidArgumentError("symbol must be BASE-QUOTE");
  }
  return AssetPair{std::string(symbol.substr(0, dash)), std::string(symbol.substr(dash + 1))};
}

// Separates venue and symbol in an InstrumentKey.
inline constexpr char kInstrumentKeySeparator = '\x1f';

// Map key for a (venue, symbol) pair: venue, kInstrumentKeySeparator, symbol.
inline std::string InstrumentKey(absl::string_view venue, absl::string_view symbol) {
  return absl::StrCat(venue, absl::string_view(&kInstrumentKeySeparator, 1), symbol);
}

}  // namespace tickmesh::execution
