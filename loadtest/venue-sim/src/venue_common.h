// Pieces shared by the simulated venues: accounts, clocks, JSON text helpers, book diffs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "matching_engine.h"
#include "port_server.h"

namespace tickmesh::venue_sim {

// One API key the simulated venue accepts. `secret` is used as the venue expects it: raw HMAC
// key for Binance, base64 for Kraken (so the default secret is valid base64 and works for both).
struct Account {
  std::string api_key;
  std::string secret;
};

// What every venue is constructed with.
struct VenueContext {
  std::vector<Account> accounts;
  // Initial balance of every account, per asset (e.g. "USDT" -> 1e6 * 1e8).
  std::map<std::string, int64_t> balances_e8;
  // Wall clock in ms (tests may pin it).
  std::function<int64_t()> now_ms;
};

int64_t WallMs();
// "2023-09-25T07:49:37.708706Z" from unix microseconds.
std::string IsoTimeUs(int64_t unix_us);
// Escapes a string for a JSON string literal (without the quotes).
std::string JsonEscape(std::string_view s);
// Removes every `name=...` parameter from a raw query/form string, keeping the rest verbatim.
std::string StripParam(std::string_view raw, std::string_view name);
// Constant-time comparison of equal-length strings (false if lengths differ).
bool SecureEquals(std::string_view a, std::string_view b);

// Level changes between two aggregated views of one side: (price, new qty or 0 if removed),
// in the order of `after` then removed levels.
Levels DiffLevels(const Levels& before, const Levels& after);

// Handles POST /sim/fund?api_key=K&asset=A&amount=DECIMAL (adds, may be negative) for a venue.
RestReply HandleFund(MatchingEngine& engine, const std::vector<Account>& accounts,
                     const RestRequest& request);

}  // namespace tickmesh::venue_sim
