#include "postgres_store.h"

#include <array>
#include <charconv>
#include <exception>
#include <pqxx/pqxx>
#include <pqxx/tablewriter>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "schema.h"
#include "tickmesh/runtime/clock.h"

namespace tickmesh::persistence {
namespace {

// Any stable 64-bit number: serialises migrations across processes.
constexpr int64_t kMigrationLockId = 0x746d5f70657273;  // "tm_pers"

// PostgreSQL OIDs of the integer types.
constexpr unsigned kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kByteaOid = 17;

std::string ToText(const SqlValue& v) {
  if (std::holds_alternative<int64_t>(v)) return std::to_string(std::get<int64_t>(v));
  if (std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
  return "";
}

// Adds connect_timeout and TCP keepalive settings unless the URL already sets them, so a dead
// server is noticed in seconds rather than minutes.
std::string WithTimeouts(const std::string& url) {
  std::string out = url;
  auto add = [&](absl::string_view key, absl::string_view value) {
    if (absl::StrContains(out, absl::StrCat(key, "="))) return;
    absl::StrAppend(&out, absl::StrContains(out, "?") ? "&" : "?", key, "=", value);
  };
  add("connect_timeout", "3");
  add("keepalives_idle", "5");
  add("keepalives_interval", "2");
  add("keepalives_count", "3");
  add("application_name", "tickmesh-persistence");
  return out;
}

// Appends `v` in COPY text format: backslash, newline, carriage return and tab escaped. Every
// other byte goes through as is (the special bytes are ASCII, so UTF-8 text is safe).
void AppendCopyText(std::string& out, absl::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out.push_back(c);
    }
  }
}

// Appends one row as a COPY text line (no newline). Columns are tab-separated; the last column
// (`body`, bytea) is hex: \x followed by two digits per byte, with the backslash escaped.
void AppendCopyRow(std::string& out, const SqlRow& row) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < row.size(); ++i) {
    if (i > 0) out.push_back('\t');
    const SqlValue& v = row[i];
    if (i + 1 == row.size()) {
      const std::string& bytes = std::get<std::string>(v);
      out += "\\\\x";
      const size_t at = out.size();
      out.resize(at + 2 * bytes.size());
      char* p = out.data() + at;
      for (unsigned char c : bytes) {
        *p++ = kDigits[c >> 4];
        *p++ = kDigits[c & 0xf];
      }
    } else if (std::holds_alternative<int64_t>(v)) {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), std::get<int64_t>(v));
      out.append(buf, end);
    } else if (std::holds_alternative<std::string>(v)) {
      AppendCopyText(out, std::get<std::string>(v));
    } else {
      out += "\\N";
    }
  }
}

// COPY of `rows` into `target` (a table or its staging table) within `tx`. Rows are formatted
// here into 64 KiB chunks, each handed to libpq in one call, so the database starts on a chunk
// while the next is formatted. (pqxx 6.4's stream_to converts and escapes field by field and
// sends line by line, which cost the writer thread more CPU than formatting the rows.)
// tablewriter is deprecated in 6.4 for its own escaping, which is not used here:
// write_raw_line sends the text formatted above.
void CopyRows(pqxx::transaction_base& tx, const std::string& target, const TableSpec& spec,
              const std::vector<const v1::Record*>& rows) {
  constexpr size_t kChunkBytes = 64 * 1024;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  pqxx::tablewriter copy(tx, target, spec.columns.begin(), spec.columns.end());
#pragma GCC diagnostic pop
  std::string chunk;
  chunk.reserve(kChunkBytes + 4096);
  for (const v1::Record* r : rows) {
    // write_raw_line adds the final newline; rows inside a chunk are newline-separated.
    if (!chunk.empty()) chunk.push_back('\n');
    AppendCopyRow(chunk, RowFor(*r));
    if (chunk.size() >= kChunkBytes) {
      copy.write_raw_line(chunk);
      chunk.clear();
    }
  }
  if (!chunk.empty()) copy.write_raw_line(chunk);
  copy.complete();
}

}  // namespace

absl::Status ValidatePostgresUrl(const std::string& url) {
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "postgresql://") || absl::ConsumePrefix(&rest, "postgres://")) {
  } else {
    return absl::InvalidArgumentError("must start with postgresql://");
  }
  const size_t q = rest.find('?');
  if (q != absl::string_view::npos) rest = rest.substr(0, q);
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos || slash + 1 >= rest.size()) {
    return absl::InvalidArgumentError("must name a database: postgresql://user@host:port/db");
  }
  absl::string_view authority = rest.substr(0, slash);
  const size_t at = authority.rfind('@');
  absl::string_view hostport = at == absl::string_view::npos ? authority : authority.substr(at + 1);
  if (hostport.empty()) return absl::InvalidArgumentError("must name a host");
  const size_t colon = hostport.rfind(':');
  if (colon != absl::string_view::npos && hostport.find(']') == absl::string_view::npos) {
    int port = 0;
    if (!absl::SimpleAtoi(hostport.substr(colon + 1), &port) || port < 1 || port > 65535) {
      return absl::InvalidArgumentError("port must be 1..65535");
    }
    if (colon == 0) return absl::InvalidArgumentError("must name a host");
  }
  return absl::OkStatus();
}

PostgresStore::PostgresStore(std::string url) : url_(WithTimeouts(url)) {}

PostgresStore::~PostgresStore() {
  try {
    conn_.reset();
  } catch (...) {
  }
}

void PostgresStore::Drop() {
  try {
    conn_.reset();
  } catch (...) {
    conn_.release();
  }
  prepared_.clear();
}

absl::Status PostgresStore::FromException(absl::string_view what) {
  absl::Status st;
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    st = absl::UnavailableError(absl::StrCat("postgres ", what, ": connection lost: ", e.what()));
  } catch (const pqxx::in_doubt_error& e) {
    st = absl::UnavailableError(
        absl::StrCat("postgres ", what, ": commit outcome unknown: ", e.what()));
  } catch (const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    const std::string cls = state.substr(0, 2);
    // 08 connection, 57 operator intervention (shutdown), 53 insufficient resources,
    // 40 serialization failure / deadlock: retryable, the data is fine.
    if (cls == "08" || cls == "57" || cls == "53" || cls == "40" || state.empty()) {
      st = absl::UnavailableError(absl::StrCat("postgres ", what, ": ", e.what()));
    } else {
      st = absl::InternalError(absl::StrCat("postgres ", what, " [", state, "]: ", e.what()));
    }
  } catch (const pqxx::failure& e) {
    st = absl::UnavailableError(absl::StrCat("postgres ", what, ": ", e.what()));
  } catch (const std::exception& e) {
    // Usage or conversion errors: a bug or bad data, not an outage.
    st = absl::InternalError(absl::StrCat("postgres ", what, ": ", e.what()));
  } catch (...) {
    st = absl::UnavailableError(absl::StrCat("postgres ", what, ": unknown error"));
  }
  // After any failure the session state (transaction, COPY) is uncertain: start over.
  Drop();
  return st;
}

absl::Status PostgresStore::Connect() {
  if (conn_ != nullptr && conn_->is_open()) return absl::OkStatus();
  Drop();
  try {
    conn_ = std::make_unique<pqxx::connection>(url_);
  } catch (...) {
    return FromException("connect");
  }
  absl::Status st = Migrate();
  if (!st.ok()) return st;
  try {
    // Session-local staging tables for COPY; emptied by every commit.
    pqxx::work tx(*conn_);
    for (const TableSpec* spec : AllTables()) {
      tx.exec0(absl::StrCat("CREATE TEMP TABLE IF NOT EXISTS staging_", spec->table, " (LIKE ",
                            spec->table, ") ON COMMIT DELETE ROWS"));
    }
    tx.commit();
    for (const TableSpec* spec : AllTables()) {
      conn_->prepare(absl::StrCat("move_", spec->table),
                     UpsertSql(*spec, absl::StrCat("SELECT ", absl::StrJoin(spec->columns, ", "),
                                                   " FROM staging_", spec->table)));
    }
  } catch (...) {
    return FromException("prepare session");
  }
  return absl::OkStatus();
}

absl::Status PostgresStore::Migrate() {
  try {
    pqxx::work tx(*conn_);
    tx.exec(absl::StrCat("SELECT pg_advisory_xact_lock(", kMigrationLockId, ")"));
    tx.exec0(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
        "NULL, applied_unix_ns BIGINT NOT NULL)");
    std::set<int> done;
    for (const auto& row : tx.exec("SELECT version FROM schema_migrations")) {
      done.insert(row[0].as<int>());
    }
    for (const Migration& m : Migrations(Dialect::kPostgres)) {
      if (done.count(m.version) != 0) continue;
      for (const std::string& sql : m.statements) tx.exec0(sql);
      tx.exec_params0(
          "INSERT INTO schema_migrations (version, name, applied_unix_ns) VALUES ($1, $2, $3)",
          m.version, m.name, runtime::NowUnixNs());
    }
    tx.commit();
  } catch (...) {
    return FromException("migrate");
  }
  return absl::OkStatus();
}

absl::Status PostgresStore::Write(absl::Span<const v1::Record* const> records) {
  absl::Status st = Connect();
  if (!st.ok()) return st;
  // Group by table. Tables with an update rule keep one record per key, the one that wins the
  // rule (ON CONFLICT DO UPDATE may not touch the same row twice in one statement). Insert-only
  // tables keep duplicates: a repeated key fails the direct COPY, and the fallback's ON CONFLICT
  // DO NOTHING skips the repeats.
  const auto& tables = AllTables();
  std::vector<std::vector<const v1::Record*>> by_table(tables.size());
  std::vector<std::unordered_map<std::string, size_t>> seen(tables.size());
  for (const v1::Record* r : records) {
    const TableSpec* spec = &TableFor(r->kind_case());
    size_t t = 0;
    while (tables[t] != spec) ++t;
    if (spec->conflict == ConflictRule::kIgnore) {
      by_table[t].push_back(r);
      continue;
    }
    auto [it, inserted] = seen[t].emplace(KeyFor(*r), by_table[t].size());
    if (inserted) {
      by_table[t].push_back(r);
    } else if (Supersedes(*r, *by_table[t][it->second])) {
      by_table[t][it->second] = r;
    }
  }
  try {
    pqxx::work tx(*conn_);
    for (size_t t = 0; t < tables.size(); ++t) {
      if (by_table[t].empty()) continue;
      const TableSpec& spec = *tables[t];
      if (spec.conflict == ConflictRule::kIgnore) {
        // Fast path for insert-only tables (fills, events, signals, ...): COPY straight into the
        // table inside a savepoint, the same work as a bulk load. A key that is already stored
        // (a resubmitted batch, a spool replay after a crash) or repeated within the group makes
        // the COPY fail with a unique violation; the savepoint is rolled back and the rows take
        // the upsert path below.
        try {
          pqxx::subtransaction direct(tx, "direct_copy");
          CopyRows(direct, spec.table, spec, by_table[t]);
          direct.commit();
          continue;
        } catch (const pqxx::unique_violation&) {
          // Rolled back to the savepoint by `direct`'s destructor; take the upsert path.
        }
      }
      CopyRows(tx, "staging_" + spec.table, spec, by_table[t]);
      tx.exec_prepared0("move_" + spec.table);
    }
    tx.commit();
  } catch (...) {
    return FromException("write");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SqlRow>> PostgresStore::Query(const SqlQuery& query) {
  absl::Status st = Connect();
  if (!st.ok()) return st;
  try {
    auto it = prepared_.find(query.sql);
    if (it == prepared_.end()) {
      const std::string name = absl::StrCat("q", prepared_.size());
      conn_->prepare(name, query.sql);
      it = prepared_.emplace(query.sql, name).first;
    }
    std::vector<std::string> params;
    params.reserve(query.params.size());
    for (const SqlValue& v : query.params) params.push_back(ToText(v));
    pqxx::read_transaction tx(*conn_);
    pqxx::result res = tx.exec_prepared(it->second, pqxx::prepare::make_dynamic_params(params));
    tx.commit();
    std::vector<SqlRow> rows;
    rows.reserve(res.size());
    const auto ncols = res.columns();
    for (const auto& r : res) {
      SqlRow row;
      row.reserve(ncols);
      for (pqxx::row::size_type i = 0; i < ncols; ++i) {
        const pqxx::field f = r[i];
        if (f.is_null()) {
          row.emplace_back(std::monostate{});
          continue;
        }
        const unsigned type = res.column_type(i);
        if (type == kInt8Oid || type == kInt4Oid || type == kInt2Oid) {
          row.emplace_back(f.as<int64_t>());
        } else if (type == kByteaOid) {
          row.emplace_back(pqxx::binarystring(f).str());
        } else {
          row.emplace_back(std::string(f.c_str(), f.size()));
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  } catch (...) {
    return FromException(absl::StrCat("query ", query.name));
  }
}

StoreFactory PostgresStoreFactory(std::string url) {
  return [url]() -> std::unique_ptr<Store> { return std::make_unique<PostgresStore>(url); };
}

}  // namespace tickmesh::persistence
