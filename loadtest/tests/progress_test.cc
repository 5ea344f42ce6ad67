#include "progress.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace tickmesh::loadtest {
namespace {

// Captures what a ProgressPrinter writes.
class Capture {
 public:
  Capture() : file_(open_memstream(&buf_, &len_)) {}
  ~Capture() {
    if (file_) std::fclose(file_);
    std::free(buf_);
  }
  FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(buf_, len_);
  }

 private:
  char* buf_ = nullptr;
  size_t len_ = 0;
  FILE* file_;
};

ProgressSnapshot At(double elapsed) {
  ProgressSnapshot s;
  s.elapsed_s = elapsed;
  s.total_s = 100;
  s.target_per_s = 2000;
  s.actual_per_s = 1998;
  s.p99_us = 812.4;
  s.sent = 90000;
  s.errors = 2;
  return s;
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = 0; (at = s.find(what, at)) != std::string::npos; at += what.size()) ++n;
  return n;
}

TEST(ProgressLine, ShowsElapsedRatesP99AndErrors) {
  EXPECT_EQ(FormatProgressLine(At(45), 20),
            "[#########-----------]  45.0/100s  running  rate 1998/2000 /s  p99 812us  "
            "sent 90000  errors 2");
  ProgressSnapshot none = At(0);
  none.p99_us = -1;
  none.total_s = 0;
  EXPECT_EQ(FormatProgressLine(none, 20),
            "  0.0s  running  rate 1998/2000 /s  p99 -  sent 90000  errors 2");
  ProgressSnapshot over = At(150);  // past the end: the bar is full, not overflowing
  EXPECT_EQ(FormatProgressLine(over, 4).substr(0, 7), "[####] ");
}

TEST(ProgressPrinter, TerminalRedrawsOneLineInPlace) {
  Capture out;
  ProgressPrinter p(out.file(), /*terminal=*/true);
  for (int i = 1; i <= 5; ++i) p.Update(At(i));
  p.Finish();
  p.Finish();
  const std::string text = out.text();
  EXPECT_EQ(Count(text, "\r"), 5u);
  EXPECT_EQ(Count(text, "\n"), 1u);  // one newline at the end, once
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NE(text.find("5.0/100s"), std::string::npos);
}

TEST(ProgressPrinter, PlainModePrintsPeriodicLines) {
  Capture out;
  ProgressPrinter p(out.file(), /*terminal=*/false, /*plain_interval_s=*/5);
  for (int i = 0; i <= 12; ++i) p.Update(At(i));  // printed at 0, 5, 10
  p.Finish();                                     // and the unprinted last one (12)
  const std::string text = out.text();
  EXPECT_EQ(Count(text, "\r"), 0u);
  EXPECT_EQ(Count(text, "progress "), 4u);
  EXPECT_NE(text.find("12.0/100s"), std::string::npos);
  EXPECT_EQ(text.find("[#"), std::string::npos);  // no bar in logs
}

TEST(ProgressPrinter, NonTerminalStreamIsDetectedAsPlain) {
  Capture out;
  EXPECT_FALSE(ProgressPrinter(out.file()).terminal());
}

}  // namespace
}  // namespace tickmesh::loadtest
