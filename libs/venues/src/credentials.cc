// LoadCredentials: env first, then a secrets file (KEY=VALUE or YAML) that only its owner may
// read. Error messages name files, variables and modes — never a key or secret.
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tickmesh/venues/orders.h"
#include "util.h"
#include "yaml-cpp/yaml.h"

namespace tickmesh::venues {
namespace {

using internal::AV;

constexpr size_t kMaxSecretsFileBytes = 64 * 1024;

std::string EnvName(Venue venue, const char* what) {
  return absl::StrCat("TICKMESH_", absl::AsciiStrToUpper(AV(VenueName(venue))), "_", what);
}

std::string Unquote(std::string value) {
  absl::string_view v = absl::StripAsciiWhitespace(value);
  if (v.size() >= 2 &&
      ((v.front() == '"' && v.back() == '"') || (v.front() == '\'' && v.back() == '\''))) {
    v = v.substr(1, v.size() - 2);
  }
  return std::string(v);
}

// True when every non-blank, non-comment line looks like NAME=VALUE with NAME in [A-Z0-9_].
bool LooksLikeEnvFile(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  bool any = false;
  while (std::getline(in, line)) {
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (l.empty() || l.front() == '#') continue;
    absl::ConsumePrefix(&l, "export ");
    const size_t eq = l.find('=');
    if (eq == absl::string_view::npos || eq == 0) return false;
    for (char c : l.substr(0, eq)) {
      if (!(absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '_')) return false;
    }
    any = true;
  }
  return any;
}

}  // namespace

absl::StatusOr<Credentials> LoadCredentials(Venue venue, const std::string& secrets_file) {
  const std::string key_var = EnvName(venue, "API_KEY");
  const std::string secret_var = EnvName(venue, "API_SECRET");
  const char* env_key = std::getenv(key_var.c_str());
  const char* env_secret = std::getenv(secret_var.c_str());
  if (env_key != nullptr && env_secret != nullptr) {
    Credentials c{env_key, env_secret};
    if (c.api_key.empty() || c.secret.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(key_var, " / ", secret_var, " are set but one of them is empty"));
    }
    return c;
  }
  if (secrets_file.empty()) {
    return absl::NotFoundError(absl::StrCat("no credentials for ", AV(VenueName(venue)), ": set ",
                                            key_var, " and ", secret_var, " or a secrets file"));
  }
  struct stat st;
  if (::stat(secrets_file.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("secrets file ", secrets_file, " not found"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("secrets file ", secrets_file, " is not a regular file"));
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return absl::PermissionDeniedError(
        absl::StrCat("secrets file ", secrets_file, " has mode ", mode,
                     "; it must not be accessible by group or others (chmod 600)"));
  }
  if (static_cast<size_t>(st.st_size) > kMaxSecretsFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat("secrets file ", secrets_file, " is too large"));
  }
  std::ifstream in(secrets_file, std::ios::binary);
  if (!in) {
    return absl::PermissionDeniedError(absl::StrCat("cannot read secrets file ", secrets_file));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();

  Credentials c;
  bool have_key = false, have_secret = false;
  if (LooksLikeEnvFile(text)) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      absl::string_view l = absl::StripAsciiWhitespace(line);
      if (l.empty() || l.front() == '#') continue;
      absl::ConsumePrefix(&l, "export ");
      const size_t eq = l.find('=');
      const absl::string_view name = l.substr(0, eq);
      std::string value = Unquote(std::string(l.substr(eq + 1)));
      if (name == key_var) {
        c.api_key = std::move(value);
        have_key = true;
      } else if (name == secret_var) {
        c.secret = std::move(value);
        have_secret = true;
      }
    }
  } else {
    try {
      const YAML::Node root = YAML::Load(text);
      if (!root.IsMap()) throw YAML::Exception(YAML::Mark::null_mark(), "not a map");
      const YAML::Node venue_node = root[std::string(VenueName(venue))];
      if (venue_node && venue_node.IsMap()) {
        if (venue_node["api_key"]) {
          c.api_key = venue_node["api_key"].as<std::string>();
          have_key = true;
        }
        const YAML::Node secret =
            venue_node["api_secret"] ? venue_node["api_secret"] : venue_node["secret"];
        if (secret) {
          c.secret = secret.as<std::string>();
          have_secret = true;
        }
      }
      if (!have_key && root[key_var]) {
        c.api_key = root[key_var].as<std::string>();
        have_key = true;
      }
      if (!have_secret && root[secret_var]) {
        c.secret = root[secret_var].as<std::string>();
        have_secret = true;
      }
    } catch (const YAML::Exception&) {
      // The parser's message may quote file content (a secret): do not pass it on.
      return absl::InvalidArgumentError(absl::StrCat("secrets file ", secrets_file,
                                                     " is neither KEY=VALUE lines nor a YAML map"));
    }
  }
  if (!have_key || !have_secret) {
    return absl::NotFoundError(absl::StrCat("secrets file ", secrets_file, " has no ",
                                            AV(VenueName(venue)), " api_key and api_secret"));
  }
  if (c.api_key.empty() || c.secret.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("secrets file ", secrets_file, " has an empty ",
                                                   AV(VenueName(venue)), " key or secret"));
  }
  return c;
}

}  // namespace tickmesh::venues
