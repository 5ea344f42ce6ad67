// Internal to the report code (report, report_html, grade, baseline): type-safe reads of a
// report.json that may come from disk (a baseline, a re-rendered report). nlohmann::json::value()
// throws on a type mismatch; these return the default instead, so malformed input never throws.
#pragma once

#include <cstdint>
#include <string>

#include "nlohmann/json.hpp"

namespace tickmesh::loadtest::report_util {

// j[key] when j is an object holding key, else a shared null.
inline const nlohmann::json& Get(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

inline double Num(const nlohmann::json& j, const char* key, double def = 0) {
  const auto& v = Get(j, key);
  return v.is_number() ? v.get<double>() : def;
}

inline uint64_t U64(const nlohmann::json& j, const char* key, uint64_t def = 0) {
  const auto& v = Get(j, key);
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) return v.get<int64_t>() < 0 ? def : uint64_t(v.get<int64_t>());
  if (v.is_number_float() && v.get<double>() >= 0 && v.get<double>() < 1.8e19) {
    return uint64_t(v.get<double>());
  }
  return def;
}

inline std::string Str(const nlohmann::json& j, const char* key, const std::string& def = "") {
  const auto& v = Get(j, key);
  return v.is_string() ? v.get<std::string>() : def;
}

inline bool Bool(const nlohmann::json& j, const char* key, bool def = false) {
  const auto& v = Get(j, key);
  return v.is_boolean() ? v.get<bool>() : def;
}

}  // namespace tickmesh::loadtest::report_util
