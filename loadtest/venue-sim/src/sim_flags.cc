#include "sim_flags.h"

#include <signal.h>

#include <cstdio>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tickmesh/venues/decimal.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "Address to listen on (loopback by default).");
ABSL_FLAG(int, binance_port, 0,
          "Port for the simulated Binance spot API (WebSocket + REST); 0 = any free port, "
          "-1 = off.");
ABSL_FLAG(int, kraken_port, 0,
          "Port for the simulated Kraken API (WebSocket v2 at /v2 + REST); 0 = any free port, "
          "-1 = off.");
ABSL_FLAG(int, bybit_port, 0,
          "Port for the simulated Bybit v5 spot API (WebSocket at /v5/public/spot + REST); "
          "0 = any free port, -1 = off.");
ABSL_FLAG(std::string, ports_file, "",
          "If set, the bound ports are written here as 'venue=port' lines once listening.");
ABSL_FLAG(std::string, symbols, "BTC-USDT,ETH-USDT",
          "Comma-separated tickmesh symbols (BASE-QUOTE) simulated on every venue.");
ABSL_FLAG(double, rate, 20, "Synthetic book updates per second per symbol.");
ABSL_FLAG(int, levels, 20, "Market-maker price levels per side.");
ABSL_FLAG(int, price_decimals, 2, "Price tick = 10^-price_decimals.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the synthetic market (runs are reproducible).");
ABSL_FLAG(std::string, accounts, "",
          "Comma-separated api_key:secret pairs accepted by every venue (secret is the Binance "
          "HMAC key verbatim and must be base64 for Kraken). Empty = the built-in test account "
          "sim-key (see README).");
ABSL_FLAG(std::string, balances, "USDT=1000000,USD=1000000,BTC=100,ETH=1000",
          "Starting balance of every account: comma-separated ASSET=DECIMAL.");
ABSL_FLAG(std::string, maker_fee_bps, "0",
          "Fee of fills that rest (maker), in basis points (decimal, e.g. 7.5). Charged in the "
          "received asset on Binance/Bybit, in the quote asset on Kraken; reported in each "
          "venue's own fields.");
ABSL_FLAG(std::string, taker_fee_bps, "0", "Fee of fills that take liquidity, in basis points.");
ABSL_FLAG(int64_t, fault_latency_ms, 0, "Delay added to every REST response (whole run).");
ABSL_FLAG(int64_t, fault_rate_limit_every, 0,
          "Every Nth REST request gets the venue's rate-limit answer (0 = off).");
ABSL_FLAG(int64_t, fault_disconnect_every_ms, 0,
          "Drop every WebSocket connection this often (0 = off).");
ABSL_FLAG(int64_t, fault_gap_every_ms, 0,
          "Inject a book sequence gap (Binance) / dropped book update (Kraken) this often.");
ABSL_FLAG(int64_t, fault_malformed_every_ms, 0,
          "Send a malformed frame to every WebSocket connection this often (0 = off).");

ABSL_FLAG(int64_t, binance_weight_limit, 0,
          "Binance request weight per --binance_weight_interval; past it HTTP 429 -1003 with "
          "Retry-After. 0 = counted and reported (X-MBX-USED-WEIGHT-*), never refused.");
ABSL_FLAG(std::string, binance_weight_interval, "1M",
          "Binance weight interval <n><S|M|H|D> (fixed intervals; the header suffix), e.g. 1M, "
          "10S.");
ABSL_FLAG(int64_t, binance_order_limit_10s, 0,
          "Binance new orders per 10 s; past it HTTP 429 -1015. 0 = counted and reported "
          "(X-MBX-ORDER-COUNT-10S / -1D), never refused.");
ABSL_FLAG(int64_t, bybit_limit_per_s, 0,
          "Bybit requests per second per private endpoint; past it retCode 10006. 0 = the "
          "documented defaults reported in X-Bapi-Limit* headers, never refused.");

namespace tickmesh::venue_sim {

absl::StatusOr<SimOptions> OptionsFromFlags() {
  SimOptions o;
  o.host = absl::GetFlag(FLAGS_host);
  o.binance_port = absl::GetFlag(FLAGS_binance_port);
  o.kraken_port = absl::GetFlag(FLAGS_kraken_port);
  o.bybit_port = absl::GetFlag(FLAGS_bybit_port);
  o.symbols.clear();
  for (absl::string_view s : absl::StrSplit(absl::GetFlag(FLAGS_symbols), ',', absl::SkipEmpty())) {
    o.symbols.emplace_back(s);
  }
  if (o.symbols.empty()) return absl::InvalidArgumentError("--symbols is empty");
  o.rate = absl::GetFlag(FLAGS_rate);
  o.market.levels = absl::GetFlag(FLAGS_levels);
  o.market.price_decimals = absl::GetFlag(FLAGS_price_decimals);
  o.market.seed = absl::GetFlag(FLAGS_seed);
  const std::string accounts = absl::GetFlag(FLAGS_accounts);
  if (!accounts.empty()) {
    o.accounts.clear();
    for (absl::string_view pair : absl::StrSplit(accounts, ',', absl::SkipEmpty())) {
      std::vector<std::string> kv = absl::StrSplit(pair, absl::MaxSplits(':', 1));
      if (kv.size() != 2 || kv[0].empty() || kv[1].empty()) {
        return absl::InvalidArgumentError("--accounts: expected api_key:secret[,api_key:secret]");
      }
      o.accounts.push_back({kv[0], kv[1]});
    }
  }
  o.balances_e8.clear();
  for (absl::string_view pair :
       absl::StrSplit(absl::GetFlag(FLAGS_balances), ',', absl::SkipEmpty())) {
    std::vector<std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty()) {
      return absl::InvalidArgumentError("--balances: expected ASSET=DECIMAL[,ASSET=DECIMAL]");
    }
    auto v = venues::ParseDecimalE8(kv[1]);
    if (!v.ok() || *v < 0) {
      return absl::InvalidArgumentError(absl::StrCat("--balances: bad amount for ", kv[0]));
    }
    o.balances_e8[kv[0]] = *v;
  }
  for (auto [flag, out] : {std::pair{absl::GetFlag(FLAGS_maker_fee_bps), &o.fees.maker_bps_e8},
                           std::pair{absl::GetFlag(FLAGS_taker_fee_bps), &o.fees.taker_bps_e8}}) {
    auto v = venues::ParseDecimalE8(flag);
    if (!v.ok() || *v < 0 || *v >= int64_t{10'000} * 100'000'000) {
      return absl::InvalidArgumentError("--maker_fee_bps / --taker_fee_bps must be 0..<10000");
    }
    *out = *v;
  }
  o.limits.binance_weight_limit = absl::GetFlag(FLAGS_binance_weight_limit);
  o.limits.binance_weight_interval = absl::GetFlag(FLAGS_binance_weight_interval);
  o.limits.binance_order_limit_10s = absl::GetFlag(FLAGS_binance_order_limit_10s);
  o.limits.bybit_limit_per_s = absl::GetFlag(FLAGS_bybit_limit_per_s);
  if (absl::Status st = ValidateRestLimits(o.limits); !st.ok()) return st;
  o.faults.latency_ms = absl::GetFlag(FLAGS_fault_latency_ms);
  o.faults.rate_limit_every = absl::GetFlag(FLAGS_fault_rate_limit_every);
  o.disconnect_every_ms = absl::GetFlag(FLAGS_fault_disconnect_every_ms);
  o.gap_every_ms = absl::GetFlag(FLAGS_fault_gap_every_ms);
  o.malformed_every_ms = absl::GetFlag(FLAGS_fault_malformed_every_ms);
  if (o.faults.latency_ms < 0 || o.faults.rate_limit_every < 0 || o.disconnect_every_ms < 0 ||
      o.gap_every_ms < 0 || o.malformed_every_ms < 0) {
    return absl::InvalidArgumentError("--fault_* flags must be >= 0");
  }
  return o;
}

absl::Status WritePortsFile(const std::string& text) {
  const std::string path = absl::GetFlag(FLAGS_ports_file);
  if (path.empty()) return absl::OkStatus();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << text;
    if (!f.good()) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

int WaitForTermination() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace tickmesh::venue_sim
