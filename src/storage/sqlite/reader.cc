#include "storage/sqlite/reader.h"

#include <fmt/format.h>

#include <algorithm>

#include "storage/sqlite/schema.h"

namespace kpp::storage::sqlite {
namespace {

// The live rows of a key range at revision ?3: for each key the newest row at or below ?3,
// unless that row is a tombstone. `bounded` selects whether ?2 is an exclusive end key.
std::string RangeSql(bool bounded, bool count) {
  return fmt::format(
      "SELECT {} FROM kv k WHERE k.key >= ?1 {} AND k.revision <= ?3 AND k.deleted = 0 "
      "AND NOT EXISTS (SELECT 1 FROM kv n WHERE n.key = k.key AND n.revision > k.revision "
      "AND n.revision <= ?3) {}",
      count ? "count(*)" : "k.key, k.create_revision, k.revision, k.version, k.lease, k.value",
      bounded ? "AND k.key < ?2" : "", count ? "" : "ORDER BY k.key LIMIT ?4");
}

std::string HistorySql(bool bounded) {
  return fmt::format(
      "SELECT k.key, k.revision, k.create_revision, k.version, k.lease, k.deleted, k.value, "
      "p.create_revision, p.revision, p.version, p.lease, p.value "
      "FROM kv k LEFT JOIN kv p ON k.prev_revision != 0 AND p.key = k.key "
      "AND p.revision = k.prev_revision "
      "WHERE k.revision BETWEEN ?1 AND ?2 AND k.key >= ?3 {} ORDER BY k.revision, k.sub",
      bounded ? "AND k.key < ?4" : "");
}

constexpr std::string_view kMetaSql =
    "SELECT (SELECT value FROM meta WHERE name = 'current_revision'), "
    "(SELECT value FROM meta WHERE name = 'compacted_revision')";

// The exclusive end of a range request, or nullopt for "no end".
std::optional<std::string> RangeEnd(std::string_view key, std::string_view range_end) {
  if (range_end.empty()) return std::string(key) + '\0';
  if (range_end == kRangeEndAll) return std::nullopt;
  return std::string(range_end);
}

}  // namespace

struct ReaderPool::Reader {
  Connection db;
  Statement begin, commit, rollback, meta, ping;
  Statement range[2], count[2], history[2];  // [bounded]

  static Result<std::unique_ptr<Reader>> Open(const std::string& path) {
    auto reader = std::make_unique<Reader>();
    KPP_ASSIGN_OR_RETURN(reader->db, OpenReaderConnection(path));
    Connection& db = reader->db;
    KPP_ASSIGN_OR_RETURN(reader->begin, db.Prepare("BEGIN"));
    KPP_ASSIGN_OR_RETURN(reader->commit, db.Prepare("COMMIT"));
    KPP_ASSIGN_OR_RETURN(reader->rollback, db.Prepare("ROLLBACK"));
    KPP_ASSIGN_OR_RETURN(reader->meta, db.Prepare(kMetaSql));
    KPP_ASSIGN_OR_RETURN(reader->ping, db.Prepare("SELECT 1"));
    for (int bounded = 0; bounded < 2; ++bounded) {
      KPP_ASSIGN_OR_RETURN(reader->range[bounded], db.Prepare(RangeSql(bounded, false)));
      KPP_ASSIGN_OR_RETURN(reader->count[bounded], db.Prepare(RangeSql(bounded, true)));
      KPP_ASSIGN_OR_RETURN(reader->history[bounded], db.Prepare(HistorySql(bounded)));
    }
    return reader;
  }
};

// A pooled reader in a read transaction for the lifetime of the object.
class ReaderPool::Lease {
 public:
  Lease(ReaderPool& pool, std::unique_ptr<Reader> reader)
      : pool_(pool), reader_(std::move(reader)) {}
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() {
    if (in_transaction_) {
      ResetGuard reset(reader_->rollback);
      IgnoreError(reader_->rollback.Run());
    }
    pool_.Release(std::move(reader_));
  }

  // Starts the snapshot and reads the revisions it reflects.
  Status Begin(Revision* current, Revision* compacted) {
    {
      ResetGuard reset(reader_->begin);
      KPP_RETURN_IF_ERROR(reader_->begin.Run());
    }
    in_transaction_ = true;
    ResetGuard reset(reader_->meta);
    KPP_ASSIGN_OR_RETURN(const bool row, reader_->meta.Step());
    if (!row) return InternalError("the store's meta table is empty");
    *current = reader_->meta.ColumnInt(0);
    *compacted = reader_->meta.ColumnInt(1);
    return Ok();
  }

  Status End() {
    in_transaction_ = false;
    ResetGuard reset(reader_->commit);
    return reader_->commit.Run();
  }

  Reader& operator*() { return *reader_; }
  Reader* operator->() { return reader_.get(); }

 private:
  ReaderPool& pool_;
  std::unique_ptr<Reader> reader_;
  bool in_transaction_ = false;
};

ReaderPool::ReaderPool(std::string path, int max_readers)
    : path_(std::move(path)), max_readers_(max_readers < 1 ? 1 : max_readers) {}

ReaderPool::~ReaderPool() = default;

Result<std::unique_ptr<ReaderPool::Reader>> ReaderPool::Acquire() {
  std::unique_lock lock(mutex_);
  released_.wait(lock, [&] { return !idle_.empty() || open_ < max_readers_; });
  if (!idle_.empty()) {
    auto reader = std::move(idle_.back());
    idle_.pop_back();
    return reader;
  }
  ++open_;
  lock.unlock();
  auto reader = Reader::Open(path_);
  if (!reader.ok()) {
    lock.lock();
    --open_;
    released_.notify_one();
  }
  return reader;
}

void ReaderPool::Release(std::unique_ptr<Reader> reader) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(reader));
  }
  released_.notify_one();
}

Result<RangeResult> ReaderPool::Range(const RangeRequest& request, Revision visible) {
  if (request.revision < 0 || request.limit < 0)
    return BadRequestError("negative revision or limit");
  const std::optional<std::string> end = RangeEnd(request.key, request.range_end);
  KPP_ASSIGN_OR_RETURN(auto reader, Acquire());
  Lease lease(*this, std::move(reader));
  Revision current = 0;
  Revision compacted = 0;
  KPP_RETURN_IF_ERROR(lease.Begin(&current, &compacted));
  // The snapshot began after `visible` was read, so it holds every row up to it.
  visible = std::min(visible, current);
  RangeResult result;
  result.revision = request.revision == 0 ? visible : request.revision;
  if (result.revision > visible) return FutureRevisionError(result.revision, visible);
  if (result.revision < compacted) return CompactedError(result.revision, compacted);

  const int bounded = end.has_value() ? 1 : 0;
  Statement& range = lease->range[bounded];
  {
    ResetGuard reset(range);
    range.BindBlob(1, request.key);
    if (end) range.BindBlob(2, *end);
    range.BindInt(3, result.revision);
    // One row beyond the limit tells whether there are more.
    range.BindInt(4, request.limit > 0 ? request.limit + 1 : -1);
    while (true) {
      KPP_ASSIGN_OR_RETURN(const bool row, range.Step());
      if (!row) break;
      if (request.limit > 0 && static_cast<std::int64_t>(result.kvs.size()) == request.limit) {
        result.more = true;
        break;
      }
      result.kvs.push_back(KeyValue{.key = range.ColumnBlob(0),
                                    .value = range.ColumnBlob(5),
                                    .create_revision = range.ColumnInt(1),
                                    .mod_revision = range.ColumnInt(2),
                                    .version = range.ColumnInt(3),
                                    .lease = range.ColumnInt(4)});
    }
  }
  result.count = static_cast<std::int64_t>(result.kvs.size());
  if (result.more) {
    Statement& count = lease->count[bounded];
    ResetGuard reset(count);
    count.BindBlob(1, request.key);
    if (end) count.BindBlob(2, *end);
    count.BindInt(3, result.revision);
    KPP_ASSIGN_OR_RETURN(const bool row, count.Step());
    if (row) result.count = count.ColumnInt(0);
  }
  KPP_RETURN_IF_ERROR(lease.End());
  return result;
}

Result<std::vector<Event>> ReaderPool::ReadHistory(Revision from, Revision to, std::string_view key,
                                                   std::string_view range_end, bool prev_kv) {
  const std::optional<std::string> end = RangeEnd(key, range_end);
  KPP_ASSIGN_OR_RETURN(auto reader, Acquire());
  Lease lease(*this, std::move(reader));
  Revision current = 0;
  Revision compacted = 0;
  KPP_RETURN_IF_ERROR(lease.Begin(&current, &compacted));
  if (from < compacted) return CompactedError(from, compacted);
  std::vector<Event> events;
  Statement& history = lease->history[end.has_value() ? 1 : 0];
  ResetGuard reset(history);
  history.BindInt(1, from);
  history.BindInt(2, to);
  history.BindBlob(3, key);
  if (end) history.BindBlob(4, *end);
  while (true) {
    KPP_ASSIGN_OR_RETURN(const bool row, history.Step());
    if (!row) break;
    Event event;
    event.kv.key = history.ColumnBlob(0);
    event.kv.mod_revision = history.ColumnInt(1);
    if (history.ColumnInt(5) != 0) {
      event.type = Event::Type::kDelete;
    } else {
      event.type = Event::Type::kPut;
      event.kv.create_revision = history.ColumnInt(2);
      event.kv.version = history.ColumnInt(3);
      event.kv.lease = history.ColumnInt(4);
      event.kv.value = history.ColumnBlob(6);
    }
    // The previous row may have been compacted away; then there is no prev_kv, as in etcd.
    if (prev_kv && !history.ColumnIsNull(8)) {
      event.prev_kv = KeyValue{.key = event.kv.key,
                               .value = history.ColumnBlob(11),
                               .create_revision = history.ColumnInt(7),
                               .mod_revision = history.ColumnInt(8),
                               .version = history.ColumnInt(9),
                               .lease = history.ColumnInt(10)};
    }
    events.push_back(std::move(event));
  }
  history.Reset();
  KPP_RETURN_IF_ERROR(lease.End());
  return events;
}

Status ReaderPool::Ping() {
  KPP_ASSIGN_OR_RETURN(auto reader, Acquire());
  Lease lease(*this, std::move(reader));
  ResetGuard reset(lease->ping);
  KPP_ASSIGN_OR_RETURN(const bool row, lease->ping.Step());
  if (!row) return InternalError("SELECT 1 returned no row");
  return Ok();
}

}  // namespace kpp::storage::sqlite
