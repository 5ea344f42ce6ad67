#include "validate.h"

#include "gtest/gtest.h"
#include "test_records.h"

namespace tickmesh::persistence {
namespace {

using namespace tickmesh::persistence::testing;  // NOLINT

v1::AppendRequest Batch(std::initializer_list<v1::Record> records) {
  v1::AppendRequest req;
  req.set_batch_id(1);
  for (const auto& r : records) *req.add_records() = r;
  return req;
}

void ExpectInvalid(const v1::AppendRequest& req, const std::string& field) {
  absl::Status st = ValidateAppendRequest(req);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_NE(st.message().find(field), absl::string_view::npos) << st.message();
}

TEST(ValidateAppendRequest, AcceptsWellFormedRecordsOfEveryKind) {
  v1::Record event;
  *event.mutable_order_event()->mutable_order() =
      OrderRecord("o1", "BTC-USD", v1::ORDER_STATUS_NEW, 1, kT0).order();
  event.mutable_order_event()->set_event_id("o1:1");
  event.mutable_order_event()->set_type(v1::ORDER_EVENT_TYPE_NEW);
  event.mutable_order_event()->set_unix_ns(kT0);
  EXPECT_TRUE(ValidateAppendRequest(
                  Batch({FillRecord("f1", "o1", "BTC-USD", v1::SIDE_BUY, kE8, kE8, kT0),
                         OrderRecord("o1", "BTC-USD", v1::ORDER_STATUS_NEW, 1, kT0), event,
                         PositionRecord("BTC-USD", -kE8, kT0), BalanceRecord("USD", kE8, kT0),
                         CandleRecord("BTC-USD", kT0, 3, false, 100 * kE8),
                         SignalRecord("s1", "BTC-USD", "macd", kT0)}))
                  .ok());
}

TEST(ValidateAppendRequest, RejectsEmptyBatch) { ExpectInvalid(Batch({}), "records"); }

TEST(ValidateAppendRequest, RejectsBatchAboveMaximum) {
  v1::AppendRequest req;
  for (size_t i = 0; i <= kMaxRecordsPerBatch; ++i) {
    *req.add_records() = FillRecord("f" + std::to_string(i), "o", "X", v1::SIDE_BUY, 1, 1, 1);
  }
  ExpectInvalid(req, "records: 10001");
}

TEST(ValidateAppendRequest, RejectsRecordWithoutKind) {
  ExpectInvalid(Batch({v1::Record()}), "records[0]: no record kind");
}

TEST(ValidateAppendRequest, NamesTheOffendingFillField) {
  auto zero_qty = FillRecord("f1", "o1", "BTC-USD", v1::SIDE_BUY, kE8, 0, kT0);
  ExpectInvalid(Batch({FillRecord("f0", "o1", "BTC-USD", v1::SIDE_BUY, kE8, kE8, kT0), zero_qty}),
                "records[1].fill.qty_e8");
  ExpectInvalid(Batch({FillRecord("", "o1", "BTC-USD", v1::SIDE_BUY, kE8, kE8, kT0)}),
                "records[0].fill.fill_id");
  ExpectInvalid(Batch({FillRecord("f1", "o1", "", v1::SIDE_BUY, kE8, kE8, kT0)}),
                "records[0].fill.symbol");
  ExpectInvalid(Batch({FillRecord("f1", "o1", "BTC", v1::SIDE_UNSPECIFIED, kE8, kE8, kT0)}),
                "records[0].fill.side");
  ExpectInvalid(Batch({FillRecord("f1", "o1", "BTC", v1::SIDE_BUY, -1, kE8, kT0)}),
                "records[0].fill.price_e8");
  ExpectInvalid(Batch({FillRecord("f1", "o1", "BTC", v1::SIDE_BUY, kE8, kE8, kT0, 0, "")}),
                "records[0].fill.venue");
}

TEST(ValidateAppendRequest, RejectsControlCharactersInIds) {
  ExpectInvalid(
      Batch({FillRecord(std::string("f\0x", 3), "o1", "BTC", v1::SIDE_BUY, kE8, kE8, kT0)}),
      "control character");
}

TEST(ValidateAppendRequest, RejectsOrderFilledBeyondQuantity) {
  auto r = OrderRecord("o1", "BTC-USD", v1::ORDER_STATUS_NEW, 1, kT0);
  r.mutable_order()->set_filled_qty_e8(r.order().qty_e8() + 1);
  ExpectInvalid(Batch({r}), "records[0].order.filled_qty_e8");
  auto s = OrderRecord("o1", "BTC-USD", v1::ORDER_STATUS_UNSPECIFIED, 1, kT0);
  ExpectInvalid(Batch({s}), "records[0].order.status");
}

TEST(ValidateAppendRequest, FillEventNeedsItsFillExceptForAnAlgoParent) {
  v1::Record event;
  *event.mutable_order_event()->mutable_order() =
      OrderRecord("o1", "BTC-USD", v1::ORDER_STATUS_PARTIALLY_FILLED, 2, kT0).order();
  event.mutable_order_event()->set_event_id("o1:2");
  event.mutable_order_event()->set_type(v1::ORDER_EVENT_TYPE_FILL);
  event.mutable_order_event()->set_unix_ns(kT0);
  ExpectInvalid(Batch({event}), "records[0].order_event.fill");
  // A TWAP parent's FILL event is the sum of its children's fills: no Fill of its own.
  event.mutable_order_event()->mutable_order()->set_algo(v1::EXEC_ALGO_TWAP);
  EXPECT_TRUE(ValidateAppendRequest(Batch({event})).ok());
  // An immediate order's FILL event still needs it.
  event.mutable_order_event()->mutable_order()->set_algo(v1::EXEC_ALGO_IMMEDIATE);
  ExpectInvalid(Batch({event}), "records[0].order_event.fill");
}

TEST(ValidateAppendRequest, RejectsInconsistentCandleAndBadSignal) {
  auto c = CandleRecord("BTC-USD", kT0, 1, false, 100 * kE8);
  c.mutable_candle()->set_high_e8(1);
  ExpectInvalid(Batch({c}), "records[0].candle.high_e8");
  auto iv = CandleRecord("BTC-USD", kT0, 1, false, 100 * kE8);
  iv.mutable_candle()->set_interval_s(0);
  ExpectInvalid(Batch({iv}), "records[0].candle.interval_s");
  auto s = SignalRecord("s1", "BTC-USD", "macd", kT0);
  s.mutable_signal()->set_strength(1.5);
  ExpectInvalid(Batch({s}), "records[0].signal.strength");
  auto b = BalanceRecord("", kE8, kT0);
  ExpectInvalid(Batch({b}), "records[0].balance.asset");
}

}  // namespace
}  // namespace tickmesh::persistence
