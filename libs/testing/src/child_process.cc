#include "tickmesh/testing/child_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <utility>

extern char** environ;

namespace tickmesh::testing {
namespace {

constexpr auto kPoll = std::chrono::milliseconds(10);

std::string EnvName(const std::string& entry) { return entry.substr(0, entry.find('=')); }

bool CanConnect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, ChildOptions options)
    : options_(std::move(options)) {
  if (argv.empty()) return;
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  // The test's environment minus the variables extra_env replaces, then extra_env.
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string name = EnvName(*e);
    bool replaced = false;
    for (const auto& x : options_.extra_env) replaced = replaced || EnvName(x) == name;
    if (!replaced) envp.push_back(*e);
  }
  for (auto& x : options_.extra_env) envp.push_back(x.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!options_.stdout_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, options_.stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  if (!options_.stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 2, options_.stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data()) == 0) {
    pid_ = pid;
    started_ = true;
  }
  posix_spawn_file_actions_destroy(&actions);
}

ChildProcess::~ChildProcess() { Kill(SIGKILL); }

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) exit_status_ = status;
  pid_ = -1;  // reaped (or not our child any more)
  return false;
}

std::optional<int> ChildProcess::WaitExit(std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= end) return std::nullopt;
    std::this_thread::sleep_for(kPoll);
  }
  return exit_status_;
}

int ChildProcess::Kill(int sig, std::chrono::milliseconds timeout) {
  if (!running()) return exit_status_.value_or(0);
  ::kill(pid_, sig);
  if (sig != SIGKILL) {
    if (auto status = WaitExit(timeout)) return *status;
    ::kill(pid_, SIGKILL);
  }
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_status_ = status;
  pid_ = -1;
  return status;
}

bool ChildProcess::WaitForPort(int port, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (CanConnect(port)) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(kPoll);
  }
  return false;
}

bool ChildProcess::WaitForOutput(const std::string& text, std::chrono::milliseconds timeout) {
  const std::string& path =
      !options_.stderr_path.empty() ? options_.stderr_path : options_.stdout_path;
  if (path.empty()) return false;
  const auto end = std::chrono::steady_clock::now() + timeout;
  auto seen = [&] {
    std::ifstream in(path);
    const std::string content((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    return content.find(text) != std::string::npos;
  };
  while (true) {
    if (seen()) return true;
    // Output written just before the exit still counts.
    if (!running()) return seen();
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(kPoll);
  }
}

}  // namespace tickmesh::testing
