// Venue connector configuration: option validation and the --venues / --<venue>_* flags (a bad
// value is an error naming the flag; no I/O happens before Start).
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "config.h"
#include "gtest/gtest.h"
#include "venue_connector.h"

ABSL_DECLARE_FLAG(std::string, venues);
ABSL_DECLARE_FLAG(std::string, binance_ws_url);
ABSL_DECLARE_FLAG(std::string, binance_rest_url);
ABSL_DECLARE_FLAG(std::string, binance_symbols);
ABSL_DECLARE_FLAG(std::string, kraken_ws_url);
ABSL_DECLARE_FLAG(std::string, kraken_symbols);
ABSL_DECLARE_FLAG(int32_t, venue_book_depth);
ABSL_DECLARE_FLAG(int64_t, venue_stale_ms);

namespace tickmesh::market_data {
namespace {

VenueConnectorOptions Binance() {
  VenueConnectorOptions o;
  o.venue = venues::Venue::kBinance;
  o.ws_url = "ws://127.0.0.1:9000";
  o.rest_url = "http://127.0.0.1:9000";
  o.symbols = {"BTC-USDT"};
  return o;
}

// The error's message starts with `prefix` (the field or flag it names).
void ExpectError(const absl::Status& s, const std::string& prefix) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StartsWith(s.message(), prefix)) << s.message();
}

TEST(VenueConnectorOptions, AcceptsOriginsWithoutPath) {
  EXPECT_TRUE(ValidateVenueConnectorOptions(Binance()).ok());
  VenueConnectorOptions o = Binance();
  o.ws_url = "wss://stream.binance.com:9443/";
  o.rest_url = "https://api.binance.com";
  EXPECT_TRUE(ValidateVenueConnectorOptions(o).ok());
}

TEST(VenueConnectorOptions, RejectsBadUrlsNamingTheField) {
  VenueConnectorOptions o = Binance();
  o.ws_url = "http://127.0.0.1:9000";
  ExpectError(ValidateVenueConnectorOptions(o), "ws_url: ");
  o.ws_url = "ws://127.0.0.1:9000/stream";
  ExpectError(ValidateVenueConnectorOptions(o), "ws_url: ");
  o.ws_url = "not a url";
  ExpectError(ValidateVenueConnectorOptions(o), "ws_url: ");
  o = Binance();
  o.rest_url = "ws://127.0.0.1:9000";
  ExpectError(ValidateVenueConnectorOptions(o), "rest_url: ");
  o.rest_url = "";  // Binance syncs books by REST snapshot
  ExpectError(ValidateVenueConnectorOptions(o), "rest_url: ");
}

TEST(VenueConnectorOptions, KrakenNeedsNoRestUrl) {
  VenueConnectorOptions o;
  o.venue = venues::Venue::kKraken;
  o.ws_url = "ws://127.0.0.1:9000";
  o.symbols = {"BTC-USD"};
  EXPECT_TRUE(ValidateVenueConnectorOptions(o).ok());
}

TEST(VenueConnectorOptions, RejectsBadSymbolsAndUnsupportedDepth) {
  VenueConnectorOptions o = Binance();
  o.symbols = {};
  ExpectError(ValidateVenueConnectorOptions(o), "symbols: ");
  o.symbols = {"BTCUSDT"};
  ExpectError(ValidateVenueConnectorOptions(o), "symbols: ");
  o.symbols = {"BTC-USDT", "BTC-USDT"};
  ExpectError(ValidateVenueConnectorOptions(o), "symbols: ");
  o = Binance();
  o.venue = venues::Venue::kKraken;
  o.rest_url.clear();
  o.symbols = {"BTC-USD"};
  o.feed.book_depth = 7;  // Kraken documents 10, 25, 100, 500, 1000
  ExpectError(ValidateVenueConnectorOptions(o), "feed: ");
}

TEST(VenueConnector, CreateDoesNoIoAndStartsIdle) {
  auto c = VenueConnector::Create(Binance());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->name(), "binance");
  EXPECT_FALSE((*c)->healthy());
  EXPECT_EQ((*c)->stats().state, "idle");
  EXPECT_EQ((*c)->stats().frames, 0u);
}

// Flags are process-global: each test restores them.
class VenueFlagsTest : public ::testing::Test {
 protected:
  absl::FlagSaver saver_;
};

TEST_F(VenueFlagsTest, NoVenuesByDefault) {
  auto c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->venues.empty());
}

TEST_F(VenueFlagsTest, SeveralVenuesWithRealEndpointsByDefault) {
  absl::SetFlag(&FLAGS_venues, "binance, kraken");
  auto c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->venues.size(), 2u);
  EXPECT_EQ(c->venues[0].venue, venues::Venue::kBinance);
  EXPECT_EQ(c->venues[0].ws_url, "wss://stream.binance.com:9443");
  EXPECT_EQ(c->venues[0].rest_url, "https://api.binance.com");
  EXPECT_EQ(c->venues[0].symbols, (std::vector<std::string>{"BTC-USDT", "ETH-USDT"}));
  EXPECT_EQ(c->venues[1].venue, venues::Venue::kKraken);
  EXPECT_EQ(c->venues[1].ws_url, "wss://ws.kraken.com");
  EXPECT_TRUE(c->venues[0].tls_verify);
}

TEST_F(VenueFlagsTest, PerVenueFlagsPointAtAnotherEndpoint) {
  absl::SetFlag(&FLAGS_venues, "binance");
  absl::SetFlag(&FLAGS_binance_ws_url, "ws://127.0.0.1:4567");
  absl::SetFlag(&FLAGS_binance_rest_url, "http://127.0.0.1:4567");
  absl::SetFlag(&FLAGS_binance_symbols, "SOL-USDT");
  absl::SetFlag(&FLAGS_venue_stale_ms, 2500);
  auto c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->venues.size(), 1u);
  EXPECT_EQ(c->venues[0].ws_url, "ws://127.0.0.1:4567");
  EXPECT_EQ(c->venues[0].symbols, (std::vector<std::string>{"SOL-USDT"}));
  EXPECT_EQ(c->venues[0].stale_after, absl::Milliseconds(2500));
}

TEST_F(VenueFlagsTest, BadValuesNameTheFlag) {
  absl::SetFlag(&FLAGS_venues, "binance,nasdaq");
  ExpectError(ConfigFromFlags().status(), "--venues: ");
  absl::SetFlag(&FLAGS_venues, "kraken,kraken");
  ExpectError(ConfigFromFlags().status(), "--venues: ");
  absl::SetFlag(&FLAGS_venues, "binance");
  absl::SetFlag(&FLAGS_binance_ws_url, "ws://127.0.0.1:1/path");
  ExpectError(ConfigFromFlags().status(), "--binance_ws_url: ");
  absl::SetFlag(&FLAGS_binance_ws_url, "ws://127.0.0.1:1");
  absl::SetFlag(&FLAGS_binance_rest_url, "ftp://127.0.0.1:1");
  ExpectError(ConfigFromFlags().status(), "--binance_rest_url: ");
  absl::SetFlag(&FLAGS_venues, "kraken");
  absl::SetFlag(&FLAGS_kraken_symbols, "BTC/USD");
  ExpectError(ConfigFromFlags().status(), "--kraken_symbols: ");
  absl::SetFlag(&FLAGS_kraken_symbols, "BTC-USD");
  absl::SetFlag(&FLAGS_venue_book_depth, 7);
  ExpectError(ConfigFromFlags().status(), "--venue_book_depth: ");
  absl::SetFlag(&FLAGS_venue_book_depth, 0);
  absl::SetFlag(&FLAGS_venue_stale_ms, 0);
  ExpectError(ConfigFromFlags().status(), "--venue_stale_ms: ");
}

}  // namespace
}  // namespace tickmesh::market_data
