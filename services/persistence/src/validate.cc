#include "validate.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"

namespace tickmesh::persistence {
namespace {

absl::Status Bad(const std::string& where, absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(where, ".", field, ": ", why));
}

// A key column value: non-empty (unless optional), bounded, no control characters (they would
// break page tokens and make ids unreadable in logs).
absl::Status CheckKey(const std::string& where, absl::string_view field, const std::string& value,
                      bool required = true) {
  if (value.empty()) {
    return required ? Bad(where, field, "must not be empty") : absl::OkStatus();
  }
  if (value.size() > kMaxKeyBytes) {
    return Bad(where, field, absl::StrCat("longer than ", kMaxKeyBytes, " bytes"));
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return Bad(where, field, "contains a control character");
  }
  return absl::OkStatus();
}

absl::Status CheckPositive(const std::string& where, absl::string_view field, int64_t v) {
  if (v <= 0) return Bad(where, field, absl::StrCat("must be > 0 (got ", v, ")"));
  return absl::OkStatus();
}

absl::Status CheckNonNegative(const std::string& where, absl::string_view field, int64_t v) {
  if (v < 0) return Bad(where, field, absl::StrCat("must be >= 0 (got ", v, ")"));
  return absl::OkStatus();
}

absl::Status CheckSide(const std::string& where, absl::string_view field, v1::Side side) {
  if (side != v1::SIDE_BUY && side != v1::SIDE_SELL) {
    return Bad(where, field, "must be SIDE_BUY or SIDE_SELL");
  }
  return absl::OkStatus();
}

#define TM_RETURN_IF_ERROR(expr) \
  do {                           \
    absl::Status _st = (expr);   \
    if (!_st.ok()) return _st;   \
  } while (0)

absl::Status ValidateOrder(const v1::Order& o, const std::string& w) {
  TM_RETURN_IF_ERROR(CheckKey(w, "order_id", o.order_id()));
  TM_RETURN_IF_ERROR(CheckKey(w, "client_order_id", o.client_order_id(), /*required=*/false));
  TM_RETURN_IF_ERROR(CheckKey(w, "venue", o.venue()));
  TM_RETURN_IF_ERROR(CheckKey(w, "symbol", o.symbol()));
  TM_RETURN_IF_ERROR(CheckKey(w, "strategy", o.strategy(), /*required=*/false));
  TM_RETURN_IF_ERROR(CheckSide(w, "side", o.side()));
  if (o.status() == v1::ORDER_STATUS_UNSPECIFIED || !v1::OrderStatus_IsValid(o.status())) {
    return Bad(w, "status", "must be a known, specified OrderStatus");
  }
  TM_RETURN_IF_ERROR(CheckPositive(w, "qty_e8", o.qty_e8()));
  TM_RETURN_IF_ERROR(CheckNonNegative(w, "price_e8", o.price_e8()));
  TM_RETURN_IF_ERROR(CheckNonNegative(w, "filled_qty_e8", o.filled_qty_e8()));
  if (o.filled_qty_e8() > o.qty_e8()) {
    return Bad(w, "filled_qty_e8",
               absl::StrCat("exceeds qty_e8 (", o.filled_qty_e8(), " > ", o.qty_e8(), ")"));
  }
  TM_RETURN_IF_ERROR(CheckNonNegative(w, "avg_fill_price_e8", o.avg_fill_price_e8()));
  TM_RETURN_IF_ERROR(CheckPositive(w, "created_unix_ns", o.created_unix_ns()));
  if (o.version() > static_cast<uint64_t>(INT64_MAX)) return Bad(w, "version", "above 2^63-1");
  return absl::OkStatus();
}

absl::Status ValidateFill(const v1::Fill& f, const std::string& w) {
  TM_RETURN_IF_ERROR(CheckKey(w, "fill_id", f.fill_id()));
  TM_RETURN_IF_ERROR(CheckKey(w, "order_id", f.order_id()));
  TM_RETURN_IF_ERROR(CheckKey(w, "client_order_id", f.client_order_id(), /*required=*/false));
  TM_RETURN_IF_ERROR(CheckKey(w, "venue", f.venue()));
  TM_RETURN_IF_ERROR(CheckKey(w, "symbol", f.symbol()));
  TM_RETURN_IF_ERROR(CheckKey(w, "fee_asset", f.fee_asset(), /*required=*/false));
  TM_RETURN_IF_ERROR(CheckSide(w, "side", f.side()));
  TM_RETURN_IF_ERROR(CheckPositive(w, "qty_e8", f.qty_e8()));
  TM_RETURN_IF_ERROR(CheckPositive(w, "price_e8", f.price_e8()));
  TM_RETURN_IF_ERROR(CheckPositive(w, "unix_ns", f.unix_ns()));
  return absl::OkStatus();
}

absl::Status ValidateRecordImpl(const v1::Record& r, const std::string& where) {
  switch (r.kind_case()) {
    case v1::Record::kOrder:
      return ValidateOrder(r.order(), where + ".order");
    case v1::Record::kOrderEvent: {
      const v1::OrderEvent& e = r.order_event();
      const std::string w = where + ".order_event";
      TM_RETURN_IF_ERROR(CheckKey(w, "event_id", e.event_id()));
      if (e.type() == v1::ORDER_EVENT_TYPE_UNSPECIFIED || !v1::OrderEventType_IsValid(e.type())) {
        return Bad(w, "type", "must be a known, specified OrderEventType");
      }
      TM_RETURN_IF_ERROR(CheckPositive(w, "unix_ns", e.unix_ns()));
      if (!e.has_order()) return Bad(w, "order", "must be set");
      TM_RETURN_IF_ERROR(ValidateOrder(e.order(), w + ".order"));
      // An execution-algorithm parent's FILL event reports the sum of its children's fills;
      // the children's own events carry the Fill records.
      const bool algo_parent = e.order().algo() == v1::EXEC_ALGO_TWAP ||
                               e.order().algo() == v1::EXEC_ALGO_ICEBERG ||
                               e.order().algo() == v1::EXEC_ALGO_LIQUIDITY_AWARE;
      if (e.type() == v1::ORDER_EVENT_TYPE_FILL && (e.has_fill() || !algo_parent)) {
        if (!e.has_fill()) return Bad(w, "fill", "must be set for ORDER_EVENT_TYPE_FILL");
        TM_RETURN_IF_ERROR(ValidateFill(e.fill(), w + ".fill"));
      }
      if (e.seq() > static_cast<uint64_t>(INT64_MAX)) return Bad(w, "seq", "above 2^63-1");
      return absl::OkStatus();
    }
    case v1::Record::kFill:
      return ValidateFill(r.fill(), where + ".fill");
    case v1::Record::kPosition: {
      const v1::Position& p = r.position();
      const std::string w = where + ".position";
      TM_RETURN_IF_ERROR(CheckKey(w, "venue", p.venue()));
      TM_RETURN_IF_ERROR(CheckKey(w, "symbol", p.symbol()));
      TM_RETURN_IF_ERROR(CheckNonNegative(w, "avg_entry_price_e8", p.avg_entry_price_e8()));
      TM_RETURN_IF_ERROR(CheckNonNegative(w, "mark_price_e8", p.mark_price_e8()));
      TM_RETURN_IF_ERROR(CheckPositive(w, "updated_unix_ns", p.updated_unix_ns()));
      return absl::OkStatus();
    }
    case v1::Record::kBalance: {
      const v1::Balance& b = r.balance();
      const std::string w = where + ".balance";
      TM_RETURN_IF_ERROR(CheckKey(w, "venue", b.venue()));
      TM_RETURN_IF_ERROR(CheckKey(w, "asset", b.asset()));
      TM_RETURN_IF_ERROR(CheckPositive(w, "updated_unix_ns", b.updated_unix_ns()));
      return absl::OkStatus();
    }
    case v1::Record::kSignal: {
      const v1::Signal& s = r.signal();
      const std::string w = where + ".signal";
      TM_RETURN_IF_ERROR(CheckKey(w, "signal_id", s.signal_id()));
      TM_RETURN_IF_ERROR(CheckKey(w, "venue", s.venue(), /*required=*/false));
      TM_RETURN_IF_ERROR(CheckKey(w, "symbol", s.symbol()));
      TM_RETURN_IF_ERROR(CheckKey(w, "strategy", s.strategy(), /*required=*/false));
      if (!std::isfinite(s.strength()) || s.strength() < 0 || s.strength() > 1) {
        return Bad(w, "strength", "must be a finite number in [0, 1]");
      }
      TM_RETURN_IF_ERROR(CheckNonNegative(w, "target_price_e8", s.target_price_e8()));
      TM_RETURN_IF_ERROR(CheckNonNegative(w, "target_qty_e8", s.target_qty_e8()));
      TM_RETURN_IF_ERROR(CheckPositive(w, "unix_ns", s.unix_ns()));
      return absl::OkStatus();
    }
    case v1::Record::kCandle: {
      const v1::Candle& c = r.candle();
      const std::string w = where + ".candle";
      TM_RETURN_IF_ERROR(CheckKey(w, "venue", c.venue()));
      TM_RETURN_IF_ERROR(CheckKey(w, "symbol", c.symbol()));
      if (c.interval_s() == 0) return Bad(w, "interval_s", "must be > 0");
      TM_RETURN_IF_ERROR(CheckPositive(w, "open_unix_ns", c.open_unix_ns()));
      TM_RETURN_IF_ERROR(CheckNonNegative(w, "low_e8", c.low_e8()));
      TM_RETURN_IF_ERROR(CheckNonNegative(w, "volume_e8", c.volume_e8()));
      if (c.high_e8() < c.low_e8()) {
        return Bad(w, "high_e8",
                   absl::StrCat("below low_e8 (", c.high_e8(), " < ", c.low_e8(), ")"));
      }
      for (auto [name, v] :
           {std::pair<const char*, int64_t>{"open_e8", c.open_e8()}, {"close_e8", c.close_e8()}}) {
        if (v < c.low_e8() || v > c.high_e8()) return Bad(w, name, "outside [low_e8, high_e8]");
      }
      return absl::OkStatus();
    }
    case v1::Record::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(where, ": no record kind set"));
}

}  // namespace

absl::Status ValidateRecord(const v1::Record& record, const std::string& where) {
  return ValidateRecordImpl(record, where);
}

absl::Status ValidateAppendRequest(const v1::AppendRequest& request) {
  if (request.records_size() == 0) {
    return absl::InvalidArgumentError("records: must hold at least one record");
  }
  if (static_cast<size_t>(request.records_size()) > kMaxRecordsPerBatch) {
    return absl::InvalidArgumentError(absl::StrCat(
        "records: ", request.records_size(), " records, above the maximum ", kMaxRecordsPerBatch));
  }
  for (int i = 0; i < request.records_size(); ++i) {
    absl::Status st = ValidateRecordImpl(request.records(i), absl::StrCat("records[", i, "]"));
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace tickmesh::persistence
