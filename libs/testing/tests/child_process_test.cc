// ChildProcess with small real programs (/bin/sh, /bin/sleep): start, readiness waits, stop
// with and without cooperation, environment, output files.
#include "tickmesh/testing/child_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tickmesh/testing/servers.h"

namespace tickmesh::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ChildProcess, WaitsForAReadyLineThenStopsOnSigterm) {
  const std::string dir = MakeTempDir("child-process");
  ChildOptions options;
  options.stderr_path = dir + "/stderr";
  ChildProcess p({"/bin/sh", "-c", "echo starting >&2; sleep 0.1; echo ready >&2; exec sleep 30"},
                 options);
  ASSERT_TRUE(p.started());
  EXPECT_TRUE(p.WaitForOutput("ready", seconds(10)));
  EXPECT_TRUE(p.running());
  const int status = p.Kill(SIGTERM);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_FALSE(p.running());
  EXPECT_EQ(p.exit_status(), status);
  EXPECT_EQ(p.Kill(SIGKILL), status);  // already reaped: the same status, nothing sent
}

TEST(ChildProcess, SigtermIgnoredPastTheTimeoutEndsInSigkill) {
  const std::string dir = MakeTempDir("child-process");
  ChildOptions options;
  options.stdout_path = dir + "/stdout";
  ChildProcess p({"/bin/sh", "-c", "trap '' TERM; echo armed; while :; do sleep 1; done"}, options);
  ASSERT_TRUE(p.WaitForOutput("armed", seconds(10)));
  const int status = p.Kill(SIGTERM, milliseconds(200));
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(ChildProcess, ReportsTheExitStatusOfAProcessThatEndsByItself) {
  ChildProcess p({"/bin/sh", "-c", "exit 3"});
  auto status = p.WaitExit(seconds(10));
  ASSERT_TRUE(status.has_value());
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 3);
  // A process that outlives the wait is left running.
  ChildProcess sleeper({"/bin/sleep", "30"});
  EXPECT_FALSE(sleeper.WaitExit(milliseconds(50)).has_value());
  EXPECT_TRUE(sleeper.running());
}

TEST(ChildProcess, ExtraEnvironmentReplacesTheTestsVariables) {
  ASSERT_EQ(setenv("TICKMESH_CHILD_PROCESS_TEST", "parent", 1), 0);
  ChildOptions options;
  options.extra_env = {"TICKMESH_CHILD_PROCESS_TEST=child"};
  ChildProcess p({"/bin/sh", "-c", "test \"$TICKMESH_CHILD_PROCESS_TEST\" = child"}, options);
  auto status = p.WaitExit(seconds(10));
  unsetenv("TICKMESH_CHILD_PROCESS_TEST");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

TEST(ChildProcess, WaitForPortSeesAListenerAndGivesUpWithout) {
  // A listener owned by the test stands for the child's server socket.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);

  ChildProcess p({"/bin/sleep", "30"});
  EXPECT_TRUE(p.WaitForPort(port, seconds(10)));
  ::close(fd);
  EXPECT_FALSE(p.WaitForPort(FreePort(), milliseconds(100)));
  // A process that exits stops the wait at once.
  ChildProcess quitter({"/bin/sh", "-c", "exit 0"});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(quitter.WaitForPort(FreePort(), seconds(30)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(20));
}

TEST(ChildProcess, AMissingProgramIsNotStarted) {
  ChildProcess p({"/nonexistent/tickmesh-binary"});
  EXPECT_FALSE(p.started());
  EXPECT_FALSE(p.running());
  EXPECT_EQ(p.Kill(), 0);
}

TEST(ChildProcess, DestructionKillsARunningChild) {
  pid_t pid = -1;
  {
    ChildProcess p({"/bin/sleep", "30"});
    ASSERT_TRUE(p.running());
    pid = p.pid();
  }
  // Reaped by the destructor: the pid is no longer our child.
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);
}

}  // namespace
}  // namespace tickmesh::testing
