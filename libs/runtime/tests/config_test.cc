#include "tickmesh/runtime/config.h"

#include <cstdlib>
#include <fstream>

#include "absl/flags/flag.h"
#include "gtest/gtest.h"
#include "tickmesh/runtime/log.h"

ABSL_FLAG(int, test_env_port, 7, "test-only flag");
ABSL_FLAG(std::string, test_env_name, "default", "test-only flag");

namespace tickmesh::runtime {
namespace {

TEST(Config, EnvNameIsUpperCasedWithPrefix) {
  EXPECT_EQ(EnvNameForFlag("redis_url"), "TICKMESH_REDIS_URL");
}

TEST(Config, EnvironmentSetsFlagsNotOnCommandLine) {
  setenv("TICKMESH_TEST_ENV_PORT", "4242", 1);
  setenv("TICKMESH_TEST_ENV_NAME", "from-env", 1);
  std::string a0 = "prog", a1 = "--test_env_name=from-cli";
  char* argv[] = {a0.data(), a1.data()};
  auto positional = ParseFlagsAndEnv(2, argv, "test");
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_EQ(absl::GetFlag(FLAGS_test_env_port), 4242);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_env_name), "from-cli");  // command line wins
  unsetenv("TICKMESH_TEST_ENV_PORT");
  unsetenv("TICKMESH_TEST_ENV_NAME");
}

TEST(Config, BadEnvironmentValueNamesTheVariableAndFlag) {
  setenv("TICKMESH_TEST_ENV_PORT", "not-a-number", 1);
  std::string a0 = "prog";
  char* argv[] = {a0.data()};
  auto positional = ParseFlagsAndEnv(1, argv, "test");
  unsetenv("TICKMESH_TEST_ENV_PORT");
  ASSERT_FALSE(positional.ok());
  EXPECT_EQ(positional.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(positional.status().message().find("TICKMESH_TEST_ENV_PORT"), std::string::npos);
  EXPECT_NE(positional.status().message().find("--test_env_port"), std::string::npos);
}

TEST(ConfigDeathTest, UnknownFlagFailsStartupNamingIt) {
  std::string a0 = "prog", a1 = "--no_such_flag=1";
  char* argv[] = {a0.data(), a1.data()};
  EXPECT_EXIT(InitProcess(2, argv, "test", "usage"), ::testing::ExitedWithCode(1),
              "no_such_flag");
}

TEST(ConfigDeathTest, BadLogLevelFailsStartupNamingTheFlag) {
  std::string a0 = "prog", a1 = "--log_level=loud";
  char* argv[] = {a0.data(), a1.data()};
  EXPECT_EXIT(InitProcess(2, argv, "test", "usage"), ::testing::ExitedWithCode(2), "--log_level");
}

TEST(Config, YamlMissingFileIsNotFound) {
  auto node = LoadYamlFile("/nonexistent/tickmesh.yaml");
  EXPECT_EQ(node.status().code(), absl::StatusCode::kNotFound);
}

TEST(Config, YamlSyntaxErrorNamesFileAndLine) {
  std::string path = ::testing::TempDir() + "/bad.yaml";
  std::ofstream(path) << "strategies:\n  - name: macd\n    fast: [12\n";
  auto node = LoadYamlFile(path);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(node.status().message().find(path), std::string::npos);
  EXPECT_NE(node.status().message().find("line"), std::string::npos);
}

TEST(Config, YamlValidFileLoads) {
  std::string path = ::testing::TempDir() + "/good.yaml";
  std::ofstream(path) << "risk:\n  max_order_qty_e8: 100000000\n";
  auto node = LoadYamlFile(path);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ((*node)["risk"]["max_order_qty_e8"].as<int64_t>(), 100000000);
}

TEST(Config, HostPortValidation) {
  EXPECT_TRUE(ValidateHostPort("--x", "127.0.0.1:50051").ok());
  EXPECT_TRUE(ValidateHostPort("--x", "0.0.0.0:0").ok());
  EXPECT_TRUE(ValidateHostPort("--x", "[::1]:80").ok());
  EXPECT_FALSE(ValidateHostPort("--x", "localhost").ok());
  EXPECT_FALSE(ValidateHostPort("--x", "host:99999").ok());
  EXPECT_FALSE(ValidateHostPort("--x", ":80").ok());
  auto s = ValidateHostPort("--grpc_address", "nope");
  EXPECT_NE(s.message().find("--grpc_address"), std::string::npos);
}

TEST(Log, ParsesLevels) {
  EXPECT_EQ(*ParseLogLevel("WARN"), LogLevel::kWarn);
  EXPECT_FALSE(ParseLogLevel("verbose").ok());
}

TEST(Log, WarnOnceLogsOnlyUntilReset) {
  EXPECT_TRUE(WarnOnce("k1", "first"));
  EXPECT_FALSE(WarnOnce("k1", "second"));
  ResetWarnOnce("k1");
  EXPECT_TRUE(WarnOnce("k1", "third"));
}

}  // namespace
}  // namespace tickmesh::runtime
