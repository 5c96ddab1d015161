// The SQLite backend on a full disk: writes fail with an error that says so and names the
// database file, nothing of a failed write is visible or delivered to watchers, reads go on, and
// once space is freed writes work again at the next revision.
//
// The disk is a small tmpfs mounted for the test (tests run as root), in a mount namespace of
// the test process's own, so that it disappears with the process whatever happens.
#include <fcntl.h>
#include <sched.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "base/files.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/store_conformance.h"

namespace kpp::storage::testing {

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreConformanceTest);

namespace {

constexpr std::size_t kFilesystemBytes = 8 << 20;

// A tmpfs of kFilesystemBytes on a fresh temp dir.
class SmallFilesystem {
 public:
  SmallFilesystem() : dir_(MakeTempDirectory("kpp-full-disk-").value()) {}
  ~SmallFilesystem() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
    RemoveAll(dir_);
  }
  SmallFilesystem(const SmallFilesystem&) = delete;
  SmallFilesystem& operator=(const SmallFilesystem&) = delete;

  ::testing::AssertionResult Mount() {
    // A private mount namespace keeps the mount from the rest of the machine and ends it with
    // this process. It needs a single-threaded process; without it the destructor unmounts.
    if (unshare(CLONE_NEWNS) == 0) mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
    const std::string options = "size=" + std::to_string(kFilesystemBytes) + ",mode=0700";
    if (mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) != 0)
      return ::testing::AssertionFailure() << "cannot mount a tmpfs on " << dir_
                                           << " (the test needs root): " << std::strerror(errno);
    mounted_ = true;
    return ::testing::AssertionSuccess();
  }

  // Writes a file until the filesystem is full.
  ::testing::AssertionResult Fill() {
    const int fd = open(filler().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return ::testing::AssertionFailure() << "open: " << std::strerror(errno);
    const std::string chunk(4096, 'x');
    int error = 0;
    while (error == 0) {
      if (write(fd, chunk.data(), chunk.size()) < 0) error = errno;
    }
    close(fd);
    if (error != ENOSPC) return ::testing::AssertionFailure() << "write: " << std::strerror(error);
    return ::testing::AssertionSuccess();
  }

  void Free() { unlink(filler().c_str()); }

  const std::string& dir() const { return dir_; }

 private:
  std::string filler() const { return dir_ + "/filler"; }

  std::string dir_;
  bool mounted_ = false;
};

std::string RandomBytes(std::size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes)
    byte = static_cast<char>(random() & 0xff);
  return bytes;
}

TEST(SqliteFullDiskTest, WritesFailClearlyReadsGoOnAndWritesResumeWhenSpaceIsFreed) {
  SmallFilesystem disk;
  ASSERT_TRUE(disk.Mount());
  SqliteStoreOptions options;
  options.dir = disk.dir() + "/db";
  const std::string db_path = SqliteDatabasePath(options.dir);
  auto opened = OpenSqliteStore(options);
  ASSERT_TRUE(opened.ok()) << Describe(opened.error());
  Store& store = **opened;
  auto watch = store.Watch(WatchRequest::Prefix("/full/"));
  ASSERT_TRUE(watch.ok()) << Describe(watch.error());

  std::vector<KeyValue> acknowledged;
  for (int i = 0; i < 10; ++i) {
    auto kv = store.Put(fmt::format("/full/small{}", i), RandomBytes(1024, i));
    ASSERT_TRUE(kv.ok()) << Describe(kv.error());
    acknowledged.push_back(*kv);
  }

  ASSERT_TRUE(disk.Fill());
  // Space the database already has (free pages, WAL frames to reuse) can take a few more writes;
  // then it runs out.
  std::optional<Error> failure;
  for (int i = 0; i < 200 && !failure; ++i) {
    auto kv = store.Put(fmt::format("/full/big{}", i), RandomBytes(64 * 1024, 100 + i));
    if (kv.ok())
      acknowledged.push_back(*kv);
    else
      failure = kv.error();
  }
  ASSERT_TRUE(failure.has_value()) << "200 writes of 64 KiB succeeded on a full disk";
  EXPECT_EQ(failure->code(), ErrorCode::kServiceUnavailable) << Describe(*failure);
  EXPECT_NE(failure->message().find("is full"), std::string::npos) << failure->message();
  EXPECT_NE(failure->message().find(db_path), std::string::npos) << failure->message();
  // Writes keep failing, small ones too, while the disk stays full, and say why.
  auto again = store.Create("/full/another", RandomBytes(64 * 1024, 999));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message().find("is full"), std::string::npos) << again.error().message();
  // A transaction too big for SQLite's page cache fails while it writes, not at its commit.
  TxnRequest big;
  for (int i = 0; i < 64; ++i)
    big.success.push_back(
        TxnOp::Put(fmt::format("/full/batch{}", i), RandomBytes(64 * 1024, 2000 + i)));
  auto big_result = store.Txn(big);
  ASSERT_FALSE(big_result.ok());
  EXPECT_NE(big_result.error().message().find("is full"), std::string::npos)
      << big_result.error().message();
  auto health = store.Health();
  ASSERT_FALSE(health.ok());
  EXPECT_NE(health.error().message().find("is full"), std::string::npos)
      << health.error().message();

  // Reads go on and show exactly the acknowledged writes.
  const Revision last = acknowledged.back().mod_revision;
  EXPECT_EQ(store.CurrentRevision().value(), last);
  auto listed = store.Range(RangeRequest::Prefix("/full/"));
  ASSERT_TRUE(listed.ok()) << Describe(listed.error());
  std::vector<KeyValue> expected = acknowledged;
  std::sort(expected.begin(), expected.end(),
            [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; });
  EXPECT_EQ(listed->kvs, expected);
  auto first = store.Get("/full/small0", acknowledged.front().mod_revision);
  ASSERT_TRUE(first.ok()) << Describe(first.error());
  EXPECT_EQ(*first, acknowledged.front());
  auto events = CollectEvents(**watch, acknowledged.size(), 10s);
  ASSERT_EQ(events.size(), acknowledged.size());
  for (std::size_t i = 0; i < events.size(); ++i)
    EXPECT_EQ(events[i].kv, acknowledged[i]);
  ExpectNoMoreEvents(**watch);

  // Space freed: writes work again, at the next revision, and watchers see them.
  disk.Free();
  auto after = store.Put("/full/after", RandomBytes(64 * 1024, 1000));
  ASSERT_TRUE(after.ok()) << Describe(after.error());
  EXPECT_EQ(after->mod_revision, last + 1);
  EXPECT_TRUE(store.Health().ok());
  auto resumed = CollectEvents(**watch, 1, 10s);
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0].kv, *after);

  // Nothing of the failed writes reached the file, which is intact.
  opened->reset();
  auto reopened = OpenSqliteStore(options);
  ASSERT_TRUE(reopened.ok()) << Describe(reopened.error());
  EXPECT_EQ((*reopened)->CurrentRevision().value(), last + 1);
  EXPECT_EQ(CodeOf((*reopened)->Get("/full/another")), ErrorCode::kNotFound);
  reopened->reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* check = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &check, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(check), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(check, 0)), "ok");
  sqlite3_finalize(check);
  sqlite3_close(db);
}

}  // namespace
}  // namespace kpp::storage::testing
