// Vectors published with Hyperliquid's official Python SDK (hyperliquid-python-sdk,
// tests/signing_test.py: test_l1_action_signing_matches, test_l1_action_signing_order_matches),
// which signs with eth_account (RFC 6979 nonces, low-s) exactly like this code must.
#include "tickmesh/venues/hyperliquid_sign.h"

#include <string>

#include "gtest/gtest.h"

namespace tickmesh::venues {
namespace {

constexpr char kKey[] = "0x0123456789012345678901234567890123456789012345678901234567890123";

// The SDK prints r and s with Python's hex(), which drops leading zeros; pad to 64 digits.
std::string Pad(std::string hex) {
  hex = hex.substr(2);
  return "0x" + std::string(64 - hex.size(), '0') + hex;
}

TEST(Keccak256, MatchesTheEmptyStringDigest) {
  const std::string h = Keccak256("");
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : h) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 0xf]);
  }
  EXPECT_EQ(hex, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}

TEST(MsgpackWriter, EncodesLikeMsgpackPython) {
  MsgpackWriter w;
  w.Map(2).Str("type").Str("dummy").Str("num").UInt(100000000000);
  EXPECT_EQ(w.bytes(), std::string("\x82\xa4type\xa5"
                                   "dummy\xa3num\xcf\x00\x00\x00\x17\x48\x76\xe8\x00",
                                   25));
  MsgpackWriter small;
  small.UInt(127).UInt(128).UInt(65535).UInt(65536).Bool(true).Bool(false).Nil();
  EXPECT_EQ(small.bytes(),
            std::string("\x7f\xcc\x80\xcd\xff\xff\xce\x00\x01\x00\x00\xc3\xc2\xc0", 14));
}

// action = {"type": "dummy", "num": float_to_int_for_hashing(1000)} (= 1000 * 1e8), nonce 0.
TEST(HyperliquidSignL1Action, MatchesTheSdkDummyActionVectors) {
  MsgpackWriter action;
  action.Map(2).Str("type").Str("dummy").Str("num").UInt(100000000000);
  auto mainnet = HyperliquidSignL1Action(kKey, action.bytes(), 0, true);
  ASSERT_TRUE(mainnet.ok()) << mainnet.status();
  EXPECT_EQ(mainnet->r, Pad("0x53749d5b30552aeb2fca34b530185976545bb22d0b3ce6f62e31be961a59298"));
  EXPECT_EQ(mainnet->s, Pad("0x755c40ba9bf05223521753995abb2f73ab3229be8ec921f350cb447e384d8ed8"));
  EXPECT_EQ(mainnet->v, 27);
  auto testnet = HyperliquidSignL1Action(kKey, action.bytes(), 0, false);
  ASSERT_TRUE(testnet.ok());
  EXPECT_EQ(testnet->r, Pad("0x542af61ef1f429707e3c76c5293c80d01f74ef853e34b76efffcb57e574f9510"));
  EXPECT_EQ(testnet->s, Pad("0x17b8b32f086e8cdede991f1e2c529f5dd5297cbe8128500e00cbaf766204a613"));
  EXPECT_EQ(testnet->v, 28);
}

// order_wires_to_order_action([order_request_to_order_wire({coin ETH (asset 1), is_buy, sz 100,
// limit_px 100, reduce_only False, Gtc, no cloid}, 1)]), nonce 0:
// {"type": "order", "orders": [{"a": 1, "b": true, "p": "100", "s": "100", "r": false,
//   "t": {"limit": {"tif": "Gtc"}}}], "grouping": "na"}
TEST(HyperliquidSignL1Action, MatchesTheSdkOrderVector) {
  MsgpackWriter action;
  action.Map(3).Str("type").Str("order").Str("orders").Array(1);
  action.Map(6).Str("a").UInt(1).Str("b").Bool(true).Str("p").Str("100").Str("s").Str("100");
  action.Str("r").Bool(false).Str("t").Map(1).Str("limit").Map(1).Str("tif").Str("Gtc");
  action.Str("grouping").Str("na");
  auto mainnet = HyperliquidSignL1Action(kKey, action.bytes(), 0, true);
  ASSERT_TRUE(mainnet.ok()) << mainnet.status();
  EXPECT_EQ(mainnet->r, Pad("0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e"));
  EXPECT_EQ(mainnet->s, Pad("0x2b54116ff64054968aa237c20ca9ff68000f977c93289157748a3162b6ea940e"));
  EXPECT_EQ(mainnet->v, 28);
}

TEST(HyperliquidSignL1Action, RejectsBadKeysAndVaults) {
  EXPECT_EQ(HyperliquidSignL1Action("0x1234", "x", 0, true).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HyperliquidSignL1Action(std::string(64, '0'), "x", 0, true).status().code(),
            absl::StatusCode::kInvalidArgument);  // zero is not a valid secp256k1 key
  EXPECT_EQ(HyperliquidSignL1Action(kKey, "x", 0, true, "0x12").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(HyperliquidAddress(kKey).ok());
  EXPECT_EQ(HyperliquidAddress(kKey)->size(), 42u);
}

}  // namespace
}  // namespace tickmesh::venues
