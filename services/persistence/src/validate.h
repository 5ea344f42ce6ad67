// Validation of AppendRequests before anything is queued or written: a batch is accepted or
// rejected whole, so a malformed record never leaves part of its batch behind.
#pragma once

#include <cstddef>

#include "absl/status/status.h"
#include "tickmesh/v1/persistence.pb.h"

namespace tickmesh::persistence {

// Most records one AppendRequest may carry (persistence.proto).
inline constexpr size_t kMaxRecordsPerBatch = 10000;
// Longest id / venue / symbol / asset / strategy string accepted in an indexed column.
inline constexpr size_t kMaxKeyBytes = 256;

// OK, or INVALID_ARGUMENT whose message names the first offending field, e.g.
// "records[3].fill.qty_e8: must be > 0 (got 0)". Checks: 1..10 000 records, each with a kind set;
// ids, venue, symbol, asset non-empty, at most 256 bytes and free of control characters; sides,
// statuses and types specified; quantities and prices positive where the domain requires it;
// timestamps positive; candle high >= low; signal strength finite in [0, 1].
absl::Status ValidateAppendRequest(const v1::AppendRequest& request);

// The same checks for one record; `where` prefixes the field path in the message.
absl::Status ValidateRecord(const v1::Record& record, const std::string& where);

}  // namespace tickmesh::persistence
