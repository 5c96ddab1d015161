// The child process of storage_crash_test: opens the store in argv[1] and writes from several
// threads as fast as it can until it is killed, printing "<key> <revision>" for every write the
// store acknowledged, flushed before the next write, so the parent knows what must survive.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/sqlite/sqlite_store.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s STORE_DIR THREADS\n", argv[0]);
    return 2;
  }
  kpp::storage::SqliteStoreOptions options;
  options.dir = argv[1];
  options.compaction_interval = std::chrono::nanoseconds(0);
  auto store = kpp::storage::OpenSqliteStore(options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.error().message().c_str());
    return 1;
  }
  const int threads = std::atoi(argv[2]);
  const std::string value(200, 'v');
  std::mutex output;
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      for (long i = 0;; ++i) {
        const std::string key = "/crash/" + std::to_string(getpid()) + "/" + std::to_string(t) +
                                "/" + std::to_string(i);
        auto kv = (*store)->Put(key, value);
        if (!kv.ok()) {
          std::fprintf(stderr, "put %s: %s\n", key.c_str(), kv.error().message().c_str());
          std::_Exit(1);
        }
        const std::string line = key + " " + std::to_string(kv->mod_revision) + "\n";
        std::lock_guard lock(output);
        // One write(2) per line: the line is in the kernel before the next write is started.
        if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
          std::_Exit(1);
      }
    });
  }
  for (auto& writer : writers)
    writer.join();
  return 0;
}
