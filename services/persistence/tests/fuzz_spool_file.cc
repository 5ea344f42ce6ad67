// Fuzz target: arbitrary bytes as spool.log (optionally with a replay cursor at an arbitrary
// offset), then opened and replayed the way the writer does. Must never crash or loop: Open cuts
// a torn or corrupt tail (reported as truncated bytes) and every entry that survives can be read
// back in bounded steps, each one advancing the cursor, until the spool is empty. A second Open of
// the result finds nothing to cut.
// Seeds: tests/corpus/spool_file/ (see tests/corpus/make_seeds.py).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "google/protobuf/stubs/logging.h"
#include "spool.h"
#include "tickmesh/v1/persistence.pb.h"

namespace {

using tickmesh::persistence::Spool;

// One scratch directory per process, on tmpfs when there is one (Open and replay fsync).
const std::string& ScratchDir() {
  static const std::string dir = [] {
    std::string base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string tmpl = base + "/tickmesh-fuzz-spool-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    std::atexit([] { std::filesystem::remove_all(ScratchDir()); });
    return tmpl;
  }();
  return dir;
}

void WriteFile(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out.good()) std::abort();
}

// Malformed UTF-8 in string fields is an expected parse failure; keep the run's output readable.
[[maybe_unused]] const bool kQuietProtobuf = [] {
  google::protobuf::SetLogHandler(nullptr);
  return true;
}();

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& dir = ScratchDir();
  WriteFile(dir + "/spool.log", data, size);
  // Half the inputs also get a cursor, at an offset derived from the content (often not an entry
  // boundary, sometimes past the end): Open must fall back to a full, idempotent replay.
  const uint32_t h =
      tickmesh::persistence::Crc32c(absl::string_view(reinterpret_cast<const char*>(data), size));
  std::filesystem::remove(dir + "/spool.cursor");
  if (h & 1) {
    std::ofstream(dir + "/spool.cursor") << (h >> 1) % (size + 2) << "\n";
  }

  auto spool = Spool::Open({.dir = dir, .max_bytes = 1ull << 30});
  if (!spool.ok()) std::abort();  // a bad file is repaired, never a reason to refuse to start
  Spool& s = **spool;
  // Only a tail is ever cut; what stays is a prefix (or nothing, when it was all replayed).
  if (s.truncated_bytes() > size || s.file_bytes() > size - s.truncated_bytes()) std::abort();

  // Replay it all, in small chunks. Each entry is at least a header long, so a correct reader
  // needs at most size / kHeaderBytes + 1 rounds; more means it is not making progress.
  const uint64_t max_rounds = size / Spool::kHeaderBytes + 2;
  uint64_t rounds = 0;
  while (s.pending_entries() > 0) {
    if (++rounds > max_rounds) std::abort();
    auto entries = s.ReadPending(3, 1 << 16);
    if (!entries.ok() || entries->empty()) std::abort();  // Open left only checked entries
    for (const auto& e : *entries) {
      if (e.next_offset != e.offset + Spool::kHeaderBytes + e.payload.size()) std::abort();
      tickmesh::v1::AppendRequest batch;
      (void)batch.ParseFromString(e.payload);  // the writer dead-letters what does not parse
    }
    if (!s.MarkReplayed(entries->back().next_offset, entries->size()).ok()) std::abort();
  }
  if (s.pending_bytes() != 0 || s.file_bytes() != 0) std::abort();

  // Reopening the emptied spool finds nothing to cut and nothing to replay.
  spool->reset();
  auto again = Spool::Open({.dir = dir, .max_bytes = 1ull << 30});
  if (!again.ok() || (*again)->truncated_bytes() != 0 || (*again)->pending_entries() != 0)
    std::abort();
  return 0;
}
