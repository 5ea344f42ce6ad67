// Fuzz target: arbitrary bytes as an AppendRequest, through the validator the Append RPC runs on
// every batch. Must never crash; a rejection must be INVALID_ARGUMENT naming a field, and a batch
// the validator accepts must be writable (every record maps to a table, a full row and a key).
// Seeds: tests/corpus/append_request/ (see tests/corpus/make_seeds.py).
#include <cstdint>
#include <cstdlib>

#include "google/protobuf/stubs/logging.h"
#include "schema.h"
#include "tickmesh/v1/persistence.pb.h"
#include "validate.h"

namespace {
// Malformed UTF-8 in string fields is an expected parse failure; keep the run's output readable.
[[maybe_unused]] const bool kQuietProtobuf = [] {
  google::protobuf::SetLogHandler(nullptr);
  return true;
}();

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tickmesh::persistence;  // NOLINT
  tickmesh::v1::AppendRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  const absl::Status st = ValidateAppendRequest(request);
  if (!st.ok()) {
    // A rejection is always INVALID_ARGUMENT with a field path ("records[i]..." or "records").
    if (!absl::IsInvalidArgument(st) || st.message().substr(0, 7) != "records") std::abort();
    return 0;
  }
  if (request.records_size() < 1 || request.records_size() > static_cast<int>(kMaxRecordsPerBatch))
    std::abort();
  for (const tickmesh::v1::Record& record : request.records()) {
    const TableSpec& spec = TableFor(record.kind_case());
    const SqlRow row = RowFor(record);
    if (row.size() != spec.columns.size() || KeyFor(record).empty()) std::abort();
  }
  return 0;
}
