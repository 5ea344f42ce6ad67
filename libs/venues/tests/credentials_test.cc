#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tickmesh/venues/orders.h"

namespace tickmesh::venues {
namespace {

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"TICKMESH_KRAKEN_API_KEY", "TICKMESH_KRAKEN_API_SECRET",
                          "TICKMESH_BINANCE_API_KEY", "TICKMESH_BINANCE_API_SECRET"}) {
      unsetenv(v);
    }
    dir_ = ::testing::TempDir() + "/creds_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    mkdir(dir_.c_str(), 0700);
  }
  void TearDown() override {
    unsetenv("TICKMESH_KRAKEN_API_KEY");
    unsetenv("TICKMESH_KRAKEN_API_SECRET");
  }
  std::string Write(const std::string& name, const std::string& text, mode_t mode) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
    return path;
  }
  std::string dir_;
};

TEST_F(CredentialsTest, EnvironmentWinsOverTheFile) {
  setenv("TICKMESH_KRAKEN_API_KEY", "env-key", 1);
  setenv("TICKMESH_KRAKEN_API_SECRET", "env-secret", 1);
  const std::string file = Write("s.env", "TICKMESH_KRAKEN_API_KEY=file-key\n", 0600);
  auto c = LoadCredentials(Venue::kKraken, file);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->api_key, "env-key");
  EXPECT_EQ(c->secret, "env-secret");
}

TEST_F(CredentialsTest, ReadsKeyValueFiles) {
  const std::string file = Write("s.env",
                                 "# tickmesh secrets\n"
                                 "export TICKMESH_BINANCE_API_KEY=bin-key\n"
                                 "TICKMESH_BINANCE_API_SECRET=\"bin secret\"\n"
                                 "TICKMESH_KRAKEN_API_KEY=kr-key\n",
                                 0600);
  auto c = LoadCredentials(Venue::kBinance, file);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->api_key, "bin-key");
  EXPECT_EQ(c->secret, "bin secret");
  EXPECT_EQ(LoadCredentials(Venue::kKraken, file).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CredentialsTest, ReadsYamlFiles) {
  const std::string file = Write("s.yaml",
                                 "binance:\n  api_key: yk\n  api_secret: ys\n"
                                 "TICKMESH_BYBIT_API_KEY: bk\nTICKMESH_BYBIT_API_SECRET: bs\n",
                                 0400);
  auto b = LoadCredentials(Venue::kBinance, file);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->api_key, "yk");
  EXPECT_EQ(b->secret, "ys");
  auto y = LoadCredentials(Venue::kBybit, file);
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(y->secret, "bs");
}

TEST_F(CredentialsTest, RefusesFilesOthersCanRead) {
  const std::string file =
      Write("s.env", "TICKMESH_BINANCE_API_KEY=k\nTICKMESH_BINANCE_API_SECRET=topsecret\n", 0644);
  auto c = LoadCredentials(Venue::kBinance, file);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(c.status().message().find("0644"), std::string::npos);
  EXPECT_EQ(c.status().message().find("topsecret"), std::string::npos);
}

TEST_F(CredentialsTest, ErrorsNeverQuoteTheContent) {
  const std::string file = Write("s.yaml", "binance: [topsecret: {\n", 0600);
  auto c = LoadCredentials(Venue::kBinance, file);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().find("topsecret"), std::string::npos);
  const std::string empty =
      Write("e.env", "TICKMESH_BINANCE_API_KEY=\nTICKMESH_BINANCE_API_SECRET=x\n", 0600);
  EXPECT_EQ(LoadCredentials(Venue::kBinance, empty).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CredentialsTest, MissingEverywhereIsNotFound) {
  EXPECT_EQ(LoadCredentials(Venue::kBinance, "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(LoadCredentials(Venue::kBinance, dir_ + "/absent").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tickmesh::venues
