#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tickmesh::loadtest {

std::string FormatProgressLine(const ProgressSnapshot& s, int bar_width) {
  std::string out;
  if (bar_width > 0 && s.total_s > 0) {
    const double frac = std::clamp(s.elapsed_s / s.total_s, 0.0, 1.0);
    const int done = int(std::lround(frac * bar_width));
    absl::StrAppend(&out, "[", std::string(done, '#'), std::string(bar_width - done, '-'), "] ");
  }
  if (s.total_s > 0) {
    absl::StrAppendFormat(&out, "%5.1f/%.0fs", s.elapsed_s, s.total_s);
  } else {
    absl::StrAppendFormat(&out, "%5.1fs", s.elapsed_s);
  }
  if (!s.phase.empty()) absl::StrAppend(&out, "  ", s.phase);
  absl::StrAppendFormat(&out, "  rate %.0f/%.0f /s", s.actual_per_s, s.target_per_s);
  if (s.p99_us >= 0) {
    absl::StrAppendFormat(&out, "  p99 %.0fus", s.p99_us);
  } else {
    out += "  p99 -";
  }
  absl::StrAppendFormat(&out, "  sent %d  errors %d", s.sent, s.errors);
  return out;
}

ProgressPrinter::ProgressPrinter(FILE* out)
    : ProgressPrinter(out, out != nullptr && isatty(fileno(out)) == 1) {}

ProgressPrinter::ProgressPrinter(FILE* out, bool terminal, double plain_interval_s)
    : out_(out), terminal_(terminal), plain_interval_s_(plain_interval_s) {}

void ProgressPrinter::Update(const ProgressSnapshot& s) {
  if (out_ == nullptr || finished_) return;
  last_ = s;
  if (terminal_) {
    // \r returns to column 0, \x1b[K erases what a longer previous line left behind.
    std::fprintf(out_, "\r%s\x1b[K", FormatProgressLine(s, 24).c_str());
    std::fflush(out_);
    drawn_ = true;
    return;
  }
  if (last_printed_s_ < 0 || s.elapsed_s - last_printed_s_ >= plain_interval_s_) {
    std::fprintf(out_, "progress %s\n", FormatProgressLine(s, 0).c_str());
    std::fflush(out_);
    last_printed_s_ = s.elapsed_s;
    have_unprinted_ = false;
  } else {
    have_unprinted_ = true;
  }
}

void ProgressPrinter::Finish() {
  if (out_ == nullptr || finished_) return;
  finished_ = true;
  if (terminal_) {
    if (drawn_) std::fprintf(out_, "\n");
  } else if (have_unprinted_) {
    std::fprintf(out_, "progress %s\n", FormatProgressLine(last_, 0).c_str());
  }
  std::fflush(out_);
}

}  // namespace tickmesh::loadtest
