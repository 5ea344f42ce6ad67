#include "replay_feed.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"
#include "tickmesh/runtime/metrics.h"

namespace tickmesh::market_data {
namespace {

using tickmesh::v1::MarketEvent;
using tickmesh::v1::MarketEventBatch;

// Reads one line (without its '\n') into `line`. Returns false at end of file. Sets
// `*too_long` (and discards the rest of the line) when it exceeds `max` bytes.
bool ReadLine(std::FILE* f, size_t max, std::string* line, bool* too_long) {
  line->clear();
  *too_long = false;
  char chunk[64 * 1024];
  bool any = false;
  while (std::fgets(chunk, sizeof chunk, f) != nullptr) {
    any = true;
    size_t len = std::strlen(chunk);
    const bool eol = len > 0 && chunk[len - 1] == '\n';
    if (eol) --len;
    if (!*too_long) {
      if (line->size() + len > max) {
        *too_long = true;
        line->clear();
      } else {
        line->append(chunk, len);
      }
    }
    if (eol) break;
  }
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return any;
}

}  // namespace

ReplayFeed::ReplayFeed(ReplayOptions options)
    : options_(std::move(options)),
      malformed_counter_(
          runtime::CounterFamily(runtime::MetricPrefix("market-data") + "parse_errors_total",
                                 "Rejected input, by source: batches failing validation (publish, "
                                 "synthetic, replay) and "
                                 "malformed replay file lines (replay_line)")
              .Add({{"source", "replay_line"}})) {}

ReplayFeed::~ReplayFeed() { Stop(); }

absl::Status ReplayFeed::Start(EventSink sink) {
  if (thread_.joinable()) return absl::FailedPreconditionError("replay feed already started");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(options_.path.c_str(), "rb"),
                                                       &std::fclose);
  if (file == nullptr) {
    const int err = errno;
    const std::string why = absl::StrCat("--replay_file ", options_.path, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(why) : absl::PermissionDeniedError(why);
  }
  {
    absl::MutexLock lock(&mu_);
    stop_ = false;
    done_ = false;
  }
  running_ = true;
  finished_ = false;
  thread_ = std::thread(
      [this, sink = std::move(sink), f = std::move(file)]() mutable { Run(sink, std::move(f)); });
  runtime::LogInfo("replay started", {{"file", options_.path}, {"speed", options_.speed}});
  return absl::OkStatus();
}

void ReplayFeed::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  running_ = false;
}

void ReplayFeed::WaitFinished() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&done_));
}

bool ReplayFeed::SleepUntil(int64_t due_ns) {
  while (true) {
    const int64_t now = runtime::MonotonicNs();
    absl::MutexLock lock(&mu_);
    if (stop_) return false;
    if (now >= due_ns) return true;
    mu_.AwaitWithTimeout(absl::Condition(&stop_),
                         absl::Nanoseconds(std::min<int64_t>(due_ns - now, 100'000'000)));
  }
}

void ReplayFeed::Deliver(EventSink& sink, MarketEventBatch& batch) {
  if (batch.events_size() == 0) return;
  const int64_t now = runtime::NowUnixNs();
  static thread_local std::mt19937_64 rng(std::random_device{}());
  for (MarketEvent& e : *batch.mutable_events()) {
    uint64_t id = 0;
    while (id == 0) id = rng();
    e.mutable_trace()->set_trace_id(id);
    e.mutable_trace()->set_origin_unix_ns(now);
  }
  const int n = batch.events_size();
  if (absl::Status s = sink(batch); !s.ok()) {
    // One bad event rejects a whole batch: retry one by one so only the bad events are lost.
    MarketEventBatch one;
    for (int i = 0; i < n; ++i) {
      one.Clear();
      *one.add_events() = batch.events(i);
      if (absl::Status s1 = sink(one); !s1.ok()) {
        ++rejected_;
        runtime::WarnOnce(absl::StrCat("replay-rejected:", options_.path),
                          "replayed event rejected by validation (later ones only counted)",
                          {{"file", options_.path}, {"error", std::string(s1.message())}});
      }
    }
  }
  events_ += static_cast<uint64_t>(n);
  batch.Clear();
}

void ReplayFeed::Run(EventSink sink, std::unique_ptr<std::FILE, int (*)(std::FILE*)> file) {
  ReplayLineParser parser;
  MarketEventBatch batch;
  MarketEvent event;
  std::string line;
  bool too_long = false, have_origin = false;
  uint64_t line_no = 0;
  int64_t origin_rec_ns = 0, origin_mono_ns = 0;
  while (ReadLine(file.get(), options_.max_line_bytes, &line, &too_long)) {
    ++line_no;
    ++lines_;
    {
      absl::MutexLock lock(&mu_);
      if (stop_) break;
    }
    if (!too_long && line.find_first_not_of(" \t") == std::string::npos) continue;
    absl::Status s = too_long ? absl::InvalidArgumentError("line longer than max_line_bytes")
                              : parser.Parse(line, &event);
    if (!s.ok()) {
      malformed_counter_.Increment();
      if (malformed_.fetch_add(1) == 0) {
        runtime::LogWarn(
            "replay: malformed line skipped (later ones only counted)",
            {{"file", options_.path}, {"line", line_no}, {"error", std::string(s.message())}});
      }
      continue;
    }
    if (options_.speed > 0) {
      if (!have_origin) {
        have_origin = true;
        origin_rec_ns = event.receive_unix_ns();
        origin_mono_ns = runtime::MonotonicNs();
      }
      const double offset =
          static_cast<double>(event.receive_unix_ns() - origin_rec_ns) / options_.speed;
      const int64_t due = origin_mono_ns + static_cast<int64_t>(offset);
      if (due > runtime::MonotonicNs()) {
        Deliver(sink, batch);  // what was due before this event
        if (!SleepUntil(due)) break;
      }
    }
    *batch.add_events() = std::move(event);
    if (batch.events_size() >= options_.max_batch) Deliver(sink, batch);
  }
  Deliver(sink, batch);
  runtime::LogInfo("replay finished", {{"file", options_.path},
                                       {"lines", lines_.load()},
                                       {"events", events_.load()},
                                       {"malformed_lines", malformed_.load()},
                                       {"events_rejected", rejected_.load()}});
  running_ = false;
  finished_ = true;
  absl::MutexLock lock(&mu_);
  done_ = true;
}

}  // namespace tickmesh::market_data
