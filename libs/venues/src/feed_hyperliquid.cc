// Hyperliquid WebSocket market data: l2Book (every message a full snapshot), trades, bbo.
// https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/subscriptions
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "feed_codecs.h"
#include "feed_common.h"

namespace tickmesh::venues::internal {
namespace {

using tickmesh::v1::MarketEvent;

struct TradeMsg {
  int index = -1;
  int64_t price = 0, qty = 0, exchange_ns = 0;
  int buy = -1;
  int64_t tid = -1;
};

class HyperliquidFeed final : public FeedCodecBase {
 public:
  HyperliquidFeed(const SymbolMap& symbols, FeedOptions options)
      : FeedCodecBase(Venue::kHyperliquid, symbols, std::move(options)),
        last_trade_(symbols_.size(), 0) {}

  std::string ConnectTarget() const override { return "/ws"; }

  std::vector<std::string> SubscribeFrames() const override {
    std::vector<std::string> frames;
    auto sub = [&](std::string_view type, const std::string& coin) {
      frames.push_back(absl::StrCat(R"({"method":"subscribe","subscription":{"type":")", AV(type),
                                    R"(","coin":")", coin, R"("}})"));
    };
    for (const SymbolInfo& s : symbols_) {
      sub("l2Book", s.venue_symbol);
      if (options_.trades) sub("trades", s.venue_symbol);
      if (options_.tickers) sub("bbo", s.venue_symbol);
    }
    return frames;
  }

  std::string PingFrame() const override { return R"({"method":"ping"})"; }
  int64_t ping_interval_ms() const override { return options_.ping_interval_ms; }

 protected:
  absl::Status DecodeLocked(od::document& doc, int64_t recv_ns,
                            std::vector<MarketEvent>* out) override {
    od::object top = doc.get_object().value();
    const std::string_view channel =
        StringValue(top.find_field_unordered("channel").value(), "channel");
    if (channel == "pong" || channel == "subscriptionResponse") return absl::OkStatus();
    od::value data = top.find_field_unordered("data").value();
    if (channel == "error") {
      std::string_view text = "(no text)";
      if (data.type().value() == od::json_type::string) text = StringValue(data, "data");
      return absl::FailedPreconditionError(
          absl::StrCat("hyperliquid error: ", AV(text.substr(0, 200))));
    }
    if (channel == "l2Book") return OnBook(data, recv_ns, out);
    if (channel == "trades") return OnTrades(data, recv_ns, out);
    if (channel == "bbo") return OnBbo(data, recv_ns, out);
    throw FrameError(absl::StrCat("unexpected channel \"", AV(channel.substr(0, 40)), "\""));
  }

  void ResetLocked() override {}

 private:
  int CoinIndex(od::value v) {
    const std::string_view coin = StringValue(v, "coin");
    const int index = FindVenueSymbol(coin);
    if (index < 0) throw FrameError(absl::StrCat("unknown coin ", AV(coin.substr(0, 40))));
    return index;
  }

  // {"px": "...", "sz": "...", "n": 3}
  static Level WsLevel(od::value v) {
    Level l;
    bool px = false, sz = false;
    for (auto f : v.get_object().value()) {
      const std::string_view key = f.unescaped_key().value();
      if (key == "px") {
        l.price_e8 = DecimalValue(f.value().value(), "px");
        px = true;
      } else if (key == "sz") {
        l.qty_e8 = DecimalValue(f.value().value(), "sz");
        sz = true;
      }
    }
    if (!px || !sz || l.price_e8 <= 0 || l.qty_e8 < 0) {
      throw FrameError("levels need px > 0 and sz >= 0");
    }
    return l;
  }

  absl::Status OnBook(od::value data, int64_t recv_ns, std::vector<MarketEvent>* out) {
    int index = -1;
    int64_t time_ms = -1;
    bids_.clear();
    asks_.clear();
    bool levels = false;
    for (auto f : data.get_object().value()) {
      const std::string_view key = f.unescaped_key().value();
      od::value v = f.value().value();
      if (key == "coin") {
        index = CoinIndex(v);
      } else if (key == "time") {
        time_ms = IntValue(v, "time");
      } else if (key == "levels") {
        int side = 0;
        for (auto side_levels : v.get_array().value()) {
          if (side > 1) throw FrameError("levels must be [bids, asks]");
          for (auto l : side_levels.get_array().value()) {
            (side == 0 ? bids_ : asks_).push_back(WsLevel(l.value()));
          }
          ++side;
        }
        if (side != 2) throw FrameError("levels must be [bids, asks]");
        levels = true;
      }
    }
    if (index < 0 || !levels) throw FrameError("l2Book needs coin and levels");
    EmitBook(index, true, bids_, asks_, time_ms >= 0 ? MillisToNs(time_ms, "time") : 0, recv_ns,
             out);
    return absl::OkStatus();
  }

  absl::Status OnTrades(od::value data, int64_t recv_ns, std::vector<MarketEvent>* out) {
    n_trades_ = 0;
    for (auto entry : data.get_array().value()) {
      if (n_trades_ == trades_.size()) trades_.emplace_back();
      TradeMsg& m = trades_[n_trades_++];
      m = TradeMsg{};
      for (auto f : entry.get_object().value()) {
        const std::string_view key = f.unescaped_key().value();
        od::value v = f.value().value();
        if (key == "coin") {
          m.index = CoinIndex(v);
        } else if (key == "side") {
          // The aggressor: "B" (bid side, a buy) or "A" (ask side, a sell).
          const std::string_view side = StringValue(v, "side");
          if (side != "A" && side != "B") throw FrameError("side: must be A|B");
          m.buy = side == "B";
        } else if (key == "px") {
          m.price = DecimalValue(v, "px");
        } else if (key == "sz") {
          m.qty = DecimalValue(v, "sz");
        } else if (key == "time") {
          m.exchange_ns = MillisToNs(IntValue(v, "time"), "time");
        } else if (key == "tid") {
          m.tid = IntValue(v, "tid");
        }
      }
      if (m.index < 0 || m.buy < 0 || m.price <= 0 || m.qty <= 0) {
        throw FrameError("trade needs coin, side, px > 0, sz > 0");
      }
    }
    for (size_t i = 0; i < n_trades_; ++i) {
      const TradeMsg& m = trades_[i];
      last_trade_[m.index] = m.price;
      MarketEvent& e = NewEvent(m.index, m.exchange_ns, recv_ns, out);
      auto* t = e.mutable_trade();
      t->set_price_e8(m.price);
      t->set_qty_e8(m.qty);
      t->set_aggressor_side(m.buy ? tickmesh::v1::SIDE_BUY : tickmesh::v1::SIDE_SELL);
      if (m.tid >= 0) t->set_trade_id(absl::StrCat(m.tid));
    }
    return absl::OkStatus();
  }

  // {"coin": "BTC", "time": ms, "bbo": [bid level | null, ask level | null]}
  absl::Status OnBbo(od::value data, int64_t recv_ns, std::vector<MarketEvent>* out) {
    int index = -1;
    int64_t time_ms = -1;
    Level bid, ask;
    bool seen = false;
    for (auto f : data.get_object().value()) {
      const std::string_view key = f.unescaped_key().value();
      od::value v = f.value().value();
      if (key == "coin") {
        index = CoinIndex(v);
      } else if (key == "time") {
        time_ms = IntValue(v, "time");
      } else if (key == "bbo") {
        int side = 0;
        for (auto item : v.get_array().value()) {
          if (side > 1) throw FrameError("bbo must be [bid, ask]");
          od::value lv = item.value();
          if (!lv.is_null().value()) (side == 0 ? bid : ask) = WsLevel(lv);
          ++side;
        }
        if (side != 2) throw FrameError("bbo must be [bid, ask]");
        seen = true;
      }
    }
    if (index < 0 || !seen) throw FrameError("bbo needs coin and bbo");
    MarketEvent& e = NewEvent(index, time_ms >= 0 ? MillisToNs(time_ms, "time") : 0, recv_ns, out);
    auto* t = e.mutable_ticker();
    t->set_bid_price_e8(bid.price_e8);
    t->set_bid_qty_e8(bid.qty_e8);
    t->set_ask_price_e8(ask.price_e8);
    t->set_ask_qty_e8(ask.qty_e8);
    t->set_last_price_e8(last_trade_[index]);
    return absl::OkStatus();
  }

  std::vector<int64_t> last_trade_;
  std::vector<Level> bids_, asks_;
  std::vector<TradeMsg> trades_;
  size_t n_trades_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<FeedCodec>> MakeHyperliquidFeed(const SymbolMap& symbols,
                                                               FeedOptions options) {
  if (options.book_depth != 0) {
    return absl::InvalidArgumentError("hyperliquid l2Book depth is fixed; book_depth must be 0");
  }
  return std::unique_ptr<FeedCodec>(new HyperliquidFeed(symbols, std::move(options)));
}

}  // namespace tickmesh::venues::internal
