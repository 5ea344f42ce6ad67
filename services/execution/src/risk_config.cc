#include "risk_config.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tickmesh/runtime/config.h"

namespace tickmesh::execution {
namespace {

constexpr size_t kMaxNameLength = 128;
constexpr size_t kMaxStrategies = 10'000;

absl::Status Bad(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::StatusOr<int64_t> Int(const YAML::Node& node, const std::string& path, int64_t lo,
                            int64_t hi) {
  const std::string range = absl::StrCat("must be an integer in [", lo, ", ", hi, "]");
  if (!node.IsScalar()) return Bad(path, range);
  int64_t v = 0;
  try {
    v = node.as<int64_t>();
  } catch (const std::exception&) {
    return Bad(path, range);
  }
  if (v < lo || v > hi) return Bad(path, range);
  return v;
}

// Applies a limits block onto *limits.
absl::Status ParseLimits(const YAML::Node& node, const std::string& path, RiskLimits* limits) {
  if (node.IsNull()) return absl::OkStatus();
  if (!node.IsMap()) return Bad(path, "must be a mapping of limit: value");
  for (const auto& kv : node) {
    std::string key;
    try {
      key = kv.first.as<std::string>();
    } catch (const std::exception&) {
      return Bad(path, "keys must be strings");
    }
    const std::string kpath = absl::StrCat(path, ".", key);
    int64_t* field = nullptr;
    int64_t hi = INT64_MAX;
    if (key == "max_order_qty_e8") {
      field = &limits->max_order_qty_e8;
    } else if (key == "max_order_notional_e8") {
      field = &limits->max_order_notional_e8;
    } else if (key == "max_position_e8") {
      field = &limits->max_position_e8;
    } else if (key == "price_band_bps") {
      field = &limits->price_band_bps;
      hi = 10'000;
    } else if (key == "max_open_orders") {
      field = &limits->max_open_orders;
      hi = 10'000'000;
    } else if (key == "max_daily_loss_e8") {
      field = &limits->max_daily_loss_e8;
    } else {
      return Bad(kpath,
                 "unknown limit (known: max_order_qty_e8, max_order_notional_e8, "
                 "max_position_e8, price_band_bps, max_open_orders, max_daily_loss_e8)");
    }
    auto v = Int(kv.second, kpath, 0, hi);
    if (!v.ok()) return v.status();
    *field = *v;
  }
  return absl::OkStatus();
}

absl::Status CheckStrategyName(const std::string& name) {
  const std::string path = absl::StrCat("strategies.", name);
  if (name.empty() || name.size() > kMaxNameLength) {
    return Bad(path, absl::StrCat("strategy names are 1..", kMaxNameLength, " characters"));
  }
  for (char c : name) {
    if (c <= 0x20 || c >= 0x7f) {
      return Bad(path, "strategy names are printable characters without spaces");
    }
  }
  if (name == "other") {
    return Bad(path, "\"other\" is reserved for the pool of unnamed strategies; use \"default\"");
  }
  return absl::OkStatus();
}

absl::StatusOr<RiskConfig> ParseUnchecked(const YAML::Node& root, const RiskConfig& base) {
  RiskConfig out = base;
  if (root.IsNull()) return out;  // empty file: nothing changes
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(
        "risk config must be a mapping with day_reset_hour_utc, global, strategies");
  }
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    if (key == "day_reset_hour_utc") {
      auto v = Int(kv.second, key, 0, 23);
      if (!v.ok()) return v.status();
      out.day_reset_hour_utc = static_cast<int>(*v);
    } else if (key == "global") {
      if (auto s = ParseLimits(kv.second, key, &out.account); !s.ok()) return s;
    } else if (key == "strategies") {
      const YAML::Node& strategies = kv.second;
      out.strategies = StrategyLimits{};
      if (strategies.IsNull()) continue;
      if (!strategies.IsMap()) return Bad(key, "must be a mapping of strategy name: limits");
      if (strategies.size() > kMaxStrategies) {
        return Bad(key, absl::StrCat("at most ", kMaxStrategies, " strategies"));
      }
      for (const auto& s : strategies) {
        const std::string name = s.first.as<std::string>();
        RiskLimits limits;
        if (name == "default") {
          if (auto st = ParseLimits(s.second, "strategies.default", &limits); !st.ok()) return st;
          out.strategies.default_limits = limits;
          continue;
        }
        if (auto st = CheckStrategyName(name); !st.ok()) return st;
        if (auto st = ParseLimits(s.second, absl::StrCat("strategies.", name), &limits); !st.ok()) {
          return st;
        }
        if (!out.strategies.named.emplace(name, limits).second) {
          return Bad(absl::StrCat("strategies.", name), "strategy given twice");
        }
      }
    } else {
      return Bad(key, "unknown key (known: day_reset_hour_utc, global, strategies)");
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::optional<RiskDayState>> ReadRiskDayState(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return std::optional<RiskDayState>();
    return absl::InvalidArgumentError(absl::StrCat("risk state file ", path, " cannot be read"));
  }
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "risk state file ", path,
        " is not {\"trading_day\": <int>, \"account_baseline_e8\": <int>}; remove it to start "
        "the day's baseline afresh"));
  };
  if (!j.is_object() || !j.contains("trading_day") || !j.contains("account_baseline_e8") ||
      !j["trading_day"].is_number_integer() || !j["account_baseline_e8"].is_number_integer()) {
    return bad();
  }
  RiskDayState s;
  s.trading_day = j["trading_day"].get<int64_t>();
  s.account_baseline_e8 = j["account_baseline_e8"].get<int64_t>();
  return std::optional<RiskDayState>(s);
}

absl::Status WriteRiskDayState(const std::string& path, const RiskDayState& state) {
  const std::string tmp = path + ".tmp";
  const std::string body = nlohmann::json{{"trading_day", state.trading_day},
                                          {"account_baseline_e8", state.account_baseline_e8}}
                               .dump() +
                           "\n";
  auto fail = [&](const char* what) {
    return absl::InternalError(
        absl::StrCat("risk state file ", path, ": ", what, ": ", std::strerror(errno)));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("open");
  const bool written = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size());
  const bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) {
    absl::Status s = fail(written ? "fsync" : "write");
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename");
  return absl::OkStatus();
}

absl::StatusOr<RiskConfig> ParseRiskConfig(const YAML::Node& root, const RiskConfig& base) {
  try {
    return ParseUnchecked(root, base);
  } catch (const std::exception& e) {
    // yaml-cpp throws for keys that are not scalars and similar shapes.
    return absl::InvalidArgumentError(absl::StrCat("malformed risk config: ", e.what()));
  }
}

absl::StatusOr<RiskConfig> LoadRiskConfigFile(const std::string& path, const RiskConfig& base) {
  auto yaml = tickmesh::runtime::LoadYamlFile(path);
  if (!yaml.ok()) return yaml.status();
  auto config = ParseRiskConfig(*yaml, base);
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace tickmesh::execution
