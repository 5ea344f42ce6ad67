// SqliteStore: the embedded default backend. One sqlite3 connection to a file in WAL mode with
// synchronous=FULL, so a committed transaction has been fsync'd (a durable ack). Readers on
// other connections do not block the writer.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tickmesh::persistence {

class SqliteStore : public Store {
 public:
  // `path` is the database file (created if missing). Does not open it yet.
  explicit SqliteStore(std::string path);
  ~SqliteStore() override;

  std::string_view backend() const override { return "sqlite"; }
  absl::Status Connect() override;
  absl::Status Write(absl::Span<const v1::Record* const> records) override;
  absl::StatusOr<std::vector<SqlRow>> Query(const SqlQuery& query) override;

 private:
  absl::Status Exec(const std::string& sql);
  absl::Status Migrate();
  // Prepared statement cached by SQL text (finalized with the connection).
  absl::StatusOr<sqlite3_stmt*> Prepare(const std::string& sql);
  absl::Status Error(int rc, absl::string_view what);
  void Close();

  std::string path_;
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*> statements_;
};

// A factory of SqliteStores on one file.
StoreFactory SqliteStoreFactory(std::string path);

}  // namespace tickmesh::persistence
