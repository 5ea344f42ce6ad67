// ChildProcess: a real program (a tickmesh service, the venue simulator) run by an integration
// test as its child, with bounded waits for it to become ready and to stop, and never left
// behind: the destructor SIGKILLs and reaps it.
//
// Started with posix_spawn, not fork: gRPC's fork handlers in a threaded test process can stall a
// forked child for seconds.
//
// Example:
//   ChildProcess p({TICKMESH_CACHE_BIN, "--grpc_address=127.0.0.1:" + std::to_string(port)},
//                  {.extra_env = {"TICKMESH_LOG_LEVEL=warn"}});
//   ASSERT_TRUE(p.started());
//   ASSERT_TRUE(p.WaitForPort(port, std::chrono::seconds(10)));
//   ...
//   EXPECT_EQ(WEXITSTATUS(p.Kill(SIGTERM)), 0);  // SIGTERM, then SIGKILL after 10 s
//
// Not thread-safe: one test thread owns a ChildProcess.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>  // WIFEXITED, WEXITSTATUS, WTERMSIG for the statuses returned

#include <chrono>
#include <csignal>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tickmesh::testing {

struct ChildOptions {
  // "KEY=VALUE" entries added to the test's environment (replacing a variable of the same name).
  std::vector<std::string> extra_env;
  // When set, the child's stdout / stderr go to this file (created or truncated); otherwise they
  // are the test's.
  std::string stdout_path;
  std::string stderr_path;
};

class ChildProcess {
 public:
  // Starts argv[0] (a path, not searched in PATH) with argv. started() tells whether it did.
  explicit ChildProcess(std::vector<std::string> argv, ChildOptions options = {});
  // Kill(SIGKILL) if still running.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return started_; }
  // The process id while it runs or has not been reaped, else -1.
  pid_t pid() const { return pid_; }

  // False once the process has exited (it is then reaped; exit_status() holds its wait status).
  bool running();
  // Wait status (as from waitpid: WIFEXITED / WEXITSTATUS / WTERMSIG) of the process once reaped,
  // nullopt before.
  std::optional<int> exit_status() const { return exit_status_; }

  // Waits up to `timeout` for the process to exit by itself; its wait status, or nullopt if it
  // is still running then (it is left running).
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);

  // Sends `sig` and waits up to `timeout` for the process to exit; past it, SIGKILLs it. Returns
  // the wait status of the process (WTERMSIG == SIGKILL when it had to be killed), or the status
  // it exited with earlier; 0 if it never started.
  int Kill(int sig = SIGKILL, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Waits up to `timeout` until something accepts TCP connections on 127.0.0.1:`port`. False on
  // timeout or when the process exits first.
  bool WaitForPort(int port, std::chrono::milliseconds timeout);
  // Waits up to `timeout` until the stderr file (or, without one, the stdout file) contains
  // `text`. False on timeout, when the process exits first, or without an output file.
  bool WaitForOutput(const std::string& text, std::chrono::milliseconds timeout);

 private:
  ChildOptions options_;
  pid_t pid_ = -1;
  bool started_ = false;
  std::optional<int> exit_status_;
};

// Polls `cond` every `interval` until it holds or `timeout` passes; returns its last value.
template <typename Cond>
bool WaitFor(Cond cond, std::chrono::milliseconds timeout = std::chrono::seconds(10),
             std::chrono::milliseconds interval = std::chrono::milliseconds(10)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(interval);
  }
  return cond();
}

}  // namespace tickmesh::testing
