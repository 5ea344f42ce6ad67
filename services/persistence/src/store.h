// Store: one connection to the system of record (PostgreSQL or SQLite). The same schema, the
// same natural-key idempotence and the same query SQL on both backends, so one test suite covers
// both.
//
// A Store is NOT thread-safe: each thread that does database I/O (the writer, the replay prober,
// each query worker) owns its own Store made by a StoreFactory. That is the connection pool.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tickmesh/v1/persistence.pb.h"

namespace tickmesh::persistence {

// A SQL value: NULL, an integer, or text/bytes.
using SqlValue = std::variant<std::monostate, int64_t, std::string>;
using SqlRow = std::vector<SqlValue>;

// A read-only statement with positional placeholders $1..$n (valid in both dialects) and its
// parameters. `name` is the low-cardinality query name used for metrics and slow-query logs.
struct SqlQuery {
  std::string name;
  std::string sql;
  std::vector<SqlValue> params;
};

class Store {
 public:
  virtual ~Store() = default;

  // "postgres" or "sqlite".
  virtual std::string_view backend() const = 0;

  // Connects if not connected and applies any pending schema migration (idempotent, safe to run
  // concurrently from several processes). Cheap when already connected. I/O.
  // UNAVAILABLE when the database cannot be reached.
  virtual absl::Status Connect() = 0;

  // Writes `records` (already validated) in ONE transaction: all or nothing, committed durably
  // on OK. Idempotent per natural key: a record whose key is stored is skipped; an order replaces
  // the stored row only with a higher version; an open candle is replaced by one with at least as
  // many trades or by its closed bar, a closed candle is final. I/O.
  // UNAVAILABLE: the database could not be reached or the commit outcome is unknown (retry or
  // spool; the write is idempotent). Any other code: the database refused the data.
  virtual absl::Status Write(absl::Span<const v1::Record* const> records) = 0;

  // Runs a read-only query and returns its rows; integer columns come back as int64_t, text and
  // bytea/blob columns as std::string. I/O. UNAVAILABLE when the database cannot be reached.
  virtual absl::StatusOr<std::vector<SqlRow>> Query(const SqlQuery& query) = 0;
};

// Makes a new, not yet connected Store. Thread-safe.
using StoreFactory = std::function<std::unique_ptr<Store>()>;

}  // namespace tickmesh::persistence
