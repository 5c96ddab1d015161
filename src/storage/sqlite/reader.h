// Reads of the SQLite backend: ranges (current or at a past revision) and the watch history.
// Internal.
//
// Each read runs in its own read transaction on a pooled connection, so it sees one committed
// snapshot and runs beside the writer (WAL). The compacted and current revisions are read in
// that same transaction, which keeps the kGone / future-revision checks consistent with the
// rows read. Thread-safe.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/sqlite/connection.h"
#include "storage/sqlite/watch_hub.h"
#include "storage/store.h"

namespace kpp::storage::sqlite {

class ReaderPool final : public HistorySource {
 public:
  ReaderPool(std::string path, int max_readers);
  ~ReaderPool() override;

  // Serves `request` at `visible`, the newest revision readers may see (the durable one), when
  // it asks for the current revision; a revision above `visible` is a future one.
  Result<RangeResult> Range(const RangeRequest& request, Revision visible);
  Result<std::vector<Event>> ReadHistory(Revision from, Revision to, std::string_view key,
                                         std::string_view range_end, bool prev_kv) override;
  // Runs a trivial query.
  Status Ping();

 private:
  struct Reader;
  class Lease;

  Result<std::unique_ptr<Reader>> Acquire();
  void Release(std::unique_ptr<Reader> reader);

  const std::string path_;
  const int max_readers_;
  std::mutex mutex_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<Reader>> idle_;
  int open_ = 0;
};

}  // namespace kpp::storage::sqlite
