#include "spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace tickmesh::persistence {
namespace {

constexpr uint32_t kMagic = 0x50534d54;  // "TMSP" little-endian

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (0x82F63B78u ^ (c >> 1)) : (c >> 1);
    t[i] = c;
  }
  return t;
}

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

uint32_t EntryCrc(uint32_t length, absl::string_view payload) {
  std::string len;
  PutU32(len, length);
  return Crc32c(payload, Crc32c(len));
}

std::string ErrnoText(absl::string_view what, const std::string& path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

// Reads exactly n bytes at offset; false on a short read or error.
bool PreadFull(int fd, char* buf, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = pread(fd, buf + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

bool PwriteFull(int fd, const char* buf, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = pwrite(fd, buf + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

enum class ReadResult { kOk, kEnd, kCorrupt };

// Reads and checks the entry at `offset` of a file of `size` bytes.
ReadResult ReadEntry(int fd, uint64_t offset, uint64_t size, SpoolEntry* entry) {
  if (offset == size) return ReadResult::kEnd;
  if (size - offset < Spool::kHeaderBytes) return ReadResult::kCorrupt;
  char header[Spool::kHeaderBytes];
  if (!PreadFull(fd, header, sizeof(header), offset)) return ReadResult::kCorrupt;
  const uint32_t magic = GetU32(header);
  const uint32_t length = GetU32(header + 4);
  const uint32_t crc = GetU32(header + 8);
  if (magic != kMagic || length > Spool::kMaxPayloadBytes ||
      length > size - offset - Spool::kHeaderBytes) {
    return ReadResult::kCorrupt;
  }
  entry->payload.resize(length);
  if (length > 0 && !PreadFull(fd, entry->payload.data(), length, offset + Spool::kHeaderBytes)) {
    return ReadResult::kCorrupt;
  }
  if (EntryCrc(length, entry->payload) != crc) return ReadResult::kCorrupt;
  entry->offset = offset;
  entry->next_offset = offset + Spool::kHeaderBytes + length;
  return ReadResult::kOk;
}

absl::Status SyncDir(const std::string& dir) {
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return absl::InternalError(ErrnoText("open", dir));
  int rc = fsync(dfd);
  close(dfd);
  if (rc != 0) return absl::InternalError(ErrnoText("fsync", dir));
  return absl::OkStatus();
}

}  // namespace

uint32_t Crc32c(absl::string_view data, uint32_t crc) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  crc = ~crc;
  for (unsigned char c : data) crc = table[(crc ^ c) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::string FrameSpoolEntry(absl::string_view payload) {
  std::string out;
  out.reserve(Spool::kHeaderBytes + payload.size());
  PutU32(out, kMagic);
  PutU32(out, static_cast<uint32_t>(payload.size()));
  PutU32(out, EntryCrc(static_cast<uint32_t>(payload.size()), payload));
  out.append(payload.data(), payload.size());
  return out;
}

Spool::Spool(SpoolOptions options)
    : options_(std::move(options)),
      log_path_(options_.dir + "/spool.log"),
      cursor_path_(options_.dir + "/spool.cursor") {}

Spool::~Spool() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<std::unique_ptr<Spool>> Spool::Open(const SpoolOptions& options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("spool dir must not be empty");
  std::unique_ptr<Spool> spool(new Spool(options));
  absl::Status st = spool->Load();
  if (!st.ok()) return st;
  return spool;
}

absl::Status Spool::Load() {
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", options_.dir, ": ", ec.message()));
  const bool existed = std::filesystem::exists(log_path_, ec);
  fd_ = open(log_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) return absl::InternalError(ErrnoText("open", log_path_));
  if (!existed) {
    absl::Status st = SyncDir(options_.dir);
    if (!st.ok()) return st;
  }
  struct stat sb;
  if (fstat(fd_, &sb) != 0) return absl::InternalError(ErrnoText("stat", log_path_));
  const uint64_t size = static_cast<uint64_t>(sb.st_size);

  // Replay cursor; anything unreadable means "replay from the start" (replay is idempotent).
  uint64_t cursor = 0;
  {
    std::ifstream in(cursor_path_);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &cursor)) cursor = 0;
  }

  uint64_t offset = 0;
  uint64_t entries_after_cursor = 0;
  bool cursor_on_boundary = (cursor == 0);
  SpoolEntry entry;
  while (true) {
    if (offset == cursor) cursor_on_boundary = true;
    ReadResult r = ReadEntry(fd_, offset, size, &entry);
    if (r != ReadResult::kOk) break;
    if (offset >= cursor) ++entries_after_cursor;
    offset = entry.next_offset;
  }
  if (offset == cursor) cursor_on_boundary = true;
  if (offset < size) {
    // Torn tail: cut it off so it is never replayed, and make the cut durable.
    if (ftruncate(fd_, static_cast<off_t>(offset)) != 0 || fdatasync(fd_) != 0) {
      return absl::InternalError(ErrnoText("truncate", log_path_));
    }
    truncated_bytes_ = size - offset;
  }
  if (!cursor_on_boundary || cursor > offset) {
    // Not an entry boundary (or beyond the valid end): replay everything, idempotently.
    cursor = 0;
    entries_after_cursor = 0;
    uint64_t o = 0;
    while (ReadEntry(fd_, o, offset, &entry) == ReadResult::kOk) {
      ++entries_after_cursor;
      o = entry.next_offset;
    }
  }
  end_ = offset;
  cursor_ = cursor;
  pending_entries_ = entries_after_cursor;
  if (cursor_ == end_ && end_ > 0) return MarkReplayed(end_, 0);
  return absl::OkStatus();
}

absl::StatusOr<size_t> Spool::Append(const std::vector<std::string>& payloads) {
  std::string buffer;
  size_t count = 0;
  const uint64_t end = end_.load();
  for (const std::string& p : payloads) {
    if (p.size() > kMaxPayloadBytes) break;
    const uint64_t framed = kHeaderBytes + p.size();
    if (end + buffer.size() + framed > options_.max_bytes) break;
    buffer += FrameSpoolEntry(p);
    ++count;
  }
  if (count == 0) {
    if (payloads.empty()) return 0;
    return absl::ResourceExhaustedError(
        absl::StrCat("spool full: ", end, " of ", options_.max_bytes, " bytes used, entry needs ",
                     kHeaderBytes + payloads.front().size(), " (", log_path_, ")"));
  }
  if (!PwriteFull(fd_, buffer.data(), buffer.size(), end) || fdatasync(fd_) != 0) {
    std::string err = ErrnoText("append", log_path_);
    // Cut back whatever part was written so a later append starts on a boundary.
    if (ftruncate(fd_, static_cast<off_t>(end)) == 0) fdatasync(fd_);
    return absl::InternalError(err);
  }
  end_ = end + buffer.size();
  pending_entries_ += count;
  return count;
}

absl::StatusOr<std::vector<SpoolEntry>> Spool::ReadPending(size_t max_entries, uint64_t max_bytes) {
  std::vector<SpoolEntry> out;
  uint64_t offset = cursor_.load();
  const uint64_t end = end_.load();
  uint64_t bytes = 0;
  while (out.size() < max_entries && bytes < max_bytes) {
    SpoolEntry entry;
    ReadResult r = ReadEntry(fd_, offset, end, &entry);
    if (r == ReadResult::kEnd) break;
    if (r == ReadResult::kCorrupt) {
      return absl::DataLossError(
          absl::StrCat("spool entry at offset ", offset, " of ", log_path_, " fails its check"));
    }
    bytes += entry.next_offset - entry.offset;
    offset = entry.next_offset;
    out.push_back(std::move(entry));
  }
  return out;
}

absl::Status Spool::MarkReplayed(uint64_t next_offset, uint64_t entries) {
  if (next_offset > end_.load() || next_offset < cursor_.load()) {
    return absl::InvalidArgumentError(absl::StrCat("replay mark ", next_offset, " outside [",
                                                   cursor_.load(), ", ", end_.load(), "]"));
  }
  cursor_ = next_offset;
  const uint64_t pending = pending_entries_.load();
  pending_entries_ = entries > pending ? 0 : pending - entries;
  if (next_offset == end_.load()) {
    // Everything is in the database: start the file over.
    if (ftruncate(fd_, 0) != 0 || fdatasync(fd_) != 0) {
      return absl::InternalError(ErrnoText("truncate", log_path_));
    }
    end_ = 0;
    cursor_ = 0;
    pending_entries_ = 0;
    return WriteCursor(0);
  }
  return WriteCursor(next_offset);
}

absl::Status Spool::WriteCursor(uint64_t offset) {
  // Not fsync'd on purpose: a lost or stale cursor only means already-replayed entries are
  // replayed again, which is idempotent.
  const std::string tmp = cursor_path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << offset << "\n";
    if (!out.good()) return absl::InternalError(absl::StrCat("write ", tmp, " failed"));
  }
  if (std::rename(tmp.c_str(), cursor_path_.c_str()) != 0) {
    return absl::InternalError(ErrnoText("rename", tmp));
  }
  return absl::OkStatus();
}

absl::Status Spool::AppendDeadLetter(absl::string_view payload) {
  const std::string path = options_.dir + "/dead_letter.log";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(ErrnoText("open", path));
  const std::string framed = FrameSpoolEntry(payload);
  size_t done = 0;
  bool ok = true;
  while (ok && done < framed.size()) {
    ssize_t r = write(fd, framed.data() + done, framed.size() - done);
    if (r < 0 && errno == EINTR) continue;
    ok = r > 0;
    if (ok) done += static_cast<size_t>(r);
  }
  ok = ok && fdatasync(fd) == 0;
  std::string err = ok ? "" : ErrnoText("append", path);
  close(fd);
  if (!ok) return absl::InternalError(err);
  return absl::OkStatus();
}

}  // namespace tickmesh::persistence
