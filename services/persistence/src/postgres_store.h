// PostgresStore: the production backend, one libpqxx connection (reconnected on demand).
// Insert-only tables (every kind but orders and candles) are written with COPY straight into the
// table inside a savepoint; if a key is already stored (resubmission, spool replay) the savepoint
// is rolled back and the rows go the upsert way. Orders and candles, and that fallback, use COPY
// (pqxx::stream_to) into per-session temporary staging tables and INSERT ... SELECT ... ON
// CONFLICT, so a resubmitted record is never duplicated.
// Reads use prepared statements, prepared once per connection per distinct SQL text.
#pragma once

#include <map>
#include <memory>
#include <pqxx/connection>
#include <string>

#include "store.h"

namespace tickmesh::persistence {

// Checks a postgresql:// (or postgres://) URL: scheme, a host, and a database name; a port if
// given must be 1..65535. INVALID_ARGUMENT describing the problem (never echoes a password).
absl::Status ValidatePostgresUrl(const std::string& url);

class PostgresStore : public Store {
 public:
  // `url` as accepted by ValidatePostgresUrl. Does not connect yet.
  explicit PostgresStore(std::string url);
  ~PostgresStore() override;

  std::string_view backend() const override { return "postgres"; }
  absl::Status Connect() override;
  absl::Status Write(absl::Span<const v1::Record* const> records) override;
  absl::StatusOr<std::vector<SqlRow>> Query(const SqlQuery& query) override;

 private:
  absl::Status Migrate();
  // Maps the exception in flight to a Status and drops the connection when it is unusable.
  absl::Status FromException(absl::string_view what);
  void Drop();

  std::string url_;
  std::unique_ptr<pqxx::connection> conn_;
  // SQL text -> prepared statement name, for this connection.
  std::map<std::string, std::string> prepared_;
};

// A factory of PostgresStores on one URL.
StoreFactory PostgresStoreFactory(std::string url);

}  // namespace tickmesh::persistence
