#include "validation.h"

#include "absl/strings/str_cat.h"

namespace tickmesh::cache {

absl::Status ValidateKey(absl::string_view field, absl::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be 1..", kMaxKeyBytes, " bytes, got ", key.size()));
  }
  for (size_t i = 0; i < key.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": must be printable ASCII without spaces; byte ", i, " is 0x",
                       absl::Hex(c, absl::kZeroPad2)));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateValue(absl::string_view field, absl::string_view value) {
  if (value.size() > kMaxValueBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxValueBytes, " bytes, got ", value.size()));
  }
  return absl::OkStatus();
}

absl::Status ValidateTtl(absl::string_view field, int64_t ttl_ms) {
  if (ttl_ms < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be >= 0 (0 = no expiry), got ", ttl_ms));
  }
  return absl::OkStatus();
}

absl::Status ValidateBatchSize(absl::string_view field, size_t n) {
  if (n > kMaxBatchEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxBatchEntries, " entries, got ", n));
  }
  return absl::OkStatus();
}

}  // namespace tickmesh::cache
