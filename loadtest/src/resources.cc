#include "resources.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "tickmesh/runtime/clock.h"

namespace tickmesh::loadtest {
namespace {

// Decimal integer (optional leading '-'), the whole of `s`. (absl::string_view is not
// std::string_view in this Abseil build, so the absl helpers are not used on string_views.)
template <typename Int>
bool ParseInt(std::string_view s, Int* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

void SkipSpaces(std::string_view s, size_t* i) {
  while (*i < s.size() && (s[*i] == ' ' || s[*i] == '\t')) ++*i;
}

// A Prometheus float: decimal/exponent notation, NaN, +Inf, -Inf (also Inf).
bool ParseValue(std::string_view token, double* out) {
  if (token == "NaN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (token == "+Inf" || token == "Inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (token == "-Inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (token.empty()) return false;
  std::string_view digits = token;
  if (digits.front() == '+') digits.remove_prefix(1);
  if (digits.empty() || !(std::isdigit(static_cast<unsigned char>(digits.front())) ||
                          digits.front() == '-' || digits.front() == '.')) {
    return false;  // rejects words like "nan", "inf", "abc" that from_chars would accept
  }
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *out);
  return ec == std::errc() && end == digits.data() + digits.size();
}

// Parses one non-comment line; false when malformed.
bool ParseLine(std::string_view line, PromSample* out) {
  size_t i = 0;
  SkipSpaces(line, &i);
  if (i >= line.size() || !IsNameStart(line[i])) return false;
  size_t start = i;
  while (i < line.size() && IsNameChar(line[i])) ++i;
  out->name.assign(line.substr(start, i - start));
  SkipSpaces(line, &i);
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (true) {
      SkipSpaces(line, &i);
      if (i >= line.size()) return false;
      if (line[i] == '}') {
        ++i;
        break;
      }
      if (!IsNameStart(line[i]) || line[i] == ':') return false;
      size_t ls = i;
      while (i < line.size() && IsNameChar(line[i]) && line[i] != ':') ++i;
      std::string key(line.substr(ls, i - ls));
      SkipSpaces(line, &i);
      if (i >= line.size() || line[i] != '=') return false;
      ++i;
      SkipSpaces(line, &i);
      if (i >= line.size() || line[i] != '"') return false;
      ++i;
      std::string value;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i >= line.size()) return false;
          char e = line[i++];
          if (e == 'n') {
            value.push_back('\n');
          } else if (e == '\\' || e == '"') {
            value.push_back(e);
          } else {
            return false;
          }
        } else {
          value.push_back(c);
        }
      }
      if (!closed) return false;
      out->labels[key] = std::move(value);
      SkipSpaces(line, &i);
      if (i < line.size() && line[i] == ',')
        ++i;
      else if (i < line.size() && line[i] != '}')
        return false;
    }
  }
  SkipSpaces(line, &i);
  size_t vs = i;
  while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
  if (!ParseValue(line.substr(vs, i - vs), &out->value)) return false;
  SkipSpaces(line, &i);
  if (i < line.size()) {  // optional integer timestamp (ms), then nothing
    size_t ts = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    int64_t ms;
    if (!ParseInt(line.substr(ts, i - ts), &ms)) return false;
    SkipSpaces(line, &i);
    if (i < line.size()) return false;
  }
  return true;
}

struct ParsedUrl {
  std::string host;
  int port = 80;
};

absl::Status ParseAdminUrl(const std::string& service, const std::string& url, ParsedUrl* out) {
  auto bad = [&](const char* why) {
    return absl::InvalidArgumentError(absl::StrCat("resources: admin URL of ", service, " '", url,
                                                   "': ", why, " (expected http://host:port)"));
  };
  std::string_view rest = url;
  if (rest.substr(0, 7) != "http://") return bad("only http:// is supported");
  rest.remove_prefix(7);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return bad("must not have a path");
  std::string_view host = rest;
  bool ipv6 = false;
  if (!rest.empty() && rest.front() == '[') {  // [::1]:9101
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("unterminated [ipv6] host");
    host = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':') return bad("junk after ]");
    ipv6 = true;
  }
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos) {
    if (!ipv6) host = rest.substr(0, colon);
    int port = 0;
    if (!ParseInt(rest.substr(colon + 1), &port) || port < 1 || port > 65535) {
      return bad("bad port");
    }
    out->port = port;
  }
  if (host.empty()) return bad("no host");
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
          (ipv6 && c == ':'))) {
      return bad("bad host");
    }
  }
  out->host = std::string(host);
  return absl::OkStatus();
}

}  // namespace

PromParseResult ParsePrometheusText(std::string_view text) {
  PromParseResult result;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    PromSample sample;
    if (ParseLine(line, &sample)) {
      result.samples.push_back(std::move(sample));
    } else {
      ++result.malformed_lines;
    }
  }
  return result;
}

bool IsQueueGauge(std::string_view name) {
  for (std::string_view suffix :
       {"_queue_depth", "_depth", "_backlog", "_queued_records", "_queued", "_spool_entries"}) {
    if (EndsWith(name, suffix)) return true;
  }
  return false;
}

std::string RetentionGaugeBase(std::string_view name, bool* is_limit) {
  for (auto [suffix, limit] : {std::pair<std::string_view, bool>{"_retention_limit", true},
                               std::pair<std::string_view, bool>{"_retained", false}}) {
    if (name.size() > suffix.size() && EndsWith(name, suffix)) {
      *is_limit = limit;
      return std::string(name.substr(0, name.size() - suffix.size()));
    }
  }
  return "";
}

ResourceSample ToResourceSample(const PromParseResult& parsed, double t_s) {
  ResourceSample s;
  s.t_s = t_s;
  for (const PromSample& p : parsed.samples) {
    bool is_limit = false;
    if (p.name == "process_resident_memory_bytes") {
      s.rss_bytes = p.value;
    } else if (p.name == "process_cpu_seconds_total") {
      s.cpu_seconds = p.value;
    } else if (IsQueueGauge(p.name) && std::isfinite(p.value)) {
      s.gauges[p.name] += p.value;
    } else if (std::string base = RetentionGaugeBase(p.name, &is_limit);
               !base.empty() && std::isfinite(p.value)) {
      (is_limit ? s.retention_limit : s.retained)[base] += p.value;
    }
  }
  return s;
}

double WarmupSeconds(double span_s) { return std::min(10.0, 0.25 * std::max(0.0, span_s)); }

double MinGrowthWindowSeconds(double span_s) { return std::min(10.0, 0.2 * std::max(0.0, span_s)); }

double LeastSquaresSlope(const std::vector<double>& xs, const std::vector<double>& ys) {
  const size_t n = std::min(xs.size(), ys.size());
  if (n < 2) return 0;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= double(n);
  my /= double(n);
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) * (xs[i] - mx);
  }
  return sxx > 0 ? sxy / sxx : 0;
}

MemoryGrowth AnalyzeMemoryGrowth(const std::vector<ResourceSample>& samples) {
  MemoryGrowth g;
  if (samples.empty()) return g;
  const double t0 = samples.front().t_s;
  const double warmup = WarmupSeconds(samples.back().t_s - t0);
  auto good_rss = [](const ResourceSample& s) {
    return s.rss_bytes > 0 && std::isfinite(s.rss_bytes);
  };
  double from = warmup;
  // Every retention structure any sample reported a cap for.
  std::map<std::string, bool> bases;
  for (const auto& s : samples) {
    for (const auto& [base, limit] : s.retention_limit) {
      if (limit > 0) bases[base] = true;
    }
  }
  for (const auto& [base, unused] : bases) {
    RetentionState r;
    std::vector<double> ts, counts;  // after the warm-up
    std::vector<double> items, rss;
    for (const auto& s : samples) {
      auto it = s.retained.find(base);
      auto lim = s.retention_limit.find(base);
      if (it == s.retained.end()) continue;
      if (lim != s.retention_limit.end() && lim->second > 0) r.limit = lim->second;
      r.retained_last = it->second;
      const double t = s.t_s - t0;
      if (r.full_at_s < 0 && r.limit > 0 && it->second >= kRetentionFullRatio * r.limit) {
        r.full_at_s = t;
      }
      if (t < warmup) continue;
      ts.push_back(t);
      counts.push_back(it->second);
      // Bytes per item while filling: up to (and including) the first full sample.
      if ((r.full_at_s < 0 || r.full_at_s == t) && good_rss(s)) {
        items.push_back(it->second);
        rss.push_back(s.rss_bytes);
      }
    }
    if (r.full_at_s >= 0) {
      from = std::max(from, r.full_at_s);
    } else if (ts.size() >= 2) {
      const double rise = LeastSquaresSlope(ts, counts) * (ts.back() - ts.front());
      const double peak = *std::max_element(counts.begin(), counts.end());
      r.filling = rise >= 1 && rise >= kRetentionFillingShare * peak;
    }
    if (items.size() >= 3) r.bytes_per_item = std::max(0.0, LeastSquaresSlope(items, rss));
    if (r.filling) {
      double last_rss = 0;
      for (const auto& s : samples) {
        if (good_rss(s)) last_rss = s.rss_bytes;
      }
      r.projected_rss_at_limit_bytes =
          last_rss + r.bytes_per_item * std::max(0.0, r.limit - r.retained_last);
    }
    g.retention[base] = r;
  }
  // A structure still filling leaves the plain post-warm-up window (it measures the fill).
  if (g.filling()) from = warmup;
  g.from_s = from;
  std::vector<double> xs, ys;
  for (const auto& s : samples) {
    if (s.t_s - t0 < from || !good_rss(s)) continue;
    xs.push_back(s.t_s);
    ys.push_back(s.rss_bytes);
  }
  g.samples = int(xs.size());
  if (!xs.empty()) g.window_s = xs.back() - xs.front();
  if (xs.size() >= 3) g.mb_per_min = LeastSquaresSlope(xs, ys) * 60.0 / 1e6;
  return g;
}

double MemoryGrowthMbPerMin(const std::vector<ResourceSample>& samples) {
  return AnalyzeMemoryGrowth(samples).mb_per_min;
}

double AverageCpuCores(const std::vector<ResourceSample>& samples) {
  if (samples.size() < 2) return 0;
  double used = 0;
  for (size_t i = 1; i < samples.size(); ++i) {
    const double prev = samples[i - 1].cpu_seconds, cur = samples[i].cpu_seconds;
    used += cur >= prev ? cur - prev : cur;  // a decrease is a restart: count from zero
  }
  const double wall = samples.back().t_s - samples.front().t_s;
  return wall > 0 ? used / wall : 0;
}

void SummarizeResources(ServiceResources* res) {
  res->rss_max_bytes = 0;
  for (const auto& s : res->samples) {
    if (std::isfinite(s.rss_bytes)) res->rss_max_bytes = std::max(res->rss_max_bytes, s.rss_bytes);
  }
  res->cpu_avg_cores = AverageCpuCores(res->samples);
  const MemoryGrowth g = AnalyzeMemoryGrowth(res->samples);
  res->mem_growth_mb_per_min = g.mb_per_min;
  res->growth_from_s = g.from_s;
  res->growth_window_s = g.window_s;
  res->growth_samples = g.samples;
  res->retention = g.retention;
}

ResourceSampler::ResourceSampler(std::map<std::string, std::string> targets)
    : ResourceSampler(std::move(targets), Options{}) {}

ResourceSampler::ResourceSampler(std::map<std::string, std::string> targets, Options options)
    : urls_(std::move(targets)), options_(options) {}

ResourceSampler::~ResourceSampler() { Finish(); }

absl::Status ResourceSampler::Start() {
  if (started_) return absl::FailedPreconditionError("resources: sampler already started");
  std::map<std::string, Target> parsed;
  for (const auto& [service, url] : urls_) {
    ParsedUrl u;
    if (absl::Status s = ParseAdminUrl(service, url, &u); !s.ok()) return s;
    parsed[service] = {u.host, u.port};
  }
  targets_ = std::move(parsed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [service, url] : urls_) data_[service].admin_url = url;
  }
  started_ns_ = runtime::NowUnixNs();
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void ResourceSampler::Loop() {
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(0.01, options_.interval_s)));
  auto next = Clock::now();
  while (true) {
    ScrapeOnce();
    next += interval;
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_until(lock, next, [this] { return stopping_; })) return;
  }
}

void ResourceSampler::ScrapeOnce() {
  if (started_ns_ == 0) started_ns_ = runtime::NowUnixNs();
  auto secs = [](double s) {
    return std::pair<time_t, time_t>(time_t(s), time_t((s - time_t(s)) * 1e6));
  };
  const auto [to_s, to_us] = secs(std::max(0.001, options_.timeout_s));
  for (const auto& [service, url] : urls_) {
    auto it = targets_.find(service);
    Target target;
    if (it != targets_.end()) {
      target = it->second;
    } else {
      ParsedUrl u;
      if (!ParseAdminUrl(service, url, &u).ok()) continue;
      target = {u.host, u.port};
    }
    httplib::Client client(target.host, target.port);
    client.set_connection_timeout(to_s, to_us);
    client.set_read_timeout(to_s, to_us);
    client.set_write_timeout(to_s, to_us);
    auto res = client.Get("/metrics");
    const double t_s = double(runtime::NowUnixNs() - started_ns_) / 1e9;
    std::string failure;
    ResourceSample sample;
    if (!res) {
      failure = absl::StrCat("GET ", url, "/metrics: ", httplib::to_string(res.error()));
    } else if (res->status != 200) {
      failure = absl::StrCat("GET ", url, "/metrics: HTTP ", res->status);
    } else {
      PromParseResult parsed = ParsePrometheusText(res->body);
      sample = ToResourceSample(parsed, t_s);
      if (sample.rss_bytes <= 0) {
        failure = absl::StrCat(url, "/metrics has no process_resident_memory_bytes");
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    ServiceResources& data = data_[service];
    data.admin_url = url;
    if (!failure.empty()) {
      ++failures_[service];
      last_failure_[service] = failure;
    }
    if (res && res->status == 200 && data.samples.size() < options_.max_samples) {
      data.samples.push_back(std::move(sample));
    }
  }
}

std::map<std::string, ServiceResources> ResourceSampler::Finish() {
  if (started_ && !finished_) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    finished_ = true;
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, ServiceResources> out = data_;
  for (auto& [service, res] : out) {
    SummarizeResources(&res);
    auto f = failures_.find(service);
    if (f != failures_.end() && f->second > 0) {
      res.error = absl::StrCat(f->second, " scrape(s) failed; last: ", last_failure_[service]);
    }
  }
  return out;
}

}  // namespace tickmesh::loadtest
