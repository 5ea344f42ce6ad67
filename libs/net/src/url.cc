#include "tickmesh/net/url.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tickmesh::net {

namespace {

absl::Status Bad(std::string_view url, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("url \"", std::string(url), "\": ", std::string(why)));
}

}  // namespace

absl::StatusOr<Url> ParseUrl(std::string_view url) {
  Url out;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return Bad(url, "missing scheme://");
  out.scheme = absl::AsciiStrToLower(std::string(url.substr(0, sep)));
  int default_port = 0;
  if (out.scheme == "ws" || out.scheme == "http") {
    default_port = 80;
  } else if (out.scheme == "wss" || out.scheme == "https") {
    default_port = 443;
    out.tls = true;
  } else {
    return Bad(url, "scheme must be ws, wss, http or https");
  }
  std::string_view rest = url.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos) return Bad(url, "fragments are not allowed");
  size_t path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  if (authority.find('@') != std::string_view::npos) return Bad(url, "user-info not allowed");
  std::string_view host;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Bad(url, "unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Bad(url, "garbage after IPv6 literal");
      port_text = after.substr(1);
      if (port_text.empty()) return Bad(url, "empty port");
    }
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return Bad(url, "empty port");
    } else {
      host = authority;
    }
  }
  if (host.empty()) return Bad(url, "empty host");
  out.host = std::string(host);
  out.port = default_port;
  if (!port_text.empty()) {
    int port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      return Bad(url, "port must be 1..65535");
    }
    out.port = port;
  }
  if (target.empty()) {
    out.target = std::string(1, '/');  // not = "/": GCC 12's -Wrestrict false positive there
  } else if (target.front() == '?') {
    out.target = absl::StrCat("/", std::string(target));
  } else {
    out.target = std::string(target);
  }
  return out;
}

std::string Url::HostHeader() const {
  std::string h = host.find(':') != std::string::npos ? absl::StrCat("[", host, "]") : host;
  int default_port = tls ? 443 : 80;
  if (port != default_port) absl::StrAppend(&h, ":", port);
  return h;
}

std::string Url::Origin() const {
  std::string h = host.find(':') != std::string::npos ? absl::StrCat("[", host, "]") : host;
  std::string scheme_http = tls ? "https" : "http";
  return absl::StrCat(scheme_http, "://", h, ":", port);
}

}  // namespace tickmesh::net
