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
  EXPECT_TRUE(ValidateTtl("ttl_ms", kMaxTtlMs).ok());
  EXPECT_FALSE(ValidateTtl("ttl_ms", kMaxTtlMs + 1).ok());  // would overflow deadlines
  EXPECT_TRUE(ValidateBatchSize("keys", 1000).ok());
  EXPECT_FALSE(ValidateBatchSize("keys", 1001).ok());
}

TEST(Validation, WholeRequestsNameTheFirstBadField) {
  v1::MSetRequest mset;
  for (int i = 0; i < 3; ++i) {
    auto* e = mset.add_entries();
    e->set_key("k" + std::to_string(i));
    e->set_value("v");
  }
  EXPECT_TRUE(ValidateRequest(mset).ok());
  mset.mutable_entries(1)->set_ttl_ms(-5);
  mset.mutable_entries(2)->set_key("bad key");
  absl::Status s = ValidateRequest(mset);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("entries[1].ttl_ms"), std::string::npos) << s;
  mset.mutable_entries(1)->set_ttl_ms(0);
  EXPECT_NE(ValidateRequest(mset).message().find("entries[2].key"), std::string::npos);

  v1::MGetRequest mget;
  mget.add_keys("a");
  mget.add_keys("");
  EXPECT_NE(ValidateRequest(mget).message().find("keys[1]"), std::string::npos);
  for (int i = 0; i < 1000; ++i) mget.add_keys("k");
  EXPECT_NE(ValidateRequest(mget).message().find("keys: at most 1000"), std::string::npos);

  v1::SetRequest set;
  set.set_key("k");
  set.set_value(std::string(kMaxValueBytes + 1, 'v'));
  EXPECT_NE(ValidateRequest(set).message().find("value"), std::string::npos);
  v1::GetRequest get;
  EXPECT_NE(ValidateRequest(get).message().find("key"), std::string::npos);
}

}  // namespace
}  // namespace tickmesh::cache
