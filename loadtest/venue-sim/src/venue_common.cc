#include "venue_common.h"

#include <openssl/crypto.h>

#include <chrono>
#include <ctime>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tickmesh/venues/decimal.h"

namespace tickmesh::venue_sim {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string IsoTimeUs(int64_t unix_us) {
  time_t secs = static_cast<time_t>(unix_us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                         static_cast<int>(unix_us % 1000000));
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<int>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

std::string StripParam(std::string_view raw, std::string_view name) {
  std::string out;
  size_t pos = 0;
  while (pos <= raw.size() && !raw.empty()) {
    size_t amp = raw.find('&', pos);
    std::string_view part =
        raw.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    bool drop = part.size() >= name.size() + 1 && part.substr(0, name.size()) == name &&
                part[name.size()] == '=';
    if (!drop && !part.empty()) {
      if (!out.empty()) out.push_back('&');
      out.append(part.data(), part.size());
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return out;
}

bool SecureEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Levels DiffLevels(const Levels& before, const Levels& after) {
  std::map<int64_t, int64_t> old;
  for (const auto& [p, q] : before) old[p] = q;
  Levels out;
  std::set<int64_t> seen;
  for (const auto& [p, q] : after) {
    seen.insert(p);
    auto it = old.find(p);
    if (it == old.end() || it->second != q) out.emplace_back(p, q);
  }
  for (const auto& [p, q] : before) {
    if (!seen.contains(p)) out.emplace_back(p, 0);
  }
  return out;
}

RestReply HandleFund(MatchingEngine& engine, const std::vector<Account>& accounts,
                     const RestRequest& request) {
  auto form = ParseForm(request.query);
  for (auto& kv : ParseForm(request.body)) form.push_back(std::move(kv));
  const std::string* key = FormValue(form, "api_key");
  const std::string* asset = FormValue(form, "asset");
  const std::string* amount = FormValue(form, "amount");
  if (request.method != "POST" || key == nullptr || asset == nullptr || amount == nullptr) {
    return {400, R"({"ok":false,"error":"POST /sim/fund?api_key=K&asset=A&amount=DECIMAL"})"};
  }
  bool known = false;
  for (const auto& a : accounts) known = known || a.api_key == *key;
  if (!known) return {404, R"({"ok":false,"error":"unknown api_key"})"};
  auto v = venues::ParseDecimalE8(*amount);
  if (!v.ok()) return {400, R"({"ok":false,"error":"amount is not a decimal"})"};
  engine.Fund(*key, *asset, *v);
  return {200, R"({"ok":true})"};
}

}  // namespace tickmesh::venue_sim
