#include "tickmesh/venues/venue.h"

#include "gtest/gtest.h"

namespace tickmesh::venues {
namespace {

TEST(Venue, NamesRoundTrip) {
  for (Venue v : kAllVenues) EXPECT_EQ(*ParseVenue(VenueName(v)), v);
  EXPECT_EQ(VenueName(Venue::kHyperliquid), "hyperliquid");
  EXPECT_EQ(ParseVenue("Binance").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseVenue("").ok());
}

TEST(SymbolMap, MapsDefaultSpellingsPerVenue) {
  auto map = SymbolMap::Create({"BTC-USDT", "ETH-USD"});
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(*map->ToVenueSymbol(Venue::kBinance, "BTC-USDT"), "BTCUSDT");
  EXPECT_EQ(*map->ToVenueSymbol(Venue::kBybit, "BTC-USDT"), "BTCUSDT");
  EXPECT_EQ(*map->ToVenueSymbol(Venue::kKraken, "ETH-USD"), "ETH/USD");
  EXPECT_EQ(*map->ToVenueSymbol(Venue::kHyperliquid, "ETH-USD"), "ETH");
  EXPECT_EQ(*map->FromVenueSymbol(Venue::kBinance, "btcusdt"), "BTC-USDT");
  EXPECT_EQ(*map->FromVenueSymbol(Venue::kKraken, "ETH/USD"), "ETH-USD");
  EXPECT_EQ(*map->FromVenueSymbol(Venue::kHyperliquid, "ETH"), "ETH-USD");
  EXPECT_EQ(map->FromVenueSymbol(Venue::kBinance, "XRPUSDT").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(map->ToVenueSymbol(Venue::kBinance, "XRP-USDT").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(SymbolMap, AcceptsKrakenLegacyRestNames) {
  auto map = SymbolMap::Create({"BTC-USD", "DOGE-USD", "ETH-BTC"});
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(*map->FromVenueSymbol(Venue::kKraken, "XBTUSD"), "BTC-USD");
  EXPECT_EQ(*map->FromVenueSymbol(Venue::kKraken, "XXBTZUSD"), "BTC-USD");
  EXPECT_EQ(*map->FromVenueSymbol(Venue::kKraken, "XBT/USD"), "BTC-USD");
  EXPECT_EQ(*map->FromVenueSymbol(Venue::kKraken, "XDGUSD"), "DOGE-USD");
  EXPECT_EQ(*map->FromVenueSymbol(Venue::kKraken, "XETHXXBT"), "ETH-BTC");
  EXPECT_EQ(*KrakenRestPair("BTC-USD"), "XBTUSD");
  EXPECT_EQ(KrakenNormaliseAsset("XXBT"), "BTC");
  EXPECT_EQ(KrakenNormaliseAsset("ZUSD"), "USD");
  EXPECT_EQ(KrakenNormaliseAsset("XETH"), "ETH");
  EXPECT_EQ(KrakenNormaliseAsset("USDT"), "USDT");
  EXPECT_EQ(KrakenNormaliseAsset("XXDG"), "DOGE");
}

TEST(SymbolMap, OverridesReplaceTheDefaultSpelling) {
  auto map = SymbolMap::Create({"BTC-USD"}, {{Venue::kBinance, "BTC-USD", "BTCUSDC"}});
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(*map->ToVenueSymbol(Venue::kBinance, "BTC-USD"), "BTCUSDC");
  EXPECT_EQ(*map->FromVenueSymbol(Venue::kBinance, "BTCUSDC"), "BTC-USD");
}

TEST(SymbolMap, RejectsAmbiguousOrMalformedConfigurations) {
  // Both are "BTC" on Hyperliquid: fine for Binance, refused for Hyperliquid.
  auto both = SymbolMap::Create({"BTC-USD", "BTC-USDC"});
  ASSERT_TRUE(both.ok());
  EXPECT_TRUE(both->CheckVenue(Venue::kBinance).ok());
  EXPECT_EQ(*both->FromVenueSymbol(Venue::kBinance, "BTCUSDC"), "BTC-USDC");
  EXPECT_EQ(both->CheckVenue(Venue::kHyperliquid).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(both->FromVenueSymbol(Venue::kHyperliquid, "BTC").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(SymbolMap::Create({"BTCUSDT"}).ok());
  EXPECT_FALSE(SymbolMap::Create({"btc-usdt"}).ok());
  EXPECT_FALSE(SymbolMap::Create({"BTC-"}).ok());
  EXPECT_FALSE(SymbolMap::Create({"BTC-USDT", "BTC-USDT"}).ok());
  EXPECT_FALSE(SymbolMap::Create({"BTC-USDT"}, {{Venue::kBinance, "ETH-USDT", "X"}}).ok());
}

}  // namespace
}  // namespace tickmesh::venues
