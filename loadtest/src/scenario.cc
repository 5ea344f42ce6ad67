#include "scenario.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "report.h"
#include "yaml-cpp/yaml.h"

namespace tickmesh::loadtest {
namespace {

bool KnownOperation(const std::string& op) {
  return std::find_if(std::begin(kOperations), std::end(kOperations),
                      [&](const char* k) { return op == k; }) != std::end(kOperations);
}

bool KnownComponent(const std::string& c) {
  static const std::set<std::string> kComponents = {
      "redis", "postgres", "market-data", "signal", "execution", "cache", "persistence"};
  return kComponents.count(c) > 0;
}

Stage Constant(double duration_s, double rate, std::string label = "") {
  return Stage{duration_s, rate, rate, std::move(label)};
}
Stage Ramp(double duration_s, double from, double to, std::string label = "") {
  return Stage{duration_s, from, to, std::move(label)};
}

// Mode scaling: quick runs are short for CI, full ones long enough for steady state, stress ones
// push rates well past the nominal figures.
struct ModeScale {
  double time;  // multiplies stage durations
  double rate;  // multiplies rates
};

absl::StatusOr<ModeScale> ScaleOf(const std::string& mode) {
  if (mode == "quick") return ModeScale{1, 1};
  if (mode == "full") return ModeScale{4, 1};
  if (mode == "stress") return ModeScale{2, 2.5};
  return absl::InvalidArgumentError(absl::StrCat("--mode: unknown mode '", mode,
                                                 "' for a built-in scenario (quick, full, stress;"
                                                 " custom needs --config)"));
}

void Scale(ScenarioSpec* s, ModeScale m, bool scale_rates = true) {
  for (Stage& st : s->stages) {
    st.duration_s *= m.time;
    if (scale_rates) {
      st.from_per_s *= m.rate;
      st.to_per_s *= m.rate;
    }
  }
}

}  // namespace

std::vector<std::string> BuiltinScenarioNames() {
  return {"sustained",   "burst",      "ws-flood", "balance-storm",
          "order-burst", "volatility", "soak",     "fault"};
}

// Thresholds below are for the quick/full modes on the 2-core development VM with the whole mesh
// on it (see loadtest/README.md "Built-in scenarios" for the measurements behind them); stress
// runs are about finding limits, so their SLOs are loose.
absl::StatusOr<ScenarioSpec> BuiltinScenario(const std::string& name, const std::string& mode) {
  auto scale = ScaleOf(mode);
  if (!scale.ok()) return scale.status();
  ScenarioSpec s;
  s.name = name;
  s.mode = mode;
  const bool stress = mode == "stress";
  if (name == "sustained") {
    s.description = "steady 2 000 ticks/s through market-data -> signal -> execution";
    s.stages = {Ramp(3, 200, 2000, "warm-up"), Constant(20, 2000, "sustained")};
    s.mix = {{"tick", 1}};
    s.primary = "tick_to_order";
    s.slos = {"tick_to_order.p50<=5000", "tick_to_order.p99<=30000", "publish.p99<=20000"};
    if (stress) s.slos = {"tick_to_order.p99<=250000"};
    if (mode == "full") s.stages[1].duration_s = 120 / scale->time;  // 2 minutes steady
  } else if (name == "burst") {
    s.description = "2 000 ticks/s with 8 000 ticks/s bursts";
    s.stages = {Constant(5, 2000, "base"), Constant(3, 8000, "burst 1"), Constant(5, 2000, "base"),
                Constant(3, 8000, "burst 2"), Constant(5, 2000, "base")};
    s.mix = {{"tick", 1}};
    s.primary = "tick_to_order";
    s.slos = {"tick_to_order.p50<=20000", "tick_to_order.p99<=250000"};
    if (stress) s.slos = {"tick_to_order.p99<=1000000"};
  } else if (name == "ws-flood") {
    s.description =
        "market events at 10 000/s, a 50 000/s peak, then a ramp in steps to the breaking point";
    s.stages = {Constant(8, 10000, "flood"), Constant(4, 50000, "peak")};
    for (int i = 0; i < 8; ++i) {
      const double rate = 20000 + 10000 * i;
      s.stages.push_back(Constant(4, rate, absl::StrCat("step ", rate)));
    }
    s.mix = {{"market_event", 1}};
    s.primary = "md_delivery";
    s.breaking = {true, "md_delivery", 250000, 0.95, 2};
    s.slos = {"md_delivery.p50<=20000", "publish.p99<=100000"};
  } else if (name == "balance-storm") {
    s.description = "balance updates to cache and persistence, 2 000/s rising to 5 000/s";
    s.stages = {Constant(5, 2000, "storm"), Ramp(5, 2000, 5000, "rising"),
                Constant(5, 5000, "peak")};
    s.mix = {{"cache_set", 1}, {"persist_append", 1}};
    s.primary = "cache_set";
    s.slos = {"cache_set.p99<=50000", "persist_append.p99<=250000"};
    if (stress) s.slos = {"cache_set.p99<=1000000", "persist_append.p99<=2000000"};
  } else if (name == "order-burst") {
    s.description = "orders submitted to execution, 500/s with 1 000/s bursts";
    s.stages = {Constant(5, 500, "base"), Constant(5, 1000, "burst"), Constant(5, 500, "base")};
    s.mix = {{"order_submit", 1}};
    s.primary = "order_submit";
    s.slos = {"order_submit.p50<=10000", "order_submit.p99<=100000"};
    if (stress) s.slos = {"order_submit.p99<=1000000"};
  } else if (name == "volatility") {
    // A calm market shocked once a second: 8 symbols whose price holds between jumps, all
    // jumping 2 % together every 250 trades each. macd_cross (the mesh's default strategy) fires
    // on every sign change of the MACD histogram, so a random walk makes it fire continuously
    // (about once per 12 trades per symbol, whatever the walk's size) and a jump then only
    // suppresses crossings while its hump dominates; on a held price each jump causes one
    // crossover 14 trades later per symbol: a burst of 8 signals right after each shock and
    // none between (see loadtest/README.md "Volatility").
    s.description =
        "8 calm symbols at 2 000 trades/s jumping 2 % together once a second; signals fire in "
        "bursts after the jumps";
    s.stages = {Constant(20, 2000, "volatile")};
    s.mix = {{"tick", 1}};
    s.symbols = {"LT1-USD", "LT2-USD", "LT3-USD", "LT4-USD",
                 "LT5-USD", "LT6-USD", "LT7-USD", "LT8-USD"};
    s.jump_every = 250;
    s.jump_bps = 200;
    s.walk_bps = 0;
    s.primary = "tick_to_order";
    s.slos = {"tick_to_order.p99<=100000"};
    if (stress) s.slos = {"tick_to_order.p99<=1000000"};
  } else if (name == "soak") {
    s.description = "long steady mixed load; memory growth per service must stay under 5 MB/min";
    s.stages = {Constant(60, 1000, "soak")};
    s.mix = {{"tick", 4}, {"cache_set", 1}};
    s.primary = "tick_to_order";
    s.slos = {"tick_to_order.p99<=50000"};
    s.max_mem_growth_mb_per_min = 5;
    if (mode == "full") s.stages[0].duration_s = 1800 / scale->time;  // 30 minutes
  } else if (name == "fault") {
    s.description =
        "ticks and cache writes while Redis, PostgreSQL and then persistence are SIGKILLed and "
        "restarted; nothing acknowledged may be lost";
    s.stages = {Ramp(2, 100, 1000, "warm-up"), Constant(38, 1000, "storm")};
    s.mix = {{"tick", 2}, {"cache_set", 1}};
    s.primary = "tick_to_order";
    s.cache_keys = 0;  // one key per write: every acked write is checked in Redis
    s.fault.steps = {{6, "redis", 3}, {16, "postgres", 3}, {27, "persistence", 2}};
    s.fault.settle_s = 30;
    // Outages stall the pipeline for a moment; the median must stay healthy and the tail bounded.
    s.slos = {"tick_to_order.p50<=20000", "tick_to_order.p99<=250000"};
    Scale(&s, *scale, false);
    for (auto& st : s.fault.steps) st.at_s *= scale->time;
    return s;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--scenario: unknown scenario '", name, "' (built in: ",
        absl::StrJoin(BuiltinScenarioNames(), ", "), "; or --mode custom --config FILE)"));
  }
  // ws-flood's ramp is the breaking-point search: stress adds more, higher steps instead of
  // scaling rates.
  if (name == "ws-flood") {
    if (mode == "quick") s.stages.resize(2 + 4);
    if (stress) {
      for (int i = 8; i < 18; ++i) {
        const double rate = 20000 + 10000 * i;
        s.stages.push_back(Constant(4, rate, absl::StrCat("step ", rate)));
      }
    }
    if (mode == "full") Scale(&s, {2, 1}, false);
    return s;
  }
  Scale(&s, *scale);
  return s;
}

absl::Status ValidateScenario(const ScenarioSpec& s) {
  if (auto shape = LoadShape::Create(s.stages); !shape.ok()) return shape.status();
  if (s.mix.empty()) return absl::InvalidArgumentError("operations: at least one operation");
  for (const auto& m : s.mix) {
    if (!KnownOperation(m.operation)) {
      return absl::InvalidArgumentError(
          absl::StrCat("operations.", m.operation,
                       ": unknown operation (tick, market_event, cache_set, "
                       "persist_append, order_submit)"));
    }
    if (m.weight < 1 || m.weight > 1000) {
      return absl::InvalidArgumentError(
          absl::StrCat("operations.", m.operation, ": weight must be in 1..1000"));
    }
  }
  if (s.symbols.empty()) return absl::InvalidArgumentError("symbols: at least one symbol");
  for (size_t i = 0; i < s.symbols.size(); ++i) {
    if (s.symbols[i].find('-') == std::string::npos || s.symbols[i].size() > 32) {
      return absl::InvalidArgumentError(
          absl::StrCat("symbols[", i, "]: '", s.symbols[i], "' is not BASE-QUOTE"));
    }
  }
  for (size_t i = 0; i < s.slos.size(); ++i) {
    Slo slo;
    std::string error;
    if (!ParseSlo(s.slos[i], &slo, &error)) {
      return absl::InvalidArgumentError(absl::StrCat("slos[", i, "]: ", error));
    }
  }
  if (!(s.drain_s >= 0 && s.drain_s <= 600)) {
    return absl::InvalidArgumentError("drain_s: must be in [0, 600]");
  }
  if (s.book_every < 1) return absl::InvalidArgumentError("book_every: must be >= 1");
  if (s.flood_symbols < 1 || s.flood_symbols > 10000) {
    return absl::InvalidArgumentError("flood_symbols: must be in 1..10000");
  }
  if (!(s.walk_bps >= 0 && s.walk_bps <= 100)) {
    return absl::InvalidArgumentError("volatility.walk_bps: must be in 0..100");
  }
  if (s.jump_every < 0 || s.jump_bps < 0 || s.jump_bps > 5000) {
    return absl::InvalidArgumentError(
        "volatility: jump_every must be >= 0 and jump_bps in 0..5000");
  }
  if (s.send_interval_us < 0 || s.send_interval_us > 100000) {
    return absl::InvalidArgumentError("send_interval_us: must be in 0..100000");
  }
  if (s.max_in_flight < 1 || s.max_in_flight > 100000) {
    return absl::InvalidArgumentError("max_in_flight: must be in 1..100000");
  }
  const double duration = LoadShape::Create(s.stages)->duration_s();
  for (size_t i = 0; i < s.fault.steps.size(); ++i) {
    const auto& f = s.fault.steps[i];
    const std::string at = absl::StrCat("fault.steps[", i, "]");
    if (!KnownComponent(f.component)) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".kill: unknown component '", f.component,
                       "' (redis, postgres, market-data, signal, execution, cache, persistence)"));
    }
    if (!(f.at_s >= 0 && f.at_s < duration)) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".at_s: must be within the load (0..", duration, " s)"));
    }
    if (!(f.down_s >= 0 && f.down_s <= 300)) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".down_s: must be in [0, 300]"));
    }
  }
  if (!(s.fault.settle_s >= 0 && s.fault.settle_s <= 600)) {
    return absl::InvalidArgumentError("fault.settle_s: must be in [0, 600]");
  }
  if (s.breaking.enabled) {
    if (!(s.breaking.p99_us > 0)) {
      return absl::InvalidArgumentError("breaking_point.p99_us: must be > 0");
    }
    if (!(s.breaking.min_sent_ratio > 0 && s.breaking.min_sent_ratio <= 1)) {
      return absl::InvalidArgumentError("breaking_point.min_sent_ratio: must be in (0, 1]");
    }
  }
  return absl::OkStatus();
}

namespace {

// Typed accessors that name the field on error. yaml-cpp throws on conversion errors; these
// catch at the boundary.
absl::StatusOr<double> Number(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) return absl::InvalidArgumentError(path + ": expected a number");
  try {
    return n.as<double>();
  } catch (const YAML::Exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected a number, got '", n.Scalar(), "'"));
  }
}

absl::StatusOr<int64_t> Integer(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) return absl::InvalidArgumentError(path + ": expected an integer");
  try {
    return n.as<int64_t>();
  } catch (const YAML::Exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected an integer, got '", n.Scalar(), "'"));
  }
}

absl::StatusOr<std::string> String(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) return absl::InvalidArgumentError(path + ": expected a string");
  return n.Scalar();
}

absl::Status OnlyKeys(const YAML::Node& map, const std::string& path,
                      const std::set<std::string>& allowed) {
  if (!map.IsMap()) return absl::InvalidArgumentError(path + ": expected a mapping");
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    if (!allowed.count(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path.empty() ? "" : path + ".", key,
                       ": unknown field (allowed: ", absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

#define TM_ASSIGN(lhs, expr)          \
  do {                                \
    auto _v = (expr);                 \
    if (!_v.ok()) return _v.status(); \
    lhs = *_v;                        \
  } while (0)

absl::Status ParseStages(const YAML::Node& n, ScenarioSpec* s) {
  if (!n.IsSequence()) return absl::InvalidArgumentError("stages: expected a list");
  double previous = 0;  // a `target_per_s` stage ramps from the previous stage's end rate
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string path = absl::StrCat("stages[", i, "]");
    const YAML::Node st = n[i];
    if (auto ok = OnlyKeys(
            st, path,
            {"duration_s", "rate_per_s", "from_per_s", "to_per_s", "target_per_s", "label"});
        !ok.ok()) {
      return ok;
    }
    Stage stage;
    if (!st["duration_s"]) return absl::InvalidArgumentError(path + ".duration_s: required");
    TM_ASSIGN(stage.duration_s, Number(st["duration_s"], path + ".duration_s"));
    const int forms = int(bool(st["rate_per_s"])) + int(bool(st["target_per_s"])) +
                      int(bool(st["from_per_s"]) || bool(st["to_per_s"]));
    if (forms != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(path,
                       ": give exactly one of rate_per_s (constant), target_per_s (ramp from the "
                       "previous rate) or from_per_s + to_per_s (ramp)"));
    }
    if (st["rate_per_s"]) {
      TM_ASSIGN(stage.from_per_s, Number(st["rate_per_s"], path + ".rate_per_s"));
      stage.to_per_s = stage.from_per_s;
    } else if (st["target_per_s"]) {
      stage.from_per_s = previous;
      TM_ASSIGN(stage.to_per_s, Number(st["target_per_s"], path + ".target_per_s"));
    } else {
      if (!st["from_per_s"] || !st["to_per_s"]) {
        return absl::InvalidArgumentError(absl::StrCat(path, ".",
                                                       st["from_per_s"] ? "to_per_s" : "from_per_s",
                                                       ": required with a from/to ramp"));
      }
      TM_ASSIGN(stage.from_per_s, Number(st["from_per_s"], path + ".from_per_s"));
      TM_ASSIGN(stage.to_per_s, Number(st["to_per_s"], path + ".to_per_s"));
    }
    if (st["label"]) TM_ASSIGN(stage.label, String(st["label"], path + ".label"));
    previous = stage.to_per_s;
    s->stages.push_back(stage);
  }
  return absl::OkStatus();
}

absl::Status ParseRoot(const YAML::Node& root, ScenarioSpec* s) {
  if (auto ok = OnlyKeys(
          root, "",
          {"name", "description", "duration_s", "rate_per_s", "stages", "operations", "symbols",
           "drain_s", "book_every", "flood_symbols", "volatility", "cache", "max_in_flight", "slos",
           "send_interval_us", "max_mem_growth_mb_per_min", "primary", "breaking_point", "fault"});
      !ok.ok()) {
    return ok;
  }
  s->mode = "custom";
  s->name = "custom";
  if (root["name"]) TM_ASSIGN(s->name, String(root["name"], "name"));
  if (root["description"]) TM_ASSIGN(s->description, String(root["description"], "description"));
  if (root["stages"]) {
    if (root["duration_s"] || root["rate_per_s"]) {
      return absl::InvalidArgumentError(
          "duration_s: give either stages or duration_s + rate_per_s, not both");
    }
    if (auto ok = ParseStages(root["stages"], s); !ok.ok()) return ok;
  } else {
    if (!root["duration_s"])
      return absl::InvalidArgumentError("stages: required (or duration_s + rate_per_s)");
    if (!root["rate_per_s"])
      return absl::InvalidArgumentError("rate_per_s: required with duration_s");
    Stage st;
    TM_ASSIGN(st.duration_s, Number(root["duration_s"], "duration_s"));
    TM_ASSIGN(st.from_per_s, Number(root["rate_per_s"], "rate_per_s"));
    st.to_per_s = st.from_per_s;
    s->stages = {st};
  }
  if (!root["operations"])
    return absl::InvalidArgumentError("operations: required (e.g. {tick: 1})");
  const YAML::Node ops = root["operations"];
  if (!ops.IsMap())
    return absl::InvalidArgumentError("operations: expected a mapping of operation: weight");
  for (const auto& kv : ops) {
    const std::string op = kv.first.Scalar();
    if (!KnownOperation(op)) {
      return absl::InvalidArgumentError(
          absl::StrCat("operations.", op,
                       ": unknown operation (tick, market_event, cache_set, "
                       "persist_append, order_submit)"));
    }
    int64_t w;
    TM_ASSIGN(w, Integer(kv.second, "operations." + op));
    s->mix.push_back({op, int(std::clamp<int64_t>(w, -1, 100000))});
  }
  if (root["symbols"]) {
    const YAML::Node sy = root["symbols"];
    if (!sy.IsSequence()) return absl::InvalidArgumentError("symbols: expected a list");
    s->symbols.clear();
    for (size_t i = 0; i < sy.size(); ++i) {
      std::string v;
      TM_ASSIGN(v, String(sy[i], absl::StrCat("symbols[", i, "]")));
      s->symbols.push_back(v);
    }
  }
  if (root["drain_s"]) TM_ASSIGN(s->drain_s, Number(root["drain_s"], "drain_s"));
  if (root["book_every"]) TM_ASSIGN(s->book_every, Integer(root["book_every"], "book_every"));
  if (root["flood_symbols"]) {
    TM_ASSIGN(s->flood_symbols, Integer(root["flood_symbols"], "flood_symbols"));
  }
  if (root["max_in_flight"]) {
    TM_ASSIGN(s->max_in_flight, Integer(root["max_in_flight"], "max_in_flight"));
  }
  if (root["send_interval_us"]) {
    TM_ASSIGN(s->send_interval_us, Integer(root["send_interval_us"], "send_interval_us"));
  }
  if (root["volatility"]) {
    const YAML::Node v = root["volatility"];
    if (auto ok = OnlyKeys(v, "volatility", {"jump_every", "jump_bps", "walk_bps"}); !ok.ok()) {
      return ok;
    }
    if (v["walk_bps"]) TM_ASSIGN(s->walk_bps, Number(v["walk_bps"], "volatility.walk_bps"));
    if (v["jump_every"])
      TM_ASSIGN(s->jump_every, Integer(v["jump_every"], "volatility.jump_every"));
    if (v["jump_bps"]) TM_ASSIGN(s->jump_bps, Integer(v["jump_bps"], "volatility.jump_bps"));
  }
  if (root["cache"]) {
    const YAML::Node c = root["cache"];
    if (auto ok = OnlyKeys(c, "cache", {"keys", "ttl_ms"}); !ok.ok()) return ok;
    if (c["keys"]) {
      int64_t k;
      TM_ASSIGN(k, Integer(c["keys"], "cache.keys"));
      if (k < 0 || k > 10000000)
        return absl::InvalidArgumentError("cache.keys: must be in 0..10000000");
      s->cache_keys = uint32_t(k);
    }
    if (c["ttl_ms"]) {
      TM_ASSIGN(s->cache_ttl_ms, Integer(c["ttl_ms"], "cache.ttl_ms"));
      if (s->cache_ttl_ms < 0) return absl::InvalidArgumentError("cache.ttl_ms: must be >= 0");
    }
  }
  if (root["slos"]) {
    const YAML::Node sl = root["slos"];
    if (!sl.IsSequence()) return absl::InvalidArgumentError("slos: expected a list of strings");
    for (size_t i = 0; i < sl.size(); ++i) {
      std::string v;
      TM_ASSIGN(v, String(sl[i], absl::StrCat("slos[", i, "]")));
      s->slos.push_back(v);
    }
  }
  if (root["max_mem_growth_mb_per_min"]) {
    TM_ASSIGN(s->max_mem_growth_mb_per_min,
              Number(root["max_mem_growth_mb_per_min"], "max_mem_growth_mb_per_min"));
  }
  if (root["primary"]) TM_ASSIGN(s->primary, String(root["primary"], "primary"));
  if (root["breaking_point"]) {
    const YAML::Node b = root["breaking_point"];
    if (auto ok =
            OnlyKeys(b, "breaking_point", {"operation", "p99_us", "min_sent_ratio", "first_step"});
        !ok.ok()) {
      return ok;
    }
    s->breaking.enabled = true;
    if (!b["operation"]) return absl::InvalidArgumentError("breaking_point.operation: required");
    TM_ASSIGN(s->breaking.operation, String(b["operation"], "breaking_point.operation"));
    if (!b["p99_us"]) return absl::InvalidArgumentError("breaking_point.p99_us: required");
    TM_ASSIGN(s->breaking.p99_us, Number(b["p99_us"], "breaking_point.p99_us"));
    if (b["min_sent_ratio"]) {
      TM_ASSIGN(s->breaking.min_sent_ratio,
                Number(b["min_sent_ratio"], "breaking_point.min_sent_ratio"));
    }
    if (b["first_step"]) {
      int64_t f;
      TM_ASSIGN(f, Integer(b["first_step"], "breaking_point.first_step"));
      if (f < 0 || f >= int64_t(s->stages.size())) {
        return absl::InvalidArgumentError("breaking_point.first_step: must index a stage");
      }
      s->breaking.first_step = int(f);
    }
  }
  if (root["fault"]) {
    const YAML::Node f = root["fault"];
    if (auto ok = OnlyKeys(f, "fault", {"steps", "control", "settle_s"}); !ok.ok()) return ok;
    if (f["control"]) TM_ASSIGN(s->fault.control, String(f["control"], "fault.control"));
    if (f["settle_s"]) TM_ASSIGN(s->fault.settle_s, Number(f["settle_s"], "fault.settle_s"));
    if (f["steps"]) {
      const YAML::Node st = f["steps"];
      if (!st.IsSequence()) return absl::InvalidArgumentError("fault.steps: expected a list");
      for (size_t i = 0; i < st.size(); ++i) {
        const std::string path = absl::StrCat("fault.steps[", i, "]");
        if (auto ok = OnlyKeys(st[i], path, {"at_s", "kill", "down_s"}); !ok.ok()) return ok;
        FaultStepSpec step;
        if (!st[i]["at_s"]) return absl::InvalidArgumentError(path + ".at_s: required");
        if (!st[i]["kill"]) return absl::InvalidArgumentError(path + ".kill: required");
        TM_ASSIGN(step.at_s, Number(st[i]["at_s"], path + ".at_s"));
        TM_ASSIGN(step.component, String(st[i]["kill"], path + ".kill"));
        if (st[i]["down_s"]) TM_ASSIGN(step.down_s, Number(st[i]["down_s"], path + ".down_s"));
        s->fault.steps.push_back(step);
      }
    }
  }
  if (s->primary.empty()) {
    const std::string& first = s->mix.front().operation;
    s->primary = first == "tick"           ? "tick_to_order"
                 : first == "market_event" ? "md_delivery"
                                           : first;
  }
  if (s->fault.steps.size() > 0 && root["cache"] && s->cache_keys != 0) {
    return absl::InvalidArgumentError(
        "cache.keys: must be 0 (a key per write) in a scenario with fault steps, so every "
        "acknowledged write can be checked in Redis");
  }
  if (!s->fault.steps.empty()) s->cache_keys = 0;
  return ValidateScenario(*s);
}

#undef TM_ASSIGN

}  // namespace

absl::StatusOr<ScenarioSpec> ParseScenarioYaml(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("yaml: line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError("scenario: expected a YAML mapping");
  ScenarioSpec spec;
  try {
    if (auto ok = ParseRoot(root, &spec); !ok.ok()) return ok;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("yaml: ", e.what()));
  }
  return spec;
}

absl::StatusOr<ScenarioSpec> LoadScenarioFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read the scenario file"));
  std::stringstream buf;
  buf << in.rdbuf();
  auto spec = ParseScenarioYaml(buf.str());
  if (!spec.ok()) {
    return absl::Status(spec.status().code(), absl::StrCat(path, ": ", spec.status().message()));
  }
  return spec;
}

absl::StatusOr<ScenarioSpec> ApplyOverrides(ScenarioSpec spec, double rate_per_s, double duration_s,
                                            const std::vector<std::string>& symbols) {
  if (rate_per_s < 0 || rate_per_s > 1e7) {
    return absl::InvalidArgumentError("rate_per_s: must be in 0..10000000");
  }
  if (duration_s < 0 || duration_s > 86400) {
    return absl::InvalidArgumentError("duration_s: must be in 0..86400");
  }
  if (rate_per_s > 0) {
    double peak = 0;
    for (const Stage& st : spec.stages) peak = std::max({peak, st.from_per_s, st.to_per_s});
    const double k = peak > 0 ? rate_per_s / peak : 0;
    for (Stage& st : spec.stages) {
      st.from_per_s = peak > 0 ? st.from_per_s * k : rate_per_s;
      st.to_per_s = peak > 0 ? st.to_per_s * k : rate_per_s;
    }
  }
  if (duration_s > 0) {
    double total = 0;
    for (const Stage& st : spec.stages) total += st.duration_s;
    const double k = duration_s / total;
    for (Stage& st : spec.stages) st.duration_s *= k;
    for (FaultStepSpec& f : spec.fault.steps) f.at_s *= k;
  }
  if (!symbols.empty()) spec.symbols = symbols;
  if (auto s = ValidateScenario(spec); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("overrides: ", s.message()));
  }
  return spec;
}

nlohmann::json ScenarioToJson(const ScenarioSpec& s) {
  nlohmann::json j;
  j["name"] = s.name;
  j["description"] = s.description;
  j["mode"] = s.mode;
  j["stages"] = nlohmann::json::array();
  double total = 0;
  for (const Stage& st : s.stages) {
    j["stages"].push_back({{"duration_s", st.duration_s},
                           {"from_per_s", st.from_per_s},
                           {"to_per_s", st.to_per_s},
                           {"label", st.label}});
    total += st.duration_s;
  }
  j["duration_s"] = total;
  j["operations"] = nlohmann::json::object();
  for (const auto& m : s.mix) j["operations"][m.operation] = m.weight;
  j["symbols"] = s.symbols;
  j["primary"] = s.primary;
  j["slos"] = s.slos;
  j["drain_s"] = s.drain_s;
  if (s.jump_every > 0 || s.walk_bps != ScenarioSpec{}.walk_bps) {
    j["volatility"] = {
        {"jump_every", s.jump_every}, {"jump_bps", s.jump_bps}, {"walk_bps", s.walk_bps}};
  }
  j["cache"] = {{"keys", s.cache_keys}, {"ttl_ms", s.cache_ttl_ms}};
  j["max_in_flight"] = s.max_in_flight;
  if (s.send_interval_us > 0) j["send_interval_us"] = s.send_interval_us;
  if (s.max_mem_growth_mb_per_min > 0) {
    j["max_mem_growth_mb_per_min"] = s.max_mem_growth_mb_per_min;
  }
  if (s.breaking.enabled) {
    j["breaking_point"] = {{"operation", s.breaking.operation},
                           {"p99_us", s.breaking.p99_us},
                           {"min_sent_ratio", s.breaking.min_sent_ratio},
                           {"first_step", s.breaking.first_step}};
  }
  if (!s.fault.steps.empty()) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& f : s.fault.steps) {
      steps.push_back({{"at_s", f.at_s}, {"kill", f.component}, {"down_s", f.down_s}});
    }
    j["fault"] = {{"steps", steps}, {"control", s.fault.control}, {"settle_s", s.fault.settle_s}};
  }
  return j;
}

}  // namespace tickmesh::loadtest
