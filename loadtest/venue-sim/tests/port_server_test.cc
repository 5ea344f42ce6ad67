#include "port_server.h"

#include "gtest/gtest.h"
#include "venue_common.h"

namespace tickmesh::venue_sim {
namespace {

TEST(ParseForm, DecodesPairsInOrder) {
  auto f = ParseForm("symbol=BTCUSDT&side=BUY&note=a%20b+c&flag&bad=%zz");
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[0], (std::pair<std::string, std::string>{"symbol", "BTCUSDT"}));
  EXPECT_EQ(f[2].second, "a b c");
  EXPECT_EQ(f[3], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(f[4].second, "%zz");
  ASSERT_NE(FormValue(f, "side"), nullptr);
  EXPECT_EQ(*FormValue(f, "side"), "BUY");
  EXPECT_EQ(FormValue(f, "nope"), nullptr);
  EXPECT_TRUE(ParseForm("").empty());
}

TEST(StripParam, RemovesOnlyTheNamedParameter) {
  EXPECT_EQ(StripParam("a=1&signature=abc&b=2", "signature"), "a=1&b=2");
  EXPECT_EQ(StripParam("signature=abc", "signature"), "");
  EXPECT_EQ(StripParam("signatures=1&a=2", "signature"), "signatures=1&a=2");
  EXPECT_EQ(StripParam("", "signature"), "");
}

TEST(DiffLevels, ReportsChangedAddedAndRemovedLevels) {
  Levels before = {{100, 1}, {99, 2}, {98, 3}};
  Levels after = {{100, 1}, {99, 5}, {97, 4}};
  EXPECT_EQ(DiffLevels(before, after), (Levels{{99, 5}, {97, 4}, {98, 0}}));
  EXPECT_TRUE(DiffLevels(after, after).empty());
}

TEST(IsoTimeUs, FormatsMicroseconds) {
  EXPECT_EQ(IsoTimeUs(1695628177708706), "2023-09-25T07:49:37.708706Z");
}

}  // namespace
}  // namespace tickmesh::venue_sim
