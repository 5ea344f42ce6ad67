#include "replay_parser.h"

#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace tickmesh::market_data {
namespace {

using tickmesh::v1::MarketEvent;
namespace od = simdjson::ondemand;

constexpr size_t kMaxNameBytes = 64;

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

absl::Status StringField(od::value v, absl::string_view field, std::string_view* out) {
  if (v.get_string().get(*out) != simdjson::SUCCESS) return Bad(field, "must be a string");
  return absl::OkStatus();
}

absl::Status DecimalField(od::value v, absl::string_view field, int64_t* out) {
  std::string_view s;
  if (absl::Status st = StringField(v, field, &s); !st.ok()) return st;
  auto d = ParseDecimalE8(absl::string_view(s.data(), s.size()));
  if (!d.ok()) return Bad(field, d.status().message());
  *out = *d;
  return absl::OkStatus();
}

// [["price","qty"], ...] -> levels.
absl::Status LevelsField(od::value v, absl::string_view field,
                         google::protobuf::RepeatedPtrField<tickmesh::v1::PriceLevel>* out) {
  od::array levels;
  if (v.get_array().get(levels) != simdjson::SUCCESS) return Bad(field, "must be an array");
  size_t i = 0;
  for (auto level : levels) {
    od::array pair;
    if (level.get_array().get(pair) != simdjson::SUCCESS) {
      return Bad(absl::StrCat(field, "[", i, "]"), "must be [\"price\", \"qty\"]");
    }
    int64_t values[2] = {0, 0};
    size_t n = 0;
    for (auto item : pair) {
      od::value value;
      if (n >= 2 || item.get(value) != simdjson::SUCCESS) {
        return Bad(absl::StrCat(field, "[", i, "]"), "must be [\"price\", \"qty\"]");
      }
      if (absl::Status s =
              DecimalField(value, absl::StrCat(field, "[", i, "][", n, "]"), &values[n]);
          !s.ok()) {
        return s;
      }
      ++n;
    }
    if (n != 2) return Bad(absl::StrCat(field, "[", i, "]"), "must be [\"price\", \"qty\"]");
    auto* l = out->Add();
    l->set_price_e8(values[0]);
    l->set_qty_e8(values[1]);
    ++i;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> ParseDecimalE8(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty decimal");
  constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max() / 100'000'000;
  int64_t integer = 0, fraction = 0;
  size_t i = 0, int_digits = 0, frac_digits = 0;
  for (; i < text.size() && text[i] != '.'; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(absl::StrCat("not a plain decimal: \"", text, "\""));
    }
    if (integer > kMaxInt / 10) return absl::InvalidArgumentError("decimal too large");
    integer = integer * 10 + (c - '0');
    ++int_digits;
  }
  if (integer > kMaxInt) return absl::InvalidArgumentError("decimal too large");
  if (i < text.size()) {  // fraction
    ++i;
    if (i == text.size()) {
      return absl::InvalidArgumentError(absl::StrCat("not a plain decimal: \"", text, "\""));
    }
    for (; i < text.size(); ++i) {
      const char c = text[i];
      if (c < '0' || c > '9') {
        return absl::InvalidArgumentError(absl::StrCat("not a plain decimal: \"", text, "\""));
      }
      if (frac_digits < 8) {
        fraction = fraction * 10 + (c - '0');
      } else if (c != '0') {
        return absl::InvalidArgumentError(absl::StrCat("more precision than 1e-8: \"", text, "\""));
      }
      ++frac_digits;
    }
  }
  if (int_digits == 0 && frac_digits == 0) {
    return absl::InvalidArgumentError(absl::StrCat("not a plain decimal: \"", text, "\""));
  }
  for (size_t k = frac_digits; k < 8; ++k) fraction *= 10;
  const int64_t scaled = integer * 100'000'000;
  if (scaled > std::numeric_limits<int64_t>::max() - fraction) {
    return absl::InvalidArgumentError("decimal too large");
  }
  return scaled + fraction;
}

struct ReplayLineParser::Impl {
  od::parser parser;
  std::string buffer;  // the line plus simdjson's padding
};

ReplayLineParser::ReplayLineParser() : impl_(std::make_unique<Impl>()) {}
ReplayLineParser::~ReplayLineParser() = default;

absl::Status ReplayLineParser::Parse(absl::string_view line, MarketEvent* out) {
  out->Clear();
  std::string& buf = impl_->buffer;
  buf.assign(line.data(), line.size());
  buf.resize(line.size() + simdjson::SIMDJSON_PADDING);
  od::document doc;
  if (impl_->parser.iterate(buf.data(), line.size(), buf.size()).get(doc) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("not JSON");
  }
  od::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  std::string_view type;
  bool has_seq = false, has_recv = false;
  // Payload fields are collected first: "type" may come after them.
  tickmesh::v1::BookSnapshot levels;  // bids/asks for snapshot or delta
  int64_t price = 0, qty = 0, bid_price = 0, bid_qty = 0, ask_price = 0, ask_qty = 0, last = 0;
  bool has_price = false, has_qty = false;
  std::string_view side, trade_id;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("bad object key");
    }
    od::value v;
    if (field.value().get(v) != simdjson::SUCCESS) {
      return Bad(absl::string_view(key.data(), key.size()), "bad value");
    }
    absl::Status s;
    std::string_view str;
    if (key == "venue" || key == "symbol") {
      s = StringField(v, key == "venue" ? "venue" : "symbol", &str);
      if (s.ok() && (str.empty() || str.size() > kMaxNameBytes)) {
        s = Bad(key == "venue" ? "venue" : "symbol", "must be 1..64 bytes");
      }
      if (s.ok()) {
        (key == "venue" ? out->mutable_venue() : out->mutable_symbol())->assign(str);
      }
    } else if (key == "seq") {
      uint64_t seq = 0;
      if (v.get_uint64().get(seq) != simdjson::SUCCESS || seq == 0) {
        s = Bad("seq", "must be an integer > 0");
      }
      out->set_seq(seq);
      has_seq = true;
    } else if (key == "recv_ns" || key == "exchange_ns") {
      int64_t ns = 0;
      const bool recv = key == "recv_ns";
      if (v.get_int64().get(ns) != simdjson::SUCCESS || ns < 0 || (recv && ns == 0)) {
        s = Bad(recv ? "recv_ns" : "exchange_ns",
                recv ? "must be an integer > 0" : "must be an integer >= 0");
      }
      if (recv) {
        out->set_receive_unix_ns(ns);
        has_recv = true;
      } else {
        out->set_exchange_unix_ns(ns);
      }
    } else if (key == "type") {
      s = StringField(v, "type", &type);
    } else if (key == "bids") {
      levels.clear_bids();
      s = LevelsField(v, "bids", levels.mutable_bids());
    } else if (key == "asks") {
      levels.clear_asks();
      s = LevelsField(v, "asks", levels.mutable_asks());
    } else if (key == "price") {
      s = DecimalField(v, "price", &price);
      has_price = true;
    } else if (key == "qty") {
      s = DecimalField(v, "qty", &qty);
      has_qty = true;
    } else if (key == "side") {
      s = StringField(v, "side", &side);
    } else if (key == "trade_id") {
      s = StringField(v, "trade_id", &trade_id);
      if (s.ok() && trade_id.size() > 128) s = Bad("trade_id", "longer than 128 bytes");
    } else if (key == "bid_price") {
      s = DecimalField(v, "bid_price", &bid_price);
    } else if (key == "bid_qty") {
      s = DecimalField(v, "bid_qty", &bid_qty);
    } else if (key == "ask_price") {
      s = DecimalField(v, "ask_price", &ask_price);
    } else if (key == "ask_qty") {
      s = DecimalField(v, "ask_qty", &ask_qty);
    } else if (key == "last_price") {
      s = DecimalField(v, "last_price", &last);
    }  // Unknown fields are skipped by the iteration.
    if (!s.ok()) return s;
  }
  // Anything after the object (a second document, garbage) makes the line malformed.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return absl::InvalidArgumentError("trailing content after the JSON object");
  }
  if (out->venue().empty()) return Bad("venue", "missing");
  if (out->symbol().empty()) return Bad("symbol", "missing");
  if (!has_seq) return Bad("seq", "missing");
  if (!has_recv) return Bad("recv_ns", "missing");
  if (type == "snapshot") {
    *out->mutable_snapshot() = std::move(levels);
  } else if (type == "delta") {
    out->mutable_delta()->mutable_bids()->Swap(levels.mutable_bids());
    out->mutable_delta()->mutable_asks()->Swap(levels.mutable_asks());
  } else if (type == "trade") {
    if (!has_price) return Bad("price", "missing");
    if (!has_qty) return Bad("qty", "missing");
    auto* t = out->mutable_trade();
    t->set_price_e8(price);
    t->set_qty_e8(qty);
    if (side == "buy") {
      t->set_aggressor_side(tickmesh::v1::SIDE_BUY);
    } else if (side == "sell") {
      t->set_aggressor_side(tickmesh::v1::SIDE_SELL);
    } else if (!side.empty()) {
      return Bad("side", "must be \"buy\" or \"sell\"");
    }
    t->mutable_trade_id()->assign(trade_id);
  } else if (type == "ticker") {
    auto* t = out->mutable_ticker();
    t->set_bid_price_e8(bid_price);
    t->set_bid_qty_e8(bid_qty);
    t->set_ask_price_e8(ask_price);
    t->set_ask_qty_e8(ask_qty);
    t->set_last_price_e8(last);
  } else if (type.empty()) {
    return Bad("type", "missing");
  } else {
    return Bad("type", "must be snapshot, delta, trade or ticker");
  }
  return absl::OkStatus();
}

}  // namespace tickmesh::market_data
