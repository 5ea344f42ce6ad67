#include "redis_tier.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <initializer_list>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tickmesh::cache {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const {
    if (r != nullptr) freeReplyObject(r);
  }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// Decodes %XX escapes; false on a malformed escape.
bool PercentDecode(absl::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size() || !absl::ascii_isxdigit(in[i + 1]) ||
        !absl::ascii_isxdigit(in[i + 2])) {
      return false;
    }
    auto hex = [](char c) {
      return absl::ascii_isdigit(c) ? c - '0' : absl::ascii_tolower(c) - 'a' + 10;
    };
    out->push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
    i += 2;
  }
  return true;
}

timeval ToTimeval(int ms) {
  timeval tv;
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  return tv;
}

// Escapes SCAN MATCH glob metacharacters so `prefix` matches literally.
std::string GlobEscape(std::string_view prefix) {
  std::string out;
  out.reserve(prefix.size() + 1);
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('*');
  return out;
}

// RESP encoding of one command, appended to `out` (what redisAppendCommandArgv would send, but
// into one reusable buffer for a whole pipeline instead of an allocation per command).
void AppendNumber(std::string& out, size_t n) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), n);
  out.append(buf, res.ptr);
}

void AppendBulk(std::string& out, std::string_view a) {
  out.push_back('$');
  AppendNumber(out, a.size());
  out.append("\r\n");
  out.append(a.data(), a.size());
  out.append("\r\n");
}

void AppendCommand(std::string& out, std::initializer_list<std::string_view> args) {
  out.push_back('*');
  AppendNumber(out, args.size());
  out.append("\r\n");
  for (std::string_view a : args) AppendBulk(out, a);
}

// Pipelines are handed to hiredis in chunks of about this size, so the extra copy stays small
// even for 1000 values of 1 MiB.
constexpr size_t kAppendChunkBytes = size_t{1} << 20;

// Keys per MSET at most, so one command never makes Redis (single-threaded) pause for long.
constexpr size_t kMaxMsetKeys = 512;

}  // namespace

std::string RedisUrl::Redacted() const {
  std::string auth;
  if (!username.empty() || !password.empty()) {
    auth = absl::StrCat(username, password.empty() ? "" : ":***", "@");
  }
  return absl::StrCat("redis://", auth, host, ":", port, "/", db);
}

absl::StatusOr<RedisUrl> ParseRedisUrl(std::string_view url_in) {
  const absl::string_view url(url_in.data(), url_in.size());
  constexpr absl::string_view kScheme = "redis://";
  auto invalid = [](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a redis://[[user]:password@]host[:port][/db] URL: ", why));
  };
  if (url.substr(0, kScheme.size()) != kScheme) return invalid("must start with redis://");
  absl::string_view rest = url.substr(kScheme.size());
  RedisUrl out;
  if (size_t at = rest.rfind('@'); at != absl::string_view::npos) {
    absl::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = userinfo.find(':');
    absl::string_view user = userinfo.substr(0, colon);
    absl::string_view pass =
        colon == absl::string_view::npos ? absl::string_view() : userinfo.substr(colon + 1);
    if (colon == absl::string_view::npos) {
      // "redis://secret@host" is the common shorthand for a password without a user.
      pass = user;
      user = {};
    }
    if (!PercentDecode(user, &out.username) || !PercentDecode(pass, &out.password)) {
      return invalid("bad percent escape in user info");
    }
  }
  absl::string_view hostport = rest;
  if (size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    hostport = rest.substr(0, slash);
    absl::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      if (!absl::SimpleAtoi(db, &out.db) || out.db < 0 || out.db > 65535) {
        return invalid(absl::StrCat("bad database number '", db, "'"));
      }
    }
  }
  absl::string_view host = hostport;
  if (!hostport.empty() && hostport.front() == '[') {  // [ipv6]:port
    size_t close = hostport.find(']');
    if (close == absl::string_view::npos) return invalid("unterminated [ in host");
    host = hostport.substr(1, close - 1);
    absl::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid("junk after ]");
      if (!absl::SimpleAtoi(after.substr(1), &out.port)) return invalid("bad port");
    }
  } else if (size_t colon = hostport.rfind(':'); colon != absl::string_view::npos) {
    host = hostport.substr(0, colon);
    if (!absl::SimpleAtoi(hostport.substr(colon + 1), &out.port)) {
      return invalid(absl::StrCat("bad port '", hostport.substr(colon + 1), "'"));
    }
  }
  if (host.empty()) return invalid("empty host");
  for (char c : host) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && c != '_' && c != ':') {
      return invalid(absl::StrCat("bad character in host '", host, "'"));
    }
  }
  if (out.port < 1 || out.port > 65535) return invalid("port must be 1..65535");
  out.host = std::string(host);
  return out;
}

RedisConnection::RedisConnection(RedisUrl url, int timeout_ms)
    : url_(std::move(url)), timeout_ms_(timeout_ms > 0 ? timeout_ms : 1) {}

RedisConnection::~RedisConnection() { Disconnect(); }

void RedisConnection::Disconnect() {
  if (ctx_ != nullptr) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
}

absl::Status RedisConnection::IoError(std::string_view what_in) {
  const absl::string_view what(what_in.data(), what_in.size());
  std::string detail = ctx_ != nullptr ? std::string(ctx_->errstr) : "no context";
  const bool timeout = ctx_ != nullptr && ctx_->err == REDIS_ERR_IO &&
                       (errno == EAGAIN || errno == EWOULDBLOCK || errno == ETIMEDOUT);
  last_error_timeout_ = timeout;
  Disconnect();
  return absl::UnavailableError(absl::StrCat("redis ", what, " ", url_.host, ":", url_.port, ": ",
                                             timeout ? "timeout" : detail));
}

absl::Status RedisConnection::EnsureConnected() {
  if (ctx_ != nullptr) return absl::OkStatus();
  const timeval tv = ToTimeval(timeout_ms_);
  ctx_ = redisConnectWithTimeout(url_.host.c_str(), url_.port, tv);
  if (ctx_ == nullptr) return absl::UnavailableError("redis connect: out of memory");
  if (ctx_->err != 0) return IoError("connect");
  if (redisSetTimeout(ctx_, tv) != REDIS_OK) return IoError("set timeout");
  redisEnableKeepAlive(ctx_);
  auto simple = [this](std::vector<std::string> args) -> absl::Status {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    ReplyPtr reply(static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data())));
    if (reply == nullptr) return IoError(args[0]);
    if (reply->type == REDIS_REPLY_ERROR) {
      // Never echo credentials: the reply text is Redis's, the command is named only.
      std::string err(reply->str, reply->len);
      Disconnect();
      return absl::UnavailableError(absl::StrCat("redis ", args[0], " refused: ", err));
    }
    return absl::OkStatus();
  };
  if (!url_.password.empty()) {
    absl::Status s = url_.username.empty() ? simple({"AUTH", url_.password})
                                           : simple({"AUTH", url_.username, url_.password});
    if (!s.ok()) return s;
  }
  if (url_.db != 0) {
    absl::Status s = simple({"SELECT", std::to_string(url_.db)});
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status RedisConnection::Flush() {
  if (out_.empty()) return absl::OkStatus();
  const int rc = redisAppendFormattedCommand(ctx_, out_.data(), out_.size());
  out_.clear();
  if (rc != REDIS_OK) return IoError("append");
  return absl::OkStatus();
}

absl::Status RedisConnection::ReadReply(void** reply) {
  if (redisGetReply(ctx_, reply) != REDIS_OK) return IoError("read");
  return absl::OkStatus();
}

template <typename Fn>
absl::Status RedisConnection::Retrying(Fn&& fn) {
  const bool reused = ctx_ != nullptr;
  last_error_timeout_ = false;
  absl::Status s = fn();
  if (!s.ok() && reused && ctx_ == nullptr && !last_error_timeout_ && absl::IsUnavailable(s)) {
    s = fn();
  }
  return s;
}

absl::Status RedisConnection::Ping() {
  return Retrying([&] { return PingOnce(); });
}

absl::Status RedisConnection::MGet(const std::vector<std::string_view>& keys,
                                   std::vector<std::optional<RedisValue>>* out) {
  return Retrying([&] { return MGetOnce(keys, out); });
}

absl::Status RedisConnection::Write(const std::vector<RedisWrite>& writes,
                                    std::vector<bool>* deleted) {
  return Retrying([&] { return WriteOnce(writes, deleted); });
}

absl::StatusOr<std::vector<std::string>> RedisConnection::ScanPrefix(std::string_view prefix,
                                                                     size_t max_keys) {
  std::vector<std::string> keys;
  absl::Status s = Retrying([&] {
    keys.clear();
    return ScanPrefixOnce(prefix, max_keys, &keys);
  });
  if (!s.ok()) return s;
  return keys;
}

absl::Status RedisConnection::PingOnce() {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  ReplyPtr reply(static_cast<redisReply*>(redisCommand(ctx_, "PING")));
  if (reply == nullptr) return IoError("PING");
  if (reply->type != REDIS_REPLY_STATUS) {
    std::string what = reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len)
                                                        : "unexpected reply type";
    Disconnect();
    return absl::UnavailableError(absl::StrCat("redis PING: ", what));
  }
  return absl::OkStatus();
}

absl::Status RedisConnection::MGetOnce(const std::vector<std::string_view>& keys,
                                       std::vector<std::optional<RedisValue>>* out) {
  out->assign(keys.size(), std::nullopt);
  if (keys.empty()) return absl::OkStatus();
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  out_.clear();
  for (std::string_view key : keys) {
    AppendCommand(out_, {"GET", key});
    AppendCommand(out_, {"PTTL", key});
    if (out_.size() >= kAppendChunkBytes) {
      if (absl::Status st = Flush(); !st.ok()) return st;
    }
  }
  if (absl::Status st = Flush(); !st.ok()) return st;
  for (size_t i = 0; i < keys.size(); ++i) {
    void* raw = nullptr;
    if (absl::Status s = ReadReply(&raw); !s.ok()) return s;
    ReplyPtr value(static_cast<redisReply*>(raw));
    raw = nullptr;
    if (absl::Status s = ReadReply(&raw); !s.ok()) return s;
    ReplyPtr ttl(static_cast<redisReply*>(raw));
    if (value->type == REDIS_REPLY_ERROR) {
      // e.g. WRONGTYPE: a key of another type is not a cache value; report it as missing.
      continue;
    }
    if (value->type != REDIS_REPLY_STRING || ttl->type != REDIS_REPLY_INTEGER) continue;
    // PTTL -2 (vanished between the two commands) or 0 (expiring now) = missing.
    if (ttl->integer == -2 || ttl->integer == 0) continue;
    (*out)[i] =
        RedisValue{std::string(value->str, value->len), ttl->integer < 0 ? -1 : ttl->integer};
  }
  return absl::OkStatus();
}

absl::Status RedisConnection::WriteOnce(const std::vector<RedisWrite>& writes,
                                        std::vector<bool>* deleted) {
  if (deleted != nullptr) deleted->assign(writes.size(), false);
  if (writes.empty()) return absl::OkStatus();
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  out_.clear();
  // Commands sent, each as the index of its first write; a run of SETs without TTL is one MSET
  // (Redis spends most of a SET's CPU on the command, not the key: one command per run is what
  // makes a batch of writes cost about what redis-benchmark -P pays per SET, or less).
  cmd_first_.clear();
  char ttl[24];
  for (size_t i = 0; i < writes.size();) {
    const RedisWrite& w = writes[i];
    cmd_first_.push_back(i);
    size_t run = 0;
    if (w.value != nullptr && w.ttl_ms <= 0) {
      while (i + run < writes.size() && run < kMaxMsetKeys && writes[i + run].value != nullptr &&
             writes[i + run].ttl_ms <= 0) {
        ++run;
      }
    }
    if (run >= 2) {
      out_.push_back('*');
      AppendNumber(out_, 1 + 2 * run);
      out_.append("\r\n$4\r\nMSET\r\n");
      for (size_t j = i; j < i + run; ++j) {
        AppendBulk(out_, writes[j].key);
        AppendBulk(out_, *writes[j].value);
      }
      i += run;
    } else {
      if (w.value == nullptr) {
        AppendCommand(out_, {"DEL", w.key});
      } else if (w.ttl_ms > 0) {
        auto res = std::to_chars(ttl, ttl + sizeof(ttl), w.ttl_ms);
        AppendCommand(out_, {"SET", w.key, *w.value, "PX", std::string_view(ttl, res.ptr - ttl)});
      } else {
        AppendCommand(out_, {"SET", w.key, *w.value});
      }
      ++i;
    }
    if (out_.size() >= kAppendChunkBytes) {
      if (absl::Status st = Flush(); !st.ok()) return st;
    }
  }
  if (absl::Status st = Flush(); !st.ok()) return st;
  std::string error;
  for (size_t first : cmd_first_) {
    void* raw = nullptr;
    if (absl::Status s = ReadReply(&raw); !s.ok()) return s;
    ReplyPtr reply(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ERROR) {
      if (error.empty()) error.assign(reply->str, reply->len);
    } else if (deleted != nullptr && reply->type == REDIS_REPLY_INTEGER) {
      (*deleted)[first] = reply->integer > 0;
    }
  }
  // An error reply to a SET/DEL (OOM, READONLY replica, ...) means Redis did not take the write:
  // the caller treats the whole pipeline as failed and keeps the writes for replay.
  if (!error.empty()) return absl::InternalError(absl::StrCat("redis write refused: ", error));
  return absl::OkStatus();
}

absl::Status RedisConnection::ScanPrefixOnce(std::string_view prefix, size_t max_keys,
                                             std::vector<std::string>* out) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  const std::string pattern = GlobEscape(prefix);
  std::vector<std::string>& keys = *out;
  std::string cursor = "0";
  do {
    const char* argv[6] = {"SCAN", cursor.data(), "MATCH", pattern.data(), "COUNT", "1000"};
    size_t len[6] = {4, cursor.size(), 5, pattern.size(), 5, 4};
    ReplyPtr reply(static_cast<redisReply*>(redisCommandArgv(ctx_, 6, argv, len)));
    if (reply == nullptr) return IoError("SCAN");
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[1]->type != REDIS_REPLY_ARRAY) {
      return absl::InternalError("redis SCAN: unexpected reply");
    }
    cursor.assign(reply->element[0]->str, reply->element[0]->len);
    const redisReply* batch = reply->element[1];
    for (size_t i = 0; i < batch->elements && keys.size() < max_keys; ++i) {
      keys.emplace_back(batch->element[i]->str, batch->element[i]->len);
    }
  } while (cursor != "0" && keys.size() < max_keys);
  return absl::OkStatus();
}

}  // namespace tickmesh::cache
