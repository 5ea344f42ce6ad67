#include "loadtest_cli.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "baseline.h"
#include "loadtest_service.h"
#include "progress.h"
#include "report.h"
#include "report_html.h"
#include "runner.h"
#include "scenario.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/config.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/server.h"

// Targets. Every address has a TICKMESH_<FLAG> environment fallback (runtime::InitProcess).
ABSL_FLAG(std::string, targets, "mesh",
          "Address defaults: mesh (scripts/mesh on 127.0.0.1, shifted by "
          "TICKMESH_MESH_PORT_OFFSET), compose (docker-compose service names), k8s (<service>."
          "<k8s_namespace>.svc.cluster.local); the address flags below override single ones");
ABSL_FLAG(std::string, k8s_namespace, "tickmesh", "Namespace for --targets k8s");
ABSL_FLAG(std::string, market_data_address, "", "market-data gRPC host:port");
ABSL_FLAG(std::string, signal_address, "", "signal gRPC host:port");
ABSL_FLAG(std::string, execution_address, "", "execution gRPC host:port");
ABSL_FLAG(std::string, cache_address, "", "cache gRPC host:port");
ABSL_FLAG(std::string, persistence_address, "", "persistence gRPC host:port");
ABSL_FLAG(std::vector<std::string>, admin_addresses, {},
          "Admin HTTP per service for /metrics sampling, e.g. market-data=127.0.0.1:9101,...; "
          "'none' disables sampling");
ABSL_FLAG(std::string, redis_url, "",
          "Redis the cache uses (fault scenario: acknowledged cache writes are read back from it)");
ABSL_FLAG(std::string, control_command, "scripts/mesh",
          "Fault scenario: command prefix run as `<cmd> kill|start <component>`");
// What to run.
ABSL_FLAG(std::string, scenario, "sustained",
          "Built-in scenario: sustained, burst, ws-flood, balance-storm, order-burst, volatility, "
          "soak, fault (with --mode custom: the name to report, the YAML's name by default)");
ABSL_FLAG(std::string, mode, "quick", "quick | full | stress | custom (needs --config)");
ABSL_FLAG(std::string, config, "", "Scenario YAML for --mode custom (schema: loadtest/README.md)");
ABSL_FLAG(double, rate, 0, "Override: scale the scenario so its peak rate is this (events/s)");
ABSL_FLAG(double, duration_s, 0, "Override: scale the scenario's stages to this total length");
ABSL_FLAG(std::string, symbols, "", "Override: comma-separated BASE-QUOTE symbols");
ABSL_FLAG(std::vector<std::string>, slo, {},
          "Extra SLOs, e.g. tick_to_order.p99<=1000 (microseconds); a miss exits 1");
// Output.
ABSL_FLAG(std::string, report_dir, "", "Write report.json and report.html here");
ABSL_FLAG(std::string, baseline, "", "A previous report.json to compare with (> 20 % flagged)");
ABSL_FLAG(bool, fail_on_regression, false, "Exit 1 when the baseline comparison flags one");

namespace tickmesh::loadtest {
namespace {

std::atomic<bool> g_stop{false};

int Usage(const std::string& error) {
  std::fprintf(stderr,
               "tickmesh-loadtest: %s\nusage: tickmesh-loadtest run --scenario NAME --mode "
               "quick|full|stress|custom [--config FILE] --report-dir DIR [--baseline FILE]\n"
               "       tickmesh-loadtest serve\n",
               error.c_str());
  return 2;
}

absl::StatusOr<Targets> TargetsFromFlags() {
  Targets t;
  const std::string preset = absl::GetFlag(FLAGS_targets);
  const char* names[] = {"market-data", "signal", "execution", "cache", "persistence"};
  const int grpc_ports[] = {50051, 50052, 50053, 50054, 50055};
  const int admin_ports[] = {9101, 9102, 9103, 9104, 9105};
  std::string* addr[] = {&t.market_data, &t.signal, &t.execution, &t.cache, &t.persistence};
  int offset = 0;
  if (preset == "mesh") {
    if (const char* o = std::getenv("TICKMESH_MESH_PORT_OFFSET"); o && *o) offset = std::atoi(o);
  } else if (preset != "compose" && preset != "k8s") {
    return absl::InvalidArgumentError(
        absl::StrCat("--targets: '", preset, "' is not mesh, compose or k8s"));
  }
  t.admin.clear();
  for (int i = 0; i < 5; ++i) {
    std::string host =
        preset == "mesh" ? "127.0.0.1"
        : preset == "compose"
            ? names[i]
            : absl::StrCat(names[i], ".", absl::GetFlag(FLAGS_k8s_namespace), ".svc.cluster.local");
    *addr[i] = absl::StrCat(host, ":", grpc_ports[i] + offset);
    t.admin[names[i]] = absl::StrCat(host, ":", admin_ports[i] + offset);
  }
  const std::pair<const char*, std::string> overrides[] = {
      {"--market_data_address", absl::GetFlag(FLAGS_market_data_address)},
      {"--signal_address", absl::GetFlag(FLAGS_signal_address)},
      {"--execution_address", absl::GetFlag(FLAGS_execution_address)},
      {"--cache_address", absl::GetFlag(FLAGS_cache_address)},
      {"--persistence_address", absl::GetFlag(FLAGS_persistence_address)}};
  for (int i = 0; i < 5; ++i) {
    if (overrides[i].second.empty()) continue;
    if (auto s = runtime::ValidateHostPort(overrides[i].first, overrides[i].second); !s.ok()) {
      return s;
    }
    *addr[i] = overrides[i].second;
  }
  for (const std::string& entry : absl::GetFlag(FLAGS_admin_addresses)) {
    if (entry == "none") {
      t.admin.clear();
      break;
    }
    std::vector<std::string> kv = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || !t.admin.count(kv[0])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--admin_addresses: '", entry, "' is not <service>=host:port for a mesh service"));
    }
    if (auto s = runtime::ValidateHostPort("--admin_addresses", kv[1]); !s.ok()) return s;
    t.admin[kv[0]] = kv[1];
  }
  t.redis_url = absl::GetFlag(FLAGS_redis_url);
  return t;
}

absl::StatusOr<ScenarioSpec> ScenarioFromFlags() {
  const std::string mode = absl::GetFlag(FLAGS_mode);
  const std::string config = absl::GetFlag(FLAGS_config);
  absl::StatusOr<ScenarioSpec> spec;
  if (mode == "custom") {
    if (config.empty()) return absl::InvalidArgumentError("--config: required with --mode custom");
    spec = LoadScenarioFile(config);
    if (!spec.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--config ", spec.status().message()));
    }
  } else {
    if (!config.empty()) {
      return absl::InvalidArgumentError("--config: only with --mode custom");
    }
    spec = BuiltinScenario(absl::GetFlag(FLAGS_scenario), mode);
    if (!spec.ok()) return spec.status();
  }
  std::vector<std::string> symbols =
      absl::StrSplit(absl::GetFlag(FLAGS_symbols), ',', absl::SkipWhitespace());
  spec = ApplyOverrides(*std::move(spec), absl::GetFlag(FLAGS_rate),
                        absl::GetFlag(FLAGS_duration_s), symbols);
  if (!spec.ok()) return spec.status();
  for (const std::string& text : absl::GetFlag(FLAGS_slo)) spec->slos.push_back(text);
  if (auto s = ValidateScenario(*spec); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--slo: ", s.message()));
  }
  return spec;
}

int RunCommand() {
  auto targets = TargetsFromFlags();
  if (!targets.ok()) return Usage(std::string(targets.status().message()));
  auto spec = ScenarioFromFlags();
  if (!spec.ok()) return Usage(std::string(spec.status().message()));
  RunInfo info;
  info.run_id = absl::StrCat("run-", runtime::NowUnixNs() / 1000000);
  info.scenario = spec->name;
  info.mode = spec->mode;
  info.config = ScenarioToJson(*spec);
  info.config["targets"] = {{"market_data", targets->market_data},
                            {"execution", targets->execution},
                            {"cache", targets->cache},
                            {"persistence", targets->persistence}};
  for (const std::string& text : spec->slos) {
    Slo slo;
    std::string error;
    ParseSlo(text, &slo, &error);  // validated by ValidateScenario
    info.slos.push_back(slo);
  }
  if (const std::string path = absl::GetFlag(FLAGS_baseline); !path.empty()) {
    auto baseline = LoadBaselineReport(path);
    if (!baseline.ok()) return Usage(absl::StrCat("--baseline: ", baseline.status().message()));
    info.baseline = *std::move(baseline);
  }
  // Ctrl-C ends the run early; the report is still written.
  std::signal(SIGINT, [](int) { g_stop.store(true); });
  std::signal(SIGTERM, [](int) { g_stop.store(true); });

  ProgressPrinter printer(stderr);
  RunOptions options;
  options.control_command = absl::GetFlag(FLAGS_control_command);
  options.stop = &g_stop;
  RunResult result = RunScenario(*spec, *targets, options, [&](const RunProgressInfo& p) {
    ProgressSnapshot s;
    s.phase = p.phase;
    s.elapsed_s = p.elapsed_s;
    s.total_s = p.total_s;
    s.target_per_s = p.target_per_s;
    s.actual_per_s = p.actual_per_s;
    s.p99_us = p.primary_p99_ns > 0 ? double(p.primary_p99_ns) / 1000.0 : -1;
    s.sent = p.sent;
    s.errors = p.errors;
    printer.Update(s);
  });
  printer.Finish();
  nlohmann::json report = BuildReportJson(info, result);
  std::printf("%s", SummaryText(report).c_str());
  if (const std::string dir = absl::GetFlag(FLAGS_report_dir); !dir.empty()) {
    if (auto s = WriteReportFiles(dir, report); !s.ok()) {
      std::fprintf(stderr, "tickmesh-loadtest: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    std::printf("  report: %s/report.json, %s/report.html\n", dir.c_str(), dir.c_str());
  }
  bool passed = report.value("passed", false);
  if (absl::GetFlag(FLAGS_fail_on_regression) && HasRegressions(report)) passed = false;
  return passed ? 0 : 1;
}

// Abseil flags are spelled with underscores; accept the documented dashed spellings too
// (--report-dir, --fail-on-regression): dashes in a flag's name become underscores.
std::vector<char*> NormalizeFlagNames(int argc, char** argv, std::vector<std::string>* storage) {
  storage->reserve(argc);
  std::vector<char*> out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (i > 0 && a.size() > 2 && a.rfind("--", 0) == 0) {
      const size_t end = std::min(a.find('='), a.size());
      for (size_t j = 2; j < end; ++j) {
        if (a[j] == '-') a[j] = '_';
      }
    }
    storage->push_back(std::move(a));
    out.push_back(storage->back().data());
  }
  return out;
}

}  // namespace

int Main(int argc, char** argv) {
  std::vector<std::string> storage;
  std::vector<char*> args_norm = NormalizeFlagNames(argc, argv, &storage);
  std::vector<std::string> args =
      runtime::InitProcess(int(args_norm.size()), args_norm.data(), "loadtest",
                           "tickmesh-loadtest run|serve [flags]: load tests the mesh");
  if (args.size() != 2 || (args[1] != "run" && args[1] != "serve")) {
    return Usage("expected exactly one subcommand: run or serve");
  }
  if (args[1] == "run") return RunCommand();

  auto targets = TargetsFromFlags();
  if (!targets.ok()) return Usage(std::string(targets.status().message()));
  runtime::ServiceHost host(runtime::ServiceHost::OptionsFromFlags("loadtest", 50056, 9106));
  RunOptions options;
  options.control_command = absl::GetFlag(FLAGS_control_command);
  LoadTestServiceImpl service(*targets, options);
  host.AddService(&service, "tickmesh.v1.LoadTestService");
  host.OnDrain([&] { service.Stop(); });
  return host.Run();
}

}  // namespace tickmesh::loadtest
