// Live progress for `tickmesh-loadtest run`: on a terminal, one line redrawn in place (a bar,
// elapsed/total, target vs actual rate, p99 so far, errors); otherwise (CI logs, pipes) a plain
// line every `plain_interval_s` so logs stay readable.
//
// Example:
//   ProgressPrinter progress(stderr);                 // detects a terminal with isatty()
//   runner.Run(..., [&](const Snapshot& s) { progress.Update({...}); });
//   progress.Finish();
#pragma once

#include <cstdio>
#include <string>

namespace tickmesh::loadtest {

struct ProgressSnapshot {
  std::string phase = "running";  // e.g. warmup | running | ramp 3/8 | drain
  double elapsed_s = 0;
  double total_s = 0;  // 0 = unknown (no bar, no total shown)
  double target_per_s = 0;
  double actual_per_s = 0;
  double p99_us = -1;  // < 0 = no samples yet
  uint64_t sent = 0;
  uint64_t errors = 0;
};

// The progress line, without any carriage return or newline. `bar_width` 0 = no bar.
// E.g. "[#########-----------]  45.0/100s  running  rate 1998/2000 /s  p99 812us  errors 0".
std::string FormatProgressLine(const ProgressSnapshot& s, int bar_width);

class ProgressPrinter {
 public:
  // Writes to `out` (not owned). Terminal mode when isatty(fileno(out)).
  explicit ProgressPrinter(FILE* out);
  // Explicit mode (tests): `terminal` selects in-place redraws vs plain lines.
  ProgressPrinter(FILE* out, bool terminal, double plain_interval_s = 5.0);

  // Terminal: redraws the line ("\r" + line + erase to end of line). Plain: prints a line when at
  // least plain_interval_s of run time (elapsed_s) has passed since the last printed one; the
  // first update is always printed.
  void Update(const ProgressSnapshot& s);

  // Ends the progress output: on a terminal, a final newline if anything was drawn; plain mode
  // prints the last snapshot if it was not printed yet. Idempotent.
  void Finish();

  bool terminal() const { return terminal_; }

 private:
  FILE* out_;
  bool terminal_;
  double plain_interval_s_;
  double last_printed_s_ = -1;
  bool drawn_ = false;
  bool finished_ = false;
  bool have_unprinted_ = false;
  ProgressSnapshot last_;
};

}  // namespace tickmesh::loadtest
