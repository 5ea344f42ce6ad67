// Spool: the append-only local file that makes a batch durable while the database is down.
//
// Layout (in `dir`):
//   spool.log     entries, each [magic u32][length u32][crc32c(length||payload) u32][payload],
//                 little-endian. Appends are one write(2) followed by fdatasync(2).
//   spool.cursor  offset of the first entry not yet replayed (written atomically by rename).
//   dead_letter.log  entries the database refused permanently while replaying (same framing).
//
// On Open the file is scanned: the first entry whose header, length or CRC does not check out
// and everything after it is a torn tail (a crash mid-append) and is truncated away, never
// replayed. When every entry has been replayed the file is truncated to zero. The file never
// grows past max_bytes: an append that would not fit is refused with RESOURCE_EXHAUSTED.
//
// Not thread-safe for mutation: one owner (the writer thread) appends, reads and marks; the
// *_bytes()/pending_entries() accessors may be read from any thread.
//
// Example:
//   auto spool = Spool::Open({.dir = "spool", .max_bytes = 1 << 30});
//   (*spool)->Append({payload});            // durable on return
//   auto pending = (*spool)->ReadPending(64, 8 << 20);
//   ... write them to the database ...
//   (*spool)->MarkReplayed(pending->back().next_offset, pending->size());
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tickmesh::persistence {

// CRC-32C (Castagnoli) of `data`, continuing from `crc` (0 to start).
uint32_t Crc32c(absl::string_view data, uint32_t crc = 0);

struct SpoolOptions {
  std::string dir;
  // Upper bound on spool.log's size in bytes (headers included).
  uint64_t max_bytes = 1ull << 30;
};

struct SpoolEntry {
  uint64_t offset = 0;       // where the entry starts
  uint64_t next_offset = 0;  // where the next one starts
  std::string payload;
};

class Spool {
 public:
  // Bytes of framing per entry.
  static constexpr uint64_t kHeaderBytes = 12;
  // Largest payload accepted (and believed when scanning).
  static constexpr uint64_t kMaxPayloadBytes = 64ull << 20;

  // Creates `dir` if needed, opens spool.log, truncates a torn tail, loads the replay cursor.
  // I/O. INTERNAL naming the path on failure.
  static absl::StatusOr<std::unique_ptr<Spool>> Open(const SpoolOptions& options);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends the longest prefix of `payloads` that fits under max_bytes, in order, with a single
  // write and fdatasync; returns how many were appended (all durable on return). Returns
  // RESOURCE_EXHAUSTED (nothing appended) when not even the first fits, with the sizes in the
  // message; INTERNAL on an I/O error (the file is cut back to its previous length).
  absl::StatusOr<size_t> Append(const std::vector<std::string>& payloads);

  // Reads pending entries from the cursor: at most max_entries, and stops after the entry that
  // crosses max_bytes (at least one entry when any is pending). I/O.
  absl::StatusOr<std::vector<SpoolEntry>> ReadPending(size_t max_entries, uint64_t max_bytes);

  // Records that every entry before `next_offset` (`entries` of them since the last mark) is in
  // the database: persists the cursor, or truncates the file when nothing is left. I/O.
  absl::Status MarkReplayed(uint64_t next_offset, uint64_t entries);

  // Appends one payload to dead_letter.log (fsync'd). I/O.
  absl::Status AppendDeadLetter(absl::string_view payload);

  // Bytes in spool.log not yet replayed (headers included).
  uint64_t pending_bytes() const { return end_.load() - cursor_.load(); }
  uint64_t pending_entries() const { return pending_entries_.load(); }
  // Size of spool.log (replayed entries stay until the file is emptied).
  uint64_t file_bytes() const { return end_.load(); }
  uint64_t max_bytes() const { return options_.max_bytes; }
  // Bytes cut off as a torn tail when the spool was opened.
  uint64_t truncated_bytes() const { return truncated_bytes_; }
  const std::string& path() const { return log_path_; }

 private:
  explicit Spool(SpoolOptions options);
  absl::Status Load();
  absl::Status WriteCursor(uint64_t offset);

  SpoolOptions options_;
  std::string log_path_;
  std::string cursor_path_;
  int fd_ = -1;
  std::atomic<uint64_t> end_{0};
  std::atomic<uint64_t> cursor_{0};
  std::atomic<uint64_t> pending_entries_{0};
  uint64_t truncated_bytes_ = 0;
};

// Frames one payload as a spool entry (exposed for tests that craft torn or corrupt files).
std::string FrameSpoolEntry(absl::string_view payload);

}  // namespace tickmesh::persistence
