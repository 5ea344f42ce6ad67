// Internal helpers shared by the venue codecs (not part of the public API).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace tickmesh::venues::internal {

// Debian's Abseil keeps its own absl::string_view (not an alias of std::string_view), so
// std::string_view values are converted explicitly at StrCat / hash-map boundaries.
inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Kraken book checksum text of one value: its venue text with '.' removed and leading zeros
// stripped, rebuilt from (value_e8, decimals after the point). Appends to *out.
void AppendChecksumDigits(int64_t value_e8, int decimals, std::string* out);

}  // namespace tickmesh::venues::internal
