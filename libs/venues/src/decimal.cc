#include "tickmesh/venues/decimal.h"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "util.h"

namespace tickmesh::venues {
namespace {

using internal::AV;

constexpr int64_t kScale = 100'000'000;

absl::Status Malformed(std::string_view text, std::string_view why) {
  constexpr size_t kMaxQuoted = 40;
  std::string_view shown = text.substr(0, kMaxQuoted);
  return absl::InvalidArgumentError(
      absl::StrCat(AV(why), ": \"", AV(shown), text.size() > kMaxQuoted ? "...\"" : "\""));
}

}  // namespace

absl::StatusOr<int64_t> ParseDecimalE8(std::string_view text, int* fraction_digits) {
  size_t i = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) ++i;
  // Integer part: at least one digit, accumulate as a magnitude bounded by max / 1e8.
  constexpr int64_t kMaxInteger = std::numeric_limits<int64_t>::max() / kScale;
  int64_t integer = 0;
  const size_t int_start = i;
  for (; i < text.size() && text[i] != '.'; ++i) {
    const unsigned d = static_cast<unsigned char>(text[i]) - '0';
    if (d > 9) return Malformed(text, "not a plain decimal");
    if (integer > (kMaxInteger - static_cast<int64_t>(d)) / 10) {
      return Malformed(text, "decimal out of range");
    }
    integer = integer * 10 + d;
  }
  if (i == int_start) return Malformed(text, "not a plain decimal");
  int64_t fraction = 0;
  int digits = 0;
  if (i < text.size()) {  // text[i] == '.'
    ++i;
    if (i == text.size()) return Malformed(text, "not a plain decimal");
    for (; i < text.size(); ++i) {
      const unsigned d = static_cast<unsigned char>(text[i]) - '0';
      if (d > 9) return Malformed(text, "not a plain decimal");
      if (digits < 8) {
        fraction = fraction * 10 + d;
      } else if (d != 0) {
        return Malformed(text, "more precision than 1e-8");
      }
      if (digits == std::numeric_limits<int>::max()) return Malformed(text, "too long");
      ++digits;
    }
  }
  for (int k = digits; k < 8; ++k) fraction *= 10;
  const int64_t scaled = integer * kScale;  // cannot overflow: integer <= kMaxInteger
  if (scaled > std::numeric_limits<int64_t>::max() - fraction) {
    return Malformed(text, "decimal out of range");
  }
  if (fraction_digits != nullptr) *fraction_digits = digits;
  const int64_t value = scaled + fraction;
  return negative ? -value : value;
}

absl::StatusOr<int64_t> ParseDecimalE8(std::string_view text) {
  return ParseDecimalE8(text, nullptr);
}

std::string FormatDecimalE8(int64_t value_e8, int decimals) {
  if (decimals < 0) decimals = 0;
  if (decimals > 8) decimals = 8;
  // Work on the unsigned magnitude so INT64_MIN is representable.
  const bool negative = value_e8 < 0;
  const uint64_t magnitude =
      negative ? static_cast<uint64_t>(-(value_e8 + 1)) + 1 : static_cast<uint64_t>(value_e8);
  const uint64_t integer = magnitude / kScale;
  uint64_t fraction = magnitude % kScale;
  for (int k = decimals; k < 8; ++k) fraction /= 10;
  std::string out;
  out.reserve(32);
  if (negative && (integer != 0 || fraction != 0)) out.push_back('-');
  absl::StrAppend(&out, integer);
  if (decimals > 0) {
    char buf[8];
    for (int k = decimals - 1; k >= 0; --k) {
      buf[k] = static_cast<char>('0' + fraction % 10);
      fraction /= 10;
    }
    out.push_back('.');
    out.append(buf, decimals);
  }
  return out;
}

std::string FormatDecimalE8(int64_t value_e8) {
  const uint64_t magnitude =
      value_e8 < 0 ? static_cast<uint64_t>(-(value_e8 + 1)) + 1 : static_cast<uint64_t>(value_e8);
  uint64_t fraction = magnitude % kScale;
  int decimals = 8;
  if (fraction == 0) {
    decimals = 0;
  } else {
    while (fraction % 10 == 0) {
      fraction /= 10;
      --decimals;
    }
  }
  return FormatDecimalE8(value_e8, decimals);
}

}  // namespace tickmesh::venues
