#include "tickmesh/venues/sign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tickmesh::venues {
namespace {

// Independent reference: OpenSSL's one-shot HMAC.
std::string ReferenceHmacHex(const EVP_MD* md, const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[out[i] >> 4]);
    hex.push_back(kHex[out[i] & 0xf]);
  }
  return hex;
}

// Binance spot REST "SIGNED (TRADE and USER_DATA) Endpoint security", HMAC example:
// https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security
TEST(BinanceSignature, MatchesTheDocumentedExample) {
  const std::string secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
  const std::string query =
      "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&"
      "timestamp=1499827319559";
  EXPECT_EQ(BinanceSignature(secret, query),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
}

// Kraken "Spot REST API authentication" worked example:
// https://docs.kraken.com/api/docs/guides/spot-rest-auth
TEST(KrakenSignature, MatchesTheDocumentedExample) {
  auto sig = KrakenSignature(
      "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
      "/0/private/AddOrder", "1616492376594",
      "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25");
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(
      *sig,
      "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==");
}

TEST(KrakenSignature, RejectsASecretThatIsNotBase64) {
  EXPECT_EQ(KrakenSignature("not base64!", "/0/private/Balance", "1", "nonce=1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(KrakenSignature("abc", "/0/private/Balance", "1", "nonce=1").ok());
}

// Bybit documents the scheme (HMAC-SHA256 of timestamp + api_key + recv_window + payload) but no
// fixed vector; this one is derived with OpenSSL's HMAC over the documented concatenation, using
// the parameter values of Bybit's own example request (GET /v5/order/realtime).
TEST(BybitSignature, IsHmacSha256OfTheDocumentedConcatenation) {
  const std::string secret = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
  const std::string key = "XXXXXXXXXX";
  const std::string payload = "category=option&symbol=BTC-29JUL22-25000-C";
  const std::string expected =
      ReferenceHmacHex(EVP_sha256(), secret, "1658384314791" + key + "5000" + payload);
  EXPECT_EQ(BybitSignature(secret, 1658384314791, key, 5000, payload), expected);
  EXPECT_EQ(expected.size(), 64u);
}

// RFC 4231 test case 2 (and a key longer than the block, against OpenSSL's HMAC).
TEST(HmacKey, MatchesRfc4231AndOpenSsl) {
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacKey(HmacKey::Hash::kSha512, "Jefe").Hex({"what do ya want ", "for nothing?"}),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d"
            "034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
  const std::string long_key(200, 'k');
  EXPECT_EQ(HmacSha256Hex(long_key, "data"), ReferenceHmacHex(EVP_sha256(), long_key, "data"));
  EXPECT_EQ(HmacKey(HmacKey::Hash::kSha512, long_key).Hex({"data"}),
            ReferenceHmacHex(EVP_sha512(), long_key, "data"));
}

TEST(Base64, RoundTripsAndIsStrict) {
  EXPECT_EQ(Base64Encode("hello"), "aGVsbG8=");
  EXPECT_EQ(*Base64Decode("aGVsbG8="), "hello");
  EXPECT_FALSE(Base64Decode("aGVsbG8").ok());
  EXPECT_FALSE(Base64Decode("aGV sbG8=").ok());
  EXPECT_FALSE(Base64Decode("a=GVsbG8").ok());
}

TEST(Crc32, MatchesTheIeeeCheckValue) { EXPECT_EQ(Crc32("123456789"), 0xCBF43926u); }

// The worked example of https://docs.kraken.com/exchange/guides/websockets/book-checksum-v2 :
// BTC/USD top 10 asks and bids, documented checksum 3310070434.
std::vector<KrakenChecksumLevel> Levels(const std::vector<std::pair<const char*, const char*>>& l);

TEST(KrakenBookChecksum, MatchesTheDocumentedExample) {
  const auto asks = Levels({{"45285.2", "0.00100000"},
                            {"45286.4", "1.54571953"},
                            {"45286.6", "1.54571109"},
                            {"45289.6", "1.54560911"},
                            {"45290.2", "0.15890660"},
                            {"45291.8", "1.54553491"},
                            {"45294.7", "0.04454749"},
                            {"45296.1", "0.35380000"},
                            {"45297.5", "0.09945542"},
                            {"45299.5", "0.18772827"}});
  const auto bids = Levels({{"45283.5", "0.10000000"},
                            {"45283.4", "1.54582015"},
                            {"45282.1", "0.10000000"},
                            {"45281.0", "0.10000000"},
                            {"45280.3", "1.54592586"},
                            {"45279.0", "0.07990000"},
                            {"45277.6", "0.03310103"},
                            {"45277.5", "0.30000000"},
                            {"45277.3", "1.54602737"},
                            {"45276.6", "0.15445238"}});
  // The guide's first step: "45285.2" + "0.00100000" -> "452852" + "100000".
  EXPECT_EQ(KrakenChecksumInput(asks, bids).substr(0, 12), "452852100000");
  EXPECT_EQ(KrakenBookChecksum(asks, bids), 3310070434u);
  // Only the top 10 of each side count.
  auto more_bids = bids;
  more_bids.push_back(Levels({{"45270.0", "9.00000000"}})[0]);
  EXPECT_EQ(KrakenBookChecksum(asks, more_bids), 3310070434u);
}

TEST(KrakenBookChecksum, ReconstructsTheVenueTextFromValueAndDecimals) {
  // "0.05000" / "0.00000304" -> "5000304" (v1 guide example of the same formatting rule).
  const auto l = Levels({{"0.05000", "0.00000304"}});
  EXPECT_EQ(KrakenChecksumInput(l, {}), "5000304");
  // Trailing zeros beyond 1e-8 are kept as sent.
  const auto wide = Levels({{"1.5", "1011.1908877900"}});
  EXPECT_EQ(KrakenChecksumInput(wide, {}), "1510111908877900");
}

}  // namespace
}  // namespace tickmesh::venues

#include "tickmesh/venues/decimal.h"

namespace tickmesh::venues {
namespace {
std::vector<KrakenChecksumLevel> Levels(const std::vector<std::pair<const char*, const char*>>& l) {
  std::vector<KrakenChecksumLevel> out;
  for (const auto& [p, q] : l) {
    KrakenChecksumLevel level;
    level.price_e8 = *ParseDecimalE8(p, &level.price_decimals);
    level.qty_e8 = *ParseDecimalE8(q, &level.qty_decimals);
    out.push_back(level);
  }
  return out;
}
}  // namespace
}  // namespace tickmesh::venues
