// Structured logging: one logfmt line per event on stderr, e.g.
//   ts=2026-11-22T03:21:43.123456Z level=info service=market-data msg="subscriber joined" peer=ipv4:127.0.0.1:4242
// Secrets must never be passed as fields.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tickmesh::runtime {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug" | "info" | "warn" | "error".
absl::StatusOr<LogLevel> ParseLogLevel(std::string_view text);

// Process-wide settings; call once at start (before threads log).
void SetLogService(std::string_view service);
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

// One key=value pair; values are quoted when they contain spaces, quotes or '='.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
#ifndef ABSL_USES_STD_STRING_VIEW
  // Debian's Abseil has its own string_view (e.g. absl::Status::message()).
  LogField(std::string_view k, absl::string_view v) : key(k), value(v.data(), v.size()) {}
#endif
  LogField(std::string_view k, int64_t v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, uint64_t v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, int v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, unsigned v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, double v);
  LogField(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  std::string_view key;
  std::string value;
};

// Writes one line (thread-safe, a single write(2) per line).
void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});
inline void LogDebug(std::string_view msg, std::initializer_list<LogField> f = {}) {
  if (LogEnabled(LogLevel::kDebug)) Log(LogLevel::kDebug, msg, f);
}
inline void LogInfo(std::string_view msg, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kInfo, msg, f);
}
inline void LogWarn(std::string_view msg, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kWarn, msg, f);
}
inline void LogError(std::string_view msg, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kError, msg, f);
}

// Logs a warning only the first time `key` is seen in this process (degraded modes warn once and
// count in a metric instead of flooding the log). Returns true if it logged.
bool WarnOnce(std::string_view key, std::string_view msg, std::initializer_list<LogField> f = {});
// Forgets `key` so the next WarnOnce logs again (call when the degraded state ends).
void ResetWarnOnce(std::string_view key);

}  // namespace tickmesh::runtime
