#include "fault.h"

#include <atomic>
#include <cstdio>

#include "gtest/gtest.h"
#include "tickmesh/runtime/clock.h"

namespace tickmesh::loadtest {
namespace {

TEST(RedisUrl, ParsesHostPortDbAndCredentials) {
  auto a = ParseRedisUrl("redis://user:secret@10.0.0.1:6380/3");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "10.0.0.1");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->db, 3);
  EXPECT_EQ(a->user, "user");
  EXPECT_EQ(a->password, "secret");
  auto b = ParseRedisUrl("redis://127.0.0.1");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port, 6379);
  EXPECT_EQ(b->db, 0);
}

TEST(RedisUrl, RejectsBadUrlsWithoutEchoingThePassword) {
  EXPECT_FALSE(ParseRedisUrl("http://127.0.0.1:6379").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://:pw@").ok());
  auto port = ParseRedisUrl("redis://:hunter2@host:99999/0");
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(std::string(port.status().message()).find("hunter2"), std::string::npos);
  EXPECT_FALSE(ParseRedisUrl("redis://host:6379/x").ok());
}

TEST(ControlCommand, ReturnsOutputOnSuccessAndStatusOnFailure) {
  auto ok = RunControlCommand("echo killed redis", 5);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, "killed redis");
  auto bad = RunControlCommand("echo no such component >&2; exit 3", 5);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("exited 3"), std::string::npos);
  EXPECT_NE(std::string(bad.status().message()).find("no such component"), std::string::npos);
}

TEST(ControlCommand, IsKilledAtItsTimeLimit) {
  auto slow = RunControlCommand("sleep 30", 0.3);
  ASSERT_FALSE(slow.ok());
  EXPECT_NE(std::string(slow.status().message()).find("did not finish"), std::string::npos);
}

TEST(ControlCommand, DoesNotWaitForBackgroundChildrenHoldingTheOutput) {
  // `scripts/mesh start` leaves services running; the command's own exit is what counts.
  auto r = RunControlCommand("(sleep 3 &) ; echo started", 2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "started");
}

TEST(FaultInjector, KillsThenRestartsEachComponentInOrder) {
  const std::string log = ::testing::TempDir() + "/fault_injector_log";
  std::remove(log.c_str());
  FaultSpec spec;
  spec.steps = {{0.0, "redis", 0.05}, {0.1, "persistence", 0.0}};
  std::atomic<bool> stop{false};
  FaultInjector inj(spec, "echo >>" + log, runtime::NowUnixNs(), &stop);
  inj.Start();
  inj.Join();
  auto steps = inj.steps();
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0].action, "kill redis");
  EXPECT_EQ(steps[1].action, "restart redis");
  EXPECT_EQ(steps[2].action, "kill persistence");
  EXPECT_EQ(steps[3].action, "restart persistence");
  for (const auto& s : steps) EXPECT_TRUE(s.ok) << s.action << ": " << s.detail;
  EXPECT_GE(steps[2].at_s, 0.1);
  auto lines = RunControlCommand("cat " + log, 5);
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(*lines, "kill redis\nstart redis\nkill persistence\nstart persistence");
}

TEST(FaultInjector, RecordsAFailedControlCommand) {
  FaultSpec spec;
  spec.steps = {{0.0, "postgres", 0.0}};
  FaultInjector inj(spec, "false", runtime::NowUnixNs(), nullptr);
  inj.Start();
  inj.Join();
  auto steps = inj.steps();
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_FALSE(steps[0].ok);
  EXPECT_FALSE(steps[1].ok);  // the restart is still attempted
}

}  // namespace
}  // namespace tickmesh::loadtest
