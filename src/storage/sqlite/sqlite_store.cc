#include "storage/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
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

// The leader's view of the revision counters while its group's transaction is open; copied back on
// commit.
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

// One write waiting to be committed. It lives on its caller's stack while the caller waits in
// Submit; the leader of its group applies it, commits, syncs and answers it.
class PendingWrite {
 public:
  virtual ~PendingWrite() = default;
  // Runs inside the group's transaction on the leader's thread. Every check that can fail a
  // write comes before its first change, so a failed write normally leaves nothing behind and
  // the rest of the group goes on without a savepoint.
  virtual Status Apply(Batch& batch) = 0;
  // After the group committed and was synced, before its events are published: updates
  // in-memory state, so that whoever sees an event also sees its effects (e.g. a revoked lease
  // is gone).
  virtual void CommitEffects() = 0;
  // Last, after the events were published: sets the caller's result.
  virtual void Resolve() = 0;
  virtual void Fail(Error error) = 0;

  // The caller waits on `wakeup` for `done` (its result is in) or `look` (it is first in the
  // queue now and may have to lead). Each write has its own mutex, so that a leader answering
  // a group wakes its callers in parallel, not one after the other through the queue's mutex.
  // A leader signals under `mutex` and touches the write no more after `done`: the caller
  // returns and the write is gone.
  std::mutex mutex;
  std::condition_variable wakeup;
  bool done = false;  // guarded by mutex
  bool look = false;  // guarded by mutex
  // Set when a leader took the write into its group; guarded by the store's queue_mutex_.
  bool taken = false;

  void Signal(bool result_in) {
    std::lock_guard lock(mutex);
    (result_in ? done : look) = true;
    wakeup.notify_one();
  }
};

// For writes without in-memory effects.
struct NoCommitEffects {
  template <typename T>
  void operator()(const T&) const {}
};

template <typename T, typename ApplyFunction, typename CommitFunction>
class TypedWrite final : public PendingWrite {
 public:
  TypedWrite(ApplyFunction apply, CommitFunction on_commit)
      : apply_(std::move(apply)), on_commit_(std::move(on_commit)) {}

  Status Apply(Batch& batch) override {
    Result<T> result = apply_(batch);
    if (!result.ok()) return std::move(result).error();
    // A group applied again (see Commit) replaces the value of the first attempt.
    value_.emplace(std::move(result).value());
    return Ok();
  }
  void CommitEffects() override { on_commit_(*value_); }
  void Resolve() override { result_.emplace(std::move(*value_)); }
  void Fail(Error error) override { result_.emplace(std::move(error)); }

  Result<T> TakeResult() { return std::move(*result_); }

 private:
  ApplyFunction apply_;
  CommitFunction on_commit_;
  std::optional<T> value_;
  std::optional<Result<T>> result_;
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
      // Writes already queued are still committed by their own callers; new ones are refused.
      std::unique_lock lock(queue_mutex_);
      stopping_ = true;
      if (!queue_.empty()) queue_.front()->Signal(/*result_in=*/false);
      drained_.wait(lock, [&] { return queue_.empty() && !leading_; });
    }
    if (wal_fd_ >= 0) ::close(wal_fd_);
    if (core_) core_->hub.Close(ClosedError());
  }

  Status Open() {
    KPP_RETURN_IF_ERROR(EnsureWritableDirectory(options_.dir, 0700));
    KPP_RETURN_IF_ERROR(lock_.Acquire(path_));
    // Created here with 0600 rather than by SQLite with the umask's mode: it holds every object,
    // and SQLite gives the WAL and shared-memory files the mode of the database file.
    if (const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600); fd >= 0) {
      ::close(fd);
    }
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
    return Submit<TxnResult>([this, &request](Batch& batch) { return ApplyTxn(batch, request); },
                             NoCommitEffects());
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
    auto result = Submit<Revision>(
        [this, revision](Batch& batch) -> Result<Revision> {
          KPP_RETURN_IF_ERROR(ApplyCompact(batch, revision));
          return revision;
        },
        NoCommitEffects());
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
    Statement begin, commit, rollback;
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

  // Queues a write and waits until it is committed and synced: either a leader commits it
  // with its group, or this caller becomes the leader and commits the group itself.
  //
  // This is the leader-follower write path (as RocksDB's write thread): there is no writer
  // thread; one waiting caller at a time leads, commits the writes at the front of the queue
  // (its own among them) in one transaction, fsyncs the WAL once, publishes the events and
  // answers the others. Callers answered by one group tend to write again at once. Committing
  // as soon as the first of them is back would leave the rest for the group after: concurrent
  // writers would split into two groups that alternate, each fsync covering half of them. So a
  // group is led as soon as the queue holds as many writes as the last group had (by whichever
  // caller's write completes it: no hand-off to another thread), or else by the first caller in
  // the queue once it has waited a short time for the others (at most half an fsync). A lone
  // writer (a group of one) never waits.
  template <typename T, typename ApplyFunction, typename CommitFunction>
  Result<T> Submit(ApplyFunction apply, CommitFunction on_commit) {
    TypedWrite<T, ApplyFunction, CommitFunction> write(std::move(apply), std::move(on_commit));
    std::unique_lock queue_lock(queue_mutex_);
    if (stopping_) return ClosedError();
    if (broken_) return *broken_;
    queue_.push_back(&write);
    std::optional<std::chrono::steady_clock::time_point> gather_deadline;
    while (true) {
      // Here queue_lock is held and the write is still queued or in a leader's group.
      const bool first = !write.taken && !leading_ && queue_.front() == &write;
      if (!write.taken && !leading_) {
        bool lead = queue_.size() >= group_target_ || stopping_;
        if (!lead && first) {
          const auto now = std::chrono::steady_clock::now();
          if (!gather_deadline) gather_deadline = now + gather_wait_;
          lead = now >= *gather_deadline;
        }
        if (lead) {
          Lead(queue_lock);
          std::unique_lock write_lock(write.mutex);
          if (write.done) break;
          write_lock.unlock();
          queue_lock.lock();
          continue;
        }
      }
      // Taking the write's mutex before letting go of the queue's: a leader signals `look`
      // with the queue's mutex held, so it cannot slip in between and be missed.
      std::unique_lock write_lock(write.mutex);
      queue_lock.unlock();
      const auto signalled = [&] { return write.done || write.look; };
      if (first)
        write.wakeup.wait_until(write_lock, *gather_deadline, signalled);
      else
        write.wakeup.wait(write_lock, signalled);
      write.look = false;
      if (write.done) break;
      write_lock.unlock();
      queue_lock.lock();
    }
    return write.TakeResult();
  }

  // With queue_mutex_ held and no other leader: takes the writes at the front of the queue,
  // commits and syncs them, publishes their events and answers them; returns with the lock
  // released. Leaders follow each other, so groups commit, sync and publish in revision order;
  // the next may start while this one still wakes its callers.
  void Lead(std::unique_lock<std::mutex>& queue_lock) {
    leading_ = true;
    const std::size_t count = std::min(queue_.size(), options_.max_writes_per_commit);
    group_.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
    for (PendingWrite* write : group_)
      write->taken = true;
    group_target_ = count;
    queue_lock.unlock();
    const std::optional<std::chrono::nanoseconds> synced_in = CommitSyncAndAnswer();
    const std::vector<PendingWrite*> answered = std::move(group_);
    group_.clear();
    queue_lock.lock();
    if (synced_in) {
      sync_time_ = (sync_time_ * 7 + *synced_in) / 8;
      gather_wait_ = std::min<std::chrono::nanoseconds>(sync_time_ / 2, 1ms);
    }
    leading_ = false;
    // The next in line leads now, or once its group has gathered.
    if (!queue_.empty())
      queue_.front()->Signal(/*result_in=*/false);
    else if (stopping_)
      drained_.notify_all();
    queue_lock.unlock();
    for (PendingWrite* write : answered)
      write->Signal(/*result_in=*/true);
  }

  // The leader's work on group_, without queue_mutex_. Returns how long the fsync took, when
  // there was one.
  std::optional<std::chrono::nanoseconds> CommitSyncAndAnswer() {
    std::optional<std::chrono::nanoseconds> synced_in;
    Status committed = Commit();
    if (committed.ok()) {
      const auto started = std::chrono::steady_clock::now();
      if (::fdatasync(wal_fd_) != 0) Break(errno);
      synced_in = std::chrono::steady_clock::now() - started;
    }
    Answer(committed);
    return synced_in;
  }

  // Applies group_ in one transaction into batch_, recording each write's own failure in
  // errors_, and commits. The commit does not wait for the disk (the writer connection runs
  // with synchronous=NORMAL): the leader fsyncs the WAL before answering. A write that failed
  // before changing anything (total_changes unchanged; every check comes before the first
  // change) fails alone and the others go on. A write that failed after changing something
  // (an I/O error in its second row, say) cannot be undone alone without a savepoint per
  // write, so then the transaction is rolled back and the group applied again without it: rare,
  // and it keeps the common path free of savepoints. On some errors (a full disk, I/O) SQLite
  // rolls the whole transaction back itself: then the group fails, with that error.
  Status Commit() {
    errors_.assign(group_.size(), std::nullopt);
    if (std::optional<Error> broken = BrokenError()) {
      // Nothing more goes into a WAL whose state on disk is unknown.
      return std::move(*broken);
    }
    sqlite3* const db = db_.raw();
    while (true) {
      batch_.counters = counters_;
      batch_.events.clear();
      Status status = RunStatement(statements_.begin);
      bool apply_again = false;
      for (std::size_t i = 0; i < group_.size() && status.ok(); ++i) {
        if (errors_[i]) continue;
        const Counters before = batch_.counters;
        const std::size_t events_before = batch_.events.size();
        const std::int64_t changes_before = sqlite3_total_changes64(db);
        Status applied = group_[i]->Apply(batch_);
        if (applied.ok()) continue;
        if (sqlite3_get_autocommit(db) != 0) {
          status = std::move(applied).error();
          break;
        }
        errors_[i] = std::move(applied).error();
        batch_.counters = before;
        batch_.events.resize(events_before);
        if (sqlite3_total_changes64(db) != changes_before) {
          apply_again = true;
          break;
        }
      }
      if (status.ok() && !apply_again) status = SaveCounters(batch_.counters);
      if (status.ok() && !apply_again) status = RunStatement(statements_.commit);
      if (status.ok() && !apply_again) {
        counters_ = batch_.counters;
        compacted_revision_ = counters_.compacted;
        std::lock_guard lock(health_mutex_);
        last_commit_error_.reset();
        return Ok();
      }
      // Also when SQLite already rolled back (then this fails, harmlessly).
      IgnoreError(RunStatement(statements_.rollback));
      if (apply_again) continue;  // each pass fails one more write, so this ends
      KLOG_ERROR("store {}: commit of {} writes failed: {}", path_, group_.size(),
                 status.error().message());
      std::lock_guard lock(health_mutex_);
      last_commit_error_ = status.error();
      return status;
    }
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

  // Sets the result of every write in group_: its own error, the group's failure (`committed`,
  // or a failed fsync), or its value once the group's events are published.
  void Answer(Status& committed) {
    std::optional<Error> failure;
    if (!committed.ok())
      failure = std::move(committed).error();
    else
      failure = BrokenError();
    if (failure) {
      for (std::size_t i = 0; i < group_.size(); ++i) {
        group_[i]->Fail(errors_[i] ? std::move(*errors_[i]) : *failure);
      }
      return;
    }
    for (std::size_t i = 0; i < group_.size(); ++i) {
      if (!errors_[i]) group_[i]->CommitEffects();
    }
    core_->hub.Publish(batch_.events, counters_.revision);
    for (std::size_t i = 0; i < group_.size(); ++i) {
      if (errors_[i])
        group_[i]->Fail(std::move(*errors_[i]));
      else
        group_[i]->Resolve();
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
    latest.BindBlobNoCopy(1, key);
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
    insert.BindBlobNoCopy(1, kv.key);
    insert.BindInt(2, kv.mod_revision);
    insert.BindInt(3, sub);
    insert.BindInt(4, kv.create_revision);
    insert.BindInt(5, prev_revision);
    insert.BindInt(6, kv.version);
    insert.BindInt(7, kv.lease);
    insert.BindInt(8, deleted ? 1 : 0);
    insert.BindBlobNoCopy(9, kv.value);
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
    // Every check before the first change: a write that fails leaves nothing to undo.
    for (const TxnOp& op : ops) {
      if (op.type != TxnOp::Type::kPut || op.lease == 0) continue;
      KPP_ASSIGN_OR_RETURN(const bool exists, LeaseExists(op.lease));
      if (!exists) return LeaseNotFound(op.lease);
    }
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
  Connection db_;  // the writer's connection; used only by the current leader after Open
  Statements statements_;
  Counters counters_;  // the current leader's only after Open
  std::atomic<Revision> compacted_revision_{0};
  std::shared_ptr<Core> core_;

  std::mutex queue_mutex_;
  // Guarded by queue_mutex_: the writes waiting for a leader, in arrival order; whether a
  // leader is at work; the size of the last group, which the next waits to reach; the fsync
  // time (a moving average) and the longest wait for a group to gather, half of it.
  std::deque<PendingWrite*> queue_;
  bool leading_ = false;
  std::size_t group_target_ = 1;
  std::chrono::nanoseconds sync_time_{0};
  std::chrono::nanoseconds gather_wait_{0};
  bool stopping_ = false;
  std::condition_variable drained_;  // the queue emptied while stopping

  // The current leader's only: its group, each write's own error, what the group wrote.
  std::vector<PendingWrite*> group_;
  std::vector<std::optional<Error>> errors_;
  Batch batch_;

  // Set after a failed fsync; then every write fails with it.
  std::optional<Error> broken_;  // guarded by queue_mutex_

  int wal_fd_ = -1;  // the WAL file, for the leaders' fdatasync

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
