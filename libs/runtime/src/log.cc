#include "tickmesh/runtime/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tickmesh/runtime/clock.h"

namespace tickmesh::runtime {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::string& ServiceName() {
  static std::string name = "tickmesh";
  return name;
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void AppendValue(std::string& out, std::string_view value) {
  bool quote = value.empty();
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out.append(value);
    return;
  }
  out.push_back('"');
  for (char c : value) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::mutex g_once_mu;
std::set<std::string, std::less<>>& OnceKeys() {
  static auto* keys = new std::set<std::string, std::less<>>();
  return *keys;
}

}  // namespace

LogField::LogField(std::string_view k, double v) : key(k), value(absl::StrFormat("%.6g", v)) {}

absl::StatusOr<LogLevel> ParseLogLevel(std::string_view text) {
  std::string t = absl::AsciiStrToLower(std::string(text));
  if (t == "debug") return LogLevel::kDebug;
  if (t == "info") return LogLevel::kInfo;
  if (t == "warn" || t == "warning") return LogLevel::kWarn;
  if (t == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("log level '", std::string(text), "' is not one of debug, info, warn, error"));
}

void SetLogService(std::string_view service) { ServiceName() = std::string(service); }
void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  int64_t ns = NowUnixNs();
  time_t secs = static_cast<time_t>(ns / 1000000000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char ts[32];
  strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm_utc);
  std::string line;
  line.reserve(160);
  absl::StrAppendFormat(&line, "ts=%s.%06dZ level=%s service=", ts,
                        static_cast<int>((ns / 1000) % 1000000), LevelName(level));
  AppendValue(line, ServiceName());
  line.append(" msg=");
  AppendValue(line, msg);
  for (const LogField& f : fields) {
    line.push_back(' ');
    line.append(f.key);
    line.push_back('=');
    AppendValue(line, f.value);
  }
  line.push_back('\n');
  // One write(2) per line keeps lines from different threads whole.
  ssize_t unused = ::write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

bool WarnOnce(std::string_view key, std::string_view msg, std::initializer_list<LogField> f) {
  {
    std::lock_guard<std::mutex> lock(g_once_mu);
    if (!OnceKeys().emplace(key).second) return false;
  }
  Log(LogLevel::kWarn, msg, f);
  return true;
}

void ResetWarnOnce(std::string_view key) {
  std::lock_guard<std::mutex> lock(g_once_mu);
  auto it = OnceKeys().find(key);
  if (it != OnceKeys().end()) OnceKeys().erase(it);
}

}  // namespace tickmesh::runtime
