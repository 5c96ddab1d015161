// Where audit events go: JSON lines appended to a file (or stdout for "-") by a thread of its
// own, so that a request only pays for queueing its line; the thread writes what is queued every
// 10 ms (sooner when much is queued), so a line reaches the file at most about that late. Rotation
// as upstream's log backend (lumberjack): past max_size_mb the file is renamed to <name>-<UTC
// time>.<ext> and a new one started; backups beyond max_backups, or older than max_age_days, are
// removed (0: keep). Thread safety: Write may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"

namespace kpp::apiserver::audit {

struct LogWriterOptions {
  std::string path;  // "-": stdout
  int max_age_days = 0;
  int max_backups = 0;
  int max_size_mb = 0;  // 0: never rotate
  // Lines queued before Write waits for the writer (an audit line is never dropped).
  size_t max_queued_lines = 100000;
};

class LogWriter {
 public:
  static Result<std::unique_ptr<LogWriter>> Open(const LogWriterOptions& options);
  // Writes what is queued, then stops.
  ~LogWriter();

  // Queues one line (without its newline).
  void Write(std::string line);
  // Queues a line made on the writer's thread, so that the caller does not pay for making it.
  void Write(std::function<std::string()> make_line);
  // Returns once every line queued before the call is written (tests).
  void Flush();

 private:
  explicit LogWriter(const LogWriterOptions& options) : options_(options) {}
  Status OpenFile();
  void Run();
  void WriteBatch(const std::deque<std::function<std::string()>>& lines);
  void Rotate();
  void RemoveOldBackups();

  static constexpr size_t kWakeBatch = 512;
  static constexpr std::chrono::milliseconds kWritePeriod{10};

  const LogWriterOptions options_;
  std::FILE* file_ = nullptr;
  size_t file_size_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<std::string()>> queue_;
  uint64_t queued_ = 0;   // lines ever queued
  uint64_t written_ = 0;  // lines ever written
  int flush_waiters_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kpp::apiserver::audit
