#include "storage/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "base/files.h"
#include "base/log.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/reader.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/watch_hub.h"

namespace kpp::storage {
namespace sqlite {
namespace {

using namespace std::chrono_literals;

Error ClosedError() {
  return Error(ErrorCode::kServiceUnavailable, "the store is closed");
}

// What the store shares with its watchers, which may outlive it.
struct Core {
  Core(const std::string& path, int max_readers, Revision published)
      : readers(path, max_readers), hub(published) {}
  ReaderPool readers;
  WatchHub hub;
};

// Holds an exclusive flock on <db>.lock: two processes writing one database would hand out the
// same revisions. The kernel drops the lock when the process dies, so kill -9 needs no cleanup.
class ProcessLock {
 public:
  ProcessLock() = default;
  ProcessLock(const ProcessLock&) = delete;
  ProcessLock& operator=(const ProcessLock&) = delete;
  ~ProcessLock() {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Acquire(const std::string& db_path) {
    const std::string path = db_path + ".lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) return InternalError(fmt::format("opening {}: {}", path, std::strerror(errno)));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      return Error(ErrorCode::kServiceUnavailable,
                   fmt::format("the database {} is in use by another process ({} is locked)",
                               db_path, path));
    }
    return Ok();
  }

 private:
  int fd_ = -1;
};

// The writer's view of the revision counters while a batch is open; copied back on commit.
struct Counters {
  Revision revision = 0;
  Revision compacted = 0;
  LeaseId next_lease_id = 1;
};

struct Batch {
  Counters counters;
  // Events of the writes applied so far, in revision order.
  std::vector<Event> events;
};

// One write waiting for the writer thread; the caller blocks on its result.
class PendingWrite {
 public:
  virtual ~PendingWrite() = default;
  // Runs inside the batch's transaction on the writer thread.
  virtual Status Apply(Batch& batch) = 0;
  // After the batch committed, before its events are published: updates in-memory state, so
  // that whoever sees an event also sees its effects (e.g. a revoked lease is gone).
  virtual void CommitEffects() = 0;
  // Last, after the events were published: answers the caller.
  virtual void Resolve() = 0;
  virtual void Fail(Error error) = 0;
};

template <typename T>
class TypedWrite final : public PendingWrite {
 public:
  using ApplyFunction = std::function<Result<T>(Batch&)>;
  using CommitFunction = std::function<void(const T&)>;

  TypedWrite(ApplyFunction apply, CommitFunction on_commit)
      : apply_(std::move(apply)), on_commit_(std::move(on_commit)) {}

  std::future<Result<T>> future() { return promise_.get_future(); }

  Status Apply(Batch& batch) override {
    Result<T> result = apply_(batch);
    if (!result.ok()) return std::move(result).error();
    value_.emplace(std::move(result).value());
    return Ok();
  }
  void CommitEffects() override {
    if (on_commit_) on_commit_(*value_);
  }
  void Resolve() override { promise_.set_value(std::move(*value_)); }
  void Fail(Error error) override { promise_.set_value(std::move(error)); }

 private:
  ApplyFunction apply_;
  CommitFunction on_commit_;
  std::optional<T> value_;
  std::promise<Result<T>> promise_;
};

// A batch the writer committed to the WAL (or failed to), to be answered once the WAL is synced.
struct CommittedBatch {
  std::vector<std::unique_ptr<PendingWrite>> writes;
  // Per write: its own error (it was rolled back to its savepoint; the others went on).
  std::vector<std::optional<Error>> errors;
  std::vector<Event> events;
  Revision revision = 0;
  // Set when the batch did not commit: every write fails with it (or with its own error).
  std::optional<Error> failure;
};

struct LeaseState {
  std::chrono::seconds ttl{0};
  std::chrono::steady_clock::time_point deadline;
};

template <typename T>
bool Holds(Compare::Relation relation, const T& actual, const T& expected) {
  switch (relation) {
    case Compare::Relation::kEqual: return actual == expected;
    case Compare::Relation::kNotEqual: return actual != expected;
    case Compare::Relation::kLess: return actual < expected;
    case Compare::Relation::kGreater: return actual > expected;
  }
  return false;
}

bool CompareHolds(const Compare& compare, const std::optional<KeyValue>& current) {
  if (compare.target == Compare::Target::kValue)
    return current.has_value() && Holds(compare.relation, current->value, compare.value);
  std::int64_t actual = 0;
  if (current) {
    switch (compare.target) {
      case Compare::Target::kVersion: actual = current->version; break;
      case Compare::Target::kCreateRevision: actual = current->create_revision; break;
      case Compare::Target::kModRevision: actual = current->mod_revision; break;
      case Compare::Target::kLease: actual = current->lease; break;
      case Compare::Target::kValue: break;
    }
  }
  return Holds(compare.relation, actual, compare.number);
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const SqliteStoreOptions& options)
      : options_(options), path_(SqliteDatabasePath(options.dir)) {}

  ~SqliteStore() override {
    {
      std::lock_guard lock(maintenance_mutex_);
      stop_maintenance_ = true;
    }
    maintenance_wakeup_.notify_all();
    if (maintenance_.joinable()) maintenance_.join();
    {
      std::lock_guard lock(queue_mutex_);
      stopping_ = true;
    }
    queue_changed_.notify_all();
    if (writer_.joinable()) writer_.join();
    if (wal_fd_ >= 0) ::close(wal_fd_);
    if (core_) core_->hub.Close(ClosedError());
  }

  Status Open() {
    KPP_RETURN_IF_ERROR(EnsureWritableDirectory(options_.dir, 0700));
    KPP_RETURN_IF_ERROR(lock_.Acquire(path_));
    KPP_ASSIGN_OR_RETURN(db_, OpenWriterConnection(path_));
    KPP_RETURN_IF_ERROR(PrepareStatements());
    KPP_RETURN_IF_ERROR(LoadState());
    // The writer connection has created the WAL file by now (its reads did); it stays the same
    // file for as long as a connection is open.
    const std::string wal_path = path_ + "-wal";
    wal_fd_ = ::open(wal_path.c_str(), O_RDWR | O_CLOEXEC);
    if (wal_fd_ < 0)
      return InternalError(fmt::format("opening {}: {}", wal_path, std::strerror(errno)));
    core_ = std::make_shared<Core>(path_, options_.max_readers, counters_.revision);
    compacted_revision_ = counters_.compacted;
    writer_ = std::thread([this] { WriterLoop(); });
    maintenance_ = std::thread([this] { MaintenanceLoop(); });
    KLOG_INFO("store {} opened at revision {} (compacted {}, {} leases)", path_, counters_.revision,
              counters_.compacted, leases_.size());
    return Ok();
  }

  Result<RangeResult> Range(const RangeRequest& request) override {
    if (request.key.empty() && request.range_end.empty())
      return BadRequestError("key must not be empty");
    // Reads see what is durable: a write committed to the WAL but not yet synced is not.
    return core_->readers.Range(request, core_->hub.published());
  }

  Result<TxnResult> Txn(const TxnRequest& request) override {
    KPP_RETURN_IF_ERROR(ValidateTxn(request));
    return Submit<TxnResult>([this, &request](Batch& batch) { return ApplyTxn(batch, request); });
  }

  Result<std::unique_ptr<Watcher>> Watch(const WatchRequest& request) override {
    if (request.key.empty() && request.range_end.empty())
      return BadRequestError("key must not be empty");
    if (request.start_revision < 0) return BadRequestError("negative start revision");
    const Revision start =
        request.start_revision == 0 ? core_->hub.published() + 1 : request.start_revision;
    const Revision compacted = compacted_revision_.load();
    if (start < compacted) return CompactedError(start, compacted);
    const std::size_t buffer = request.max_buffered_events > 0 ? request.max_buffered_events
                                                               : options_.watch_buffer_events;
    return NewWatcher(core_, &core_->hub, &core_->readers, request, start, buffer);
  }

  Status Compact(Revision revision) override {
    auto result = Submit<Revision>([this, revision](Batch& batch) -> Result<Revision> {
      KPP_RETURN_IF_ERROR(ApplyCompact(batch, revision));
      return revision;
    });
    if (!result.ok()) return std::move(result).error();
    return Ok();
  }

  Result<LeaseId> GrantLease(std::chrono::seconds ttl) override {
    if (ttl <= 0s) return BadRequestError("lease TTL must be positive");
    return Submit<LeaseId>(
        [this, ttl](Batch& batch) -> Result<LeaseId> {
          const LeaseId id = batch.counters.next_lease_id++;
          Statement& insert = statements_.insert_lease;
          ResetGuard reset(insert);
          insert.BindInt(1, id);
          insert.BindInt(2, ttl.count());
          KPP_RETURN_IF_ERROR(insert.Run());
          return id;
        },
        [this, ttl](const LeaseId& id) {
          std::lock_guard lock(leases_mutex_);
          leases_[id] = LeaseState{ttl, options_.clock->Monotonic() + ttl};
        });
  }

  Status RevokeLease(LeaseId id) override {
    auto result = Submit<LeaseId>(
        [this, id](Batch& batch) -> Result<LeaseId> {
          KPP_RETURN_IF_ERROR(ApplyRevoke(batch, id));
          return id;
        },
        [this](const LeaseId& revoked) {
          std::lock_guard lock(leases_mutex_);
          leases_.erase(revoked);
        });
    if (!result.ok()) return std::move(result).error();
    return Ok();
  }

  Result<std::chrono::seconds> KeepAliveLease(LeaseId id) override {
    std::lock_guard lock(leases_mutex_);
    auto it = leases_.find(id);
    if (it == leases_.end()) return LeaseNotFound(id);
    it->second.deadline = options_.clock->Monotonic() + it->second.ttl;
    return it->second.ttl;
  }

  Result<LeaseInfo> GetLease(LeaseId id) override {
    std::lock_guard lock(leases_mutex_);
    auto it = leases_.find(id);
    if (it == leases_.end()) return LeaseNotFound(id);
    const auto remaining = it->second.deadline - options_.clock->Monotonic();
    return LeaseInfo{
        .id = id,
        .granted_ttl = it->second.ttl,
        .remaining_ttl = std::max(0s, std::chrono::ceil<std::chrono::seconds>(remaining))};
  }

  Status Health() override {
    {
      std::lock_guard lock(queue_mutex_);
      if (stopping_) return ClosedError();
      if (broken_) return *broken_;
    }
    {
      std::lock_guard lock(health_mutex_);
      if (last_commit_error_)
        return Error(ErrorCode::kServiceUnavailable,
                     "the last commit failed: " + last_commit_error_->message());
    }
    return core_->readers.Ping();
  }

  Result<Revision> CurrentRevision() override { return core_->hub.published(); }
  Result<Revision> CompactedRevision() override { return compacted_revision_.load(); }

 private:
  struct Statements {
    Statement begin, commit, rollback, savepoint, release, rollback_to;
    Statement latest, insert_row, lease_exists, lease_keys, insert_lease, delete_lease;
    Statement set_meta, compact;
  };

  static Error LeaseNotFound(LeaseId id) {
    return NotFoundError(fmt::format("requested lease not found (lease {})", id));
  }

  Status PrepareStatements() {
    Statements& s = statements_;
    KPP_ASSIGN_OR_RETURN(s.begin, db_.Prepare("BEGIN IMMEDIATE"));
    KPP_ASSIGN_OR_RETURN(s.commit, db_.Prepare("COMMIT"));
    KPP_ASSIGN_OR_RETURN(s.rollback, db_.Prepare("ROLLBACK"));
    KPP_ASSIGN_OR_RETURN(s.savepoint, db_.Prepare("SAVEPOINT write"));
    KPP_ASSIGN_OR_RETURN(s.release, db_.Prepare("RELEASE write"));
    KPP_ASSIGN_OR_RETURN(s.rollback_to, db_.Prepare("ROLLBACK TO write"));
    KPP_ASSIGN_OR_RETURN(s.latest,
                         db_.Prepare("SELECT revision, create_revision, version, lease, deleted, "
                                     "value FROM kv WHERE key = ?1 ORDER BY revision DESC "
                                     "LIMIT 1"));
    KPP_ASSIGN_OR_RETURN(
        s.insert_row,
        db_.Prepare("INSERT INTO kv (key, revision, sub, create_revision, prev_revision, "
                    "version, lease, deleted, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    KPP_ASSIGN_OR_RETURN(s.lease_exists, db_.Prepare("SELECT 1 FROM leases WHERE id = ?1"));
    KPP_ASSIGN_OR_RETURN(
        s.lease_keys,
        db_.Prepare("SELECT k.key FROM kv k WHERE k.lease = ?1 AND k.lease != 0 "
                    "AND k.deleted = 0 AND NOT EXISTS (SELECT 1 FROM kv n WHERE n.key = k.key "
                    "AND n.revision > k.revision) ORDER BY k.key"));
    KPP_ASSIGN_OR_RETURN(s.insert_lease,
                         db_.Prepare("INSERT INTO leases (id, ttl_seconds) VALUES (?1, ?2)"));
    KPP_ASSIGN_OR_RETURN(s.delete_lease, db_.Prepare("DELETE FROM leases WHERE id = ?1"));
    KPP_ASSIGN_OR_RETURN(s.set_meta, db_.Prepare("UPDATE meta SET value = ?2 WHERE name = ?1"));
    // Rows older than the compaction revision go when a newer row of the same key at or below
    // it exists, and tombstones go outright: what stays is each key's value as of the
    // compaction revision, which is what reads and watches from there on need.
    KPP_ASSIGN_OR_RETURN(
        s.compact,
        db_.Prepare("DELETE FROM kv WHERE revision < ?1 AND (deleted = 1 OR EXISTS (SELECT 1 "
                    "FROM kv n WHERE n.key = kv.key AND n.revision > kv.revision AND "
                    "n.revision <= ?1))"));
    return Ok();
  }

  Status LoadState() {
    KPP_ASSIGN_OR_RETURN(counters_.revision,
                         db_.QueryInt("SELECT max((SELECT value FROM meta WHERE name = "
                                      "'current_revision'), (SELECT coalesce(max(revision), 0) "
                                      "FROM kv))"));
    KPP_ASSIGN_OR_RETURN(counters_.compacted,
                         db_.QueryInt("SELECT value FROM meta WHERE name = 'compacted_revision'"));
    KPP_ASSIGN_OR_RETURN(counters_.next_lease_id,
                         db_.QueryInt("SELECT max((SELECT value FROM meta WHERE name = "
                                      "'next_lease_id'), (SELECT coalesce(max(id), 0) + 1 FROM "
                                      "leases))"));
    // As in etcd, a lease's countdown restarts with its full TTL when the store restarts.
    KPP_ASSIGN_OR_RETURN(auto leases, db_.Prepare("SELECT id, ttl_seconds FROM leases"));
    const auto now = options_.clock->Monotonic();
    while (true) {
      KPP_ASSIGN_OR_RETURN(const bool row, leases.Step());
      if (!row) break;
      const std::chrono::seconds ttl(leases.ColumnInt(1));
      leases_[leases.ColumnInt(0)] = LeaseState{ttl, now + ttl};
    }
    return Ok();
  }

  // Queues a write for the writer thread and waits for its result.
  template <typename T>
  Result<T> Submit(typename TypedWrite<T>::ApplyFunction apply,
                   typename TypedWrite<T>::CommitFunction on_commit = nullptr) {
    auto write = std::make_unique<TypedWrite<T>>(std::move(apply), std::move(on_commit));
    auto future = write->future();
    {
      std::lock_guard lock(queue_mutex_);
      if (stopping_) return ClosedError();
      if (broken_) return *broken_;
      queue_.push_back(std::move(write));
    }
    queue_changed_.notify_one();
    return future.get();
  }

  // The writer thread, round after round: gather the waiting writes, commit them in one
  // transaction, fsync the WAL once, then publish their events and answer the callers.
  void WriterLoop() {
    std::vector<std::unique_ptr<PendingWrite>> writes;
    std::size_t last_round = 1;             // writes the last round answered
    std::chrono::nanoseconds sync_time{0};  // how long an fsync takes (a moving average)
    while (true) {
      {
        std::unique_lock lock(queue_mutex_);
        queue_changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and every accepted write has been answered
        // The callers the last round answered tend to write again at once. Taking only the
        // first of them would leave the rest for the round after: concurrent writers would split
        // into two groups that alternate, each fsync covering half of them. A short wait for
        // the group to gather again (at most half an fsync) lets one transaction and one fsync
        // cover them all; a lone writer (a round of one) never waits.
        queue_changed_.wait_for(lock, std::min<std::chrono::nanoseconds>(sync_time / 2, 1ms),
                                [&] { return stopping_ || queue_.size() >= last_round; });
        while (!queue_.empty() && writes.size() < options_.max_writes_per_commit) {
          writes.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      last_round = writes.size();
      CommittedBatch batch = Commit(writes);
      if (!batch.failure) {
        const auto started = std::chrono::steady_clock::now();
        if (::fdatasync(wal_fd_) != 0) Break(errno);
        sync_time = (sync_time * 7 + (std::chrono::steady_clock::now() - started)) / 8;
      }
      Answer(batch);
      writes.clear();
    }
  }

  // Commits `writes` in one transaction; each runs inside a savepoint so that one failing write
  // leaves the others in the batch intact. The commit does not wait for the disk (the writer
  // connection runs with synchronous=NORMAL): the caller fsyncs the WAL before answering.
  CommittedBatch Commit(std::vector<std::unique_ptr<PendingWrite>>& writes) {
    if (std::optional<Error> broken = BrokenError()) {
      // Nothing more goes into a WAL whose state on disk is unknown.
      std::vector<std::optional<Error>> no_errors(writes.size());
      return CommittedBatch{.writes = std::move(writes),
                            .errors = std::move(no_errors),
                            .events = {},
                            .revision = 0,
                            .failure = std::move(broken)};
    }
    Batch batch{.counters = counters_, .events = {}};
    std::vector<std::optional<Error>> errors(writes.size());
    Status status = RunStatement(statements_.begin);
    for (std::size_t i = 0; i < writes.size() && status.ok(); ++i) {
      status = RunStatement(statements_.savepoint);
      if (!status.ok()) break;
      const Counters before = batch.counters;
      const std::size_t events_before = batch.events.size();
      Status applied = writes[i]->Apply(batch);
      if (applied.ok()) {
        status = RunStatement(statements_.release);
        continue;
      }
      // A failed write normally leaves the transaction open, to be undone to its savepoint. On
      // some errors (a full disk, I/O) SQLite rolls the whole transaction back: then the batch
      // has failed, with that error.
      if (sqlite3_get_autocommit(db_.raw()) != 0) {
        status = std::move(applied).error();
        break;
      }
      errors[i] = std::move(applied).error();
      batch.counters = before;
      batch.events.resize(events_before);
      status = RunStatement(statements_.rollback_to);
      if (status.ok()) status = RunStatement(statements_.release);
    }
    if (status.ok()) status = SaveCounters(batch.counters);
    if (status.ok()) status = RunStatement(statements_.commit);
    CommittedBatch committed{.writes = std::move(writes),
                             .errors = std::move(errors),
                             .events = std::move(batch.events),
                             .revision = batch.counters.revision,
                             .failure = std::nullopt};
    if (!status.ok()) {
      KLOG_ERROR("store {}: commit of {} writes failed: {}", path_, committed.writes.size(),
                 status.error().message());
      IgnoreError(RunStatement(statements_.rollback));
      {
        std::lock_guard lock(health_mutex_);
        last_commit_error_ = status.error();
      }
      committed.failure = std::move(status).error();
    } else {
      counters_ = batch.counters;
      compacted_revision_ = counters_.compacted;
      std::lock_guard lock(health_mutex_);
      last_commit_error_.reset();
    }
    return committed;
  }

  // After a failed fsync the kernel may have dropped the pages it could not write, so what the
  // WAL holds on disk is unknown: the store takes no more writes and must be reopened.
  void Break(int error) {
    const Error broken(
        ErrorCode::kServiceUnavailable,
        fmt::format("syncing {}-wal failed ({}): writes committed since the last sync may or may "
                    "not be on disk; the store takes no more writes until it is reopened",
                    path_, std::strerror(error)));
    KLOG_ERROR("store {}: {}", path_, broken.message());
    {
      std::lock_guard lock(queue_mutex_);
      broken_ = broken;
    }
    std::lock_guard lock(health_mutex_);
    last_commit_error_ = broken;
  }

  std::optional<Error> BrokenError() {
    std::lock_guard lock(queue_mutex_);
    return broken_;
  }

  void Answer(CommittedBatch& batch) {
    std::optional<Error> failure = batch.failure;
    if (!failure) failure = BrokenError();
    if (failure) {
      for (std::size_t i = 0; i < batch.writes.size(); ++i)
        batch.writes[i]->Fail(batch.errors[i] ? *batch.errors[i] : *failure);
      return;
    }
    for (std::size_t i = 0; i < batch.writes.size(); ++i) {
      if (!batch.errors[i]) batch.writes[i]->CommitEffects();
    }
    core_->hub.Publish(batch.events, batch.revision);
    for (std::size_t i = 0; i < batch.writes.size(); ++i) {
      if (batch.errors[i])
        batch.writes[i]->Fail(std::move(*batch.errors[i]));
      else
        batch.writes[i]->Resolve();
    }
  }

  static Status RunStatement(Statement& statement) {
    ResetGuard reset(statement);
    return statement.Run();
  }

  Status SetMeta(std::string_view name, std::int64_t value) {
    ResetGuard reset(statements_.set_meta);
    statements_.set_meta.BindText(1, name);
    statements_.set_meta.BindInt(2, value);
    return statements_.set_meta.Run();
  }

  Status SaveCounters(const Counters& counters) {
    if (counters.revision != counters_.revision)
      KPP_RETURN_IF_ERROR(SetMeta("current_revision", counters.revision));
    if (counters.compacted != counters_.compacted)
      KPP_RETURN_IF_ERROR(SetMeta("compacted_revision", counters.compacted));
    if (counters.next_lease_id != counters_.next_lease_id)
      KPP_RETURN_IF_ERROR(SetMeta("next_lease_id", counters.next_lease_id));
    return Ok();
  }

  // The key's live value as the open transaction sees it; nullopt when absent or deleted.
  Result<std::optional<KeyValue>> LatestLive(const std::string& key) {
    Statement& latest = statements_.latest;
    ResetGuard reset(latest);
    latest.BindBlob(1, key);
    KPP_ASSIGN_OR_RETURN(const bool row, latest.Step());
    if (!row || latest.ColumnInt(4) != 0) return std::optional<KeyValue>();
    return std::optional<KeyValue>(KeyValue{.key = key,
                                            .value = latest.ColumnBlob(5),
                                            .create_revision = latest.ColumnInt(1),
                                            .mod_revision = latest.ColumnInt(0),
                                            .version = latest.ColumnInt(2),
                                            .lease = latest.ColumnInt(3)});
  }

  Status InsertRow(const KeyValue& kv, int sub, Revision prev_revision, bool deleted) {
    Statement& insert = statements_.insert_row;
    ResetGuard reset(insert);
    insert.BindBlob(1, kv.key);
    insert.BindInt(2, kv.mod_revision);
    insert.BindInt(3, sub);
    insert.BindInt(4, kv.create_revision);
    insert.BindInt(5, prev_revision);
    insert.BindInt(6, kv.version);
    insert.BindInt(7, kv.lease);
    insert.BindInt(8, deleted ? 1 : 0);
    insert.BindBlob(9, kv.value);
    return insert.Run();
  }

  Result<bool> LeaseExists(LeaseId id) {
    Statement& exists = statements_.lease_exists;
    ResetGuard reset(exists);
    exists.BindInt(1, id);
    return exists.Step();
  }

  // Writes a tombstone for `prev` at `revision`.
  Status DeleteRow(Batch& batch, const KeyValue& prev, Revision revision, int sub) {
    KeyValue tombstone{.key = prev.key,
                       .value = {},
                       .create_revision = 0,
                       .mod_revision = revision,
                       .version = 0,
                       .lease = 0};
    KPP_RETURN_IF_ERROR(InsertRow(tombstone, sub, prev.mod_revision, /*deleted=*/true));
    batch.events.push_back(
        Event{.type = Event::Type::kDelete, .kv = std::move(tombstone), .prev_kv = prev});
    return Ok();
  }

  Result<TxnResult> ApplyTxn(Batch& batch, const TxnRequest& request) {
    TxnResult result;
    result.succeeded = true;
    for (const Compare& compare : request.compares) {
      KPP_ASSIGN_OR_RETURN(auto current, LatestLive(compare.key));
      if (!CompareHolds(compare, current)) {
        result.succeeded = false;
        break;
      }
    }
    const std::vector<TxnOp>& ops = result.succeeded ? request.success : request.failure;
    const Revision revision = batch.counters.revision + 1;
    int writes = 0;
    for (const TxnOp& op : ops) {
      TxnOpResult& op_result = result.results.emplace_back();
      switch (op.type) {
        case TxnOp::Type::kGet: {
          KPP_ASSIGN_OR_RETURN(op_result.kv, LatestLive(op.key));
          break;
        }
        case TxnOp::Type::kPut: {
          if (op.lease != 0) {
            KPP_ASSIGN_OR_RETURN(const bool exists, LeaseExists(op.lease));
            if (!exists) return LeaseNotFound(op.lease);
          }
          KPP_ASSIGN_OR_RETURN(op_result.prev_kv, LatestLive(op.key));
          const auto& prev = op_result.prev_kv;
          KeyValue kv{.key = op.key,
                      .value = op.value,
                      .create_revision = prev ? prev->create_revision : revision,
                      .mod_revision = revision,
                      .version = prev ? prev->version + 1 : 1,
                      .lease = op.lease};
          KPP_RETURN_IF_ERROR(InsertRow(kv, writes++, prev ? prev->mod_revision : 0, false));
          batch.events.push_back(Event{.type = Event::Type::kPut, .kv = kv, .prev_kv = prev});
          op_result.kv = std::move(kv);
          break;
        }
        case TxnOp::Type::kDelete: {
          KPP_ASSIGN_OR_RETURN(op_result.prev_kv, LatestLive(op.key));
          if (op_result.prev_kv)
            KPP_RETURN_IF_ERROR(DeleteRow(batch, *op_result.prev_kv, revision, writes++));
          break;
        }
      }
    }
    if (writes > 0) batch.counters.revision = revision;
    result.revision = batch.counters.revision;
    return result;
  }

  Status ApplyRevoke(Batch& batch, LeaseId id) {
    KPP_ASSIGN_OR_RETURN(const bool exists, LeaseExists(id));
    if (!exists) return LeaseNotFound(id);
    std::vector<std::string> keys;
    {
      Statement& lease_keys = statements_.lease_keys;
      ResetGuard reset(lease_keys);
      lease_keys.BindInt(1, id);
      while (true) {
        KPP_ASSIGN_OR_RETURN(const bool row, lease_keys.Step());
        if (!row) break;
        keys.push_back(lease_keys.ColumnBlob(0));
      }
    }
    // All of the lease's keys go in one revision, as etcd's revoke does.
    const Revision revision = batch.counters.revision + 1;
    int writes = 0;
    for (const std::string& key : keys) {
      KPP_ASSIGN_OR_RETURN(auto prev, LatestLive(key));
      if (prev) KPP_RETURN_IF_ERROR(DeleteRow(batch, *prev, revision, writes++));
    }
    if (writes > 0) batch.counters.revision = revision;
    Statement& remove = statements_.delete_lease;
    ResetGuard reset(remove);
    remove.BindInt(1, id);
    return remove.Run();
  }

  Status ApplyCompact(Batch& batch, Revision revision) {
    if (revision <= batch.counters.compacted)
      return CompactedError(revision, batch.counters.compacted);
    if (revision > batch.counters.revision)
      return FutureRevisionError(revision, batch.counters.revision);
    Statement& compact = statements_.compact;
    ResetGuard reset(compact);
    compact.BindInt(1, revision);
    KPP_RETURN_IF_ERROR(compact.Run());
    KLOG_V(2, "store {}: compacted to revision {}, {} rows removed", path_, revision,
           sqlite3_changes64(db_.raw()));
    batch.counters.compacted = revision;
    return Ok();
  }

  void MaintenanceLoop() {
    Revision revision_one_interval_ago = 0;
    auto next_compaction = options_.clock->Monotonic() + options_.compaction_interval;
    std::unique_lock lock(maintenance_mutex_);
    while (!stop_maintenance_) {
      maintenance_wakeup_.wait_for(lock, options_.maintenance_period);
      if (stop_maintenance_) break;
      lock.unlock();
      const auto now = options_.clock->Monotonic();
      ExpireLeases(now);
      if (options_.compaction_interval > 0ns && now >= next_compaction) {
        CompactAutomatically(revision_one_interval_ago);
        revision_one_interval_ago = core_->hub.published();
        next_compaction = now + options_.compaction_interval;
      }
      lock.lock();
    }
  }

  void ExpireLeases(std::chrono::steady_clock::time_point now) {
    std::vector<LeaseId> expired;
    {
      std::lock_guard lock(leases_mutex_);
      for (const auto& [id, state] : leases_) {
        if (state.deadline <= now) expired.push_back(id);
      }
    }
    for (const LeaseId id : expired) {
      KLOG_V(2, "store {}: lease {} expired", path_, id);
      Status revoked = RevokeLease(id);
      if (!revoked.ok() && revoked.error().code() != ErrorCode::kNotFound) {
        KLOG_WARNING("store {}: revoking expired lease {}: {}", path_, id,
                     revoked.error().message());
      }
    }
  }

  void CompactAutomatically(Revision revision_one_interval_ago) {
    const Revision current = core_->hub.published();
    const Revision target =
        std::min(revision_one_interval_ago, current - options_.compaction_min_retained_revisions);
    if (target <= compacted_revision_.load()) return;
    Status compacted = Compact(target);
    if (compacted.ok())
      KLOG_V(1, "store {}: compacted history to revision {}", path_, target);
    else if (compacted.error().code() != ErrorCode::kGone)
      KLOG_WARNING("store {}: compaction to {} failed: {}", path_, target,
                   compacted.error().message());
  }

  const SqliteStoreOptions options_;
  const std::string path_;
  ProcessLock lock_;
  Connection db_;  // the writer's connection; used only by the writer thread after Open
  Statements statements_;
  Counters counters_;  // writer thread only after Open
  std::atomic<Revision> compacted_revision_{0};
  std::shared_ptr<Core> core_;

  std::mutex queue_mutex_;
  std::condition_variable queue_changed_;
  std::deque<std::unique_ptr<PendingWrite>> queue_;
  bool stopping_ = false;
  std::thread writer_;

  // Set after a failed fsync; then every write fails with it.
  std::optional<Error> broken_;  // guarded by queue_mutex_

  int wal_fd_ = -1;  // the WAL file, for the writer's fdatasync

  std::mutex health_mutex_;
  // Set while commits fail (disk full, I/O errors), so health checks report it.
  std::optional<Error> last_commit_error_;

  std::mutex leases_mutex_;
  std::map<LeaseId, LeaseState> leases_;

  std::mutex maintenance_mutex_;
  std::condition_variable maintenance_wakeup_;
  bool stop_maintenance_ = false;
  std::thread maintenance_;
};

}  // namespace
}  // namespace sqlite

std::string SqliteDatabasePath(const std::string& dir) {
  return dir + "/state.db";
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteStoreOptions& options) {
  if (options.dir.empty()) return BadRequestError("the store directory must be given");
  if (options.clock == nullptr) return BadRequestError("the store needs a clock");
  auto store = std::make_unique<sqlite::SqliteStore>(options);
  KPP_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace kpp::storage
