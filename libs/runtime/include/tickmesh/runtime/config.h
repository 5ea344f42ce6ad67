// Start-up configuration: Abseil flags with TICKMESH_* environment fallbacks, and YAML files for
// structured config. Invalid configuration fails start-up with a message that names the flag,
// variable or key.
//
// Example:
//   ABSL_FLAG(std::string, redis_url, "", "redis://host:port/db; empty = L1 only");
//   int main(int argc, char** argv) {
//     tickmesh::runtime::InitProcess(argc, argv, "cache", "Usage: tickmesh-cache [flags]");
//     ...
//   }
// TICKMESH_REDIS_URL=redis://127.0.0.1:6379 sets --redis_url unless it is on the command line.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "yaml-cpp/yaml.h"

namespace tickmesh::runtime {

// Name of the environment variable that backs a flag: "redis_url" -> "TICKMESH_REDIS_URL".
std::string EnvNameForFlag(std::string_view flag);

// Parses the command line (unknown flags are an error), then for every flag not given on the
// command line applies TICKMESH_<FLAG> from the environment. Returns positional arguments
// (argv[0] first). On error returns INVALID_ARGUMENT naming the flag or variable.
absl::StatusOr<std::vector<std::string>> ParseFlagsAndEnv(int argc, char** argv,
                                                          std::string_view usage);

// Everything a service main does first: blocks SIGTERM/SIGINT/SIGPIPE for all threads (the host
// waits for them synchronously), parses flags and environment, sets the log service name and
// level (--log_level). Prints the error and exits 2 on bad flags. Returns positional args.
std::vector<std::string> InitProcess(int argc, char** argv, std::string_view service,
                                     std::string_view usage);

// Loads a YAML file. INVALID_ARGUMENT with the path and the parser's line/column on error;
// NOT_FOUND if the file does not exist.
absl::StatusOr<YAML::Node> LoadYamlFile(const std::string& path);

// Returns INVALID_ARGUMENT "<what>: <address> is not host:port" unless `address` is host:port
// with a port in 0..65535 (0 = pick a free port).
absl::Status ValidateHostPort(std::string_view what, std::string_view address);

}  // namespace tickmesh::runtime
