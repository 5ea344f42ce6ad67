#include "fault.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/grpcpp.h"
#include "hiredis/hiredis.h"
#include "tickmesh/runtime/client.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/v1/persistence.grpc.pb.h"

namespace tickmesh::loadtest {

using runtime::NowUnixNs;

absl::StatusOr<std::string> RunControlCommand(const std::string& command, double timeout_s) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  const int64_t deadline = NowUnixNs() + int64_t(timeout_s * 1e9);
  int status = 0;
  bool exited = false, timed_out = false;
  while (true) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      char buf[4096];
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n > 0) {
        out.append(buf, size_t(n));
        if (out.size() > 2048) out.erase(0, out.size() - 2048);
      }
    }
    // Background processes the command starts may keep the pipe open: finish when the command
    // itself has exited, not at EOF.
    if (waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    if (NowUnixNs() > deadline) {
      timed_out = true;
      kill(pid, SIGKILL);  // only the command itself, never what it started
      waitpid(pid, &status, 0);
      break;
    }
  }
  close(fds[0]);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  if (timed_out) {
    return absl::InternalError(
        absl::StrCat("`", command, "` did not finish within ", timeout_s, " s: ", out));
  }
  if (exited && WIFEXITED(status) && WEXITSTATUS(status) == 0) return out;
  return absl::InternalError(absl::StrCat("`", command, "` exited ",
                                          WIFEXITED(status) ? WEXITSTATUS(status) : -1, ": ", out));
}

FaultInjector::FaultInjector(FaultSpec spec, std::string control, int64_t start_unix_ns,
                             const std::atomic<bool>* stop)
    : spec_(std::move(spec)),
      control_(std::move(control)),
      start_unix_ns_(start_unix_ns),
      stop_(stop) {}

FaultInjector::~FaultInjector() { Join(); }

void FaultInjector::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void FaultInjector::Join() {
  if (thread_.joinable()) thread_.join();
}

std::vector<FaultStep> FaultInjector::steps() const {
  std::lock_guard<std::mutex> lock(mu_);
  return steps_;
}

void FaultInjector::Record(FaultStep step) {
  runtime::LogInfo(
      "fault step",
      {{"action", step.action}, {"ok", step.ok ? "true" : "false"}, {"detail", step.detail}});
  std::lock_guard<std::mutex> lock(mu_);
  steps_.push_back(std::move(step));
}

void FaultInjector::Loop() {
  auto stopped = [&] { return stop_ && stop_->load(); };
  auto sleep_until = [&](int64_t t) {
    while (NowUnixNs() < t && !stopped())
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  };
  for (const FaultStepSpec& step : spec_.steps) {
    sleep_until(start_unix_ns_ + int64_t(step.at_s * 1e9));
    if (stopped()) break;
    auto at = [&] { return double(NowUnixNs() - start_unix_ns_) / 1e9; };
    FaultStep kill{absl::StrCat("kill ", step.component), at(), false, ""};
    auto killed = RunControlCommand(absl::StrCat(control_, " kill ", step.component), 30);
    kill.ok = killed.ok();
    kill.detail = killed.ok() ? *killed : std::string(killed.status().message());
    Record(kill);
    // Restart even when stopping early or when the kill reported an error (it may have half
    // worked): the mesh must not be left down.
    const int64_t up_at = NowUnixNs() + int64_t(step.down_s * 1e9);
    sleep_until(up_at);
    FaultStep start{absl::StrCat("restart ", step.component), at(), false, ""};
    auto started = RunControlCommand(absl::StrCat(control_, " start ", step.component), 60);
    start.ok = started.ok();
    start.detail = started.ok() ? *started : std::string(started.status().message());
    Record(start);
  }
}

IntegrityCheck CheckFillsDurableOnce(const std::string& persistence_address,
                                     const AckLedger& ledger, int64_t since_unix_ns,
                                     int64_t deadline_unix_ns) {
  IntegrityCheck check;
  check.name = "fills_durable_once";
  check.expected = ledger.fills.size();
  auto stub = tickmesh::v1::PersistenceService::NewStub(runtime::MakeChannel(persistence_address));
  std::set<std::string> symbols(ledger.fill_symbols.begin(), ledger.fill_symbols.end());
  while (true) {
    std::map<std::string, int> stored;  // fill_id -> rows
    std::string error;
    for (const std::string& symbol : symbols) {
      std::string token;
      do {
        tickmesh::v1::QueryFillsRequest req;
        req.set_venue("loadtest");
        req.set_symbol(symbol);
        req.mutable_time()->set_from_unix_ns(since_unix_ns);
        req.mutable_page()->set_limit(10000);
        req.mutable_page()->set_page_token(token);
        tickmesh::v1::QueryFillsResponse resp;
        grpc::ClientContext ctx;
        ctx.set_deadline(runtime::DeadlineIn(absl::Seconds(10)));
        grpc::Status st = stub->QueryFills(&ctx, req, &resp);
        if (!st.ok()) {
          error = absl::StrCat("QueryFills: ", st.error_message());
          break;
        }
        for (const auto& f : resp.fills()) ++stored[f.fill_id()];
        token = resp.next_page_token();
      } while (!token.empty());
      if (!error.empty()) break;
    }
    check.found = check.missing = check.duplicated = 0;
    std::vector<std::string> missing_ids;
    for (const auto& [id, seen] : ledger.fills) {
      auto it = stored.find(id);
      if (it == stored.end()) {
        ++check.missing;
        if (missing_ids.size() < 5) missing_ids.push_back(id);
        continue;
      }
      ++check.found;
      if (it->second > 1) ++check.duplicated;
    }
    check.passed =
        error.empty() && check.missing == 0 && check.duplicated == 0 && check.expected > 0;
    if (!error.empty()) {
      check.detail = error;
    } else if (check.expected == 0) {
      check.detail = "no fills were acknowledged during the run: nothing to verify";
    } else if (check.missing > 0) {
      check.detail = absl::StrCat("missing fill ids, e.g. ", absl::StrJoin(missing_ids, ", "));
    } else if (check.duplicated > 0) {
      check.detail = "some fill ids are stored more than once";
    } else {
      check.detail = absl::StrCat("all ", check.expected, " acknowledged fills stored once");
    }
    // Duplicates or nothing to check will not improve by waiting; missing fills may (outbox).
    if (check.passed || check.expected == 0 || check.duplicated > 0 ||
        NowUnixNs() >= deadline_unix_ns) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return check;
}

absl::StatusOr<RedisAddress> ParseRedisUrl(const std::string& url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.rfind(kScheme, 0) != 0) {
    return absl::InvalidArgumentError("redis url: must start with redis://");
  }
  std::string rest = url.substr(kScheme.size());
  RedisAddress a;
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    std::string cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (auto colon = cred.find(':'); colon != std::string::npos) {
      a.user = cred.substr(0, colon);
      a.password = cred.substr(colon + 1);
    } else {
      a.password = cred;
    }
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    const std::string db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty() && (!absl::SimpleAtoi(db, &a.db) || a.db < 0)) {
      return absl::InvalidArgumentError("redis url: the database must be a number");
    }
  }
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    if (!absl::SimpleAtoi(rest.substr(colon + 1), &a.port) || a.port <= 0 || a.port > 65535) {
      return absl::InvalidArgumentError("redis url: bad port");
    }
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return absl::InvalidArgumentError("redis url: no host");
  a.host = rest;
  return a;
}

namespace {

// One synchronous hiredis connection; freed on scope exit.
struct RedisConn {
  redisContext* c = nullptr;
  ~RedisConn() {
    if (c) redisFree(c);
  }
};

absl::Status RedisConnect(const RedisAddress& a, RedisConn* conn) {
  timeval tv{2, 0};
  conn->c = redisConnectWithTimeout(a.host.c_str(), a.port, tv);
  if (!conn->c || conn->c->err) {
    return absl::UnavailableError(absl::StrCat("redis ", a.host, ":", a.port, ": ",
                                               conn->c ? conn->c->errstr : "out of memory"));
  }
  redisSetTimeout(conn->c, tv);
  auto command = [&](std::vector<std::string> args) -> absl::Status {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto& s : args) {
      argv.push_back(s.data());
      lens.push_back(s.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(conn->c, int(argv.size()), argv.data(), lens.data()));
    if (!r) return absl::UnavailableError(absl::StrCat("redis: ", conn->c->errstr));
    const bool err = r->type == REDIS_REPLY_ERROR;
    std::string msg = err ? std::string(r->str, r->len) : "";
    freeReplyObject(r);
    if (err) return absl::FailedPreconditionError(absl::StrCat("redis: ", args[0], ": ", msg));
    return absl::OkStatus();
  };
  if (!a.password.empty()) {
    std::vector<std::string> args = {"AUTH"};
    if (!a.user.empty()) args.push_back(a.user);
    args.push_back(a.password);
    if (auto s = command(args); !s.ok()) return s;
  }
  if (a.db != 0) {
    if (auto s = command({"SELECT", std::to_string(a.db)}); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

IntegrityCheck CheckCacheWritesInRedis(const std::string& redis_url, const AckLedger& ledger,
                                       int64_t deadline_unix_ns) {
  IntegrityCheck check;
  check.name = "cache_writes_in_redis";
  check.expected = ledger.cache_writes.size();
  auto addr = ParseRedisUrl(redis_url);
  if (!addr.ok()) {
    check.detail = std::string(addr.status().message());
    return check;
  }
  while (true) {
    check.found = check.missing = 0;
    std::vector<std::string> missing_keys;
    std::string error;
    RedisConn conn;
    if (auto s = RedisConnect(*addr, &conn); !s.ok()) {
      error = std::string(s.message());
    } else {
      // Pipelined GETs, 1000 per round trip.
      const auto& writes = ledger.cache_writes;
      for (size_t base = 0; base < writes.size() && error.empty(); base += 1000) {
        const size_t end = std::min(writes.size(), base + 1000);
        for (size_t i = base; i < end; ++i) {
          const char* argv[2] = {"GET", writes[i].first.data()};
          size_t lens[2] = {3, writes[i].first.size()};
          redisAppendCommandArgv(conn.c, 2, argv, lens);
        }
        for (size_t i = base; i < end; ++i) {
          void* raw = nullptr;
          if (redisGetReply(conn.c, &raw) != REDIS_OK || !raw) {
            error = absl::StrCat("redis: ", conn.c->errstr);
            break;
          }
          auto* r = static_cast<redisReply*>(raw);
          const bool same =
              r->type == REDIS_REPLY_STRING && std::string_view(r->str, r->len) == writes[i].second;
          freeReplyObject(r);
          if (same) {
            ++check.found;
          } else {
            ++check.missing;
            if (missing_keys.size() < 5) missing_keys.push_back(writes[i].first);
          }
        }
      }
    }
    check.passed = error.empty() && check.missing == 0 && check.expected > 0;
    if (!error.empty()) {
      check.detail = error;
    } else if (check.expected == 0) {
      check.detail = "no cache writes were acknowledged during the run: nothing to verify";
    } else if (check.missing > 0) {
      check.detail =
          absl::StrCat("absent or different in Redis, e.g. ", absl::StrJoin(missing_keys, ", "));
    } else {
      check.detail = absl::StrCat("all ", check.expected, " acknowledged writes in Redis");
    }
    if (check.passed || check.expected == 0 || NowUnixNs() >= deadline_unix_ns) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return check;
}

}  // namespace tickmesh::loadtest
