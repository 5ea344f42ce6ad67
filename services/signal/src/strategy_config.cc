#include "strategy_config.h"

#include <cmath>
#include <functional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tickmesh::signal {
namespace {

absl::Status Bad(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

// A map node being read: remembers the keys consumed so the rest can be reported as unknown.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path) : node_(node), path_(std::move(path)) {}

  // OK when the node is a map (or absent/null, which reads as empty).
  absl::Status CheckMap() const {
    if (node_ && !node_.IsNull() && !node_.IsMap()) {
      return Bad(path_.empty() ? "<root>" : path_, "must be a mapping");
    }
    return absl::OkStatus();
  }
  std::string Path(const std::string& key) const {
    return path_.empty() ? key : absl::StrCat(path_, ".", key);
  }
  YAML::Node Get(const std::string& key) {
    seen_.insert(key);
    if (!node_ || !node_.IsMap()) return YAML::Node();
    return node_[key];
  }
  template <typename T>
  absl::Status Read(const std::string& key, T* out, const char* type_name) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull()) return absl::OkStatus();
    if (!n.IsScalar()) return Bad(Path(key), absl::StrCat("must be ", type_name));
    try {
      *out = n.as<T>();
    } catch (const YAML::Exception&) {
      return Bad(Path(key), absl::StrCat("must be ", type_name, ", got '", n.Scalar(), "'"));
    }
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(*out)) return Bad(Path(key), "must be a finite number");
    }
    return absl::OkStatus();
  }
  absl::Status Int(const std::string& key, int* out) { return Read(key, out, "an integer"); }
  absl::Status Int64(const std::string& key, int64_t* out) { return Read(key, out, "an integer"); }
  absl::Status Double(const std::string& key, double* out) { return Read(key, out, "a number"); }
  absl::Status Bool(const std::string& key, bool* out) { return Read(key, out, "true or false"); }
  absl::Status String(const std::string& key, std::string* out) {
    return Read(key, out, "a string");
  }
  // Milliseconds key stored as ns.
  absl::Status Millis(const std::string& key, int64_t* out_ns) {
    int64_t ms = *out_ns / 1'000'000;
    if (auto s = Int64(key, &ms); !s.ok()) return s;
    if (ms < 0 || ms > 86'400'000) return Bad(Path(key), "must be in [0, 86400000]");
    *out_ns = ms * 1'000'000;
    return absl::OkStatus();
  }
  // INVALID_ARGUMENT for the first key not read.
  absl::Status NoUnknownKeys() const {
    if (!node_ || !node_.IsMap()) return absl::OkStatus();
    for (const auto& kv : node_) {
      const std::string key = kv.first.as<std::string>("");
      if (seen_.count(key) == 0) return Bad(Path(key), "unknown key");
    }
    return absl::OkStatus();
  }

 private:
  YAML::Node node_;
  std::string path_;
  std::set<std::string> seen_;
};

#define TM_RETURN_IF_ERROR(expr) \
  do {                           \
    absl::Status _s = (expr);    \
    if (!_s.ok()) return _s;     \
  } while (0)

absl::StatusOr<SymbolPattern> ParsePattern(const std::string& text, const std::string& path) {
  SymbolPattern p;
  if (text == "*") return p;
  std::vector<std::string> parts = absl::StrSplit(text, ':');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    return Bad(path, absl::StrCat("'", text, "' is not venue:symbol (\"*\" matches any part)"));
  }
  p.venue = parts[0];
  p.symbol = parts[1];
  return p;
}

absl::Status ParseMacdParams(MapReader& r, MacdCrossParams* p) {
  TM_RETURN_IF_ERROR(r.Int("fast", &p->fast));
  TM_RETURN_IF_ERROR(r.Int("slow", &p->slow));
  TM_RETURN_IF_ERROR(r.Int("signal_period", &p->signal_period));
  TM_RETURN_IF_ERROR(r.Int("warmup", &p->warmup));
  TM_RETURN_IF_ERROR(r.Int64("order_qty_e8", &p->order_qty_e8));
  TM_RETURN_IF_ERROR(r.Millis("min_signal_interval_ms", &p->min_interval_ns));
  TM_RETURN_IF_ERROR(r.Int("rsi_period", &p->rsi_period));
  TM_RETURN_IF_ERROR(r.Double("rsi_overbought", &p->rsi_overbought));
  TM_RETURN_IF_ERROR(r.Double("rsi_oversold", &p->rsi_oversold));
  return absl::OkStatus();
}

absl::Status ParseMmParams(MapReader& r, MarketMakingParams* p) {
  TM_RETURN_IF_ERROR(r.Double("gamma", &p->gamma));
  TM_RETURN_IF_ERROR(r.Double("kappa", &p->kappa));
  TM_RETURN_IF_ERROR(r.Double("horizon", &p->horizon));
  TM_RETURN_IF_ERROR(r.Double("min_spread_bps", &p->min_spread_bps));
  TM_RETURN_IF_ERROR(r.Double("max_spread_bps", &p->max_spread_bps));
  TM_RETURN_IF_ERROR(r.Double("requote_bps", &p->requote_bps));
  TM_RETURN_IF_ERROR(r.Int("vol_window", &p->vol_window));
  std::string vol = p->use_atr ? "atr" : "stddev";
  TM_RETURN_IF_ERROR(r.String("volatility", &vol));
  if (vol != "stddev" && vol != "atr") return Bad(r.Path("volatility"), "must be stddev or atr");
  p->use_atr = vol == "atr";
  TM_RETURN_IF_ERROR(r.Int64("order_qty_e8", &p->order_qty_e8));
  TM_RETURN_IF_ERROR(r.Int64("max_inventory_e8", &p->max_inventory_e8));
  TM_RETURN_IF_ERROR(r.Millis("min_signal_interval_ms", &p->min_interval_ns));
  return absl::OkStatus();
}

absl::Status ParseImbalanceParams(MapReader& r, BookImbalanceParams* p) {
  TM_RETURN_IF_ERROR(r.Int("smoothing", &p->smoothing));
  TM_RETURN_IF_ERROR(r.Double("entry", &p->entry));
  TM_RETURN_IF_ERROR(r.Double("exit", &p->exit));
  TM_RETURN_IF_ERROR(r.Int64("order_qty_e8", &p->order_qty_e8));
  TM_RETURN_IF_ERROR(r.Millis("min_signal_interval_ms", &p->min_interval_ns));
  return absl::OkStatus();
}

absl::StatusOr<StrategySpec> ParseSpec(const YAML::Node& node, const std::string& path,
                                       const MacdCrossParams& defaults) {
  MapReader r(node, path);
  TM_RETURN_IF_ERROR(r.CheckMap());
  if (!node.IsMap()) return Bad(path, "must be a mapping");
  StrategySpec spec;
  std::string type;
  TM_RETURN_IF_ERROR(r.String("type", &type));
  if (type == "macd_cross") {
    spec.type = StrategyType::kMacdCross;
  } else if (type == "macd_rsi") {
    spec.type = StrategyType::kMacdRsi;
  } else if (type == "market_making") {
    spec.type = StrategyType::kMarketMaking;
  } else if (type == "book_imbalance") {
    spec.type = StrategyType::kBookImbalance;
  } else {
    return Bad(r.Path("type"), type.empty() ? "is required (macd_cross, macd_rsi, market_making, "
                                              "book_imbalance)"
                                            : absl::StrCat("unknown strategy type '", type, "'"));
  }
  spec.id = type;
  TM_RETURN_IF_ERROR(r.String("id", &spec.id));
  if (spec.id.empty() || spec.id.size() > 64 ||
      spec.id.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
          std::string::npos) {
    return Bad(r.Path("id"), "must be 1..64 characters of [A-Za-z0-9_.-]");
  }
  YAML::Node symbols = r.Get("symbols");
  if (symbols && !symbols.IsNull()) {
    if (!symbols.IsSequence() || symbols.size() == 0) {
      return Bad(r.Path("symbols"), "must be a non-empty list of \"venue:symbol\" patterns");
    }
    spec.symbols.clear();
    for (size_t i = 0; i < symbols.size(); ++i) {
      const std::string p = absl::StrCat(r.Path("symbols"), "[", i, "]");
      if (!symbols[i].IsScalar()) return Bad(p, "must be a string");
      auto pattern = ParsePattern(symbols[i].Scalar(), p);
      if (!pattern.ok()) return pattern.status();
      spec.symbols.push_back(*pattern);
    }
  }
  const bool book_type =
      spec.type == StrategyType::kMarketMaking || spec.type == StrategyType::kBookImbalance;
  std::string input = book_type ? "book" : "trade";
  TM_RETURN_IF_ERROR(r.String("input", &input));
  if (book_type) {
    if (input != "book") return Bad(r.Path("input"), absl::StrCat("must be book for ", type));
    spec.input = InputKind::kBook;
  } else if (input == "trade") {
    spec.input = InputKind::kTrade;
  } else if (input == "candle") {
    spec.input = InputKind::kCandle;
  } else {
    return Bad(r.Path("input"), "must be trade or candle");
  }
  TM_RETURN_IF_ERROR(r.Int("candle_interval_s", &spec.candle_interval_s));
  if (spec.candle_interval_s < 0 || spec.candle_interval_s > 86'400) {
    return Bad(r.Path("candle_interval_s"), "must be in [0, 86400]");
  }
  if (spec.input == InputKind::kCandle && spec.candle_interval_s == 0) {
    return Bad(r.Path("candle_interval_s"), "must be > 0 with input: candle");
  }
  TM_RETURN_IF_ERROR(r.Double("weight", &spec.weight));
  if (!(spec.weight >= 0 && spec.weight <= 1e6))
    return Bad(r.Path("weight"), "must be in [0, 1e6]");

  MapReader quiet(r.Get("quiet"), r.Path("quiet"));
  TM_RETURN_IF_ERROR(quiet.CheckMap());
  TM_RETURN_IF_ERROR(quiet.Double("min_vol_bps", &spec.quiet_min_vol_bps));
  TM_RETURN_IF_ERROR(quiet.Int("window", &spec.quiet_window));
  TM_RETURN_IF_ERROR(quiet.NoUnknownKeys());
  if (!(spec.quiet_min_vol_bps >= 0)) return Bad(quiet.Path("min_vol_bps"), "must be >= 0");
  if (spec.quiet_window < 2 || spec.quiet_window > 100'000) {
    return Bad(quiet.Path("window"), "must be in [2, 100000]");
  }

  MapReader params(r.Get("params"), r.Path("params"));
  TM_RETURN_IF_ERROR(params.CheckMap());
  ParamNamer namer = [&](const char* key) { return absl::StrCat(params.Path(key), ":"); };
  switch (spec.type) {
    case StrategyType::kMacdCross:
    case StrategyType::kMacdRsi:
      spec.macd = defaults;
      if (spec.type == StrategyType::kMacdRsi) spec.macd.rsi_period = 14;
      TM_RETURN_IF_ERROR(ParseMacdParams(params, &spec.macd));
      TM_RETURN_IF_ERROR(params.NoUnknownKeys());
      if (spec.type == StrategyType::kMacdRsi && spec.macd.rsi_period == 0) {
        return Bad(params.Path("rsi_period"), "must be > 0 for macd_rsi");
      }
      TM_RETURN_IF_ERROR(ValidateMacdCrossParams(spec.macd, namer));
      break;
    case StrategyType::kMarketMaking:
      TM_RETURN_IF_ERROR(ParseMmParams(params, &spec.mm));
      TM_RETURN_IF_ERROR(params.NoUnknownKeys());
      TM_RETURN_IF_ERROR(ValidateMarketMakingParams(spec.mm, namer));
      if (spec.mm.use_atr && spec.candle_interval_s == 0) {
        return Bad(r.Path("candle_interval_s"), "must be > 0 with params.volatility: atr");
      }
      break;
    case StrategyType::kBookImbalance:
      TM_RETURN_IF_ERROR(ParseImbalanceParams(params, &spec.imbalance));
      TM_RETURN_IF_ERROR(params.NoUnknownKeys());
      TM_RETURN_IF_ERROR(ValidateBookImbalanceParams(spec.imbalance, namer));
      break;
  }
  TM_RETURN_IF_ERROR(r.NoUnknownKeys());
  return spec;
}

}  // namespace

const char* StrategyTypeName(StrategyType t) {
  switch (t) {
    case StrategyType::kMacdCross:
      return "macd_cross";
    case StrategyType::kMacdRsi:
      return "macd_rsi";
    case StrategyType::kMarketMaking:
      return "market_making";
    case StrategyType::kBookImbalance:
      return "book_imbalance";
  }
  return "unknown";
}

bool SymbolPattern::Matches(const std::string& v, const std::string& s) const {
  return (venue == "*" || venue == v) && (symbol == "*" || symbol == s);
}

bool StrategySpec::Matches(const std::string& venue, const std::string& symbol) const {
  for (const auto& p : symbols) {
    if (p.Matches(venue, symbol)) return true;
  }
  return false;
}

std::unique_ptr<Strategy> StrategySpec::Make() const {
  switch (type) {
    case StrategyType::kMacdCross:
    case StrategyType::kMacdRsi:
      return std::make_unique<MacdCross>(macd);
    case StrategyType::kMarketMaking:
      return std::make_unique<MarketMaking>(mm);
    case StrategyType::kBookImbalance:
      return std::make_unique<BookImbalanceMomentum>(imbalance);
  }
  return nullptr;
}

bool StrategyConfig::NeedsBook() const {
  for (const auto& s : strategies) {
    if (s.NeedsBook()) return true;
  }
  return false;
}

StrategyConfig DefaultStrategyConfig(const MacdCrossParams& macd) {
  StrategyConfig c;
  StrategySpec spec;
  spec.id = "macd_cross";
  spec.type = StrategyType::kMacdCross;
  spec.macd = macd;
  c.strategies.push_back(std::move(spec));
  return c;
}

absl::StatusOr<StrategyConfig> ParseStrategyConfig(const YAML::Node& root,
                                                   const MacdCrossParams& defaults) {
  MapReader r(root, "");
  if (!root || !root.IsMap()) return Bad("<root>", "must be a mapping with a strategies list");
  StrategyConfig c;
  TM_RETURN_IF_ERROR(r.Int("book_levels", &c.book_levels));
  if (c.book_levels < 1 || c.book_levels > 1000) return Bad("book_levels", "must be in [1, 1000]");
  YAML::Node list = r.Get("strategies");
  if (!list || !list.IsSequence() || list.size() == 0) {
    return Bad("strategies", "must be a non-empty list");
  }
  if (list.size() > 64) return Bad("strategies", "at most 64 strategies");
  std::set<std::string> ids;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = absl::StrCat("strategies[", i, "]");
    auto spec = ParseSpec(list[i], path, defaults);
    if (!spec.ok()) return spec.status();
    if (!ids.insert(spec->id).second) {
      return Bad(path + ".id", absl::StrCat("duplicate strategy id '", spec->id, "'"));
    }
    c.strategies.push_back(std::move(*spec));
  }
  MapReader e(r.Get("ensemble"), "ensemble");
  TM_RETURN_IF_ERROR(e.CheckMap());
  EnsembleConfig& en = c.ensemble;
  TM_RETURN_IF_ERROR(e.Bool("enabled", &en.enabled));
  TM_RETURN_IF_ERROR(e.String("id", &en.id));
  TM_RETURN_IF_ERROR(e.Double("threshold", &en.threshold));
  TM_RETURN_IF_ERROR(e.Millis("vote_ttl_ms", &en.vote_ttl_ns));
  TM_RETURN_IF_ERROR(e.Int64("order_qty_e8", &en.order_qty_e8));
  TM_RETURN_IF_ERROR(e.Bool("emit_components", &en.emit_components));
  MapReader a(e.Get("adaptation"), "ensemble.adaptation");
  TM_RETURN_IF_ERROR(a.CheckMap());
  TM_RETURN_IF_ERROR(a.Bool("enabled", &en.adapt));
  TM_RETURN_IF_ERROR(a.Double("alpha", &en.adapt_alpha));
  TM_RETURN_IF_ERROR(a.Double("scale_bps", &en.adapt_scale_bps));
  TM_RETURN_IF_ERROR(a.Double("min_factor", &en.min_factor));
  TM_RETURN_IF_ERROR(a.Double("max_factor", &en.max_factor));
  TM_RETURN_IF_ERROR(a.NoUnknownKeys());
  TM_RETURN_IF_ERROR(e.NoUnknownKeys());
  TM_RETURN_IF_ERROR(r.NoUnknownKeys());
  if (en.id.empty() || ids.count(en.id) > 0) {
    return Bad("ensemble.id", "must be non-empty and differ from every strategy id");
  }
  if (!(en.threshold > 0 && en.threshold <= 1))
    return Bad("ensemble.threshold", "must be in (0, 1]");
  if (en.vote_ttl_ns <= 0) return Bad("ensemble.vote_ttl_ms", "must be > 0");
  if (en.order_qty_e8 <= 0) return Bad("ensemble.order_qty_e8", "must be > 0");
  if (!(en.adapt_alpha > 0 && en.adapt_alpha <= 1)) {
    return Bad("ensemble.adaptation.alpha", "must be in (0, 1]");
  }
  if (!(en.adapt_scale_bps > 0)) return Bad("ensemble.adaptation.scale_bps", "must be > 0");
  if (!(en.min_factor > 0 && en.min_factor <= 1)) {
    return Bad("ensemble.adaptation.min_factor", "must be in (0, 1]");
  }
  if (!(en.max_factor >= 1 && en.max_factor <= 1000)) {
    return Bad("ensemble.adaptation.max_factor", "must be in [1, 1000]");
  }
  if (en.enabled) {
    bool any_vote = false;
    for (const auto& s : c.strategies) any_vote |= s.Votes();
    if (!any_vote)
      return Bad("ensemble.enabled", "no strategy votes (weight > 0, not market_making)");
  } else if (!en.emit_components) {
    return Bad("ensemble.emit_components", "must be true when the ensemble is disabled");
  }
  return c;
}

}  // namespace tickmesh::signal
