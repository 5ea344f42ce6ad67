// The cache's Redis tier: redis:// URL parsing and RedisConnection, one synchronous hiredis
// connection with connect and command timeouts, binary-safe commands and pipelining.
//
// Every method here does network I/O and blocks for up to the timeout (per socket operation):
// call them only from the cache's own worker / recovery threads, never from a gRPC callback.
// A connection is not thread-safe; the cache gives each of its threads its own (that set of
// connections is the pool). After any I/O error or timeout the connection is dropped and the
// next call reconnects. A command that fails with an I/O error (not a timeout) on a connection
// that had been idle since an earlier call — e.g. Redis restarted in between — is retried once on
// a fresh connection (every command used here is idempotent).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct redisContext;

namespace tickmesh::cache {

// redis://[[user]:password@]host[:port][/db]  (port defaults to 6379, db to 0; user and password
// may be percent-encoded).
struct RedisUrl {
  std::string host;
  int port = 6379;
  std::string username;
  std::string password;
  int db = 0;
  // The URL with the password replaced by "***", for logs and /status.
  std::string Redacted() const;
};

// INVALID_ARGUMENT with a reason if `url` is not of the form above.
absl::StatusOr<RedisUrl> ParseRedisUrl(std::string_view url);

// A value read from Redis with its remaining TTL (-1 = no expiry).
struct RedisValue {
  std::string value;
  int64_t ttl_ms = -1;
};

// One write for a pipeline: SET key value [PX ttl_ms] or, if value is nullptr, DEL key.
struct RedisWrite {
  std::string_view key;
  const std::string* value = nullptr;
  int64_t ttl_ms = 0;  // > 0: PX ttl_ms
};

class RedisConnection {
 public:
  // Does not connect; the first command does. timeout_ms bounds connect and each socket
  // read/write.
  RedisConnection(RedisUrl url, int timeout_ms);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // PING. OK if Redis answered PONG.
  absl::Status Ping();

  // GET + PTTL for each key in one pipeline (one round trip). (*out)[i] is nullopt if keys[i] is
  // missing. UNAVAILABLE on connection errors/timeouts, INTERNAL on an error reply.
  absl::Status MGet(const std::vector<std::string_view>& keys,
                    std::vector<std::optional<RedisValue>>* out);

  // Writes in one pipeline (one round trip), in order; consecutive SETs without TTL go as one
  // MSET. If deleted != nullptr, (*deleted)[i] tells whether the i-th write was a DEL that
  // removed a key. Errors as MGet.
  absl::Status Write(const std::vector<RedisWrite>& writes, std::vector<bool>* deleted = nullptr);

  // Up to max_keys keys starting with `prefix` (SCAN MATCH with glob characters escaped).
  absl::StatusOr<std::vector<std::string>> ScanPrefix(std::string_view prefix, size_t max_keys);

  // Closes the connection (the next call reconnects).
  void Disconnect();
  bool connected() const { return ctx_ != nullptr; }

 private:
  absl::Status EnsureConnected();
  // Runs `fn` (a status-returning command); retries once as described above.
  template <typename Fn>
  absl::Status Retrying(Fn&& fn);
  absl::Status PingOnce();
  absl::Status MGetOnce(const std::vector<std::string_view>& keys,
                        std::vector<std::optional<RedisValue>>* out);
  absl::Status WriteOnce(const std::vector<RedisWrite>& writes, std::vector<bool>* deleted);
  absl::Status ScanPrefixOnce(std::string_view prefix, size_t max_keys,
                              std::vector<std::string>* keys);
  // Hands the commands encoded in out_ to hiredis's output buffer (sent by the next read).
  absl::Status Flush();
  // Reads one reply of a pipeline; on I/O error disconnects and returns UNAVAILABLE.
  absl::Status ReadReply(void** reply);
  absl::Status IoError(std::string_view what);

  const RedisUrl url_;
  const int timeout_ms_;
  redisContext* ctx_ = nullptr;
  bool last_error_timeout_ = false;
  // RESP-encoded commands of the pipeline being built (reused; at most ~1 MiB + one command).
  std::string out_;
  // WriteOnce's commands, each as the index of its first write (reused).
  std::vector<size_t> cmd_first_;
};

}  // namespace tickmesh::cache
