// Fault injection and durability checks for the `fault` scenario.
//
// FaultInjector runs a FaultSpec's steps on its own thread during the load: at each step's time it
// runs `<control> kill <component>` (SIGKILL, e.g. scripts/mesh kill redis), waits down_s, then
// `<control> start <component>` (which returns once the component serves again), and records each
// action as a FaultStep. Commands go through /bin/sh; components are from a fixed list.
//
// After the load, the integrity checks verify that nothing acknowledged was lost:
//  - fills_durable_once: every fill execution streamed for this run's ticks is in persistence
//    (QueryFills) exactly once;
//  - cache_writes_in_redis: every cache write the cache service acknowledged is in Redis with the
//    acknowledged value (read directly with hiredis, bypassing the cache).
// Both poll until they pass or `settle_s` runs out, since outboxes and replay queues drain after
// a dependency comes back.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers.h"
#include "run_result.h"
#include "scenario.h"

namespace tickmesh::loadtest {

// Runs `command` through /bin/sh -c with a time limit, capturing stdout+stderr (last 2 KiB).
// OK when it exits 0; otherwise INTERNAL with the exit status and the output's tail.
absl::StatusOr<std::string> RunControlCommand(const std::string& command, double timeout_s);

class FaultInjector {
 public:
  // `start_unix_ns` is when the load started (steps' at_s count from it).
  FaultInjector(FaultSpec spec, std::string control, int64_t start_unix_ns,
                const std::atomic<bool>* stop);
  ~FaultInjector();

  void Start();
  // Waits for every step (a stop request skips the remaining kills but still restarts whatever
  // was killed, so the mesh is never left down).
  void Join();
  std::vector<FaultStep> steps() const;

 private:
  void Loop();
  void Record(FaultStep step);

  FaultSpec spec_;
  std::string control_;
  int64_t start_unix_ns_;
  const std::atomic<bool>* stop_;
  mutable std::mutex mu_;
  std::vector<FaultStep> steps_;
  std::thread thread_;
};

// Every acknowledged fill of `ledger` is in persistence exactly once. Queries fills of venue
// "loadtest" for the ledger's symbols since `since_unix_ns`, polling until `deadline_unix_ns`.
IntegrityCheck CheckFillsDurableOnce(const std::string& persistence_address,
                                     const AckLedger& ledger, int64_t since_unix_ns,
                                     int64_t deadline_unix_ns);

// Every acknowledged cache write of `ledger` is in Redis at `redis_url` with its value, polling
// until `deadline_unix_ns`. A failed check names the first missing keys.
IntegrityCheck CheckCacheWritesInRedis(const std::string& redis_url, const AckLedger& ledger,
                                       int64_t deadline_unix_ns);

struct RedisAddress {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string user;
  std::string password;
};
// Parses redis://[[user]:password@]host[:port][/db]. INVALID_ARGUMENT naming the URL's problem
// (the password is never echoed).
absl::StatusOr<RedisAddress> ParseRedisUrl(const std::string& url);

}  // namespace tickmesh::loadtest
