#include "spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace tickmesh::persistence {
namespace {

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tickmesh-spool-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Spool> Open(uint64_t max_bytes = 1 << 20) {
    auto spool = Spool::Open({dir_, max_bytes});
    EXPECT_TRUE(spool.ok()) << spool.status();
    return spool.ok() ? std::move(*spool) : nullptr;
  }
  void AppendRaw(const std::string& bytes) {
    std::ofstream out(dir_ + "/spool.log", std::ios::app | std::ios::binary);
    out << bytes;
  }
  uint64_t FileSize() { return std::filesystem::file_size(dir_ + "/spool.log"); }

  std::string dir_;
};

TEST(Crc32c, MatchesKnownVector) {
  // RFC 3720 test vector: 32 bytes of zeros.
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
}

TEST_F(SpoolTest, AppendedEntriesReadBackInOrderAfterReopen) {
  {
    auto spool = Open();
    auto n = spool->Append({"alpha", "beta"});
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 2u);
    ASSERT_TRUE(spool->Append({"gamma"}).ok());
    EXPECT_EQ(spool->pending_entries(), 3u);
  }
  auto spool = Open();
  EXPECT_EQ(spool->pending_entries(), 3u);
  EXPECT_EQ(spool->truncated_bytes(), 0u);
  auto entries = spool->ReadPending(10, 1 << 20);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].payload, "alpha");
  EXPECT_EQ((*entries)[1].payload, "beta");
  EXPECT_EQ((*entries)[2].payload, "gamma");
}

TEST_F(SpoolTest, ReplayCursorSurvivesReopen) {
  {
    auto spool = Open();
    ASSERT_TRUE(spool->Append({"one", "two", "three"}).ok());
    auto entries = spool->ReadPending(1, 1 << 20);
    ASSERT_TRUE(entries.ok());
    ASSERT_EQ(entries->size(), 1u);
    ASSERT_TRUE(spool->MarkReplayed(entries->back().next_offset, 1).ok());
    EXPECT_EQ(spool->pending_entries(), 2u);
  }
  auto spool = Open();
  EXPECT_EQ(spool->pending_entries(), 2u);
  auto entries = spool->ReadPending(10, 1 << 20);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].payload, "two");
}

TEST_F(SpoolTest, FullyReplayedSpoolIsEmptied) {
  auto spool = Open();
  ASSERT_TRUE(spool->Append({"a", "b"}).ok());
  auto entries = spool->ReadPending(10, 1 << 20);
  ASSERT_TRUE(entries.ok());
  ASSERT_TRUE(spool->MarkReplayed(entries->back().next_offset, 2).ok());
  EXPECT_EQ(spool->pending_entries(), 0u);
  EXPECT_EQ(spool->file_bytes(), 0u);
  EXPECT_EQ(FileSize(), 0u);
}

TEST_F(SpoolTest, TornTailIsTruncatedNotReplayed) {
  {
    auto spool = Open();
    ASSERT_TRUE(spool->Append({"complete-1", "complete-2"}).ok());
  }
  const uint64_t good = FileSize();
  // A crash mid-append: the header and half the payload of a third entry.
  const std::string framed = FrameSpoolEntry("this entry was never acknowledged");
  AppendRaw(framed.substr(0, framed.size() / 2));
  auto spool = Open();
  EXPECT_EQ(spool->truncated_bytes(), framed.size() / 2);
  EXPECT_EQ(FileSize(), good);
  EXPECT_EQ(spool->pending_entries(), 2u);
  auto entries = spool->ReadPending(10, 1 << 20);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[1].payload, "complete-2");
  // New appends continue on the clean boundary.
  ASSERT_TRUE(spool->Append({"after"}).ok());
  auto again = Open();
  EXPECT_EQ(again->pending_entries(), 3u);
}

TEST_F(SpoolTest, CorruptCrcTailIsTruncated) {
  {
    auto spool = Open();
    ASSERT_TRUE(spool->Append({"good"}).ok());
  }
  const uint64_t good = FileSize();
  std::string framed = FrameSpoolEntry("flipped");
  framed.back() ^= 0x01;  // payload no longer matches its CRC
  AppendRaw(framed);
  auto spool = Open();
  EXPECT_EQ(spool->truncated_bytes(), framed.size());
  EXPECT_EQ(FileSize(), good);
  EXPECT_EQ(spool->pending_entries(), 1u);
}

TEST_F(SpoolTest, GarbageTailIsTruncated) {
  {
    auto spool = Open();
    ASSERT_TRUE(spool->Append({"good"}).ok());
  }
  AppendRaw(std::string("\xff\xff\xff\xff garbage that is not an entry", 35));
  auto spool = Open();
  EXPECT_GT(spool->truncated_bytes(), 0u);
  EXPECT_EQ(spool->pending_entries(), 1u);
}

TEST_F(SpoolTest, RefusesAppendBeyondMaxBytesWithResourceExhausted) {
  auto spool = Open(/*max_bytes=*/100);
  auto first = spool->Append({std::string(60, 'x')});
  ASSERT_TRUE(first.ok());
  auto second = spool->Append({std::string(60, 'y')});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(second.status().message().find("spool full"), absl::string_view::npos);
  EXPECT_EQ(spool->pending_entries(), 1u);
  EXPECT_LE(spool->file_bytes(), 100u);
}

TEST_F(SpoolTest, AppendsTheLongestPrefixThatFits) {
  auto spool = Open(/*max_bytes=*/100);
  auto n = spool->Append({std::string(30, 'a'), std::string(30, 'b'), std::string(30, 'c')});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);  // 2 * (12 + 30) = 84 fits, a third would make 126
  EXPECT_EQ(spool->pending_entries(), 2u);
}

TEST_F(SpoolTest, StaleCursorBeyondEndReplaysFromStart) {
  {
    auto spool = Open();
    ASSERT_TRUE(spool->Append({"x", "y"}).ok());
  }
  {
    std::ofstream out(dir_ + "/spool.cursor", std::ios::trunc);
    out << "999999\n";
  }
  auto spool = Open();
  EXPECT_EQ(spool->pending_entries(), 2u);
}

TEST_F(SpoolTest, DeadLetterIsWrittenSeparately) {
  auto spool = Open();
  ASSERT_TRUE(spool->AppendDeadLetter("poison").ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/dead_letter.log"));
  EXPECT_EQ(spool->pending_entries(), 0u);
}

}  // namespace
}  // namespace tickmesh::persistence
