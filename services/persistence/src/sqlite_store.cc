#include "sqlite_store.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "schema.h"
#include "tickmesh/runtime/clock.h"

namespace tickmesh::persistence {

SqliteStore::SqliteStore(std::string path) : path_(std::move(path)) {}

SqliteStore::~SqliteStore() { Close(); }

void SqliteStore::Close() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  statements_.clear();
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

absl::Status SqliteStore::Error(int rc, absl::string_view what) {
  const std::string msg =
      absl::StrCat("sqlite ", what, ": ", db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc),
                   " (", path_, ")");
  switch (rc & 0xff) {
    // Transient or environmental: the data is fine, the database is not available right now.
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::Status SqliteStore::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (err != nullptr) sqlite3_free(err);
  if (rc != SQLITE_OK) return Error(rc, absl::StrCat("exec ", sql.substr(0, 60)));
  return absl::OkStatus();
}

absl::Status SqliteStore::Connect() {
  if (db_ != nullptr) return absl::OkStatus();
  int rc =
      sqlite3_open_v2(path_.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status st = Error(rc, "open");
    Close();
    return absl::UnavailableError(st.message());
  }
  sqlite3_busy_timeout(db_, 5000);
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=OFF"}) {
    absl::Status st = Exec(pragma);
    if (!st.ok()) {
      Close();
      return st;
    }
  }
  absl::Status st = Migrate();
  if (!st.ok()) Close();
  return st;
}

absl::Status SqliteStore::Migrate() {
  // BEGIN IMMEDIATE takes the write lock up front, so two processes never apply a migration twice.
  absl::Status st = Exec("BEGIN IMMEDIATE");
  if (!st.ok()) return st;
  auto fail = [&](absl::Status s) {
    Exec("ROLLBACK").IgnoreError();
    return s;
  };
  st = Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
      "NULL, applied_unix_ns BIGINT NOT NULL)");
  if (!st.ok()) return fail(st);
  auto applied = Query({"schema_version", "SELECT version FROM schema_migrations", {}});
  if (!applied.ok()) return fail(applied.status());
  std::set<int64_t> done;
  for (const SqlRow& row : *applied) done.insert(std::get<int64_t>(row[0]));
  for (const Migration& m : Migrations(Dialect::kSqlite)) {
    if (done.count(m.version) != 0) continue;
    for (const std::string& sql : m.statements) {
      st = Exec(sql);
      if (!st.ok()) return fail(st);
    }
    auto ins = Prepare(
        "INSERT INTO schema_migrations (version, name, applied_unix_ns) VALUES ($1, $2, $3)");
    if (!ins.ok()) return fail(ins.status());
    sqlite3_stmt* s = *ins;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, m.version);
    sqlite3_bind_text(s, 2, m.name.data(), static_cast<int>(m.name.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, runtime::NowUnixNs());
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return fail(Error(rc, "record migration"));
  }
  return Exec("COMMIT");
}

absl::StatusOr<sqlite3_stmt*> SqliteStore::Prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, absl::StrCat("prepare ", sql.substr(0, 80)));
  statements_.emplace(sql, stmt);
  return stmt;
}

namespace {

// Binds $1..$n by name (SQLite numbers named parameters by first appearance).
int BindAll(sqlite3_stmt* stmt, const std::vector<SqlValue>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string name = absl::StrCat("$", i + 1);
    int idx = sqlite3_bind_parameter_index(stmt, name.c_str());
    if (idx == 0) continue;  // parameter not used by this statement
    int rc = SQLITE_OK;
    if (std::holds_alternative<int64_t>(params[i])) {
      rc = sqlite3_bind_int64(stmt, idx, std::get<int64_t>(params[i]));
    } else if (std::holds_alternative<std::string>(params[i])) {
      const std::string& s = std::get<std::string>(params[i]);
      rc = sqlite3_bind_text(stmt, idx, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
    } else {
      rc = sqlite3_bind_null(stmt, idx);
    }
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

}  // namespace

absl::Status SqliteStore::Write(absl::Span<const v1::Record* const> records) {
  absl::Status st = Connect();
  if (!st.ok()) return st;
  st = Exec("BEGIN IMMEDIATE");
  if (!st.ok()) return st;
  for (const v1::Record* record : records) {
    const TableSpec& spec = TableFor(record->kind_case());
    std::string values = "VALUES (";
    for (size_t i = 0; i < spec.columns.size(); ++i) {
      absl::StrAppend(&values, i == 0 ? "" : ", ", "$", i + 1);
    }
    values += ")";
    auto stmt = Prepare(UpsertSql(spec, values));
    if (!stmt.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return stmt.status();
    }
    SqlRow row = RowFor(*record);
    sqlite3_stmt* s = *stmt;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    // The body column is the last one and holds bytes: bind it as a BLOB.
    int rc = BindAll(s, row);
    if (rc == SQLITE_OK) {
      const std::string& body = std::get<std::string>(row.back());
      rc = sqlite3_bind_blob(s, static_cast<int>(row.size()), body.data(),
                             static_cast<int>(body.size()), SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE && rc != SQLITE_OK) {
      absl::Status err = Error(rc, absl::StrCat("insert into ", spec.table));
      Exec("ROLLBACK").IgnoreError();
      return err;
    }
  }
  st = Exec("COMMIT");
  if (!st.ok()) Exec("ROLLBACK").IgnoreError();
  return st;
}

absl::StatusOr<std::vector<SqlRow>> SqliteStore::Query(const SqlQuery& query) {
  absl::Status st = Connect();
  if (!st.ok()) return st;
  auto stmt = Prepare(query.sql);
  if (!stmt.ok()) return stmt.status();
  sqlite3_stmt* s = *stmt;
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  int rc = BindAll(s, query.params);
  if (rc != SQLITE_OK) return Error(rc, "bind");
  std::vector<SqlRow> rows;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const int n = sqlite3_column_count(s);
    SqlRow row;
    row.reserve(n);
    for (int i = 0; i < n; ++i) {
      switch (sqlite3_column_type(s, i)) {
        case SQLITE_INTEGER:
          row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(s, i)));
          break;
        case SQLITE_NULL:
          row.emplace_back(std::monostate{});
          break;
        default: {
          const void* p = sqlite3_column_blob(s, i);
          const int len = sqlite3_column_bytes(s, i);
          row.emplace_back(std::string(static_cast<const char*>(p), p ? len : 0));
        }
      }
    }
    rows.push_back(std::move(row));
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return Error(rc, absl::StrCat("query ", query.name));
  return rows;
}

StoreFactory SqliteStoreFactory(std::string path) {
  return [path]() -> std::unique_ptr<Store> { return std::make_unique<SqliteStore>(path); };
}

}  // namespace tickmesh::persistence
