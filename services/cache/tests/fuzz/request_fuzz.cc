// Fuzz target: request bytes as they arrive over gRPC → protobuf parse → the service's
// validation → (if valid) the L1 tier. The first byte picks the message (Get, Set, Delete, MGet,
// MSet); the rest is its wire encoding. Must never crash; a rejection must be INVALID_ARGUMENT
// naming a field; an accepted request must satisfy every documented limit (checked again here
// independently), and a valid Set/MSet stored in L1 must read back as the last value written.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "google/protobuf/stubs/logging.h"
#include "l1_cache.h"
#include "tickmesh/v1/cache.pb.h"
#include "validation.h"

namespace {

namespace cache = tickmesh::cache;
namespace v1 = tickmesh::v1;

void Check(bool cond) {
  if (!cond) std::abort();
}

bool KeyWithinLimits(std::string_view k) {
  if (k.empty() || k.size() > cache::kMaxKeyBytes) return false;
  for (char c : k) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) return false;
  }
  return true;
}

void CheckRejection(const absl::Status& s) {
  Check(s.code() == absl::StatusCode::kInvalidArgument);
  const absl::string_view m = s.message();
  Check(m.rfind("key", 0) == 0 || m.rfind("value", 0) == 0 || m.rfind("ttl_ms", 0) == 0 ||
        m.rfind("keys", 0) == 0 || m.rfind("entries", 0) == 0);
}

// Stores the valid entries in a small L1 and reads them back (last write per key wins).
void RoundTrip(const google::protobuf::RepeatedPtrField<v1::SetRequest>& entries) {
  cache::FakeClock clock;
  cache::L1Options o;
  o.max_entries = 4096;
  o.max_bytes = size_t{64} << 20;
  o.shards = 4;
  o.clock = &clock;
  cache::L1Cache l1(o);
  absl::flat_hash_map<std::string, std::string> want;
  for (const auto& e : entries) {
    Check(l1.Set(e.key(), e.value(), e.ttl_ms()));
    want[e.key()] = e.value();
  }
  std::string v;
  int64_t ttl = 0;
  for (const auto& [k, value] : want) {
    Check(l1.Get(k, &v, &ttl));
    Check(v == value);
  }
  Check(l1.entries() == want.size());
  for (const auto& [k, value] : want) Check(l1.Delete(k));
  Check(l1.entries() == 0 && l1.bytes() == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Invalid UTF-8 in a string field is a parse failure, which protobuf also logs: keep quiet.
  static const bool kQuiet = (google::protobuf::SetLogHandler(nullptr), true);
  (void)kQuiet;
  if (size == 0) return 0;
  const uint8_t kind = data[0] % 5;
  const void* body = data + 1;
  const int len = static_cast<int>(size - 1);
  switch (kind) {
    case 0: {
      v1::GetRequest req;
      if (!req.ParseFromArray(body, len)) return 0;
      absl::Status s = cache::ValidateRequest(req);
      s.ok() ? Check(KeyWithinLimits(req.key())) : CheckRejection(s);
      break;
    }
    case 1: {
      v1::SetRequest req;
      if (!req.ParseFromArray(body, len)) return 0;
      absl::Status s = cache::ValidateRequest(req);
      if (!s.ok()) {
        CheckRejection(s);
        break;
      }
      Check(KeyWithinLimits(req.key()) && req.value().size() <= cache::kMaxValueBytes &&
            req.ttl_ms() >= 0 && req.ttl_ms() <= cache::kMaxTtlMs);
      google::protobuf::RepeatedPtrField<v1::SetRequest> one;
      *one.Add() = req;
      RoundTrip(one);
      break;
    }
    case 2: {
      v1::DeleteRequest req;
      if (!req.ParseFromArray(body, len)) return 0;
      absl::Status s = cache::ValidateRequest(req);
      s.ok() ? Check(KeyWithinLimits(req.key())) : CheckRejection(s);
      break;
    }
    case 3: {
      v1::MGetRequest req;
      if (!req.ParseFromArray(body, len)) return 0;
      absl::Status s = cache::ValidateRequest(req);
      if (!s.ok()) {
        CheckRejection(s);
        break;
      }
      Check(static_cast<size_t>(req.keys_size()) <= cache::kMaxBatchEntries);
      for (const auto& k : req.keys()) Check(KeyWithinLimits(k));
      break;
    }
    case 4: {
      v1::MSetRequest req;
      if (!req.ParseFromArray(body, len)) return 0;
      absl::Status s = cache::ValidateRequest(req);
      if (!s.ok()) {
        CheckRejection(s);
        break;
      }
      Check(static_cast<size_t>(req.entries_size()) <= cache::kMaxBatchEntries);
      for (const auto& e : req.entries()) {
        Check(KeyWithinLimits(e.key()) && e.value().size() <= cache::kMaxValueBytes &&
              e.ttl_ms() >= 0 && e.ttl_ms() <= cache::kMaxTtlMs);
      }
      RoundTrip(req.entries());
      break;
    }
  }
  return 0;
}
