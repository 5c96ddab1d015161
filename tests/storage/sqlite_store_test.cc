// The SQLite backend: the conformance suite, plus what only this backend has — its database
// file (bad files are refused untouched), reopening, and automatic compaction.
#include "storage/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <barrier>
#include <random>
#include <set>
#include <thread>

#include "base/clock.h"
#include "base/files.h"
#include "storage/store_conformance.h"

namespace kpp::storage::testing {

class TempDir {
 public:
  TempDir() : path_(MakeTempDirectory("kpp-storage-").value()) {}
  ~TempDir() { RemoveAll(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The conformance suite's backend. Not in an anonymous namespace, because CTest shows its name
// in the test names.
class SqliteBackend {
 public:
  Result<std::unique_ptr<Store>> Open() { return OpenSqliteStore(Options()); }
  void AdvanceTime(std::chrono::seconds duration) { clock_.Advance(duration); }

  SqliteStoreOptions Options() {
    SqliteStoreOptions options;
    options.dir = dir_.path() + "/db";
    options.clock = &clock_;
    options.maintenance_period = 20ms;
    return options;
  }

 private:
  TempDir dir_;
  FakeClock clock_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(SqliteConformance, StoreConformanceTest, SqliteBackend);

namespace {

std::string RandomBytes(std::size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes)
    byte = static_cast<char>(random() & 0xff);
  return bytes;
}

// Runs `sql` on the database file directly, as another program would.
void RunSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  EXPECT_EQ(rc, SQLITE_OK) << (message != nullptr ? message : "");
  sqlite3_free(message);
  sqlite3_close(db);
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  SqliteStoreOptions Options() {
    SqliteStoreOptions options;
    options.dir = dir_.path() + "/db";
    options.clock = &clock_;
    options.maintenance_period = 20ms;
    return options;
  }
  std::string DbPath() { return SqliteDatabasePath(dir_.path() + "/db"); }

  // Opening must fail with a message naming the file and containing `problem`, and leave the
  // file exactly as it was.
  void ExpectRefused(const std::string& problem) {
    const std::string before = ReadFile(DbPath()).value();
    auto store = OpenSqliteStore(Options());
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.error().message().find(DbPath()), std::string::npos) << store.error().message();
    EXPECT_NE(store.error().message().find(problem), std::string::npos) << store.error().message();
    EXPECT_EQ(ReadFile(DbPath()).value(), before) << "the refused file was modified";
  }

  TempDir dir_;
  FakeClock clock_;
};

TEST_F(SqliteStoreTest, RefusesAFileOfRandomBytes) {
  ASSERT_TRUE(EnsureWritableDirectory(dir_.path() + "/db", 0700).ok());
  ASSERT_TRUE(WriteFileAtomic(DbPath(), RandomBytes(64 * 1024, 1), 0600).ok());
  ExpectRefused("not a readable SQLite database");
}

TEST_F(SqliteStoreTest, RefusesDamagedPages) {
  {
    auto store = OpenSqliteStore(Options());
    ASSERT_TRUE(store.ok()) << Describe(store.error());
    TxnRequest fill;
    for (int i = 0; i < 200; ++i)
      fill.success.push_back(TxnOp::Put(fmt::format("/d/{}", i), std::string(1000, 'v')));
    ASSERT_TRUE((*store)->Txn(fill).ok());
  }
  // Keep the header page, so the file still looks like SQLite, and garble every other page.
  std::string content = ReadFile(DbPath()).value();
  ASSERT_GT(content.size(), 8192u);
  const std::string noise = RandomBytes(content.size(), 2);
  for (std::size_t i = 4096; i < content.size(); ++i)
    content[i] = noise[i];
  ASSERT_TRUE(WriteFileAtomic(DbPath(), content, 0600).ok());
  ExpectRefused("damaged");
}

TEST_F(SqliteStoreTest, RefusesANewerSchemaVersion) {
  ASSERT_TRUE(EnsureWritableDirectory(dir_.path() + "/db", 0700).ok());
  RunSql(DbPath(), "CREATE TABLE kv (key BLOB); PRAGMA user_version = 99;");
  ExpectRefused("schema version is 99, newer than");
}

TEST_F(SqliteStoreTest, RefusesADatabaseThatIsNotAStore) {
  ASSERT_TRUE(EnsureWritableDirectory(dir_.path() + "/db", 0700).ok());
  RunSql(DbPath(), "CREATE TABLE photos (name TEXT);");
  ExpectRefused("not a kpp store");
}

TEST_F(SqliteStoreTest, RefusesASecondOpenWhileInUse) {
  auto first = OpenSqliteStore(Options());
  ASSERT_TRUE(first.ok());
  auto second = OpenSqliteStore(Options());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), ErrorCode::kServiceUnavailable);
  EXPECT_NE(second.error().message().find("in use"), std::string::npos);
}

TEST_F(SqliteStoreTest, MigratesASchemaVersion1Database) {
  // A store as version 1 wrote it: /a created at 1 and updated at 2, /b created at 3 with a
  // lease and deleted at 4, revision 4, lease 7 granted.
  ASSERT_TRUE(EnsureWritableDirectory(dir_.path() + "/db", 0700).ok());
  RunSql(DbPath(), R"sql(
    PRAGMA journal_mode = WAL;
    CREATE TABLE kv (key BLOB NOT NULL, revision INTEGER NOT NULL, sub INTEGER NOT NULL,
      create_revision INTEGER NOT NULL, prev_revision INTEGER NOT NULL,
      version INTEGER NOT NULL, lease INTEGER NOT NULL, deleted INTEGER NOT NULL,
      value BLOB NOT NULL, PRIMARY KEY (key, revision)) WITHOUT ROWID;
    CREATE UNIQUE INDEX kv_by_revision ON kv (revision, sub);
    CREATE INDEX kv_by_lease ON kv (lease) WHERE lease != 0;
    CREATE TABLE leases (id INTEGER PRIMARY KEY, ttl_seconds INTEGER NOT NULL);
    CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO meta (name, value) VALUES
      ('current_revision', 4), ('compacted_revision', 0), ('next_lease_id', 8);
    INSERT INTO leases VALUES (7, 60);
    INSERT INTO kv VALUES
      (x'2f61', 1, 0, 1, 0, 1, 0, 0, x'31'),
      (x'2f61', 2, 0, 1, 1, 2, 0, 0, x'32'),
      (x'2f62', 3, 0, 3, 0, 1, 7, 0, x'33'),
      (x'2f62', 4, 0, 0, 3, 0, 0, 1, x'');
    PRAGMA user_version = 1;
  )sql");
  auto store = OpenSqliteStore(Options());
  ASSERT_TRUE(store.ok()) << Describe(store.error());
  Store& s = **store;
  EXPECT_EQ(*s.CurrentRevision(), 4);
  EXPECT_EQ(*s.Get("/a"), (KeyValue{.key = "/a",
                                    .value = "2",
                                    .create_revision = 1,
                                    .mod_revision = 2,
                                    .version = 2,
                                    .lease = 0}));
  EXPECT_EQ(s.Get("/a", 1)->value, "1");
  EXPECT_EQ(CodeOf(s.Get("/b")), ErrorCode::kNotFound);
  EXPECT_EQ(s.Get("/b", 3)->lease, 7);
  EXPECT_EQ(s.GetLease(7)->granted_ttl, 60s);
  auto watch = s.Watch(WatchRequest::Prefix("/", 1));
  ASSERT_TRUE(watch.ok());
  auto events = CollectEvents(**watch, 4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].prev_kv->value, "1");
  EXPECT_EQ(events[3].type, Event::Type::kDelete);
  EXPECT_EQ(events[3].prev_kv->value, "3");
  EXPECT_EQ(s.Put("/a", "3")->mod_revision, 5);
  EXPECT_EQ(s.GrantLease(5s).value(), 8);
  store->reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* version = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &version, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(version), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(version, 0), 2);
  sqlite3_finalize(version);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, StateSurvivesReopening) {
  Revision last = 0;
  LeaseId lease = 0;
  {
    auto store = OpenSqliteStore(Options());
    ASSERT_TRUE(store.ok());
    Store& s = **store;
    ASSERT_TRUE(s.Put("/a", "1").ok());
    ASSERT_TRUE(s.Put("/a", "2").ok());
    ASSERT_TRUE(s.Put("/b", "1").ok());
    ASSERT_TRUE(s.Compact(2).ok());
    lease = s.GrantLease(30s).value();
    last = s.Put("/c", "1", lease)->mod_revision;
  }
  auto store = OpenSqliteStore(Options());
  ASSERT_TRUE(store.ok()) << Describe(store.error());
  Store& s = **store;
  EXPECT_EQ(*s.CurrentRevision(), last);
  EXPECT_EQ(*s.CompactedRevision(), 2);
  EXPECT_EQ(s.Get("/a")->value, "2");
  EXPECT_EQ(s.Get("/a")->version, 2);
  EXPECT_EQ(s.Get("/a", 2)->value, "2");
  EXPECT_EQ(CodeOf(s.Get("/a", 1)), ErrorCode::kGone);
  EXPECT_EQ(s.GetLease(lease)->granted_ttl, 30s);
  EXPECT_EQ(s.Put("/d", "1")->mod_revision, last + 1);
  EXPECT_GT(s.GrantLease(5s).value(), lease);

  // The lease's countdown restarted at open; it still expires and takes /c with it.
  clock_.Advance(31s);
  auto watch = s.Watch(WatchRequest::Prefix("/c", last + 2));
  ASSERT_TRUE(watch.ok());
  auto events = CollectEvents(**watch, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, Event::Type::kDelete);
}

TEST_F(SqliteStoreTest, CompactsAutomaticallyKeepingOneIntervalOfHistory) {
  SqliteStoreOptions options = Options();
  options.compaction_interval = 1min;
  options.compaction_min_retained_revisions = 10;
  auto store = OpenSqliteStore(options);
  ASSERT_TRUE(store.ok());
  Store& s = **store;
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(s.Put(fmt::format("/k{}", i % 7), "v").ok());

  // The first run only notes where history stands.
  clock_.Advance(1min);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(*s.CompactedRevision(), 0);
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(s.Put(fmt::format("/k{}", i % 7), "v").ok());

  // The next compacts to the revision of one interval ago: 50, unless the first run came late
  // (a loaded machine) and saw some of the later writes; never within the last 10 revisions.
  clock_.Advance(1min);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (*s.CompactedRevision() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  const Revision compacted = *s.CompactedRevision();
  EXPECT_GE(compacted, 50);
  EXPECT_LE(compacted, 90);
  EXPECT_EQ(CodeOf(s.Get("/k0", compacted - 1)), ErrorCode::kGone);
  EXPECT_TRUE(s.Range(RangeRequest::Prefix("/k", 0, compacted)).ok());
  EXPECT_EQ(s.Range(RangeRequest::Prefix("/k"))->kvs.size(), 7u);
}

TEST_F(SqliteStoreTest, WatchOutlivingTheStoreReportsItClosed) {
  auto store = OpenSqliteStore(Options());
  ASSERT_TRUE(store.ok());
  auto watch = (*store)->Watch(WatchRequest::Prefix("/"));
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE((*watch)->Next(10ms).ok());  // now live
  store->reset();
  auto next = (*watch)->Next(1s);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code(), ErrorCode::kServiceUnavailable);
}

TEST_F(SqliteStoreTest, CompactionDuringCatchUpEndsTheWatchWithGone) {
  auto store = OpenSqliteStore(Options());
  ASSERT_TRUE(store.ok());
  Store& s = **store;
  // Concurrent writers keep this quick on slow disks (their writes share commits).
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&s, t] {
      for (int i = 0; i < 375; ++i)
        ASSERT_TRUE(s.Put(fmt::format("/a/{}", t), "v").ok());
    });
  }
  for (auto& writer : writers)
    writer.join();
  ASSERT_EQ(*s.CurrentRevision(), 1500);
  auto watch = s.Watch(WatchRequest::Prefix("/a", 1));
  ASSERT_TRUE(watch.ok());
  auto first = (*watch)->Next(1s);  // one chunk of history; more remains
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->empty());
  ASSERT_LT(first->back().kv.mod_revision, 1500);
  ASSERT_TRUE(s.Compact(1400).ok());
  Result<std::vector<Event>> next = (*watch)->Next(1s);
  while (next.ok() && !next->empty())
    next = (*watch)->Next(1s);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code(), ErrorCode::kGone);
}

// Writes of many callers share groups (one transaction, one fsync), and some of them fail: a
// compare-and-swap on a stale revision, a create of an existing key, a put under a lease that
// does not exist, a transaction whose second put names such a lease. Each failure must reach
// its own caller and leave nothing behind; its neighbours in the group must commit as if it
// had not been there: revisions dense, +1 per committed write, each event seen once, in order.
TEST_F(SqliteStoreTest, FailingWritesInAGroupFailAloneAndLeaveNoTrace) {
  ASSERT_TRUE(OpenSqliteStore(Options()).ok());  // creates the database
  // A write to /g/poison fails inside SQLite, after the writes before it in its transaction
  // were made: the group must be applied again without that transaction.
  RunSql(DbPath(),
         "CREATE TRIGGER poison BEFORE INSERT ON kv WHEN NEW.key = CAST('/g/poison' AS BLOB) "
         "BEGIN SELECT RAISE(ABORT, 'poisoned key'); END");
  auto opened = OpenSqliteStore(Options());
  ASSERT_TRUE(opened.ok()) << Describe(opened.error());
  Store& store = **opened;
  constexpr int kWriters = 16;
  constexpr int kRounds = 60;
  constexpr LeaseId kMissingLease = 987654321;
  const Revision start = *store.CurrentRevision() + 1;
  auto watch = store.Watch(WatchRequest::Prefix("/g/", start));
  ASSERT_TRUE(watch.ok());

  // The writers start each round together, so that their writes meet in the same groups.
  std::barrier round(kWriters);
  std::vector<std::vector<Revision>> committed(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      const std::string own = fmt::format("/g/{}/own", w);
      Revision own_revision = 0;
      for (int i = 0; i < kRounds; ++i) {
        round.arrive_and_wait();
        const std::string fresh = fmt::format("/g/{}/fresh/{}", w, i);
        switch ((w + i) % 7) {
          case 0: {  // succeeds: creates, or updates at the right revision
            auto kv = own_revision == 0 ? store.Create(own, fmt::format("{}", i))
                                        : store.Update(own, fmt::format("{}", i), own_revision);
            EXPECT_TRUE(kv.ok()) << Describe(kv.error());
            if (!kv.ok()) break;
            own_revision = kv->mod_revision;
            committed[w].push_back(kv->mod_revision);
            break;
          }
          case 1: {  // fails: a wrong revision (0 would mean any)
            if (own_revision == 0) break;
            std::optional<KeyValue> current;
            auto kv = store.Update(own, "stale", own_revision + 1000000, 0, &current);
            EXPECT_EQ(CodeOf(kv), ErrorCode::kConflict);
            EXPECT_TRUE(current.has_value() && current->mod_revision == own_revision);
            break;
          }
          case 2: {  // fails: the key exists
            if (own_revision == 0) break;
            EXPECT_EQ(CodeOf(store.Create(own, "again")), ErrorCode::kAlreadyExists);
            break;
          }
          case 3: {  // fails: no such lease
            EXPECT_EQ(CodeOf(store.Put(fresh, "leased", kMissingLease)), ErrorCode::kNotFound);
            break;
          }
          case 4: {  // fails in its second op: the first must not be written either
            TxnRequest request;
            request.success.push_back(TxnOp::Put(fresh, "first"));
            request.success.push_back(TxnOp::Put(fresh + "/second", "second", kMissingLease));
            EXPECT_EQ(CodeOf(store.Txn(request)), ErrorCode::kNotFound);
            break;
          }
          case 6: {  // fails in SQLite, in its second op: the first must not be written
            TxnRequest request;
            request.success.push_back(TxnOp::Put(fresh, "first"));
            request.success.push_back(TxnOp::Put("/g/poison", "second"));
            auto result = store.Txn(request);
            EXPECT_FALSE(result.ok());
            if (!result.ok()) {
              EXPECT_NE(result.error().message().find("poisoned key"), std::string::npos);
            }
            break;
          }
          case 5: {  // succeeds: a new key
            auto kv = store.Create(fresh, "new");
            EXPECT_TRUE(kv.ok()) << Describe(kv.error());
            if (kv.ok()) committed[w].push_back(kv->mod_revision);
            break;
          }
        }
      }
    });
  }
  for (auto& writer : writers)
    writer.join();

  std::vector<Revision> all;
  for (const auto& revisions : committed) {
    EXPECT_TRUE(std::is_sorted(revisions.begin(), revisions.end()));
    all.insert(all.end(), revisions.begin(), revisions.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_FALSE(all.empty());
  for (std::size_t i = 0; i < all.size(); ++i)
    ASSERT_EQ(all[i], start + static_cast<Revision>(i)) << "revisions are not dense";
  EXPECT_EQ(*store.CurrentRevision(), start + static_cast<Revision>(all.size()) - 1);

  const std::vector<Event> events = CollectEvents(**watch, all.size());
  ASSERT_EQ(events.size(), all.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].kv.mod_revision, start + static_cast<Revision>(i));
    EXPECT_EQ(events[i].type, Event::Type::kPut);
    EXPECT_EQ(events[i].kv.value.find("leased"), std::string::npos);
    EXPECT_NE(events[i].kv.value, "stale");
    EXPECT_NE(events[i].kv.value, "again");
    EXPECT_NE(events[i].kv.value, "first");
  }
  ExpectNoMoreEvents(**watch);

  // Nothing of the failed writes is stored: the keys are those the events name.
  std::set<std::string> written;
  for (const Event& event : events)
    written.insert(event.kv.key);
  auto range = store.Range(RangeRequest::Prefix("/g/"));
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->kvs.size(), written.size());
  for (const KeyValue& kv : range->kvs) {
    EXPECT_TRUE(kv.lease == 0 && kv.value != "first" && kv.value != "second") << kv.key;
  }
}

}  // namespace
}  // namespace kpp::storage::testing
