#include "tickmesh/venues/decimal.h"

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace tickmesh::venues {
namespace {

TEST(ParseDecimalE8, ParsesPlainDecimalsExactly) {
  EXPECT_EQ(*ParseDecimalE8("0"), 0);
  EXPECT_EQ(*ParseDecimalE8("1"), 100'000'000);
  EXPECT_EQ(*ParseDecimalE8("0.0024"), 240'000);
  EXPECT_EQ(*ParseDecimalE8("45283.5"), 4'528'350'000'000);
  EXPECT_EQ(*ParseDecimalE8("0.00000001"), 1);
  EXPECT_EQ(*ParseDecimalE8("16493.50"), 1'649'350'000'000);
  EXPECT_EQ(*ParseDecimalE8("-1.25"), -125'000'000);
  EXPECT_EQ(*ParseDecimalE8("007.10"), 710'000'000);
}

TEST(ParseDecimalE8, AcceptsTrailingZerosBeyondEightDecimals) {
  EXPECT_EQ(*ParseDecimalE8("0.123456780000"), 12'345'678);
  int decimals = 0;
  EXPECT_EQ(*ParseDecimalE8("1011.1908877900", &decimals), 101'119'088'779);
  EXPECT_EQ(decimals, 10);
}

TEST(ParseDecimalE8, ReportsFractionDigits) {
  int decimals = -1;
  ASSERT_TRUE(ParseDecimalE8("0.00100000", &decimals).ok());
  EXPECT_EQ(decimals, 8);
  ASSERT_TRUE(ParseDecimalE8("45283.5", &decimals).ok());
  EXPECT_EQ(decimals, 1);
  ASSERT_TRUE(ParseDecimalE8("37500", &decimals).ok());
  EXPECT_EQ(decimals, 0);
}

TEST(ParseDecimalE8, RejectsMorePrecisionThanOneE8) {
  EXPECT_FALSE(ParseDecimalE8("0.000000001").ok());
  EXPECT_FALSE(ParseDecimalE8("1.123456789").ok());
}

TEST(ParseDecimalE8, RejectsMalformedText) {
  for (const char* bad : {"", "-", ".", ".5", "5.", "1e5", "1.2.3", "+1", " 1", "1 ", "0x10", "abc",
                          "1,5", "--1", "NaN", "inf"}) {
    auto v = ParseDecimalE8(bad);
    EXPECT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ParseDecimalE8, ChecksOverflowAtTheInt64Boundary) {
  // max int64 = 92233720368.54775807 at scale 1e8.
  EXPECT_EQ(*ParseDecimalE8("92233720368.54775807"), std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(ParseDecimalE8("92233720368.54775808").ok());
  EXPECT_FALSE(ParseDecimalE8("92233720369").ok());
  EXPECT_FALSE(ParseDecimalE8("99999999999999999999999999").ok());
  EXPECT_EQ(*ParseDecimalE8("-92233720368.54775807"), -std::numeric_limits<int64_t>::max());
}

TEST(ParseDecimalE8, ErrorQuotesTheTextTruncated) {
  auto v = ParseDecimalE8(std::string(100, '9') + "x");
  ASSERT_FALSE(v.ok());
  EXPECT_LT(v.status().message().size(), 100u);
}

TEST(FormatDecimalE8, FormatsWithFixedDecimals) {
  EXPECT_EQ(FormatDecimalE8(4'528'350'000'000, 1), "45283.5");
  EXPECT_EQ(FormatDecimalE8(100'000, 8), "0.00100000");
  EXPECT_EQ(FormatDecimalE8(3'750'000'000'000, 0), "37500");
  EXPECT_EQ(FormatDecimalE8(-125'000'000, 2), "-1.25");
  EXPECT_EQ(FormatDecimalE8(std::numeric_limits<int64_t>::min(), 8), "-92233720368.54775808");
}

TEST(FormatDecimalE8, ShortestFormDropsTrailingZeros) {
  EXPECT_EQ(FormatDecimalE8(125'000'000), "1.25");
  EXPECT_EQ(FormatDecimalE8(100'000'000), "1");
  EXPECT_EQ(FormatDecimalE8(0), "0");
  EXPECT_EQ(FormatDecimalE8(10'000'000), "0.1");
  EXPECT_EQ(FormatDecimalE8(1), "0.00000001");
}

TEST(FormatDecimalE8, RoundTripsThroughParse) {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{123'456'789}, int64_t{-987'654'321'000},
                    std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(*ParseDecimalE8(FormatDecimalE8(v)), v);
  }
}

}  // namespace
}  // namespace tickmesh::venues
