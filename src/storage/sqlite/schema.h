// The database schema of the SQLite backend and the checks run before it is used. Internal.
//
//   kv      one row per key per revision that wrote it, kept until compaction, in a rowid table
//           (in revision order): key, revision, sub (order of the write within its revision),
//           create_revision, version, lease, deleted (a tombstone row records a deletion),
//           value, and prev_revision (mod_revision of the key's previous live row, for watch
//           prev_kv). Indexes (key, revision, deleted) for reads, (revision, sub) for watches
//           and compaction, (lease) for lease expiry.
//   leases  id, ttl_seconds.
//   meta    name -> integer: current_revision, compacted_revision, next_lease_id.
// The schema version is PRAGMA user_version. Version 1 had kv as a WITHOUT ROWID table keyed by
// (key, revision); it is migrated when opened.
#pragma once

#include <string>

#include "base/result.h"
#include "storage/sqlite/connection.h"

namespace kpp::storage::sqlite {

inline constexpr int kSchemaVersion = 2;

// Opens the writer connection to `path`, creating the file and schema when absent and
// migrating an older schema. Refuses,
// without modifying the file, a file that is not a SQLite database, is damaged
// (PRAGMA quick_check), is not a kpp database, or has a schema version newer than
// kSchemaVersion. Leaves the connection in WAL mode with synchronous=NORMAL: the store syncs
// the WAL itself before it acknowledges writes.
Result<Connection> OpenWriterConnection(const std::string& path);

// Opens a connection for reads to an existing, already checked database.
Result<Connection> OpenReaderConnection(const std::string& path);

}  // namespace kpp::storage::sqlite
