// RestClient over cpp-httplib: a pool of keep-alive httplib::Client objects (each used by one
// thread at a time), created on demand up to max_connections.
#include "tickmesh/net/rest_client.h"

#include <httplib.h>

#include <chrono>
#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "tickmesh/net/url.h"

namespace tickmesh::net {

namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void SetTimeout(absl::Duration d, time_t* sec, time_t* usec) {
  int64_t us = absl::ToInt64Microseconds(d);
  *sec = static_cast<time_t>(us / 1000000);
  *usec = static_cast<time_t>(us % 1000000);
}

}  // namespace

class RestClient::Impl {
 public:
  Impl(const RestOptions& options, Url url) : options_(options), url_(std::move(url)) {}

  absl::StatusOr<HttpResponse> Do(const HttpRequest& request) {
    absl::StatusOr<HttpResponse> result = DoOnce(request);
    {
      absl::MutexLock l(&mu_);
      RestEndpointStats& s = stats_[request.endpoint];
      s.endpoint = request.endpoint;
      ++s.requests;
      if (!result.ok()) {
        ++s.transport_errors;
      } else {
        if (result->status >= 400) ++s.http_errors;
        s.total_latency_ns += result->latency_ns;
        s.max_latency_ns = std::max(s.max_latency_ns, result->latency_ns);
      }
    }
    if (options_.on_complete) options_.on_complete(request, result);
    return result;
  }

  std::vector<RestEndpointStats> Stats() const {
    absl::MutexLock l(&mu_);
    std::vector<RestEndpointStats> out;
    out.reserve(stats_.size());
    for (const auto& [name, s] : stats_) out.push_back(s);
    return out;
  }

 private:
  std::string Where(const HttpRequest& r) const {
    return absl::StrCat(options_.name, " ", url_.Origin(), " ",
                        r.endpoint.empty() ? std::string("request") : r.endpoint);
  }

  std::unique_ptr<httplib::Client> NewClient() const {
    auto c = std::make_unique<httplib::Client>(url_.Origin());
    time_t sec = 0, usec = 0;
    SetTimeout(options_.connect_timeout, &sec, &usec);
    c->set_connection_timeout(sec, usec);
    SetTimeout(options_.read_timeout, &sec, &usec);
    c->set_read_timeout(sec, usec);
    c->set_write_timeout(sec, usec);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);
    if (url_.tls) {
      c->enable_server_certificate_verification(options_.tls_verify);
      if (!options_.ca_file.empty()) c->set_ca_cert_path(options_.ca_file.c_str());
    }
    return c;
  }

  // Takes an idle connection, or makes one when fewer than max_connections exist; waits up to
  // read_timeout otherwise. nullptr on timeout.
  std::unique_ptr<httplib::Client> Acquire() {
    absl::MutexLock l(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.max_connections;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&available), options_.read_timeout)) {
      return nullptr;
    }
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    ++open_;
    return NewClient();
  }

  void Release(std::unique_ptr<httplib::Client> c, bool reusable) {
    absl::MutexLock l(&mu_);
    if (reusable) {
      idle_.push_back(std::move(c));
    } else {
      --open_;
    }
  }

  absl::StatusOr<HttpResponse> DoOnce(const HttpRequest& request) {
    static const char* const kMethods[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
    bool method_ok = false;
    for (const char* m : kMethods) method_ok = method_ok || request.method == m;
    if (!method_ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(request), ": unsupported HTTP method \"", request.method, "\""));
    }
    if (request.target.empty() || request.target.front() != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(request), ": target must start with '/'"));
    }
    httplib::Request req;
    req.method = request.method;
    req.path = request.target;
    for (const auto& [k, v] : options_.default_headers) req.headers.emplace(k, v);
    for (const auto& [k, v] : request.headers) req.headers.emplace(k, v);
    if (!request.content_type.empty()) req.headers.emplace("Content-Type", request.content_type);
    req.body = request.body;

    std::unique_ptr<httplib::Client> client;
    try {
      client = Acquire();
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat(Where(request), ": ", e.what()));
    }
    if (client == nullptr) {
      return absl::ResourceExhaustedError(
          absl::StrCat(Where(request), ": no free connection within ",
                       absl::FormatDuration(options_.read_timeout),
                       " (max_connections=", options_.max_connections, ")"));
    }
    const int64_t start = SteadyNs();
    httplib::Result res(nullptr, httplib::Error::Unknown);
    try {
      res = client->send(req);
    } catch (const std::exception& e) {
      Release(std::move(client), false);
      return absl::UnavailableError(absl::StrCat(Where(request), ": ", e.what()));
    }
    const int64_t elapsed = SteadyNs() - start;
    if (!res) {
      httplib::Error err = res.error();
      Release(std::move(client), false);
      std::string what = absl::StrCat(Where(request), ": ", httplib::to_string(err));
      if (err == httplib::Error::ConnectionTimeout) {
        return absl::DeadlineExceededError(what);
      }
      // httplib reports a read timeout as a plain read error; the elapsed time tells them apart.
      if ((err == httplib::Error::Read || err == httplib::Error::Write) &&
          elapsed >= absl::ToInt64Nanoseconds(options_.read_timeout) * 9 / 10) {
        return absl::DeadlineExceededError(absl::StrCat(
            what, " (no data within ", absl::FormatDuration(options_.read_timeout), ")"));
      }
      return absl::UnavailableError(what);
    }
    HttpResponse out;
    out.status = res->status;
    out.body = std::move(res->body);
    out.headers.reserve(res->headers.size());
    for (const auto& [k, v] : res->headers) out.headers.emplace_back(k, v);
    out.latency_ns = elapsed;
    bool reusable = true;
    auto conn = res->headers.find("Connection");
    if (conn != res->headers.end() && conn->second == "close") reusable = false;
    Release(std::move(client), reusable);
    return out;
  }

  const RestOptions options_;
  const Url url_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<httplib::Client>> idle_ ABSL_GUARDED_BY(mu_);
  size_t open_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, RestEndpointStats> stats_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<RestClient>> RestClient::Create(RestOptions options) {
  absl::StatusOr<Url> url = ParseUrl(options.base_url);
  if (!url.ok()) return url.status();
  if (url->scheme != "http" && url->scheme != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat("rest ", options.name, ": base_url must be http:// or https://"));
  }
  if (url->target != "/") {
    return absl::InvalidArgumentError(absl::StrCat(
        "rest ", options.name, ": base_url must not have a path (targets come with requests)"));
  }
  if (options.max_connections == 0 || options.connect_timeout <= absl::ZeroDuration() ||
      options.read_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rest ", options.name, ": max_connections and timeouts must be > 0"));
  }
  auto impl = std::make_unique<Impl>(options, *std::move(url));
  return std::unique_ptr<RestClient>(new RestClient(std::move(options), std::move(impl)));
}

RestClient::RestClient(RestOptions options, std::unique_ptr<Impl> impl)
    : options_(std::move(options)), impl_(std::move(impl)) {}

RestClient::~RestClient() = default;

absl::StatusOr<HttpResponse> RestClient::Do(const HttpRequest& request) {
  return impl_->Do(request);
}

std::vector<RestEndpointStats> RestClient::Stats() const { return impl_->Stats(); }

}  // namespace tickmesh::net
