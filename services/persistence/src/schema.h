// The relational schema shared by both backends: versioned migrations, the column layout of each
// record kind and the conflict rule that makes writes idempotent.
//
// Money, prices and quantities are BIGINT *_e8 columns (exact fixed point, never floating
// point). Every table also stores the serialized proto in `body`, so queries return exactly what
// was written; the other columns exist to be filtered, ordered and indexed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store.h"
#include "tickmesh/v1/persistence.pb.h"

namespace tickmesh::persistence {

enum class Dialect { kPostgres, kSqlite };

struct Migration {
  int version;
  std::string name;
  // Statements applied in order inside one transaction.
  std::vector<std::string> statements;
};

// All migrations, ascending by version. Applied ones are recorded in
// schema_migrations(version, name, applied_unix_ns).
const std::vector<Migration>& Migrations(Dialect dialect);

enum class ConflictRule {
  kIgnore,         // key exists -> skip
  kHigherVersion,  // orders: replace only with a higher version
  kCandle,         // candles: open bar replaced by >= trade_count or the closed bar; closed final
};

struct TableSpec {
  std::string table;
  std::vector<std::string> columns;  // in RowFor order; the last one is `body`
  std::vector<std::string> key;      // natural key (primary key)
  ConflictRule conflict;
};

// The table a record kind lives in. Requires kind != KIND_NOT_SET.
const TableSpec& TableFor(v1::Record::KindCase kind);
// Every table spec, in a fixed order (used to group a batch by table).
const std::vector<const TableSpec*>& AllTables();

// The column values of a record, in TableFor(kind).columns order; `body` is the serialized
// message of the record's kind.
SqlRow RowFor(const v1::Record& record);

// The natural key of a record as one string (for de-duplicating a batch before a bulk upsert).
std::string KeyFor(const v1::Record& record);
// True if `a` should replace `b` (same key) under the table's conflict rule.
bool Supersedes(const v1::Record& a, const v1::Record& b);

// "INSERT INTO <table> (<cols>) <source> ON CONFLICT ..." for a source such as
// "VALUES ($1, ...)" or "SELECT <cols> FROM staging".
std::string UpsertSql(const TableSpec& spec, absl::string_view source);

}  // namespace tickmesh::persistence
