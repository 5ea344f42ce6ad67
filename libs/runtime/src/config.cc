#include "tickmesh/runtime/config.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "tickmesh/runtime/log.h"

// Every service has these; the defaults of the two addresses depend on the service (ServiceHost).
ABSL_FLAG(std::string, grpc_address, "",
          "gRPC listen address host:port; empty = 0.0.0.0:<service default port>");
ABSL_FLAG(std::string, admin_address, "",
          "Admin HTTP (/metrics /healthz /readyz /status) listen address host:port; empty = "
          "0.0.0.0:<service default admin port>");
ABSL_FLAG(std::string, log_level, "info", "Minimum log level: debug, info, warn, error");
ABSL_FLAG(int, drain_timeout_ms, 3000,
          "On SIGTERM, how long streams get to drain before they are cancelled (ms, 0..60000)");

namespace tickmesh::runtime {

std::string EnvNameForFlag(std::string_view flag) {
  return absl::StrCat("TICKMESH_", absl::AsciiStrToUpper(std::string(flag)));
}

absl::StatusOr<std::vector<std::string>> ParseFlagsAndEnv(int argc, char** argv,
                                                          std::string_view usage) {
  static std::once_flag usage_once;  // Abseil aborts if the usage message is set twice.
  std::call_once(usage_once, [&] { absl::SetProgramUsageMessage(std::string(usage)); });
  // Environment first, then the command line, so a flag given explicitly wins over TICKMESH_*.
  for (auto& [name, flag] : absl::GetAllFlags()) {
    std::string env = EnvNameForFlag(std::string(name));
    const char* value = std::getenv(env.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable ", env, "='", value, "' is not a valid value for --",
                       name, ": ", error));
    }
  }
  // Unknown flags and bad values on the command line: Abseil prints an error naming the flag
  // ("Unknown command line flag 'x'", "Illegal value 'v' specified for flag 'x'") and exits 1.
  std::vector<char*> positional_raw = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> positional;
  for (char* p : positional_raw) positional.emplace_back(p);
  return positional;
}

std::vector<std::string> InitProcess(int argc, char** argv, std::string_view service,
                                     std::string_view usage) {
  // Block shutdown signals in every thread (threads inherit the mask); ServiceHost::Run waits for
  // them synchronously. SIGPIPE is ignored so a dead peer is an error code, not a crash.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Debian's Abseil runs absl::Mutex deadlock detection (a lock-order graph updated on every Lock)
  // unless told otherwise; gRPC locks absl::Mutex several times per RPC, and the graph cost ~5-10%
  // of the cache's CPU under load (perf, scripts/bench cache). Debug builds keep it.
#ifdef NDEBUG
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  SetLogService(service);
  auto positional = ParseFlagsAndEnv(argc, argv, usage);
  if (!positional.ok()) {
    std::fprintf(stderr, "tickmesh-%s: %s\n", std::string(service).c_str(),
                 std::string(positional.status().message()).c_str());
    std::exit(2);
  }
  auto level = ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) {
    std::fprintf(stderr, "tickmesh-%s: --log_level: %s\n", std::string(service).c_str(),
                 std::string(level.status().message()).c_str());
    std::exit(2);
  }
  SetLogLevel(*level);
  int drain = absl::GetFlag(FLAGS_drain_timeout_ms);
  if (drain < 0 || drain > 60000) {
    std::fprintf(stderr, "tickmesh-%s: --drain_timeout_ms must be in 0..60000, got %d\n",
                 std::string(service).c_str(), drain);
    std::exit(2);
  }
  return *positional;
}

absl::StatusOr<YAML::Node> LoadYamlFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat("config file ", path, " does not exist"));
  }
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config file ", path, ": line ",
                                                   e.mark.line + 1, ", column ",
                                                   e.mark.column + 1, ": ", e.msg));
  }
}

absl::Status ValidateHostPort(std::string_view what, std::string_view address) {
  auto bad = [&]() {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": '", std::string(address), "' is not host:port with a port in 0..65535"));
  };
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad();
  std::string_view host = address.substr(0, colon);
  if (host.front() == '[' && host.back() != ']') return bad();
  int port = 0;
  if (!absl::SimpleAtoi(std::string(address.substr(colon + 1)), &port) || port < 0 || port > 65535) {
    return bad();
  }
  return absl::OkStatus();
}

}  // namespace tickmesh::runtime
