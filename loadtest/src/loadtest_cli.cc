#include "loadtest_cli.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "loadtest_service.h"
#include "report.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/config.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/server.h"

ABSL_FLAG(std::string, market_data_address, "127.0.0.1:50051", "market-data gRPC address");
ABSL_FLAG(std::string, execution_address, "127.0.0.1:50053", "execution gRPC address");
ABSL_FLAG(std::string, scenario, "ticks",
          "Scenario: ticks (trades + books injected over Publish; tick -> order -> fill)");
ABSL_FLAG(std::string, mode, "custom", "quick | full | stress | custom (label in the report)");
ABSL_FLAG(double, rate, 5000, "Trades per second, open loop (1..1000000)");
ABSL_FLAG(double, duration_s, 10, "Seconds of load (0.1..3600)");
ABSL_FLAG(std::string, symbols, "LT-USD", "Comma-separated symbols to inject (venue 'loadtest')");
ABSL_FLAG(std::string, report_dir, "", "Write report.json here (created if missing)");
ABSL_FLAG(std::vector<std::string>, slo, {},
          "Comma-separated SLOs, e.g. tick_to_order.p99<=1000 (microseconds); a miss exits 1");
ABSL_FLAG(uint64_t, seed, 42, "Random seed for the price walk");

namespace tickmesh::loadtest {
namespace {

int Usage(const char* error) {
  std::fprintf(stderr, "tickmesh-loadtest: %s\nusage: tickmesh-loadtest run|serve [flags]\n",
               error);
  return 2;
}

int RunCommand(const TickLoadConfig& config) {
  RunInfo info;
  info.scenario = absl::GetFlag(FLAGS_scenario);
  info.mode = absl::GetFlag(FLAGS_mode);
  info.config = config;
  info.run_id = absl::StrCat("run-", runtime::NowUnixNs() / 1000000);
  if (info.scenario != "ticks") {
    return Usage(absl::StrCat("--scenario: unknown scenario '", info.scenario,
                              "' (available: ticks)").c_str());
  }
  for (const std::string& text : absl::GetFlag(FLAGS_slo)) {
    Slo slo;
    std::string error;
    if (!ParseSlo(text, &slo, &error)) return Usage(absl::StrCat("--slo: ", error).c_str());
    info.slos.push_back(slo);
  }
  const bool tty = isatty(STDERR_FILENO);
  TickLoadResult result = RunTickLoad(config, [&](const TickLoadProgress& p) {
    std::fprintf(stderr, "%s[%5.1f/%.0fs] sent %llu  rate %.0f/s  fills %llu  tick->order p99 %.0f us%s",
                 tty ? "\r" : "", p.elapsed_s, p.total_s, (unsigned long long)p.sent,
                 p.current_rate_per_s, (unsigned long long)p.fills,
                 double(p.tick_to_order_p99_ns) / 1000.0, tty ? "   " : "\n");
  });
  if (tty) std::fprintf(stderr, "\n");
  nlohmann::json report = BuildReportJson(info, result);
  std::printf("%s", SummaryText(report).c_str());
  const std::string dir = absl::GetFlag(FLAGS_report_dir);
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::string path = dir + "/report.json";
    std::ofstream out(path);
    out << report.dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "tickmesh-loadtest: cannot write %s\n", path.c_str());
      return 1;
    }
    std::printf("  report: %s\n", path.c_str());
  }
  return report["passed"].get<bool>() ? 0 : 1;
}

}  // namespace

int Main(int argc, char** argv) {
  std::vector<std::string> args = runtime::InitProcess(
      argc, argv, "loadtest", "tickmesh-loadtest run|serve [flags]: load tests the mesh");
  if (args.size() != 2 || (args[1] != "run" && args[1] != "serve")) {
    return Usage("expected exactly one subcommand: run or serve");
  }
  TickLoadConfig config;
  config.market_data_address = absl::GetFlag(FLAGS_market_data_address);
  config.execution_address = absl::GetFlag(FLAGS_execution_address);
  config.rate_per_s = absl::GetFlag(FLAGS_rate);
  config.duration_s = absl::GetFlag(FLAGS_duration_s);
  config.seed = absl::GetFlag(FLAGS_seed);
  config.symbols = absl::StrSplit(absl::GetFlag(FLAGS_symbols), ',', absl::SkipWhitespace());
  for (auto [flag, address] : {std::pair{"--market_data_address", config.market_data_address},
                               std::pair{"--execution_address", config.execution_address}}) {
    if (auto s = runtime::ValidateHostPort(flag, address); !s.ok()) {
      return Usage(std::string(s.message()).c_str());
    }
  }
  if (!(config.rate_per_s >= 1 && config.rate_per_s <= 1e6)) {
    return Usage("--rate: must be in 1..1000000");
  }
  if (!(config.duration_s >= 0.1 && config.duration_s <= 3600)) {
    return Usage("--duration_s: must be in 0.1..3600");
  }
  if (config.symbols.empty()) return Usage("--symbols: at least one symbol");
  for (const auto& s : config.symbols) {
    if (s.find('-') == std::string::npos) {
      return Usage(absl::StrCat("--symbols: '", s, "' is not BASE-QUOTE").c_str());
    }
  }
  if (args[1] == "run") return RunCommand(config);

  runtime::ServiceHost host(runtime::ServiceHost::OptionsFromFlags("loadtest", 50056, 9106));
  LoadTestServiceImpl service(config);
  host.AddService(&service, "tickmesh.v1.LoadTestService");
  host.OnDrain([&] { service.Stop(); });
  return host.Run();
}

}  // namespace tickmesh::loadtest
