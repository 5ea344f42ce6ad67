// Binance spot public streams: combined "<sym>@depth@100ms", "<sym>@trade", "<sym>@bookTicker",
// and the local order book procedure of
// https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
// ("How to manage a local order book correctly").
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "feed_codecs.h"
#include "feed_common.h"

namespace tickmesh::venues::internal {
namespace {

using tickmesh::v1::MarketEvent;

// Upper bound on levels held in all buffered diffs of one symbol (memory bound on hostile input).
constexpr size_t kMaxBufferedLevels = 200'000;

struct Diff {
  int64_t first_id = 0;  // U
  int64_t last_id = 0;   // u
  int64_t exchange_ns = 0;
  std::vector<Level> bids, asks;
};

// Everything one frame can carry, parsed before any state changes.
struct ParsedEvent {
  std::string_view type;  // "depthUpdate" | "trade" | "" (bookTicker)
  std::string_view symbol;
  int64_t event_ms = -1, trade_ms = -1;
  int64_t first_id = -1, last_id = -1;
  bool has_levels = false;
  std::vector<Level> bids, asks;
  // trade
  int64_t price = -1, qty = -1, trade_id = -1;
  int buyer_maker = -1;  // -1 absent, 0 false, 1 true
  // bookTicker
  int64_t bid = -1, bid_qty = -1, ask = -1, ask_qty = -1;
  bool result_reply = false;

  void Clear() {
    type = {};
    symbol = {};
    event_ms = trade_ms = first_id = last_id = -1;
    has_levels = false;
    bids.clear();
    asks.clear();
    price = qty = trade_id = -1;
    buyer_maker = -1;
    bid = bid_qty = ask = ask_qty = -1;
    result_reply = false;
  }
};

class BinanceFeed final : public FeedCodecBase {
 public:
  BinanceFeed(const SymbolMap& symbols, FeedOptions options)
      : FeedCodecBase(Venue::kBinance, symbols, std::move(options)), books_(symbols_.size()) {
    snapshot_limit_ = options_.book_depth > 0 ? options_.book_depth : 1000;
  }

  std::string ConnectTarget() const override {
    std::string target = "/stream?streams=";
    bool first = true;
    auto add = [&](const std::string& stream) {
      if (!first) target.push_back('/');
      first = false;
      target += stream;
    };
    for (const SymbolInfo& s : symbols_) {
      const std::string lower = LowerAscii(s.venue_symbol);
      add(absl::StrCat(lower, "@depth@", options_.binance_update_ms, "ms"));
      if (options_.trades) add(lower + "@trade");
      if (options_.tickers) add(lower + "@bookTicker");
    }
    return target;
  }
  std::vector<std::string> SubscribeFrames() const override { return {}; }
  std::string PingFrame() const override { return ""; }
  int64_t ping_interval_ms() const override { return 0; }

  absl::StatusOr<net::HttpRequest> SnapshotRequest(std::string_view symbol) const override {
    const int index = FindSymbol(symbol);
    if (index < 0) {
      return absl::NotFoundError(absl::StrCat("symbol ", AV(symbol), " is not configured"));
    }
    net::HttpRequest r;
    r.method = "GET";
    r.target = absl::StrCat("/api/v3/depth?symbol=", symbols_[index].venue_symbol,
                            "&limit=", snapshot_limit_);
    r.endpoint = "depth";
    return r;
  }

 protected:
  absl::Status DecodeLocked(od::document& doc, int64_t recv_ns,
                            std::vector<MarketEvent>* out) override {
    ParsedEvent& p = parsed_;
    p.Clear();
    od::object top = doc.get_object().value();
    bool wrapped = false;
    for (auto field : top) {
      const std::string_view key = field.unescaped_key().value();
      od::value value = field.value().value();
      if (key == "data") {
        wrapped = true;
        od::object data = value.get_object().value();
        for (auto inner : data) {
          Field(inner.unescaped_key().value(), inner.value().value(), &p);
        }
      } else if (key == "stream") {
        StringValue(value, "stream");
      } else if (key == "result" || key == "id") {
        p.result_reply = true;  // reply to a SUBSCRIBE/LIST request
      } else if (!wrapped) {
        Field(key, value, &p);
      }
    }
    if (p.result_reply && p.symbol.empty()) return absl::OkStatus();
    if (p.symbol.empty()) throw FrameError("event without symbol \"s\"");
    const int index = FindVenueSymbol(p.symbol);
    if (index < 0) throw FrameError(absl::StrCat("unknown symbol ", AV(p.symbol)));
    if (p.type == "depthUpdate") return OnDiff(index, recv_ns, out);
    if (p.type == "trade") return OnTrade(index, recv_ns, out);
    if (p.type.empty() && p.bid >= 0 && p.ask >= 0 && p.bid_qty >= 0 && p.ask_qty >= 0) {
      return OnBookTicker(index, recv_ns, out);
    }
    throw FrameError(absl::StrCat("unexpected event type \"", AV(p.type), "\""));
  }

  absl::Status ApplySnapshotLocked(int index, od::document& doc, int64_t recv_ns,
                                   std::vector<MarketEvent>* out) override {
    Book& book = books_[index];
    const std::string& sym = symbols_[index].symbol;
    if (book.state != State::kAwaitingSnapshot) {
      return absl::FailedPreconditionError(absl::StrCat(sym, ": no snapshot was requested"));
    }
    int64_t last_update_id = -1;
    snap_bids_.clear();
    snap_asks_.clear();
    try {
      od::object obj = doc.get_object().value();
      for (auto field : obj) {
        const std::string_view key = field.unescaped_key().value();
        od::value value = field.value().value();
        if (key == "lastUpdateId") {
          last_update_id = IntValue(value, "lastUpdateId");
        } else if (key == "bids") {
          PairLevels(value, "bids", &snap_bids_);
        } else if (key == "asks") {
          PairLevels(value, "asks", &snap_asks_);
        } else if (key == "code") {
          throw FrameError("venue error body");
        }
      }
      if (last_update_id < 0) throw FrameError("lastUpdateId missing");
    } catch (...) {
      Request(index);  // the caller fetches again
      throw;
    }
    // Step: the snapshot must not be older than the first buffered event.
    if (!book.buffer.empty() && last_update_id + 1 < book.buffer.front().first_id) {
      Request(index);
      return absl::AbortedError(absl::StrCat(sym, ": snapshot lastUpdateId ", last_update_id,
                                             " is older than buffered U ",
                                             book.buffer.front().first_id, "; fetch again"));
    }
    // Drop buffered events the snapshot already covers (u <= lastUpdateId).
    while (!book.buffer.empty() && book.buffer.front().last_id <= last_update_id) {
      PopFront(book);
      ++stats_.stale_dropped;
    }
    // The remaining events must chain: first U <= lastUpdateId + 1, then U == prev u + 1.
    int64_t expect = last_update_id;
    for (size_t i = 0; i < book.buffer.size(); ++i) {
      if (book.buffer[i].first_id > expect + 1) {
        // Useless before the gap; keep from the gap on and ask for a newer snapshot.
        for (size_t k = 0; k < i; ++k) PopFront(book);
        ++stats_.gaps;
        Request(index);
        return absl::DataLossError(absl::StrCat(sym, ": buffered diffs have a gap after the ",
                                                "snapshot (expected U <= ", expect + 1, ", got ",
                                                book.buffer.front().first_id, ")"));
      }
      expect = book.buffer[i].last_id;
    }
    if (book.ever_synced) ++stats_.resyncs;
    book.ever_synced = true;
    EmitBook(index, true, snap_bids_, snap_asks_, 0, recv_ns, out);
    for (const Diff& d : book.buffer) {
      EmitBook(index, false, d.bids, d.asks, d.exchange_ns, recv_ns, out);
    }
    book.last_id = book.buffer.empty() ? last_update_id : book.buffer.back().last_id;
    while (!book.buffer.empty()) PopFront(book);
    book.state = State::kSynced;
    return absl::OkStatus();
  }

  void ResetLocked() override {
    for (Book& b : books_) {
      b.buffer.clear();
      b.buffered_levels = 0;
      b.state = State::kIdle;
      b.last_id = 0;
    }
  }

 private:
  enum class State { kIdle, kAwaitingSnapshot, kSynced };
  struct Book {
    State state = State::kIdle;
    bool ever_synced = false;
    int64_t last_id = 0;  // u of the last applied event (or the snapshot's lastUpdateId)
    std::deque<Diff> buffer;
    size_t buffered_levels = 0;
    int64_t last_trade_e8 = 0;
  };

  static void Field(std::string_view key, od::value value, ParsedEvent* p) {
    if (key.size() != 1) return;  // the events' fields are all one letter
    switch (key[0]) {
      case 'e':
        p->type = StringValue(value, "e");
        break;
      case 'E':
        p->event_ms = IntValue(value, "E");
        break;
      case 's':
        p->symbol = StringValue(value, "s");
        break;
      case 'U':
        p->first_id = IntValue(value, "U");
        break;
      case 'u':
        p->last_id = IntValue(value, "u");
        break;
      case 'b':
      case 'a': {
        const bool bid = key[0] == 'b';
        const od::json_type type = value.type().value();
        if (type == od::json_type::array) {
          p->has_levels = true;
          PairLevels(value, bid ? "b" : "a", bid ? &p->bids : &p->asks);
        } else if (type == od::json_type::string) {
          (bid ? p->bid : p->ask) = DecimalValue(value, bid ? "b" : "a");
        }  // numbers: buyer/seller order ids of older trade payloads, not used
        break;
      }
      case 'B':
        p->bid_qty = DecimalValue(value, "B");
        break;
      case 'A':
        p->ask_qty = DecimalValue(value, "A");
        break;
      case 'p':
        p->price = DecimalValue(value, "p");
        break;
      case 'q':
        p->qty = DecimalValue(value, "q");
        break;
      case 't':
        p->trade_id = IntValue(value, "t");
        break;
      case 'T':
        p->trade_ms = IntValue(value, "T");
        break;
      case 'm':
        p->buyer_maker = value.get_bool().value() ? 1 : 0;
        break;
      default:
        break;
    }
  }

  void Request(int index) {
    for (const std::string& s : snapshot_requests_) {
      if (s == symbols_[index].symbol) return;
    }
    snapshot_requests_.push_back(symbols_[index].symbol);
  }

  void PopFront(Book& book) {
    book.buffered_levels -= book.buffer.front().bids.size() + book.buffer.front().asks.size();
    book.buffer.pop_front();
  }

  void Buffer(Book& book, const ParsedEvent& p, int64_t exchange_ns) {
    const size_t levels = p.bids.size() + p.asks.size();
    while (!book.buffer.empty() && (book.buffer.size() >= options_.max_buffered_events ||
                                    book.buffered_levels + levels > kMaxBufferedLevels)) {
      PopFront(book);
      ++stats_.buffer_dropped;
    }
    if (levels > kMaxBufferedLevels) {
      ++stats_.buffer_dropped;
      return;
    }
    Diff& d = book.buffer.emplace_back();
    d.first_id = p.first_id;
    d.last_id = p.last_id;
    d.exchange_ns = exchange_ns;
    d.bids = p.bids;
    d.asks = p.asks;
    book.buffered_levels += levels;
  }

  absl::Status OnDiff(int index, int64_t recv_ns, std::vector<MarketEvent>* out) {
    const ParsedEvent& p = parsed_;
    if (p.first_id < 0 || p.last_id < 0 || p.first_id > p.last_id || !p.has_levels) {
      throw FrameError("depthUpdate needs U <= u, b and a");
    }
    const int64_t exchange_ns = p.event_ms >= 0 ? MillisToNs(p.event_ms, "E") : 0;
    Book& book = books_[index];
    switch (book.state) {
      case State::kIdle:
        Buffer(book, p, exchange_ns);
        book.state = State::kAwaitingSnapshot;
        Request(index);
        return absl::OkStatus();
      case State::kAwaitingSnapshot:
        Buffer(book, p, exchange_ns);
        return absl::OkStatus();
      case State::kSynced:
        break;
    }
    if (p.last_id <= book.last_id) {  // already in the book
      ++stats_.stale_dropped;
      return absl::OkStatus();
    }
    if (p.first_id > book.last_id + 1) {
      const int64_t expected = book.last_id + 1;
      ++stats_.gaps;
      book.state = State::kAwaitingSnapshot;
      book.buffer.clear();
      book.buffered_levels = 0;
      Buffer(book, p, exchange_ns);
      Request(index);
      return absl::DataLossError(absl::StrCat(symbols_[index].symbol,
                                              ": diff-depth gap (expected U <= ", expected,
                                              ", got U=", p.first_id, ")"));
    }
    book.last_id = p.last_id;
    EmitBook(index, false, p.bids, p.asks, exchange_ns, recv_ns, out);
    return absl::OkStatus();
  }

  absl::Status OnTrade(int index, int64_t recv_ns, std::vector<MarketEvent>* out) {
    const ParsedEvent& p = parsed_;
    if (p.price <= 0 || p.qty <= 0 || p.buyer_maker < 0) {
      throw FrameError("trade needs p > 0, q > 0 and m");
    }
    const int64_t ms = p.trade_ms >= 0 ? p.trade_ms : p.event_ms;
    const int64_t exchange_ns = ms >= 0 ? MillisToNs(ms, "T") : 0;
    books_[index].last_trade_e8 = p.price;
    MarketEvent& e = NewEvent(index, exchange_ns, recv_ns, out);
    auto* t = e.mutable_trade();
    t->set_price_e8(p.price);
    t->set_qty_e8(p.qty);
    // m: the buyer is the maker, so the aggressor sold.
    t->set_aggressor_side(p.buyer_maker ? tickmesh::v1::SIDE_SELL : tickmesh::v1::SIDE_BUY);
    if (p.trade_id >= 0) t->set_trade_id(absl::StrCat(p.trade_id));
    return absl::OkStatus();
  }

  absl::Status OnBookTicker(int index, int64_t recv_ns, std::vector<MarketEvent>* out) {
    const ParsedEvent& p = parsed_;
    MarketEvent& e =
        NewEvent(index, p.event_ms >= 0 ? MillisToNs(p.event_ms, "E") : 0, recv_ns, out);
    auto* t = e.mutable_ticker();
    t->set_bid_price_e8(p.bid);
    t->set_bid_qty_e8(p.bid_qty);
    t->set_ask_price_e8(p.ask);
    t->set_ask_qty_e8(p.ask_qty);
    t->set_last_price_e8(books_[index].last_trade_e8);  // 0 until a trade was seen
    return absl::OkStatus();
  }

  int snapshot_limit_ = 1000;
  std::vector<Book> books_;
  ParsedEvent parsed_;
  std::vector<Level> snap_bids_, snap_asks_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<FeedCodec>> MakeBinanceFeed(const SymbolMap& symbols,
                                                           FeedOptions options) {
  if (options.book_depth < 0 || options.book_depth > 5000) {
    return absl::InvalidArgumentError("binance book_depth (snapshot limit) must be 0..5000");
  }
  if (options.binance_update_ms != 100 && options.binance_update_ms != 1000) {
    return absl::InvalidArgumentError("binance_update_ms must be 100 or 1000");
  }
  return std::unique_ptr<FeedCodec>(new BinanceFeed(symbols, std::move(options)));
}

}  // namespace tickmesh::venues::internal
