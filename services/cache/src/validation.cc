#include "validation.h"

#include "absl/strings/str_cat.h"

namespace tickmesh::cache {
namespace {

bool KeyOk(absl::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes) return false;
  for (char ch : key) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

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
  if (ttl_ms < 0 || ttl_ms > kMaxTtlMs) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": must be 0..", kMaxTtlMs, " ms (0 = no expiry; 100 years at most), got ", ttl_ms));
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

absl::Status ValidateRequest(const v1::GetRequest& req) { return ValidateKey("key", req.key()); }

absl::Status ValidateRequest(const v1::DeleteRequest& req) { return ValidateKey("key", req.key()); }

absl::Status ValidateRequest(const v1::SetRequest& req) {
  absl::Status s = ValidateKey("key", req.key());
  if (s.ok()) s = ValidateValue("value", req.value());
  if (s.ok()) s = ValidateTtl("ttl_ms", req.ttl_ms());
  return s;
}

absl::Status ValidateRequest(const v1::MGetRequest& req) {
  if (absl::Status s = ValidateBatchSize("keys", static_cast<size_t>(req.keys_size())); !s.ok()) {
    return s;
  }
  for (int i = 0; i < req.keys_size(); ++i) {
    if (!KeyOk(req.keys(i))) return ValidateKey(absl::StrCat("keys[", i, "]"), req.keys(i));
  }
  return absl::OkStatus();
}

absl::Status ValidateRequest(const v1::MSetRequest& req) {
  if (absl::Status s = ValidateBatchSize("entries", static_cast<size_t>(req.entries_size()));
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < req.entries_size(); ++i) {
    const v1::SetRequest& e = req.entries(i);
    if (!KeyOk(e.key())) return ValidateKey(absl::StrCat("entries[", i, "].key"), e.key());
    if (e.value().size() > kMaxValueBytes) {
      return ValidateValue(absl::StrCat("entries[", i, "].value"), e.value());
    }
    if (e.ttl_ms() < 0 || e.ttl_ms() > kMaxTtlMs)
      return ValidateTtl(absl::StrCat("entries[", i, "].ttl_ms"), e.ttl_ms());
  }
  return absl::OkStatus();
}

}  // namespace tickmesh::cache
