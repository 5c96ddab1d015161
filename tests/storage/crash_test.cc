// Crash safety of the SQLite store: a writer process (crash_writer.cc) is killed with SIGKILL at
// random moments; after each kill every write it had been told was committed must be in the
// database with its revision, revisions must never go back, and the file must be intact.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <random>
#include <sstream>
#include <thread>

#include "base/files.h"
#include "storage/sqlite/sqlite_store.h"
#include "support/subprocess.h"

namespace kpp::storage {
namespace {

using namespace std::chrono_literals;

struct Acknowledged {
  std::string key;
  Revision revision = 0;
};

// Complete lines only: the process may have died in the middle of printing the last one.
std::vector<Acknowledged> ParseAcknowledged(const std::string& output) {
  std::vector<Acknowledged> writes;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = output.find('\n', start);
    if (end == std::string::npos) break;
    std::istringstream line(output.substr(start, end - start));
    Acknowledged write;
    if (line >> write.key >> write.revision) writes.push_back(write);
    start = end + 1;
  }
  return writes;
}

std::string IntegrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open";
  }
  std::string verdict = "no result";
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &statement, nullptr) == SQLITE_OK &&
      sqlite3_step(statement) == SQLITE_ROW)
    verdict = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return verdict;
}

TEST(StorageCrashTest, AcknowledgedWritesSurviveSigkill) {
  auto root = MakeTempDirectory("kpp-crash-");
  ASSERT_TRUE(root.ok());
  const std::string store_dir = *root + "/db";
  const unsigned seed = std::random_device{}();
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> run_ms(50, 300);
  SCOPED_TRACE("seed " + std::to_string(seed));

  Revision revision_after_previous_round = 0;
  std::size_t total_acknowledged = 0;
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string output_dir = *root + "/round" + std::to_string(round);
    ASSERT_TRUE(EnsureWritableDirectory(output_dir, 0700).ok());
    kpp::testing::Process writer;
    std::string error;
    ASSERT_TRUE(writer.Start({KPP_CRASH_WRITER, store_dir, "4"}, output_dir, &error)) << error;
    std::this_thread::sleep_for(std::chrono::milliseconds(run_ms(random)));
    writer.Signal(SIGKILL);
    ASSERT_TRUE(writer.Wait(10s));
    ASSERT_EQ(writer.term_signal(), SIGKILL) << "the writer ended by itself: " << writer.Stderr();

    const auto acknowledged = ParseAcknowledged(writer.Stdout());
    total_acknowledged += acknowledged.size();
    ASSERT_EQ(IntegrityCheck(SqliteDatabasePath(store_dir)), "ok");

    SqliteStoreOptions options;
    options.dir = store_dir;
    options.compaction_interval = 0ns;
    auto store = OpenSqliteStore(options);
    ASSERT_TRUE(store.ok()) << store.error().message();
    const Revision current = *(*store)->CurrentRevision();
    EXPECT_GE(current, revision_after_previous_round) << "the revision went back";
    for (const Acknowledged& write : acknowledged) {
      EXPECT_GT(write.revision, revision_after_previous_round) << write.key;
      EXPECT_LE(write.revision, current) << write.key;
      auto kv = (*store)->Get(write.key);
      ASSERT_TRUE(kv.ok()) << "acknowledged write lost: " << write.key << " at " << write.revision
                           << ": " << kv.error().message();
      EXPECT_EQ(kv->mod_revision, write.revision) << write.key;
    }
    revision_after_previous_round = current;
  }
  EXPECT_GT(total_acknowledged, 0u) << "the writer never got to write";
  RecordProperty("acknowledged_writes", static_cast<int>(total_acknowledged));
  std::printf("%zu acknowledged writes checked over 20 kills, final revision %lld\n",
              total_acknowledged, static_cast<long long>(revision_after_previous_round));
  RemoveAll(*root);
}

}  // namespace
}  // namespace kpp::storage
