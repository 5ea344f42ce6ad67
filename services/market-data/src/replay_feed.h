// Replay connector: plays back a recorded session file — JSON lines, one normalised market event
// per line with its receive timestamp — at 1x, Nx or maximum speed.
//
// The line format is described in replay_parser.h. A malformed line is counted and skipped; the
// first one of a file is logged with its line number (later ones only counted, with a summary at
// the end). Blank lines are ignored; lines longer than max_line_bytes are malformed. Event
// validity beyond the format is Ingest's job: a rejected batch is retried event by event so one
// bad event costs only itself.
//
// Pacing: the first event is sent at once; event k is due at start + (recv_ns[k] - recv_ns[0]) /
// speed. speed 0 = as fast as Ingest takes them. Events due together go out in one batch (at
// most max_batch events). The recorded timestamps are kept in the events (receive_unix_ns,
// exchange_unix_ns), so candles and feed lag reflect the recording; the trace origin is the
// replay time, so hop latencies stay meaningful.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "connector.h"
#include "prometheus/counter.h"
#include "replay_parser.h"
#include "tickmesh/v1/market_data.pb.h"

namespace tickmesh::market_data {

struct ReplayOptions {
  std::string path;
  // 1 = recorded pace, N = N times faster, 0 = as fast as possible.
  double speed = 1.0;
  // Most events per batch handed to the sink.
  int max_batch = 64;
  // Longer lines are malformed.
  size_t max_line_bytes = 1 << 20;
};

class ReplayFeed : public Connector {
 public:
  explicit ReplayFeed(ReplayOptions options);
  ~ReplayFeed() override;  // Stop()s.

  std::string name() const override { return "replay"; }
  // NOT_FOUND / PERMISSION_DENIED when the file cannot be opened; FAILED_PRECONDITION if started.
  absl::Status Start(EventSink sink) override;
  void Stop() override;
  // True while replaying; false once the file is done (see finished()).
  bool healthy() const override { return running_.load(); }

  // Counters (for /status and tests).
  uint64_t lines() const { return lines_.load(); }
  uint64_t events() const { return events_.load(); }
  uint64_t malformed_lines() const { return malformed_.load(); }
  uint64_t events_rejected() const { return rejected_.load(); }
  bool finished() const { return finished_.load(); }
  // Blocks until the whole file has been replayed (or Stop()); for tests and tools.
  void WaitFinished();

 private:
  void Run(EventSink sink, std::unique_ptr<std::FILE, int (*)(std::FILE*)> file);
  // Waits until monotonic time `due_ns`; false if stopped meanwhile.
  bool SleepUntil(int64_t due_ns);
  void Deliver(EventSink& sink, tickmesh::v1::MarketEventBatch& batch);

  const ReplayOptions options_;
  prometheus::Counter& malformed_counter_;
  std::atomic<bool> running_{false}, finished_{false};
  std::atomic<uint64_t> lines_{0}, events_{0}, malformed_{0}, rejected_{0};
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tickmesh::market_data
