// Kraken spot WebSocket v2 public channels: book (snapshot + updates with CRC32 checksum), trade,
// ticker. https://docs.kraken.com/api/docs/websocket-v2/book and
// https://docs.kraken.com/exchange/guides/websockets/book-checksum-v2 .
#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "feed_codecs.h"
#include "feed_common.h"
#include "tickmesh/venues/sign.h"

namespace tickmesh::venues::internal {
namespace {

using tickmesh::v1::MarketEvent;

struct BookMsg {
  int index = -1;
  std::vector<Level> bids, asks;
  int64_t checksum = -1;
  int64_t exchange_ns = 0;
};

struct TradeMsg {
  int index = -1;
  int64_t price = 0, qty = 0, exchange_ns = 0;
  bool buy = false;
  std::string_view trade_id;
};

struct TickerMsg {
  int index = -1;
  int64_t bid = 0, bid_qty = 0, ask = 0, ask_qty = 0, last = 0, exchange_ns = 0;
};

// A level of the kept book with its checksum text ("price digits" + "qty digits") computed
// once when the level is set, so verifying a message costs only the CRC over 20 short strings.
struct BookLevel {
  Level level;
  uint8_t digits_len = 0;
  char digits[62];
};

constexpr size_t kMaxDigits = sizeof(BookLevel::digits);

// Levels are validated at parse time (<= 20 decimals), so the text always fits.
BookLevel MakeBookLevel(const Level& l) {
  thread_local std::string scratch;
  scratch.clear();
  AppendChecksumDigits(l.price_e8, l.price_decimals, &scratch);
  AppendChecksumDigits(l.qty_e8, l.qty_decimals, &scratch);
  if (scratch.size() > kMaxDigits) scratch.resize(kMaxDigits);  // unreachable, see above
  BookLevel b;
  b.level = l;
  b.digits_len = static_cast<uint8_t>(scratch.size());
  std::memcpy(b.digits, scratch.data(), scratch.size());
  return b;
}

class KrakenFeed final : public FeedCodecBase {
 public:
  KrakenFeed(const SymbolMap& symbols, FeedOptions options)
      : FeedCodecBase(Venue::kKraken, symbols, std::move(options)), books_(symbols_.size()) {
    depth_ = options_.book_depth > 0 ? options_.book_depth : 10;
  }

  std::string ConnectTarget() const override { return "/v2"; }

  std::vector<std::string> SubscribeFrames() const override {
    std::vector<std::string> names;
    for (const SymbolInfo& s : symbols_) names.push_back(absl::StrCat("\"", s.venue_symbol, "\""));
    const std::string list = absl::StrJoin(names, ",");
    std::vector<std::string> frames;
    frames.push_back(absl::StrCat(R"({"method":"subscribe","params":{"channel":"book","symbol":[)",
                                  list, R"(],"depth":)", depth_, R"(,"snapshot":true}})"));
    if (options_.trades) {
      frames.push_back(
          absl::StrCat(R"({"method":"subscribe","params":{"channel":"trade","symbol":[)", list,
                       R"(],"snapshot":false}})"));
    }
    if (options_.tickers) {
      frames.push_back(absl::StrCat(
          R"({"method":"subscribe","params":{"channel":"ticker","symbol":[)", list, R"(]}})"));
    }
    return frames;
  }

  std::string PingFrame() const override { return R"({"method":"ping"})"; }
  int64_t ping_interval_ms() const override { return options_.ping_interval_ms; }

  std::vector<std::string> ResyncFrames(std::string_view symbol) const override {
    const int index = FindSymbol(symbol);
    if (index < 0) return {};
    const std::string& vs = symbols_[index].venue_symbol;
    return {absl::StrCat(R"({"method":"unsubscribe","params":{"channel":"book","symbol":[")", vs,
                         R"("],"depth":)", depth_, "}}"),
            absl::StrCat(R"({"method":"subscribe","params":{"channel":"book","symbol":[")", vs,
                         R"("],"depth":)", depth_, R"(,"snapshot":true}})")};
  }

 protected:
  absl::Status DecodeLocked(od::document& doc, int64_t recv_ns,
                            std::vector<MarketEvent>* out) override {
    od::object top = doc.get_object().value();
    std::string_view channel;
    auto ch = top.find_field_unordered("channel");
    if (ch.error() == simdjson::NO_SUCH_FIELD) return OnMethodReply(top);
    channel = StringValue(ch.value(), "channel");
    if (channel == "heartbeat" || channel == "status" || channel == "instrument") {
      return absl::OkStatus();
    }
    std::string_view type;
    if (auto t = top.find_field_unordered("type"); t.error() != simdjson::NO_SUCH_FIELD) {
      type = StringValue(t.value(), "type");
    }
    od::array data = top.find_field_unordered("data").get_array().value();
    if (channel == "book") {
      const bool snapshot = type == "snapshot";
      if (!snapshot && type != "update") throw FrameError("book type must be snapshot|update");
      ParseBooks(data);
      return ApplyBooks(snapshot, recv_ns, out);
    }
    if (channel == "trade") {
      ParseTrades(data);
      for (size_t i = 0; i < n_trades_; ++i) {
        const TradeMsg& m = trades_[i];
        MarketEvent& e = NewEvent(m.index, m.exchange_ns, recv_ns, out);
        auto* t = e.mutable_trade();
        t->set_price_e8(m.price);
        t->set_qty_e8(m.qty);
        t->set_aggressor_side(m.buy ? tickmesh::v1::SIDE_BUY : tickmesh::v1::SIDE_SELL);
        t->set_trade_id(std::string(m.trade_id));
      }
      return absl::OkStatus();
    }
    if (channel == "ticker") {
      ParseTickers(data);
      for (size_t i = 0; i < n_tickers_; ++i) {
        const TickerMsg& m = tickers_[i];
        MarketEvent& e = NewEvent(m.index, m.exchange_ns, recv_ns, out);
        auto* t = e.mutable_ticker();
        t->set_bid_price_e8(m.bid);
        t->set_bid_qty_e8(m.bid_qty);
        t->set_ask_price_e8(m.ask);
        t->set_ask_qty_e8(m.ask_qty);
        t->set_last_price_e8(m.last);
      }
      return absl::OkStatus();
    }
    throw FrameError(absl::StrCat("unexpected channel \"", AV(channel), "\""));
  }

  void ResetLocked() override {
    for (Book& b : books_) {
      b.synced = false;
      b.bids.clear();
      b.asks.clear();
    }
  }

 private:
  struct Book {
    bool synced = false;
    bool ever_synced = false;
    bool failed = false;          // dropped after a checksum failure, awaiting a new snapshot
    std::vector<BookLevel> bids;  // best (highest) first
    std::vector<BookLevel> asks;  // best (lowest) first
  };

  absl::Status OnMethodReply(od::object& top) {
    auto m = top.find_field_unordered("method");
    if (m.error() == simdjson::NO_SUCH_FIELD) throw FrameError("neither channel nor method");
    const std::string_view method = StringValue(m.value(), "method");
    if (method == "pong") return absl::OkStatus();
    if (method != "subscribe" && method != "unsubscribe") {
      throw FrameError(absl::StrCat("unexpected method \"", AV(method), "\""));
    }
    auto success = top.find_field_unordered("success");
    if (success.error() == simdjson::NO_SUCH_FIELD) throw FrameError("reply without success");
    if (success.get_bool().value()) return absl::OkStatus();
    std::string_view error = "(no error text)";
    if (auto e = top.find_field_unordered("error"); e.error() == simdjson::SUCCESS) {
      error = StringValue(e.value(), "error");
    }
    return absl::FailedPreconditionError(
        absl::StrCat("kraken rejected ", AV(method), ": ", AV(error.substr(0, 200))));
  }

  int SymbolIndex(od::value v) {
    const std::string_view s = StringValue(v, "symbol");
    const int index = FindVenueSymbol(s);
    if (index < 0) throw FrameError(absl::StrCat("unknown symbol ", AV(s.substr(0, 40))));
    return index;
  }

  // [{"price": p, "qty": q}, ...]
  static void ObjectLevels(od::value v, std::string_view field, std::vector<Level>* out) {
    for (auto item : v.get_array().value()) {
      Level l;
      bool price = false, qty = false;
      for (auto f : item.get_object().value()) {
        const std::string_view key = f.unescaped_key().value();
        if (key == "price") {
          l.price_e8 = DecimalValue(f.value().value(), "price", &l.price_decimals);
          price = true;
        } else if (key == "qty") {
          l.qty_e8 = DecimalValue(f.value().value(), "qty", &l.qty_decimals);
          qty = true;
        }
      }
      if (!price || !qty || l.price_e8 <= 0 || l.qty_e8 < 0) {
        throw FrameError(absl::StrCat(AV(field), ": levels need price > 0 and qty >= 0"));
      }
      // At most 19 digits + 12 trailing zeros per value, so a level's checksum text always fits
      // BookLevel::digits and applying the frame later cannot fail.
      if (l.price_decimals > 20 || l.qty_decimals > 20) {
        throw FrameError(absl::StrCat(AV(field), ": more than 20 decimals"));
      }
      out->push_back(l);
    }
  }

  void ParseBooks(od::array& data) {
    n_books_ = 0;
    for (auto entry : data) {
      if (n_books_ == books_msgs_.size()) books_msgs_.emplace_back();
      BookMsg& m = books_msgs_[n_books_++];
      m.index = -1;
      m.bids.clear();
      m.asks.clear();
      m.checksum = -1;
      m.exchange_ns = 0;
      for (auto f : entry.get_object().value()) {
        const std::string_view key = f.unescaped_key().value();
        od::value v = f.value().value();
        if (key == "symbol") {
          m.index = SymbolIndex(v);
        } else if (key == "bids") {
          ObjectLevels(v, "bids", &m.bids);
        } else if (key == "asks") {
          ObjectLevels(v, "asks", &m.asks);
        } else if (key == "checksum") {
          m.checksum = IntValue(v, "checksum");
          if (m.checksum > 0xFFFFFFFFLL) throw FrameError("checksum: out of range");
        } else if (key == "timestamp") {
          m.exchange_ns = ParseRfc3339Ns(StringValue(v, "timestamp"));
        }
      }
      if (m.index < 0 || m.checksum < 0) throw FrameError("book entry needs symbol and checksum");
    }
  }

  void ParseTrades(od::array& data) {
    n_trades_ = 0;
    for (auto entry : data) {
      if (n_trades_ == trades_.size()) trades_.emplace_back();
      TradeMsg& m = trades_[n_trades_++];
      m = TradeMsg{};
      bool side = false;
      for (auto f : entry.get_object().value()) {
        const std::string_view key = f.unescaped_key().value();
        od::value v = f.value().value();
        if (key == "symbol") {
          m.index = SymbolIndex(v);
        } else if (key == "side") {
          const std::string_view s = StringValue(v, "side");
          if (s != "buy" && s != "sell") throw FrameError("side: must be buy|sell");
          m.buy = s == "buy";
          side = true;
        } else if (key == "price") {
          m.price = DecimalValue(v, "price");
        } else if (key == "qty") {
          m.qty = DecimalValue(v, "qty");
        } else if (key == "trade_id") {
          if (v.type().value() == od::json_type::string) {
            m.trade_id = StringValue(v, "trade_id");
          } else {
            m.trade_id = v.raw_json_token();
            while (!m.trade_id.empty() &&
                   (m.trade_id.back() == ' ' || m.trade_id.back() == '\n' ||
                    m.trade_id.back() == '\r' || m.trade_id.back() == '\t')) {
              m.trade_id.remove_suffix(1);
            }
          }
          if (m.trade_id.size() > 64) throw FrameError("trade_id: too long");
        } else if (key == "timestamp") {
          m.exchange_ns = ParseRfc3339Ns(StringValue(v, "timestamp"));
        }
      }
      if (m.index < 0 || !side || m.price <= 0 || m.qty <= 0) {
        throw FrameError("trade needs symbol, side, price > 0, qty > 0");
      }
    }
  }

  void ParseTickers(od::array& data) {
    n_tickers_ = 0;
    for (auto entry : data) {
      if (n_tickers_ == tickers_.size()) tickers_.emplace_back();
      TickerMsg& m = tickers_[n_tickers_++];
      m = TickerMsg{};
      for (auto f : entry.get_object().value()) {
        const std::string_view key = f.unescaped_key().value();
        od::value v = f.value().value();
        if (key == "symbol") {
          m.index = SymbolIndex(v);
        } else if (key == "bid") {
          m.bid = DecimalValue(v, "bid");
        } else if (key == "bid_qty") {
          m.bid_qty = DecimalValue(v, "bid_qty");
        } else if (key == "ask") {
          m.ask = DecimalValue(v, "ask");
        } else if (key == "ask_qty") {
          m.ask_qty = DecimalValue(v, "ask_qty");
        } else if (key == "last") {
          m.last = DecimalValue(v, "last");
        } else if (key == "timestamp") {
          m.exchange_ns = ParseRfc3339Ns(StringValue(v, "timestamp"));
        }
      }
      if (m.index < 0) throw FrameError("ticker needs symbol");
    }
  }

  // Upserts (qty > 0) or removes (qty == 0) one level in a side kept best first.
  template <typename Better>
  static void ApplyLevel(std::vector<BookLevel>& side, const Level& l, Better better) {
    auto it = std::lower_bound(
        side.begin(), side.end(), l.price_e8,
        [&](const BookLevel& a, int64_t p) { return better(a.level.price_e8, p); });
    const bool found = it != side.end() && it->level.price_e8 == l.price_e8;
    if (l.qty_e8 == 0) {
      if (found) side.erase(it);
    } else if (found) {
      *it = MakeBookLevel(l);
    } else {
      side.insert(it, MakeBookLevel(l));
    }
  }

  static void Truncate(std::vector<BookLevel>& side, size_t depth, std::vector<Level>* removed) {
    while (side.size() > depth) {
      Level l = side.back().level;
      l.qty_e8 = 0;
      removed->push_back(l);
      side.pop_back();
    }
  }

  // CRC32 over asks (best first) then bids, top 10 each, from the cached checksum texts; equal to
  // KrakenBookChecksum() of the same levels.
  static uint32_t Checksum(const Book& book) {
    // One contiguous buffer and one crc32 call: zlib's per-call setup dominates for 20 short
    // strings.
    char buf[20 * kMaxDigits];
    size_t n = 0;
    for (size_t i = 0; i < 10 && i < book.asks.size(); ++i) {
      std::memcpy(buf + n, book.asks[i].digits, book.asks[i].digits_len);
      n += book.asks[i].digits_len;
    }
    for (size_t i = 0; i < 10 && i < book.bids.size(); ++i) {
      std::memcpy(buf + n, book.bids[i].digits, book.bids[i].digits_len);
      n += book.bids[i].digits_len;
    }
    return Crc32(std::string_view(buf, n));
  }

  static void Levels(const std::vector<BookLevel>& side, std::vector<Level>* out) {
    out->clear();
    for (const BookLevel& b : side) out->push_back(b.level);
  }

  absl::Status ApplyBooks(bool snapshot, int64_t recv_ns, std::vector<MarketEvent>* out) {
    absl::Status first_loss;
    const auto higher = [](int64_t a, int64_t b) { return a > b; };
    const auto lower = [](int64_t a, int64_t b) { return a < b; };
    for (size_t i = 0; i < n_books_; ++i) {
      BookMsg& m = books_msgs_[i];
      Book& book = books_[m.index];
      const std::string& sym = symbols_[m.index].symbol;
      if (snapshot) {
        book.bids.clear();
        book.asks.clear();
      } else if (!book.synced) {
        ++stats_.stale_dropped;  // withheld until the book's next snapshot
        continue;
      }
      for (const Level& l : m.bids) ApplyLevel(book.bids, l, higher);
      for (const Level& l : m.asks) ApplyLevel(book.asks, l, lower);
      Truncate(book.bids, depth_, &m.bids);
      Truncate(book.asks, depth_, &m.asks);
      const uint32_t ours = Checksum(book);
      if (ours != static_cast<uint32_t>(m.checksum)) {
        ++stats_.checksum_failures;
        book.synced = false;
        book.failed = true;
        book.bids.clear();
        book.asks.clear();
        if (first_loss.ok()) {
          first_loss = absl::DataLossError(absl::StrCat(sym, ": book checksum mismatch (venue ",
                                                        m.checksum, ", local ", ours, ")"));
        }
        continue;
      }
      if (snapshot) {
        if (book.failed || book.ever_synced) ++stats_.resyncs;
        book.failed = false;
        book.synced = true;
        book.ever_synced = true;
        // The snapshot as kept (truncated to depth), best first.
        Levels(book.bids, &emit_bids_);
        Levels(book.asks, &emit_asks_);
        EmitBook(m.index, true, emit_bids_, emit_asks_, m.exchange_ns, recv_ns, out);
      } else {
        EmitBook(m.index, false, m.bids, m.asks, m.exchange_ns, recv_ns, out);
      }
    }
    return first_loss;
  }

  int depth_ = 10;
  std::vector<Book> books_;
  std::vector<Level> emit_bids_, emit_asks_;
  std::vector<BookMsg> books_msgs_;
  size_t n_books_ = 0;
  std::vector<TradeMsg> trades_;
  size_t n_trades_ = 0;
  std::vector<TickerMsg> tickers_;
  size_t n_tickers_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<FeedCodec>> MakeKrakenFeed(const SymbolMap& symbols,
                                                          FeedOptions options) {
  const int d = options.book_depth;
  if (d != 0 && d != 10 && d != 25 && d != 100 && d != 500 && d != 1000) {
    return absl::InvalidArgumentError("kraken book_depth must be 10, 25, 100, 500 or 1000");
  }
  return std::unique_ptr<FeedCodec>(new KrakenFeed(symbols, std::move(options)));
}

}  // namespace tickmesh::venues::internal
