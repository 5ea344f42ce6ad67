// Exact int64 fixed-point (scale 1e8) arithmetic for prices, quantities and money. Products go
// through __int128 so price_e8 * qty_e8 never overflows before the division; results that do not
// fit in int64 are reported instead of wrapping.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>

namespace tickmesh::execution {

inline constexpr int64_t kE8 = 100'000'000;

// Narrows a 128-bit value; nullopt when it does not fit in int64.
inline std::optional<int64_t> FitInt64(__int128 v) {
  if (v > std::numeric_limits<int64_t>::max() || v < std::numeric_limits<int64_t>::min()) {
    return std::nullopt;
  }
  return static_cast<int64_t>(v);
}

// a_e8 * b_e8 / 1e8, truncated toward zero (e.g. price_e8 * qty_e8 -> notional_e8).
inline std::optional<int64_t> MulE8(int64_t a_e8, int64_t b_e8) {
  return FitInt64(static_cast<__int128>(a_e8) * b_e8 / kE8);
}

// a * b / c for c > 0, rounded half away from zero. nullopt on overflow.
inline std::optional<int64_t> MulDivRound(int64_t a, int64_t b, int64_t c) {
  const __int128 p = static_cast<__int128>(a) * b;
  const __int128 half = c / 2;
  return FitInt64(p >= 0 ? (p + half) / c : (p - half) / c);
}

// Fee of `bps` basis points on `notional_e8`, rounded up (venues never round fees down).
inline std::optional<int64_t> FeeE8(int64_t notional_e8, int64_t bps) {
  if (notional_e8 <= 0 || bps <= 0) return 0;
  const __int128 p = static_cast<__int128>(notional_e8) * bps;
  return FitInt64((p + 9'999) / 10'000);
}

}  // namespace tickmesh::execution
