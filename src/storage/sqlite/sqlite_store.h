// The embedded Store: one SQLite database file, <dir>/state.db, in WAL mode. A write returns
// successfully only after the WAL holding it was fsynced, so it survives kill -9 and power loss.
//
// Writes are committed in groups, by the callers themselves (leader-follower, as RocksDB's write
// thread): one waiting caller leads, takes every write waiting at that moment, commits them in
// one transaction (each write still gets its own revision and result), fsyncs the WAL once,
// then hands the group's events to watchers in-process and answers the other callers. When a
// group had several writers, the next waits briefly (at most half an fsync) for them to come
// back, and is led by whichever caller completes it, so that concurrent writers keep sharing
// one fsync instead of splitting into groups that alternate. Reads see only synced revisions. A
// full disk fails writes with an error that says so (reads go on); a failed fsync stops all
// writes until the store is reopened, as the WAL's state on disk is then unknown.
//
// The database keeps one row per written key per revision until compaction, so reads at past
// revisions and watches from the past are served from it.
//
// History is compacted automatically every `compaction_interval`, to the revision that was
// current one interval earlier, but never within the last `compaction_min_retained_revisions`
// revisions: a watcher or paginated list always has at least one interval to catch up.
//
// Leases live in the database (id and TTL); their deadlines are kept in memory and, as in etcd,
// restart with their full TTL when the store is reopened.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "storage/store.h"

namespace kpp::storage {

struct SqliteStoreOptions {
  // Directory holding state.db (created with mode 0700 if missing). The server uses
  // <data-dir>/db.
  std::string dir;
  // Time for lease deadlines and the compaction schedule. Not owned; must outlive the store.
  Clock* clock = &RealClock();
  // 0 disables automatic compaction.
  std::chrono::nanoseconds compaction_interval = std::chrono::minutes(5);
  std::int64_t compaction_min_retained_revisions = 1000;
  // How often (in real time) the maintenance thread looks for expired leases and due
  // compactions. Lease expiry is late by at most this much.
  std::chrono::milliseconds maintenance_period = std::chrono::milliseconds(250);
  // Default WatchRequest::max_buffered_events.
  std::size_t watch_buffer_events = 10000;
  // Most writes committed in one transaction.
  std::size_t max_writes_per_commit = 512;
  // Most concurrent read connections.
  int max_readers = 8;
};

// Opens (creating if needed) the store in options.dir. Fails, leaving the file untouched, when
// state.db is not a SQLite database, is damaged, has a schema newer than this binary knows, or
// is in use by another process; the error names the file and the problem.
// The store is thread-safe; destroying it waits for in-flight writes and ends every watch.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteStoreOptions& options);

// The database file inside `dir`.
std::string SqliteDatabasePath(const std::string& dir);

}  // namespace kpp::storage
