#include "feed_common.h"

#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tickmesh/venues/decimal.h"

namespace tickmesh::venues::internal {

using tickmesh::v1::MarketEvent;

namespace {

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

[[noreturn]] void Fail(std::string_view field, std::string_view why) {
  throw FrameError(absl::StrCat(AV(field), ": ", AV(why)));
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant's algorithm.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

std::string LowerAscii(std::string_view s) { return absl::AsciiStrToLower(AV(s)); }

int64_t DecimalText(std::string_view text, std::string_view field, int* decimals) {
  auto v = ParseDecimalE8(text, decimals);
  if (!v.ok()) Fail(field, std::string(v.status().message()));
  return *v;
}

int64_t DecimalValue(od::value v, std::string_view field, int* decimals) {
  switch (v.type()) {
    case od::json_type::string:
      return DecimalText(v.get_string().value(), field, decimals);
    case od::json_type::number:
      return DecimalText(TrimRight(v.raw_json_token()), field, decimals);
    default:
      Fail(field, "must be a decimal string or number");
  }
}

int64_t IntValue(od::value v, std::string_view field) {
  if (v.type() == od::json_type::string) {
    std::string_view s = v.get_string().value();
    int64_t out = 0;
    if (s.empty() || s.size() > 18) Fail(field, "must be an integer");
    for (char c : s) {
      if (c < '0' || c > '9') Fail(field, "must be an integer");
      out = out * 10 + (c - '0');
    }
    return out;
  }
  int64_t out = 0;
  if (v.get_int64().get(out) != simdjson::SUCCESS) Fail(field, "must be an integer");
  return out;
}

std::string_view StringValue(od::value v, std::string_view field) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) Fail(field, "must be a string");
  return s;
}

void PairLevels(od::value v, std::string_view field, std::vector<Level>* out) {
  od::array levels;
  if (v.get_array().get(levels) != simdjson::SUCCESS) Fail(field, "must be an array");
  for (auto level : levels) {
    od::array pair;
    if (level.get_array().get(pair) != simdjson::SUCCESS) {
      Fail(field, "levels must be [\"price\", \"qty\"]");
    }
    Level l;
    int n = 0;
    for (auto item : pair) {
      od::value value = item.value();
      if (n == 0) {
        l.price_e8 = DecimalValue(value, field, &l.price_decimals);
      } else if (n == 1) {
        l.qty_e8 = DecimalValue(value, field, &l.qty_decimals);
      } else {
        Fail(field, "levels must be [\"price\", \"qty\"]");
      }
      ++n;
    }
    if (n != 2) Fail(field, "levels must be [\"price\", \"qty\"]");
    if (l.price_e8 <= 0 || l.qty_e8 < 0) Fail(field, "price must be > 0 and qty >= 0");
    out->push_back(l);
  }
}

int64_t ParseRfc3339Ns(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00)
  auto digits = [&](size_t pos, size_t n) -> int64_t {
    if (pos + n > t.size()) Fail("timestamp", "not RFC 3339");
    int64_t v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (t[i] < '0' || t[i] > '9') Fail("timestamp", "not RFC 3339");
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != ' ') ||
      t[13] != ':' || t[16] != ':') {
    Fail("timestamp", "not RFC 3339");
  }
  const int64_t year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  const int64_t hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    Fail("timestamp", "not RFC 3339");
  }
  size_t i = 19;
  int64_t frac_ns = 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    int n = 0;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (n < 9) {
        frac_ns = frac_ns * 10 + (t[i] - '0');
        ++n;
      }
      ++i;
    }
    if (n == 0) Fail("timestamp", "not RFC 3339");
    for (; n < 9; ++n) frac_ns *= 10;
  }
  const std::string_view zone = t.substr(i);
  if (zone != "Z" && zone != "+00:00" && zone != "z") Fail("timestamp", "must be UTC");
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return ((days * 24 + hour) * 60 + minute) * 60'000'000'000LL + second * 1'000'000'000LL + frac_ns;
}

int64_t MillisToNs(int64_t ms, std::string_view field) {
  constexpr int64_t kMaxMs = 13'569'465'600'000LL;  // 2400-01-01
  if (ms < 0 || ms > kMaxMs) Fail(field, "timestamp out of range");
  return ms * 1'000'000;
}

simdjson::padded_string_view PaddedFrame::Load(std::string_view frame) {
  const size_t need = frame.size() + simdjson::SIMDJSON_PADDING;
  if (buffer_.size() < need) buffer_.resize(need);
  std::memcpy(buffer_.data(), frame.data(), frame.size());
  std::memset(buffer_.data() + frame.size(), 0, simdjson::SIMDJSON_PADDING);
  return simdjson::padded_string_view(buffer_.data(), frame.size(), buffer_.size());
}

FeedCodecBase::FeedCodecBase(Venue venue, const SymbolMap& symbols, FeedOptions options)
    : venue_(venue), options_(std::move(options)) {
  for (const std::string& s : symbols.tickmesh_symbols()) {
    SymbolInfo info;
    info.symbol = s;
    info.venue_symbol = *symbols.ToVenueSymbol(venue, s);  // configured, so present
    by_venue_symbol_.emplace(info.venue_symbol, static_cast<int>(symbols_.size()));
    by_symbol_.emplace(s, static_cast<int>(symbols_.size()));
    symbols_.push_back(std::move(info));
  }
}

int FeedCodecBase::FindVenueSymbol(std::string_view venue_symbol) const {
  auto it = by_venue_symbol_.find(AV(venue_symbol));
  return it == by_venue_symbol_.end() ? -1 : it->second;
}

int FeedCodecBase::FindSymbol(std::string_view symbol) const {
  auto it = by_symbol_.find(AV(symbol));
  return it == by_symbol_.end() ? -1 : it->second;
}

MarketEvent& FeedCodecBase::NewEvent(int index, int64_t exchange_unix_ns, int64_t recv_unix_ns,
                                     std::vector<MarketEvent>* out) {
  MarketEvent& e = out->emplace_back();
  e.set_venue(std::string(VenueName(venue_)));
  e.set_symbol(symbols_[index].symbol);
  e.set_seq(++symbols_[index].seq);
  e.set_exchange_unix_ns(exchange_unix_ns);
  e.set_receive_unix_ns(recv_unix_ns);
  ++stats_.events;
  return e;
}

void FeedCodecBase::EmitBook(int index, bool snapshot, const std::vector<Level>& bids,
                             const std::vector<Level>& asks, int64_t exchange_unix_ns,
                             int64_t recv_unix_ns, std::vector<MarketEvent>* out) {
  MarketEvent& e = NewEvent(index, exchange_unix_ns, recv_unix_ns, out);
  auto fill = [](const std::vector<Level>& levels, auto* repeated) {
    repeated->Reserve(static_cast<int>(levels.size()));
    for (const Level& l : levels) {
      auto* p = repeated->Add();
      p->set_price_e8(l.price_e8);
      p->set_qty_e8(l.qty_e8);
    }
  };
  if (snapshot) {
    ++stats_.snapshots;
    fill(bids, e.mutable_snapshot()->mutable_bids());
    fill(asks, e.mutable_snapshot()->mutable_asks());
  } else {
    fill(bids, e.mutable_delta()->mutable_bids());
    fill(asks, e.mutable_delta()->mutable_asks());
  }
}

absl::Status FeedCodecBase::Decode(std::string_view frame, int64_t recv_unix_ns,
                                   std::vector<MarketEvent>* out) {
  absl::MutexLock lock(&mu_);
  ++stats_.frames;
  if (frame.size() > options_.max_frame_bytes) {
    ++stats_.parse_errors;
    return absl::InvalidArgumentError(
        absl::StrCat("frame of ", frame.size(), " bytes exceeds ", options_.max_frame_bytes));
  }
  const size_t before = out->size();
  absl::Status status;
  try {
    od::document doc = parser_.iterate(padded_.Load(frame)).value();
    status = DecodeLocked(doc, recv_unix_ns, out);
  } catch (const simdjson::simdjson_error& e) {
    status = absl::InvalidArgumentError(absl::StrCat("malformed JSON: ", e.what()));
  } catch (const FrameError& e) {
    status = absl::InvalidArgumentError(e.what());
  } catch (const std::exception& e) {
    status = absl::InvalidArgumentError(absl::StrCat("unexpected frame: ", e.what()));
  }
  if (absl::IsInvalidArgument(status)) {
    ++stats_.parse_errors;
    out->resize(before);
  }
  return status;
}

absl::Status FeedCodecBase::ApplySnapshot(std::string_view symbol, std::string_view body,
                                          int64_t recv_unix_ns, std::vector<MarketEvent>* out) {
  absl::MutexLock lock(&mu_);
  const int index = FindSymbol(symbol);
  if (index < 0) {
    return absl::NotFoundError(absl::StrCat("symbol ", AV(symbol), " is not configured"));
  }
  if (body.size() > options_.max_frame_bytes * 4) {
    ++stats_.parse_errors;
    return absl::InvalidArgumentError("snapshot body too large");
  }
  const size_t before = out->size();
  absl::Status status;
  try {
    od::document doc = parser_.iterate(padded_.Load(body)).value();
    status = ApplySnapshotLocked(index, doc, recv_unix_ns, out);
  } catch (const simdjson::simdjson_error& e) {
    status = absl::InvalidArgumentError(absl::StrCat("malformed snapshot JSON: ", e.what()));
  } catch (const FrameError& e) {
    status = absl::InvalidArgumentError(absl::StrCat("malformed snapshot: ", e.what()));
  } catch (const std::exception& e) {
    status = absl::InvalidArgumentError(absl::StrCat("unexpected snapshot: ", e.what()));
  }
  if (!status.ok() && out->size() != before) out->resize(before);
  if (absl::IsInvalidArgument(status)) ++stats_.parse_errors;
  return status;
}

std::vector<std::string> FeedCodecBase::TakeSnapshotRequests() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  out.swap(snapshot_requests_);
  return out;
}

absl::StatusOr<net::HttpRequest> FeedCodecBase::SnapshotRequest(std::string_view) const {
  return absl::UnimplementedError(
      absl::StrCat(AV(VenueName(venue_)), " books are synced in-band, not by REST snapshot"));
}

void FeedCodecBase::Reset() {
  absl::MutexLock lock(&mu_);
  snapshot_requests_.clear();
  ResetLocked();
}

FeedStats FeedCodecBase::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace tickmesh::venues::internal
