// Exact decimal text <-> int64 fixed point at scale 1e8 (`_e8`), for prices, quantities and
// balances on the wire. No doubles anywhere: digits go straight into integers with overflow
// checks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tickmesh::venues {

// Parses a plain decimal ("123", "0.5", "-1.25", "45283.50000000", ".5" is rejected) into value *
// 1e8. Accepts an optional leading '-' (balances, PnL); no '+', spaces, exponents, or hex.
// Digits beyond the 8th decimal are accepted only if they are zeros ("0.123456780000").
// INVALID_ARGUMENT (with the text quoted, truncated to 40 chars) if malformed, too precise, or
// out of int64 range after scaling. Allocates nothing on success.
absl::StatusOr<int64_t> ParseDecimalE8(std::string_view text);

// Same as ParseDecimalE8 but also reports how many digits followed the '.' in the text
// (0 when there is no '.'), which Kraken's book checksum needs.
absl::StatusOr<int64_t> ParseDecimalE8(std::string_view text, int* fraction_digits);

// Formats value_e8 / 1e8 as a plain decimal with exactly `decimals` digits after the point
// (0..8; no point when 0): FormatDecimalE8(4528350000000, 1) == "45283.5". Digits beyond
// `decimals` are truncated toward zero (callers choose `decimals` >= the value's precision).
// `decimals` outside 0..8 is clamped.
std::string FormatDecimalE8(int64_t value_e8, int decimals);

// Shortest plain decimal for value_e8 (trailing zeros dropped): 150000000 -> "1.5",
// 100000000 -> "1", 0 -> "0". What the order builders put on the wire.
std::string FormatDecimalE8(int64_t value_e8);

}  // namespace tickmesh::venues
