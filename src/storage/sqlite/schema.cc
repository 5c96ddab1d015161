#include "storage/sqlite/schema.h"

#include <fmt/format.h>

#include "base/files.h"
#include "base/log.h"

namespace kpp::storage::sqlite {
namespace {

// The kv table of schema version 2. Its rows are as big as their values, so they live in an
// ordinary rowid table, in revision order; the (key, revision, deleted) index answers which row
// of a key is live at a revision without reading the rows themselves.
constexpr std::string_view kCreateKvTable = R"sql(
CREATE TABLE kv (
  id INTEGER PRIMARY KEY,
  key BLOB NOT NULL,
  revision INTEGER NOT NULL,
  sub INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  version INTEGER NOT NULL,
  lease INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  value BLOB NOT NULL
);
)sql";

constexpr std::string_view kCreateKvIndexes = R"sql(
CREATE UNIQUE INDEX kv_by_key ON kv (key, revision, deleted);
CREATE UNIQUE INDEX kv_by_revision ON kv (revision, sub);
CREATE INDEX kv_by_lease ON kv (lease) WHERE lease != 0;
)sql";

constexpr std::string_view kCreateOtherTables = R"sql(
CREATE TABLE leases (
  id INTEGER PRIMARY KEY,
  ttl_seconds INTEGER NOT NULL
);
CREATE TABLE meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (name, value) VALUES
  ('current_revision', 0), ('compacted_revision', 0), ('next_lease_id', 1);
)sql";

// Version 1 kept kv as a WITHOUT ROWID table keyed by (key, revision): with values of a KiB and
// more every row spilled to overflow pages, which made ranges several times slower.
constexpr std::string_view kMigrateFrom1 = R"sql(
ALTER TABLE kv RENAME TO kv_version1;
DROP INDEX kv_by_revision;
DROP INDEX kv_by_lease;
{create_kv}
INSERT INTO kv (key, revision, sub, create_revision, prev_revision, version, lease, deleted, value)
  SELECT key, revision, sub, create_revision, prev_revision, version, lease, deleted, value
  FROM kv_version1 ORDER BY revision, sub;
DROP TABLE kv_version1;
{create_indexes}
)sql";

// Errors about the file itself: they name it and say what to do, since the store cannot start.
Error Refuse(const std::string& path, std::string_view problem) {
  return InternalError(fmt::format(
      "refusing to use the database {}: {}. The file was left untouched; move it aside to start "
      "with an empty store, or restore a backup",
      path, problem));
}

Status Configure(Connection& db, bool writer) {
  KPP_RETURN_IF_ERROR(db.Exec("PRAGMA busy_timeout = 10000"));
  if (writer) {
    // WAL lets readers run beside the single writer. NORMAL: a commit does not wait for the
    // disk; the store fsyncs the WAL itself before it acknowledges a write (one fsync for all
    // writes committed meanwhile), which makes them as durable as FULL would. Checkpoints still
    // sync the WAL before and the database after, and the WAL header when it is reused.
    KPP_ASSIGN_OR_RETURN(auto journal, db.Prepare("PRAGMA journal_mode = WAL"));
    KPP_ASSIGN_OR_RETURN(const bool row, journal.Step());
    if (!row || journal.ColumnBlob(0) != "wal")
      return InternalError(fmt::format("{}: cannot switch to WAL mode", db.path()));
    KPP_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = NORMAL"));
    KPP_RETURN_IF_ERROR(db.Exec("PRAGMA journal_size_limit = 67108864"));
  } else {
    // A reader's page cache starts empty after every commit (WAL mode), so ranges read most
    // pages from the file again: mapped, that costs no system call and no copy.
    KPP_RETURN_IF_ERROR(db.Exec("PRAGMA mmap_size = 1073741824"));
  }
  return Ok();
}

// Brings a database of an older schema version to kSchemaVersion, in one transaction: a
// failure leaves it as it was.
Status Migrate(Connection& db, std::int64_t version) {
  KPP_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Status migrated = Ok();
  if (version == 1) {
    migrated = db.Exec(fmt::format(kMigrateFrom1, fmt::arg("create_kv", kCreateKvTable),
                                   fmt::arg("create_indexes", kCreateKvIndexes)));
  }
  if (migrated.ok()) migrated = db.Exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
  if (migrated.ok()) migrated = db.Exec("COMMIT");
  if (!migrated.ok()) {
    IgnoreError(db.Exec("ROLLBACK"));
    return std::move(migrated).error().WithContext(
        fmt::format("migrating the database {} from schema version {} to {}", db.path(), version,
                    kSchemaVersion));
  }
  KLOG_INFO("migrated store database {} from schema version {} to {}", db.path(), version,
            kSchemaVersion);
  return Ok();
}

}  // namespace

Result<Connection> OpenWriterConnection(const std::string& path) {
  const bool existed = PathExists(path);
  const int flags = SQLITE_OPEN_READWRITE | (existed ? 0 : SQLITE_OPEN_CREATE);
  KPP_ASSIGN_OR_RETURN(Connection db, Connection::Open(path, flags));
  // The first read of the header: random bytes fail here (SQLITE_NOTADB) without any write.
  auto version = db.QueryInt("PRAGMA user_version");
  if (!version.ok()) {
    if (existed)
      return Refuse(path, fmt::format("it is not a readable SQLite database ({})",
                                      version.error().message()));
    return std::move(version).error();
  }
  if (*version > kSchemaVersion) {
    return Refuse(path, fmt::format("its schema version is {}, newer than the version {} this "
                                    "kpp understands (written by a newer kpp?)",
                                    *version, kSchemaVersion));
  }
  if (*version == 0) {
    KPP_ASSIGN_OR_RETURN(const std::int64_t tables,
                         db.QueryInt("SELECT count(*) FROM sqlite_schema"));
    if (tables != 0)
      return Refuse(path, "it is a SQLite database but not a kpp store (no schema version)");
    KPP_RETURN_IF_ERROR(Configure(db, /*writer=*/true));
    KPP_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    Status created = db.Exec(kCreateKvTable);
    if (created.ok()) created = db.Exec(kCreateKvIndexes);
    if (created.ok()) created = db.Exec(kCreateOtherTables);
    if (created.ok()) created = db.Exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
    if (created.ok()) created = db.Exec("COMMIT");
    if (!created.ok()) {
      IgnoreError(db.Exec("ROLLBACK"));
      return std::move(created).error().WithContext("creating the schema in " + path);
    }
    KLOG_INFO("created store database {}", path);
    return db;
  }
  // A damaged page must stop the store before it serves wrong data or damages more.
  KPP_ASSIGN_OR_RETURN(auto check, db.Prepare("PRAGMA quick_check(1)"));
  auto row = check.Step();
  if (!row.ok()) return Refuse(path, fmt::format("it is damaged ({})", row.error().message()));
  const std::string verdict = *row ? check.ColumnBlob(0) : "no result";
  if (verdict != "ok") return Refuse(path, fmt::format("it is damaged (quick_check: {})", verdict));
  check = Statement();
  KPP_RETURN_IF_ERROR(Configure(db, /*writer=*/true));
  if (*version < kSchemaVersion) KPP_RETURN_IF_ERROR(Migrate(db, *version));
  return db;
}

Result<Connection> OpenReaderConnection(const std::string& path) {
  KPP_ASSIGN_OR_RETURN(Connection db, Connection::Open(path, SQLITE_OPEN_READWRITE));
  KPP_RETURN_IF_ERROR(Configure(db, /*writer=*/false));
  return db;
}

}  // namespace kpp::storage::sqlite
