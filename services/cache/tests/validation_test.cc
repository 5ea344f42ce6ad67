#include "validation.h"

#include <gtest/gtest.h>

#include <string>

namespace tickmesh::cache {
namespace {

TEST(Validation, AcceptsPrintableKeys) {
  EXPECT_TRUE(ValidateKey("key", "balance:paper:BTC").ok());
  EXPECT_TRUE(ValidateKey("key", std::string(512, 'k')).ok());
}

TEST(Validation, RejectsBadKeysNamingTheField) {
  auto empty = ValidateKey("entries[2].key", "");
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(empty.message().find("entries[2].key"), std::string::npos);
  EXPECT_FALSE(ValidateKey("key", std::string(513, 'k')).ok());
  EXPECT_FALSE(ValidateKey("key", "has space").ok());
  EXPECT_FALSE(ValidateKey("key", std::string("nul\0x", 5)).ok());
  EXPECT_FALSE(ValidateKey("key", "tab\t").ok());
  EXPECT_FALSE(ValidateKey("key", "\xc3\xa9").ok());
}

TEST(Validation, LimitsValuesTtlsAndBatches) {
  EXPECT_TRUE(ValidateValue("value", std::string(kMaxValueBytes, 'v')).ok());
  EXPECT_FALSE(ValidateValue("value", std::string(kMaxValueBytes + 1, 'v')).ok());
  EXPECT_TRUE(ValidateTtl("ttl_ms", 0).ok());
  EXPECT_FALSE(ValidateTtl("ttl_ms", -1).ok());
  EXPECT_TRUE(ValidateBatchSize("keys", 1000).ok());
  EXPECT_FALSE(ValidateBatchSize("keys", 1001).ok());
}

}  // namespace
}  // namespace tickmesh::cache
