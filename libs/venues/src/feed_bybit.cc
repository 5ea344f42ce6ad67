// Bybit v5 public WebSocket: orderbook.<depth>.<SYMBOL> (snapshot / delta, u continuity),
// publicTrade.<SYMBOL>, tickers.<SYMBOL>.
// https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "feed_codecs.h"
#include "feed_common.h"

namespace tickmesh::venues::internal {
namespace {

using tickmesh::v1::MarketEvent;

struct TradeMsg {
  int index = -1;
  int64_t price = 0, qty = 0, exchange_ns = 0;
  int buy = -1;
  std::string_view trade_id;
};

class BybitFeed final : public FeedCodecBase {
 public:
  BybitFeed(const SymbolMap& symbols, FeedOptions options)
      : FeedCodecBase(Venue::kBybit, symbols, std::move(options)), books_(symbols_.size()) {
    depth_ = options_.book_depth > 0 ? options_.book_depth : 50;
  }

  std::string ConnectTarget() const override {
    return absl::StrCat("/v5/public/", options_.bybit_category);
  }

  std::vector<std::string> SubscribeFrames() const override {
    // Bybit spot accepts at most 10 args per subscribe request.
    std::vector<std::string> topics;
    for (const SymbolInfo& s : symbols_) {
      topics.push_back(absl::StrCat("\"orderbook.", depth_, ".", s.venue_symbol, "\""));
      if (options_.trades) topics.push_back(absl::StrCat("\"publicTrade.", s.venue_symbol, "\""));
      if (options_.tickers) topics.push_back(absl::StrCat("\"tickers.", s.venue_symbol, "\""));
    }
    std::vector<std::string> frames;
    for (size_t i = 0; i < topics.size(); i += 10) {
      std::vector<std::string> chunk(topics.begin() + i,
                                     topics.begin() + std::min(topics.size(), i + 10));
      frames.push_back(
          absl::StrCat(R"({"op":"subscribe","args":[)", absl::StrJoin(chunk, ","), "]}"));
    }
    return frames;
  }

  std::string PingFrame() const override { return R"({"op":"ping"})"; }
  int64_t ping_interval_ms() const override { return options_.ping_interval_ms; }

  std::vector<std::string> ResyncFrames(std::string_view symbol) const override {
    const int index = FindSymbol(symbol);
    if (index < 0) return {};
    const std::string topic = absl::StrCat("orderbook.", depth_, ".", symbols_[index].venue_symbol);
    return {absl::StrCat(R"({"op":"unsubscribe","args":[")", topic, R"("]})"),
            absl::StrCat(R"({"op":"subscribe","args":[")", topic, R"("]})")};
  }

 protected:
  absl::Status DecodeLocked(od::document& doc, int64_t recv_ns,
                            std::vector<MarketEvent>* out) override {
    od::object top = doc.get_object().value();
    auto topic_field = top.find_field_unordered("topic");
    if (topic_field.error() == simdjson::NO_SUCH_FIELD) return OnOpReply(top);
    const std::string_view topic = StringValue(topic_field.value(), "topic");
    std::string_view type;
    int64_t ts_ms = -1;
    if (auto t = top.find_field_unordered("type"); t.error() != simdjson::NO_SUCH_FIELD) {
      type = StringValue(t.value(), "type");
    }
    if (auto t = top.find_field_unordered("ts"); t.error() != simdjson::NO_SUCH_FIELD) {
      ts_ms = IntValue(t.value(), "ts");
    }
    const int64_t exchange_ns = ts_ms >= 0 ? MillisToNs(ts_ms, "ts") : 0;
    const size_t dot = topic.rfind('.');
    if (dot == std::string_view::npos) throw FrameError("topic: no symbol");
    const int index = FindVenueSymbol(topic.substr(dot + 1));
    if (index < 0) throw FrameError(absl::StrCat("unknown topic ", AV(topic.substr(0, 60))));
    const std::string_view kind = topic.substr(0, topic.find('.'));
    od::value data = top.find_field_unordered("data").value();
    if (kind == "orderbook") return OnBook(index, type, data, exchange_ns, recv_ns, out);
    if (kind == "publicTrade") return OnTrades(index, data, recv_ns, out);
    if (kind == "tickers") return OnTicker(index, type, data, exchange_ns, recv_ns, out);
    throw FrameError(absl::StrCat("unexpected topic ", AV(topic.substr(0, 60))));
  }

  void ResetLocked() override {
    for (Book& b : books_) {
      b.synced = false;
      b.ticker = Ticker{};
    }
  }

 private:
  struct Ticker {
    int64_t bid = 0, bid_qty = 0, ask = 0, ask_qty = 0, last = 0;
  };
  struct Book {
    bool synced = false;
    bool ever_synced = false;
    int64_t last_u = 0;
    Ticker ticker;
  };

  absl::Status OnOpReply(od::object& top) {
    auto op = top.find_field_unordered("op");
    if (op.error() == simdjson::NO_SUCH_FIELD) throw FrameError("neither topic nor op");
    const std::string_view name = StringValue(op.value(), "op");
    if (name == "pong" || name == "ping") return absl::OkStatus();
    if (name != "subscribe" && name != "unsubscribe") {
      throw FrameError(absl::StrCat("unexpected op \"", AV(name.substr(0, 40)), "\""));
    }
    auto success = top.find_field_unordered("success");
    if (success.error() == simdjson::NO_SUCH_FIELD) throw FrameError("op reply without success");
    if (success.get_bool().value()) return absl::OkStatus();
    std::string_view msg = "(no ret_msg)";
    if (auto m = top.find_field_unordered("ret_msg"); m.error() == simdjson::SUCCESS) {
      msg = StringValue(m.value(), "ret_msg");
    }
    return absl::FailedPreconditionError(
        absl::StrCat("bybit rejected ", AV(name), ": ", AV(msg.substr(0, 200))));
  }

  absl::Status OnBook(int index, std::string_view type, od::value data, int64_t exchange_ns,
                      int64_t recv_ns, std::vector<MarketEvent>* out) {
    const bool snapshot = type == "snapshot";
    if (!snapshot && type != "delta") throw FrameError("orderbook type must be snapshot|delta");
    bids_.clear();
    asks_.clear();
    int64_t u = -1;
    std::string_view s;
    for (auto f : data.get_object().value()) {
      const std::string_view key = f.unescaped_key().value();
      od::value v = f.value().value();
      if (key == "s") {
        s = StringValue(v, "s");
      } else if (key == "b") {
        PairLevels(v, "b", &bids_);
      } else if (key == "a") {
        PairLevels(v, "a", &asks_);
      } else if (key == "u") {
        u = IntValue(v, "u");
      }
    }
    if (u < 0) throw FrameError("orderbook data needs u");
    if (!s.empty() && s != symbols_[index].venue_symbol) {
      throw FrameError("orderbook data symbol does not match its topic");
    }
    Book& book = books_[index];
    if (snapshot) {
      // A snapshot always resets the book (also the venue's way to recover: u may restart at 1).
      if (book.ever_synced) ++stats_.resyncs;
      book.synced = true;
      book.ever_synced = true;
      book.last_u = u;
      EmitBook(index, true, bids_, asks_, exchange_ns, recv_ns, out);
      return absl::OkStatus();
    }
    if (!book.synced) {
      ++stats_.stale_dropped;  // withheld until the next snapshot
      return absl::OkStatus();
    }
    if (u <= book.last_u) {
      ++stats_.stale_dropped;
      return absl::OkStatus();
    }
    if (u != book.last_u + 1) {
      ++stats_.gaps;
      const int64_t expected = book.last_u + 1;
      book.synced = false;
      return absl::DataLossError(absl::StrCat(symbols_[index].symbol,
                                              ": orderbook update id gap (expected u=", expected,
                                              ", got u=", u, ")"));
    }
    book.last_u = u;
    EmitBook(index, false, bids_, asks_, exchange_ns, recv_ns, out);
    return absl::OkStatus();
  }

  absl::Status OnTrades(int index, od::value data, int64_t recv_ns, std::vector<MarketEvent>* out) {
    n_trades_ = 0;
    for (auto entry : data.get_array().value()) {
      if (n_trades_ == trades_.size()) trades_.emplace_back();
      TradeMsg& m = trades_[n_trades_++];
      m = TradeMsg{};
      m.index = index;
      for (auto f : entry.get_object().value()) {
        const std::string_view key = f.unescaped_key().value();
        od::value v = f.value().value();
        if (key == "T") {
          m.exchange_ns = MillisToNs(IntValue(v, "T"), "T");
        } else if (key == "s") {
          if (StringValue(v, "s") != symbols_[index].venue_symbol) {
            throw FrameError("trade symbol does not match its topic");
          }
        } else if (key == "S") {
          const std::string_view side = StringValue(v, "S");
          if (side != "Buy" && side != "Sell") throw FrameError("S: must be Buy|Sell");
          m.buy = side == "Buy";
        } else if (key == "v") {
          m.qty = DecimalValue(v, "v");
        } else if (key == "p") {
          m.price = DecimalValue(v, "p");
        } else if (key == "i") {
          m.trade_id = StringValue(v, "i");
          if (m.trade_id.size() > 64) throw FrameError("i: too long");
        }
      }
      if (m.buy < 0 || m.price <= 0 || m.qty <= 0) {
        throw FrameError("publicTrade needs S, p > 0, v > 0");
      }
    }
    for (size_t i = 0; i < n_trades_; ++i) {
      const TradeMsg& m = trades_[i];
      books_[index].ticker.last = m.price;
      MarketEvent& e = NewEvent(index, m.exchange_ns, recv_ns, out);
      auto* t = e.mutable_trade();
      t->set_price_e8(m.price);
      t->set_qty_e8(m.qty);
      t->set_aggressor_side(m.buy ? tickmesh::v1::SIDE_BUY : tickmesh::v1::SIDE_SELL);
      t->set_trade_id(std::string(m.trade_id));
    }
    return absl::OkStatus();
  }

  // Spot tickers carry lastPrice only; linear tickers also bid1/ask1 and arrive as deltas with
  // just the changed fields, so the state is merged and the full ticker emitted.
  absl::Status OnTicker(int index, std::string_view type, od::value data, int64_t exchange_ns,
                        int64_t recv_ns, std::vector<MarketEvent>* out) {
    if (type != "snapshot" && type != "delta")
      throw FrameError("tickers type must be snapshot|delta");
    Ticker next = books_[index].ticker;
    for (auto f : data.get_object().value()) {
      const std::string_view key = f.unescaped_key().value();
      od::value v = f.value().value();
      if (key == "symbol") {
        if (StringValue(v, "symbol") != symbols_[index].venue_symbol) {
          throw FrameError("ticker symbol does not match its topic");
        }
      } else if (key == "lastPrice") {
        next.last = DecimalValue(v, "lastPrice");
      } else if (key == "bid1Price") {
        next.bid = DecimalValue(v, "bid1Price");
      } else if (key == "bid1Size") {
        next.bid_qty = DecimalValue(v, "bid1Size");
      } else if (key == "ask1Price") {
        next.ask = DecimalValue(v, "ask1Price");
      } else if (key == "ask1Size") {
        next.ask_qty = DecimalValue(v, "ask1Size");
      }
    }
    books_[index].ticker = next;
    MarketEvent& e = NewEvent(index, exchange_ns, recv_ns, out);
    auto* t = e.mutable_ticker();
    t->set_bid_price_e8(next.bid);
    t->set_bid_qty_e8(next.bid_qty);
    t->set_ask_price_e8(next.ask);
    t->set_ask_qty_e8(next.ask_qty);
    t->set_last_price_e8(next.last);
    return absl::OkStatus();
  }

  int depth_ = 50;
  std::vector<Book> books_;
  std::vector<Level> bids_, asks_;
  std::vector<TradeMsg> trades_;
  size_t n_trades_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<FeedCodec>> MakeBybitFeed(const SymbolMap& symbols,
                                                         FeedOptions options) {
  if (options.bybit_category != "spot" && options.bybit_category != "linear") {
    return absl::InvalidArgumentError("bybit_category must be spot or linear");
  }
  const int d = options.book_depth;
  const bool spot = options.bybit_category == "spot";
  const bool ok = d == 0 || d == 1 || d == 50 || d == 200 || d == 1000 || (!spot && d == 500);
  if (!ok) {
    return absl::InvalidArgumentError(
        "bybit book_depth must be 1, 50, 200 or 1000 (linear also 500)");
  }
  return std::unique_ptr<FeedCodec>(new BybitFeed(symbols, std::move(options)));
}

}  // namespace tickmesh::venues::internal
