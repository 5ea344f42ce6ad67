// Risk configuration file (--risk_config): account-wide limits, per-strategy limits and the
// trading day, in YAML. Every key is optional; a limit of 0 (or absent) disables that rule.
//
//   day_reset_hour_utc: 0            # the trading day (for max_daily_loss) starts at hh:00 UTC
//   global:                          # account-wide limits; keys given here replace the flags
//     max_order_qty_e8: 100000000000
//     max_order_notional_e8: 10000000000000
//     max_position_e8: 1000000000000
//     price_band_bps: 500
//     max_open_orders: 5000
//     max_daily_loss_e8: 5000000000000
//   strategies:                      # per strategy (OrderRequest.strategy), over its own orders
//     momentum:                      # and fills, in addition to the global limits; keys not
//       max_order_qty_e8: 200000000  # given are disabled (not inherited from global)
//       max_position_e8: 500000000
//       max_open_orders: 50
//       max_daily_loss_e8: 100000000000
//     default:                       # optional: every strategy not named, as one pool ("other")
//       max_open_orders: 10
//
// Strategy blocks accept the same keys as global. Names follow the order.strategy rules (1..128
// printable characters, no spaces); "other" is reserved (it names the default pool).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "risk.h"
#include "yaml-cpp/yaml.h"

namespace tickmesh::execution {

struct RiskConfig {
  RiskLimits account;
  StrategyLimits strategies;
  int day_reset_hour_utc = 0;
};

// Applies the YAML document `root` over `base` (global keys replace base.account's, strategies
// and day_reset_hour_utc replace base's when present). INVALID_ARGUMENT naming the key path
// ("strategies.momentum.max_open_orders: must be an integer in [0, 9223372036854775807]") for an
// unknown key, a value that is not a non-negative integer in range, a bad strategy name or a
// document that is not a mapping. Never throws.
absl::StatusOr<RiskConfig> ParseRiskConfig(const YAML::Node& root, const RiskConfig& base);

// Reads the file (I/O) and parses it as above; errors are prefixed with the path. NOT_FOUND for
// a missing file, INVALID_ARGUMENT for malformed YAML (with line and column).
absl::StatusOr<RiskConfig> LoadRiskConfigFile(const std::string& path, const RiskConfig& base);

// --risk_state_file: the account's daily-loss baseline of the current trading day, so that a
// restart the same day keeps counting the day's loss. JSON {"trading_day": n,
// "account_baseline_e8": n}.
struct RiskDayState {
  int64_t trading_day = 0;
  int64_t account_baseline_e8 = 0;
};
// Reads the file (I/O). nullopt when it does not exist (first start); INVALID_ARGUMENT naming the
// path when it is not that JSON object.
absl::StatusOr<std::optional<RiskDayState>> ReadRiskDayState(const std::string& path);
// Replaces the file atomically (I/O: a temporary file beside it, fsync, rename). INTERNAL naming
// the path on failure.
absl::Status WriteRiskDayState(const std::string& path, const RiskDayState& state);

}  // namespace tickmesh::execution
