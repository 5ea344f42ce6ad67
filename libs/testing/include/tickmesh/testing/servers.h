// Real Redis and PostgreSQL servers for integration and e2e tests, started from the Debian
// packages on loopback, on a free port, in a fresh temp dir that is removed afterwards. No mocks.
// When running as root, PostgreSQL runs as the `postgres` system user (initdb refuses root).
//
// Example:
//   tickmesh::testing::RedisServer redis;
//   ASSERT_TRUE(redis.Start().ok());
//   Connect(redis.url());   // "redis://127.0.0.1:<port>/0"
//   redis.Kill();           // SIGKILL, to test outages
//   ASSERT_TRUE(redis.Start().ok());  // same port again, empty (no persistence)
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"

namespace tickmesh::testing {

// A TCP port on 127.0.0.1 that was free when asked (bind to port 0, read it, close).
int FreePort();

// Makes a fresh directory under $TMPDIR (or /tmp) and returns its path.
std::string MakeTempDir(const std::string& prefix);

class RedisServer {
 public:
  RedisServer();  // picks a free port; does not start
  ~RedisServer();  // stops and removes the temp dir
  // Starts redis-server (no persistence) and waits until it answers PING (up to 10 s).
  absl::Status Start();
  // SIGKILL and reap.
  void Kill();
  // SIGTERM and wait.
  void Stop();
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string url() const;  // redis://127.0.0.1:<port>/0
  // Runs `redis-cli -p <port> <args>` and returns its stdout (trimmed).
  std::string Cli(const std::string& args) const;

 private:
  int port_;
  std::string dir_;
  pid_t pid_ = -1;
};

class PostgresServer {
 public:
  PostgresServer();  // picks a free port; does not start
  ~PostgresServer();  // stops (immediate) and removes the data dir
  // initdb on first start (trust auth on loopback, database "tickmesh"), then pg_ctl start and wait
  // until it accepts connections (up to 30 s).
  absl::Status Start();
  // pg_ctl stop -m immediate (a crash, as far as clients can tell).
  void StopImmediate();
  // pg_ctl stop -m fast.
  void Stop();
  bool running() const { return running_; }
  int port() const { return port_; }
  // postgresql://postgres@127.0.0.1:<port>/tickmesh
  std::string url() const;
  // Runs `psql -At -c <sql>` against the database and returns stdout (trimmed).
  std::string Psql(const std::string& sql) const;

 private:
  int port_;
  std::string dir_;
  bool initialized_ = false;
  bool running_ = false;
};

}  // namespace tickmesh::testing
