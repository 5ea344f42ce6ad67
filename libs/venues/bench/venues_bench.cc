// Google Benchmark for libs/venues (not a test; scripts/bench sign and scripts/bench venues):
//  - BM_Sign<Venue>: ns to build one complete signed order request (PlaceOrder: params -> query /
//    JSON body, timestamp or nonce, HMAC, headers) per venue. Baseline BM_SignBaselineOneShotHmac:
//    OpenSSL's one-shot HMAC-SHA256 (hex) of the same Binance query — what signing costs without a
//    precomputed key schedule, and without building anything.
//  - BM_Parse<Venue>Delta: ns to parse + normalise one book-delta frame into MarketEvents through
//    the venue's FeedCodec (sequence / checksum checks included). Baseline BM_DomParse<Venue>: a
//    plain simdjson DOM parse of the same frame that touches nothing (no decimals, no events).
//    Frames: Binance depthUpdate with 10 bids + 10 asks; Kraken v2 update of 1 level on a 10-level
//    book (checksum verified); Bybit orderbook.50 delta with 3 bids + 3 asks; Hyperliquid l2Book
//    snapshot with 20 + 20 levels (every message is a full book there).
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "simdjson.h"
#include "tickmesh/venues/decimal.h"
#include "tickmesh/venues/feed.h"
#include "tickmesh/venues/orders.h"
#include "tickmesh/venues/sign.h"

namespace tickmesh::venues {
namespace {

constexpr int64_t kRecv = 1'700'000'000'000'000'000;

SymbolMap Symbols() { return *SymbolMap::Create({"BTC-USDT", "BTC-USD"}); }

OrderParams Order(const char* symbol) {
  OrderParams p;
  p.symbol = symbol;
  p.side = v1::SIDE_BUY;
  p.type = v1::ORDER_TYPE_LIMIT;
  p.qty_e8 = 12'345'000;
  p.price_e8 = 6'543'210'000'000;
  p.client_order_id = "tm-000000012345";
  return p;
}

void SignBench(benchmark::State& state, Venue venue, const char* symbol, Credentials c) {
  auto api = MakeOrderApi(venue, Symbols(), std::move(c));
  const OrderParams p = Order(symbol);
  for (auto _ : state) {
    auto r = (*api)->PlaceOrder(p);
    benchmark::DoNotOptimize(r);
  }
}

void BM_SignBinance(benchmark::State& state) {
  SignBench(state, Venue::kBinance, "BTC-USDT",
            {"vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
             "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"});
}
void BM_SignKraken(benchmark::State& state) {
  SignBench(
      state, Venue::kKraken, "BTC-USD",
      {"key",
       "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="});
}
void BM_SignBybit(benchmark::State& state) {
  SignBench(state, Venue::kBybit, "BTC-USDT",
            {"XXXXXXXXXXXXXXXXXX", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"});
}

void BM_SignBaselineOneShotHmac(benchmark::State& state) {
  const std::string secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
  const std::string query =
      "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.12345&price=65432.1&"
      "newClientOrderId=tm-000000012345&newOrderRespType=FULL&recvWindow=5000&"
      "timestamp=1700000000000";
  for (auto _ : state) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(query.data()), query.size(), out, &len);
    static const char kHex[] = "0123456789abcdef";
    std::string hex(2 * len, '\0');
    for (unsigned int i = 0; i < len; ++i) {
      hex[2 * i] = kHex[out[i] >> 4];
      hex[2 * i + 1] = kHex[out[i] & 0xf];
    }
    benchmark::DoNotOptimize(hex);
  }
}

// ---- frames

std::string BinanceDiff(int64_t first, int64_t last) {
  std::string f = absl::StrCat(
      R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1700000000000,"s":"BTCUSDT","U":)",
      first, R"(,"u":)", last, R"(,"b":[)");
  for (int i = 0; i < 10; ++i) {
    absl::StrAppend(&f, i ? "," : "", R"([")",
                    FormatDecimalE8(6'500'000'000'000 - i * 1'000'000, 2), R"(",")",
                    FormatDecimalE8(12'345'678 + i, 8), R"("])");
  }
  absl::StrAppend(&f, R"(],"a":[)");
  for (int i = 0; i < 10; ++i) {
    absl::StrAppend(&f, i ? "," : "", R"([")",
                    FormatDecimalE8(6'500'100'000'000 + i * 1'000'000, 2), R"(",")",
                    FormatDecimalE8(87'654'321 + i, 8), R"("])");
  }
  absl::StrAppend(&f, "]}}");
  return f;
}

std::string BybitDelta(int64_t u) {
  return absl::StrCat(
      R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1700000000000,"data":{"s":"BTCUSDT",)",
      R"("b":[["65000.10","0.123"],["64999.90","1.500"],["64990.00","0"]],)",
      R"("a":[["65000.20","0.050"],["65001.00","2.000"],["65010.50","0"]],"u":)", u,
      R"(,"seq":7961638724},"cts":1700000000000})");
}

// Kraken: a 10-level book and two updates that toggle the best bid's qty, checksums precomputed.
struct KrakenFrames {
  std::string snapshot, update_a, update_b;
};

KrakenFrames MakeKrakenFrames() {
  std::vector<KrakenChecksumLevel> bids, asks;
  std::string b, a;
  for (int i = 0; i < 10; ++i) {
    KrakenChecksumLevel bid{6'500'000'000'000 - i * 10'000'000, 100'000'000 + i, 1, 8};
    KrakenChecksumLevel ask{6'500'100'000'000 + i * 10'000'000, 200'000'000 + i, 1, 8};
    bids.push_back(bid);
    asks.push_back(ask);
    absl::StrAppend(&b, i ? "," : "", R"({"price":)", FormatDecimalE8(bid.price_e8, 1),
                    R"(,"qty":)", FormatDecimalE8(bid.qty_e8, 8), "}");
    absl::StrAppend(&a, i ? "," : "", R"({"price":)", FormatDecimalE8(ask.price_e8, 1),
                    R"(,"qty":)", FormatDecimalE8(ask.qty_e8, 8), "}");
  }
  KrakenFrames f;
  f.snapshot =
      absl::StrCat(R"({"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[)", b,
                   R"(],"asks":[)", a, R"(],"checksum":)", KrakenBookChecksum(asks, bids), "}]}");
  auto update = [&](int64_t qty) {
    auto changed = bids;
    changed[0].qty_e8 = qty;
    return absl::StrCat(
        R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":)",
        FormatDecimalE8(bids[0].price_e8, 1), R"(,"qty":)", FormatDecimalE8(qty, 8),
        R"(}],"asks":[],"checksum":)", KrakenBookChecksum(asks, changed),
        R"(,"timestamp":"2023-10-06T17:35:55.440295Z"}]})");
  };
  f.update_a = update(300'000'000);
  f.update_b = update(bids[0].qty_e8);
  return f;
}

std::string HyperliquidBook() {
  std::string f = R"({"channel":"l2Book","data":{"coin":"BTC","time":1700000000000,"levels":[[)";
  for (int i = 0; i < 20; ++i) {
    absl::StrAppend(&f, i ? "," : "", R"({"px":")",
                    FormatDecimalE8(6'500'000'000'000 - i * 100'000'000, 1), R"(","sz":")",
                    FormatDecimalE8(12'345'000 + i * 1000, 5), R"(","n":3})");
  }
  absl::StrAppend(&f, "],[");
  for (int i = 0; i < 20; ++i) {
    absl::StrAppend(&f, i ? "," : "", R"({"px":")",
                    FormatDecimalE8(6'500'100'000'000 + i * 100'000'000, 1), R"(","sz":")",
                    FormatDecimalE8(22'345'000 + i * 1000, 5), R"(","n":2})");
  }
  absl::StrAppend(&f, "]]}}");
  return f;
}

constexpr int kFrames = 4096;

void BM_ParseBinanceDelta(benchmark::State& state) {
  std::vector<std::string> frames;
  for (int i = 0; i < kFrames; ++i)
    frames.push_back(BinanceDiff(1000 + 10 * i + 1, 1000 + 10 * i + 10));
  auto codec = *MakeFeedCodec(Venue::kBinance, Symbols());
  std::vector<v1::MarketEvent> out;
  auto sync = [&] {
    codec->Reset();
    (void)codec->Decode(frames[0], kRecv, &out);
    (void)codec->ApplySnapshot(
        "BTC-USDT", R"({"lastUpdateId":1010,"bids":[["65000","1"]],"asks":[["65001","1"]]})", kRecv,
        &out);
    out.clear();
  };
  sync();
  int i = 1;
  for (auto _ : state) {
    if (i == kFrames) {
      state.PauseTiming();
      sync();
      i = 1;
      state.ResumeTiming();
    }
    out.clear();
    if (!codec->Decode(frames[i++], kRecv, &out).ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(absl::StrCat(frames[1].size(), " B frame"));
}

void BM_ParseKrakenDelta(benchmark::State& state) {
  const KrakenFrames f = MakeKrakenFrames();
  auto codec = *MakeFeedCodec(Venue::kKraken, Symbols());
  std::vector<v1::MarketEvent> out;
  if (!codec->Decode(f.snapshot, kRecv, &out).ok()) state.SkipWithError("snapshot failed");
  bool a = true;
  for (auto _ : state) {
    out.clear();
    if (!codec->Decode(a ? f.update_a : f.update_b, kRecv, &out).ok()) {
      state.SkipWithError("decode failed");
    }
    a = !a;
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(absl::StrCat(f.update_a.size(), " B frame"));
}

void BM_ParseBybitDelta(benchmark::State& state) {
  std::vector<std::string> frames;
  for (int i = 0; i < kFrames; ++i) frames.push_back(BybitDelta(2 + i));
  const std::string snapshot =
      R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1700000000000,"data":{"s":"BTCUSDT","b":[["65000.10","0.1"]],"a":[["65000.20","0.1"]],"u":1,"seq":1}})";
  auto codec = *MakeFeedCodec(Venue::kBybit, Symbols());
  std::vector<v1::MarketEvent> out;
  (void)codec->Decode(snapshot, kRecv, &out);
  int i = 0;
  for (auto _ : state) {
    if (i == kFrames) {
      state.PauseTiming();
      (void)codec->Decode(snapshot, kRecv, &out);
      i = 0;
      state.ResumeTiming();
    }
    out.clear();
    if (!codec->Decode(frames[i++], kRecv, &out).ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(absl::StrCat(frames[0].size(), " B frame"));
}

void BM_ParseHyperliquidBook(benchmark::State& state) {
  const std::string frame = HyperliquidBook();
  auto codec = *MakeFeedCodec(Venue::kHyperliquid, *SymbolMap::Create({"BTC-USD"}));
  std::vector<v1::MarketEvent> out;
  for (auto _ : state) {
    out.clear();
    if (!codec->Decode(frame, kRecv, &out).ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(absl::StrCat(frame.size(), " B frame"));
}

// Baseline: a plain DOM parse of the same frame (simdjson's fastest path for "read it all").
void DomParse(benchmark::State& state, const std::string& frame) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(frame);
  for (auto _ : state) {
    auto doc = parser.parse(padded);
    benchmark::DoNotOptimize(doc);
  }
}
void BM_DomParseBinance(benchmark::State& s) { DomParse(s, BinanceDiff(1001, 1010)); }
void BM_DomParseKraken(benchmark::State& s) { DomParse(s, MakeKrakenFrames().update_a); }
void BM_DomParseBybit(benchmark::State& s) { DomParse(s, BybitDelta(2)); }
void BM_DomParseHyperliquid(benchmark::State& s) { DomParse(s, HyperliquidBook()); }

BENCHMARK(BM_SignBinance);
BENCHMARK(BM_SignKraken);
BENCHMARK(BM_SignBybit);
BENCHMARK(BM_SignBaselineOneShotHmac);
BENCHMARK(BM_ParseBinanceDelta);
BENCHMARK(BM_DomParseBinance);
BENCHMARK(BM_ParseKrakenDelta);
BENCHMARK(BM_DomParseKraken);
BENCHMARK(BM_ParseBybitDelta);
BENCHMARK(BM_DomParseBybit);
BENCHMARK(BM_ParseHyperliquidBook);
BENCHMARK(BM_DomParseHyperliquid);

}  // namespace
}  // namespace tickmesh::venues

BENCHMARK_MAIN();
