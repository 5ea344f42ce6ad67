// Operation drivers: each turns the generator's due events into requests against one part of the
// mesh and records what comes back in the Recorder, always measuring from the intended send time.
//   TickDriver          "tick"           Publish trades (+ books) -> follow StreamOrderEvents
//   MarketEventDriver   "market_event"   Publish book deltas -> follow Subscribe
//   CacheSetDriver      "cache_set"      CacheService.Set (async unary)
//   PersistDriver       "persist_append" PersistenceService.Append (bidi stream, ack = durable)
//   OrderDriver         "order_submit"   ExecutionService.Submit (async unary)
// Send() runs on the generator thread and must not block except to respect max_in_flight (the
// intended times keep the measurement honest when it does). A target that goes away is counted
// as errors and reconnected to; it never ends the run.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "open_loop.h"
#include "scenario.h"
#include "tickmesh/v1/market_data.pb.h"

namespace tickmesh::loadtest {

// Where the mesh is. Defaults are scripts/mesh's ports; flags/env override (see loadtest_cli.cc).
struct Targets {
  std::string market_data = "127.0.0.1:50051";
  std::string signal = "127.0.0.1:50052";
  std::string execution = "127.0.0.1:50053";
  std::string cache = "127.0.0.1:50054";
  std::string persistence = "127.0.0.1:50055";
  // Admin HTTP (host:port) per service, for /metrics sampling.
  std::map<std::string, std::string> admin = {{"market-data", "127.0.0.1:9101"},
                                              {"signal", "127.0.0.1:9102"},
                                              {"execution", "127.0.0.1:9103"},
                                              {"cache", "127.0.0.1:9104"},
                                              {"persistence", "127.0.0.1:9105"}};
  // Redis the cache writes to, for the fault scenario's integrity check ("" = not checked).
  std::string redis_url;
};

// What the drivers acknowledged, for the fault scenario's integrity checks.
struct AckLedger {
  // Fills seen on StreamOrderEvents for this run's ticks: fill_id -> times seen.
  std::map<std::string, int> fills;
  std::vector<std::string> fill_symbols;
  // Cache writes the cache acknowledged (unique keys only): key -> value.
  std::vector<std::pair<std::string, std::string>> cache_writes;
};

struct DriverContext {
  const ScenarioSpec* spec = nullptr;
  Targets targets;
  Recorder* recorder = nullptr;
  // High 32 bits of every trace id / key of this run; events of other runs are ignored.
  uint32_t run_tag = 1;
};

class Driver {
 public:
  virtual ~Driver() = default;
  // Opens streams and followers. UNAVAILABLE when the target cannot be reached at all.
  virtual absl::Status Start() = 0;
  // Sends events first_index.. with the given intended times (generator thread).
  virtual void Send(const int64_t* intended_unix_ns, size_t n, uint64_t first_index) = 0;
  // After the generator stopped: waits up to `drain_s` for outstanding responses, then closes.
  virtual void Finish(double drain_s) = 0;
  // Adds what was acknowledged (after Finish).
  virtual void CollectAcks(AckLedger* ledger) {}
};

// The tick driver's message source: a seeded random walk per symbol (2 bp steps, with optional
// jumps), one trade per event plus a 5-level book snapshot every `book_every` trades and after
// every jump, each trade traced from its intended time. Exposed so `scripts/bench loadgen` can
// measure the generator without a network. Allocates only inside the protobuf batch (reuse it).
class TickSource {
 public:
  TickSource(const ScenarioSpec& spec, uint32_t run_tag);
  // Replaces *out with events first..first+n-1; returns how many price jumps it made.
  int Build(const int64_t* intended_unix_ns, size_t n, uint64_t first, int64_t now_unix_ns,
            tickmesh::v1::MarketEventBatch* out);

 private:
  struct Walk {
    int64_t price_e8;
    uint64_t seq = 0;
    uint64_t steps = 0;
    uint64_t jumps = 0;
  };
  const ScenarioSpec& spec_;
  uint32_t run_tag_;
  std::mt19937_64 rng_;
  std::normal_distribution<double> step_{0.0, 1.0};
  std::vector<Walk> walks_;
};

// Makes the driver for one operation of kOperations. nullptr for an unknown name.
std::unique_ptr<Driver> MakeDriver(const std::string& operation, const DriverContext& ctx);

}  // namespace tickmesh::loadtest
