// RedisServer: a real redis-server child process on 127.0.0.1:<free port>, no persistence, in a
// temp dir. Started with fork/exec; killed with SIGKILL (outage tests) or stopped with SIGTERM.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tickmesh/testing/servers.h"

namespace tickmesh::testing {
namespace {

constexpr char kRedisServer[] = "/usr/bin/redis-server";
constexpr char kRedisCli[] = "/usr/bin/redis-cli";

// Sends PING over a raw socket and returns true if "+PONG" comes back within ~200 ms.
bool Ping(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    static constexpr char kPing[] = "PING\r\n";
    if (write(fd, kPing, sizeof(kPing) - 1) == static_cast<ssize_t>(sizeof(kPing) - 1)) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 200) == 1) {
        char buf[16] = {};
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        ok = n >= 5 && std::strncmp(buf, "+PONG", 5) == 0;
      }
    }
  }
  close(fd);
  return ok;
}

// Returns true once `pid` has exited (and reaps it); false if it is still running.
bool Reaped(pid_t pid) {
  int status = 0;
  pid_t r = waitpid(pid, &status, WNOHANG);
  return r == pid || (r < 0 && errno == ECHILD);
}

}  // namespace

RedisServer::RedisServer() : port_(FreePort()), dir_(MakeTempDir("tickmesh-redis")) {}

RedisServer::~RedisServer() {
  Kill();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string RedisServer::url() const { return absl::StrCat("redis://127.0.0.1:", port_, "/0"); }

absl::Status RedisServer::Start() {
  if (running()) return absl::FailedPreconditionError("redis-server already running");
  if (access(kRedisServer, X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(kRedisServer, " not found"));
  }
  const std::string port = std::to_string(port_);
  const std::string log_path = dir_ + "/redis.log";
  // Everything the child needs is prepared before fork(): after fork only async-signal-safe
  // calls are allowed (the test process is multi-threaded).
  // clang-format off
  std::vector<std::string> args = {kRedisServer,
      "--port", port,
      "--bind", "127.0.0.1",
      "--save", "",
      "--appendonly", "no",
      "--dir", dir_,
      "--daemonize", "no",
      "--protected-mode", "no",
      // DEBUG SLEEP simulates a slow Redis in tests.
      "--enable-debug-command", "yes"};
  // clang-format on
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError(absl::StrCat("cannot open ", log_path));

  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::InternalError(absl::StrCat("fork failed: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // Child: a fresh process group so a signal to the test's group does not reach it twice, and
    // default signal dispositions/mask (the parent may block SIGTERM for its signal thread).
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execv(kRedisServer, argv.data());
    _exit(127);
  }
  close(log_fd);
  pid_ = pid;

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Ping(port_)) return absl::OkStatus();
    if (Reaped(pid_)) {
      pid_ = -1;
      return absl::InternalError(
          absl::StrCat("redis-server exited at start on port ", port_, "; see ", log_path));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill();
  return absl::DeadlineExceededError(
      absl::StrCat("redis-server did not answer PING within 10 s on port ", port_));
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

void RedisServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  // redis-server exits promptly on SIGTERM without persistence; escalate after 10 s so a test can
  // never hang here.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Reaped(pid_)) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill();
}

std::string RedisServer::Cli(const std::string& args) const {
  const std::string cmd =
      absl::StrCat(kRedisCli, " -h 127.0.0.1 -p ", port_, " ", args, " 2>/dev/null");
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return "";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  pclose(pipe);
  return std::string(absl::StripAsciiWhitespace(out));
}

}  // namespace tickmesh::testing
