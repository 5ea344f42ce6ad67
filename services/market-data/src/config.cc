#include "config.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tickmesh/runtime/config.h"

// Symbols the synthetic connector generates (comma-separated).
ABSL_FLAG(std::string, symbols, "BTC-USD,ETH-USD", "Synthetic symbols, comma-separated");
// Synthetic events per second per symbol; 0 = synthetic connector off.
ABSL_FLAG(double, synthetic_rate, 200, "Synthetic events per second per symbol (0 = off)");
// Seed of the synthetic random walk (same seed, same market).
ABSL_FLAG(uint64_t, seed, 1, "Synthetic feed random seed");
// Per-update standard deviation of the synthetic mid's log return, basis points.
ABSL_FLAG(double, volatility_bps, 2.0, "Synthetic volatility per book update, bps");
// Probability per book update of a +-jump_bps jump.
ABSL_FLAG(double, jump_probability, 0.001, "Synthetic jump probability per update, [0,1]");
// Size of a synthetic jump, basis points.
ABSL_FLAG(double, jump_bps, 50, "Synthetic jump size, bps");
// Probability per update of switching calm <-> volatile regime (volatile = 4x volatility).
ABSL_FLAG(double, regime_switch_probability, 0.0005,
          "Synthetic regime switch probability per update, [0,1]");
// Levels per side of the synthetic book.
ABSL_FLAG(int32_t, synthetic_levels, 20, "Synthetic book levels per side");
// Levels kept per side of every L2 book.
ABSL_FLAG(int64_t, book_depth, 1000, "Book levels kept per side");
// Batches queued per subscriber (policy in subscriber_stream.h).
ABSL_FLAG(int64_t, subscriber_queue, 4096,
          "Per-subscriber queue, batches: book state conflated from half full, a trade that "
          "does not fit disconnects");
// Candle intervals in seconds (comma-separated).
ABSL_FLAG(std::string, candle_intervals, "1,60", "Candle intervals in seconds, comma-separated");
// Closed candles kept per (venue, symbol, interval).
ABSL_FLAG(int64_t, candle_history, 1000, "Closed candles kept per instrument and interval");
// Most (venue, symbol) books held; a batch creating more is RESOURCE_EXHAUSTED.
ABSL_FLAG(int64_t, max_instruments, 10000, "Maximum number of (venue, symbol) books");

// Recorded session to replay (JSON lines, format in src/replay_parser.h); empty = off.
ABSL_FLAG(std::string, replay_file, "", "Replay this recorded JSON-lines session (empty = off)");
// Replay pace: 1 = as recorded, N = N times faster, 0 = as fast as possible.
ABSL_FLAG(double, replay_speed, 1.0, "Replay speed multiplier (0 = maximum speed)");

// CacheService address for the latest tickers (key ticker:<venue>:<symbol>, 100 ms TTL); empty =
// off.
ABSL_FLAG(std::string, cache_address, "",
          "Cache service host:port for latest tickers (empty = off)");
// PersistenceService address for closed candles; empty = off.
ABSL_FLAG(std::string, persistence_address, "",
          "Persistence service host:port for closed candles (empty = off)");

// Exchange feeds (venue connectors), comma-separated: binance, kraken, bybit, hyperliquid; empty =
// none. Each venue's endpoints and symbols come from the --<venue>_* flags below.
ABSL_FLAG(
    std::string, venues, "",
    "Venue feeds to connect, comma-separated: binance,kraken,bybit,hyperliquid (empty = none)");
// Binance spot: WebSocket origin (combined streams path added), REST origin (depth snapshots).
ABSL_FLAG(std::string, binance_ws_url, "wss://stream.binance.com:9443",
          "Binance WebSocket origin ws(s)://host[:port], no path");
ABSL_FLAG(std::string, binance_rest_url, "https://api.binance.com",
          "Binance REST origin http(s)://host[:port] for book snapshots, no path");
ABSL_FLAG(std::string, binance_symbols, "BTC-USDT,ETH-USDT",
          "Binance symbols (tickmesh spelling BASE-QUOTE), comma-separated");
// Kraken WebSocket v2 ("/v2" added); books resync in-band, so no REST.
ABSL_FLAG(std::string, kraken_ws_url, "wss://ws.kraken.com",
          "Kraken WebSocket origin ws(s)://host[:port], no path (/v2 is added)");
ABSL_FLAG(std::string, kraken_symbols, "BTC-USD,ETH-USD",
          "Kraken symbols (tickmesh spelling BASE-QUOTE), comma-separated");
// Bybit v5 public spot stream ("/v5/public/spot" added); books resync in-band.
ABSL_FLAG(std::string, bybit_ws_url, "wss://stream.bybit.com",
          "Bybit WebSocket origin ws(s)://host[:port], no path (/v5/public/spot is added)");
ABSL_FLAG(std::string, bybit_symbols, "BTC-USDT,ETH-USDT",
          "Bybit symbols (tickmesh spelling BASE-QUOTE), comma-separated");
// Hyperliquid ("/ws" added); every l2Book message is a full snapshot.
ABSL_FLAG(std::string, hyperliquid_ws_url, "wss://api.hyperliquid.xyz",
          "Hyperliquid WebSocket origin ws(s)://host[:port], no path (/ws is added)");
ABSL_FLAG(std::string, hyperliquid_symbols, "BTC-USD,ETH-USD",
          "Hyperliquid symbols (tickmesh spelling BASE-USD: the coin), comma-separated");
// Book depth subscribed on every venue; 0 = each venue's default (see libs/venues feed.h).
ABSL_FLAG(int32_t, venue_book_depth, 0,
          "Book depth to subscribe on every venue (0 = venue default; must be one it documents)");
// A connector is unhealthy after this long without a frame (or a book waiting for a snapshot).
ABSL_FLAG(int64_t, venue_stale_ms, 10000,
          "Venue connector unhealthy after this many ms without a frame or with a book unsynced");
// wss/https certificate verification (turn off only against a self-signed test server).
ABSL_FLAG(bool, venue_tls_verify, true, "Verify venue TLS certificates");
// PEM file of trusted CAs for venue TLS; empty = the system store.
ABSL_FLAG(std::string, venue_ca_file, "", "PEM CA file for venue TLS (empty = system store)");

namespace tickmesh::market_data {
namespace {
absl::Status Bad(absl::string_view flag, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", why));
}
bool Probability(double p) { return std::isfinite(p) && p >= 0 && p <= 1; }

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  for (absl::string_view s : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    s = absl::StripAsciiWhitespace(s);
    if (!s.empty()) out.emplace_back(s);
  }
  return out;
}

// The venue connectors selected by --venues, validated; errors name the flag.
absl::Status VenuesFromFlags(std::vector<VenueConnectorOptions>* out) {
  const int32_t depth = absl::GetFlag(FLAGS_venue_book_depth);
  if (depth < 0) return Bad("venue_book_depth", "must be >= 0");
  const int64_t stale_ms = absl::GetFlag(FLAGS_venue_stale_ms);
  if (stale_ms < 100 || stale_ms > 3'600'000)
    return Bad("venue_stale_ms", "must be in [100, 3600000]");
  for (const std::string& name : SplitList(absl::GetFlag(FLAGS_venues))) {
    absl::StatusOr<venues::Venue> venue = venues::ParseVenue(name);
    if (!venue.ok()) {
      return Bad("venues",
                 absl::StrCat("unknown venue '", name, "' (binance, kraken, bybit, hyperliquid)"));
    }
    for (const VenueConnectorOptions& o : *out) {
      if (o.venue == *venue) return Bad("venues", absl::StrCat(name, " listed twice"));
    }
    VenueConnectorOptions o;
    o.venue = *venue;
    switch (*venue) {
      case venues::Venue::kBinance:
        o.ws_url = absl::GetFlag(FLAGS_binance_ws_url);
        o.rest_url = absl::GetFlag(FLAGS_binance_rest_url);
        o.symbols = SplitList(absl::GetFlag(FLAGS_binance_symbols));
        break;
      case venues::Venue::kKraken:
        o.ws_url = absl::GetFlag(FLAGS_kraken_ws_url);
        o.symbols = SplitList(absl::GetFlag(FLAGS_kraken_symbols));
        break;
      case venues::Venue::kBybit:
        o.ws_url = absl::GetFlag(FLAGS_bybit_ws_url);
        o.symbols = SplitList(absl::GetFlag(FLAGS_bybit_symbols));
        break;
      case venues::Venue::kHyperliquid:
        o.ws_url = absl::GetFlag(FLAGS_hyperliquid_ws_url);
        o.symbols = SplitList(absl::GetFlag(FLAGS_hyperliquid_symbols));
        break;
    }
    o.feed.book_depth = depth;
    o.stale_after = absl::Milliseconds(stale_ms);
    o.tls_verify = absl::GetFlag(FLAGS_venue_tls_verify);
    o.ca_file = absl::GetFlag(FLAGS_venue_ca_file);
    if (absl::Status s = ValidateVenueConnectorOptions(o); !s.ok()) {
      // "<field>: why" -> the flag that set the field.
      const absl::string_view m = s.message();
      const size_t colon = m.find(':');
      const absl::string_view field = m.substr(0, colon);
      std::string flag = absl::StrCat(name, "_", field);
      if (field == "feed") flag = "venue_book_depth";
      if (field != "ws_url" && field != "rest_url" && field != "symbols" && field != "feed") {
        flag = "venues";
      }
      return Bad(flag, colon == absl::string_view::npos ? m : m.substr(colon + 2));
    }
    out->push_back(std::move(o));
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<ServiceConfig> ConfigFromFlags() {
  ServiceConfig c;
  c.synthetic.symbols.clear();
  for (absl::string_view s : absl::StrSplit(absl::GetFlag(FLAGS_symbols), ',', absl::SkipEmpty())) {
    s = absl::StripAsciiWhitespace(s);
    if (s.empty()) continue;
    if (s.size() > 64) return Bad("symbols", absl::StrCat("symbol too long: ", s));
    c.synthetic.symbols.emplace_back(s);
  }
  c.synthetic_rate = absl::GetFlag(FLAGS_synthetic_rate);
  if (!std::isfinite(c.synthetic_rate) || c.synthetic_rate < 0 || c.synthetic_rate > 1e6) {
    return Bad("synthetic_rate", "must be in [0, 1e6]");
  }
  if (c.synthetic_rate > 0 && c.synthetic.symbols.empty()) {
    return Bad("symbols", "empty while --synthetic_rate > 0");
  }
  c.synthetic.seed = absl::GetFlag(FLAGS_seed);
  c.synthetic.volatility_bps = absl::GetFlag(FLAGS_volatility_bps);
  if (!std::isfinite(c.synthetic.volatility_bps) || c.synthetic.volatility_bps < 0 ||
      c.synthetic.volatility_bps > 1000) {
    return Bad("volatility_bps", "must be in [0, 1000]");
  }
  c.synthetic.jump_probability = absl::GetFlag(FLAGS_jump_probability);
  if (!Probability(c.synthetic.jump_probability))
    return Bad("jump_probability", "must be in [0, 1]");
  c.synthetic.jump_bps = absl::GetFlag(FLAGS_jump_bps);
  if (!std::isfinite(c.synthetic.jump_bps) || c.synthetic.jump_bps < 0 ||
      c.synthetic.jump_bps > 5000) {
    return Bad("jump_bps", "must be in [0, 5000]");
  }
  c.synthetic.regime_switch_probability = absl::GetFlag(FLAGS_regime_switch_probability);
  if (!Probability(c.synthetic.regime_switch_probability)) {
    return Bad("regime_switch_probability", "must be in [0, 1]");
  }
  c.synthetic.levels = absl::GetFlag(FLAGS_synthetic_levels);
  if (c.synthetic.levels < 1 || c.synthetic.levels > 1000) {
    return Bad("synthetic_levels", "must be in [1, 1000]");
  }
  const int64_t depth = absl::GetFlag(FLAGS_book_depth);
  if (depth < 1 || depth > 100'000) return Bad("book_depth", "must be in [1, 100000]");
  c.market_data.book_depth = static_cast<size_t>(depth);
  const int64_t queue = absl::GetFlag(FLAGS_subscriber_queue);
  if (queue < 4 || queue > 1'000'000) return Bad("subscriber_queue", "must be in [4, 1000000]");
  c.market_data.subscriber_queue = static_cast<size_t>(queue);
  const int64_t history = absl::GetFlag(FLAGS_candle_history);
  if (history < 1 || history > 1'000'000) return Bad("candle_history", "must be in [1, 1000000]");
  c.market_data.candle_history = static_cast<size_t>(history);
  const int64_t max_instruments = absl::GetFlag(FLAGS_max_instruments);
  if (max_instruments < 1 || max_instruments > 10'000'000) {
    return Bad("max_instruments", "must be in [1, 10000000]");
  }
  c.market_data.max_instruments = static_cast<size_t>(max_instruments);
  c.market_data.candle_intervals_s.clear();
  for (absl::string_view s :
       absl::StrSplit(absl::GetFlag(FLAGS_candle_intervals), ',', absl::SkipEmpty())) {
    uint32_t v = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(s), &v) || v == 0 || v > 7 * 86400) {
      return Bad("candle_intervals", absl::StrCat("not a number of seconds in [1, 604800]: ", s));
    }
    c.market_data.candle_intervals_s.push_back(v);
  }
  c.replay.path = absl::GetFlag(FLAGS_replay_file);
  c.replay.speed = absl::GetFlag(FLAGS_replay_speed);
  if (!std::isfinite(c.replay.speed) || c.replay.speed < 0 || c.replay.speed > 1e6) {
    return Bad("replay_speed", "must be in [0, 1e6] (0 = maximum speed)");
  }
  c.cache.address = absl::GetFlag(FLAGS_cache_address);
  if (!c.cache.address.empty()) {
    if (absl::Status s = runtime::ValidateHostPort("--cache_address", c.cache.address); !s.ok()) {
      return s;
    }
  }
  c.persistence.address = absl::GetFlag(FLAGS_persistence_address);
  if (!c.persistence.address.empty()) {
    if (absl::Status s = runtime::ValidateHostPort("--persistence_address", c.persistence.address);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = VenuesFromFlags(&c.venues); !s.ok()) return s;
  if (absl::Status s = MarketData::ValidateOptions(c.market_data); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", s.message()));
  }
  return c;
}

nlohmann::json StatusJson(const MarketData& md, const Connector& synthetic,
                          const ReplayFeed* replay, const TickerCacheWriter* cache,
                          const CandleOutbox* persistence,
                          const std::vector<std::unique_ptr<VenueConnector>>& venues) {
  const MarketData::Stats s = md.stats();
  nlohmann::json connectors = {{synthetic.name(), {{"healthy", synthetic.healthy()}}}};
  nlohmann::json venue_status = nlohmann::json::object();
  for (const auto& v : venues) venue_status[v->name()] = v->StatusJson();
  if (replay != nullptr) {
    connectors[replay->name()] = {{"healthy", replay->healthy()},
                                  {"finished", replay->finished()},
                                  {"lines", replay->lines()},
                                  {"events", replay->events()},
                                  {"malformed_lines", replay->malformed_lines()},
                                  {"events_rejected", replay->events_rejected()}};
  }
  nlohmann::json peers = nlohmann::json::object();
  if (cache != nullptr) {
    peers["cache"] = {{"up", cache->up()},
                      {"tickers_written", cache->written()},
                      {"write_errors", cache->errors()},
                      {"tickers_conflated", cache->conflated()}};
  }
  if (persistence != nullptr) {
    peers["persistence"] = {
        {"connected", persistence->connected()}, {"candles_acked", persistence->acked()},
        {"backlog", persistence->backlog()},     {"resent", persistence->resent()},
        {"dropped", persistence->dropped()},     {"rejected", persistence->rejected()}};
  }
  return nlohmann::json{
      {"peers", peers},
      {"books", s.instruments},
      {"subscribers", s.subscribers},
      {"batches_accepted", s.batches_accepted},
      {"batches_rejected", s.batches_rejected},
      {"events_accepted", s.events_accepted},
      {"seq_gaps", s.gaps},
      {"crossed_books", s.crossed},
      {"subscribers_dropped", s.subscribers_dropped},
      {"book_conflations", s.conflations},
      {"connectors", connectors},
      {"venues", venue_status},
  };
}

}  // namespace tickmesh::market_data
