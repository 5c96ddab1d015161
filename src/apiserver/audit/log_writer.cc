#include "apiserver/audit/log_writer.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "base/log.h"

namespace kpp::apiserver::audit {
namespace {

// "/var/log/audit.log" -> {"/var/log/audit", ".log"}
std::pair<std::string, std::string> SplitExtension(const std::string& path) {
  const auto slash = path.rfind('/');
  const auto dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return {path, ""};
  return {path.substr(0, dot), path.substr(dot)};
}

}  // namespace

Result<std::unique_ptr<LogWriter>> LogWriter::Open(const LogWriterOptions& options) {
  std::unique_ptr<LogWriter> writer(new LogWriter(options));
  KPP_RETURN_IF_ERROR(writer->OpenFile());
  writer->thread_ = std::thread([raw = writer.get()] { raw->Run(); });
  return writer;
}

LogWriter::~LogWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (file_ != nullptr && file_ != stdout) std::fclose(file_);
}

Status LogWriter::OpenFile() {
  if (options_.path == "-") {
    file_ = stdout;
    return Ok();
  }
  // Audit lines name users and resources: only the owner reads them.
  const mode_t old_mask = ::umask(077);
  file_ = std::fopen(options_.path.c_str(), "a");
  ::umask(old_mask);
  if (file_ == nullptr) {
    return InvalidError(
        fmt::format("--audit-log-path: opening {}: {}", options_.path, std::strerror(errno)));
  }
  struct stat info {};
  file_size_ = ::fstat(fileno(file_), &info) == 0 ? static_cast<size_t>(info.st_size) : 0;
  return Ok();
}

void LogWriter::Write(std::string line) {
  Write([line = std::move(line)] { return line; });
}

void LogWriter::Write(std::function<std::string()> make_line) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return queue_.size() < options_.max_queued_lines || stopping_; });
  queue_.push_back(std::move(make_line));
  ++queued_;
  // The writer wakes by itself every kWritePeriod; waking it for every line cost a context
  // switch per request.
  if (queue_.size() == kWakeBatch) changed_.notify_all();
}

void LogWriter::Flush() {
  std::unique_lock lock(mutex_);
  const uint64_t target = queued_;
  ++flush_waiters_;
  changed_.notify_all();
  changed_.wait(lock, [&] { return written_ >= target; });
  --flush_waiters_;
}

void LogWriter::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait_for(lock, kWritePeriod, [&] {
      return queue_.size() >= kWakeBatch || stopping_ || (flush_waiters_ > 0 && !queue_.empty());
    });
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    std::deque<std::function<std::string()>> batch;
    batch.swap(queue_);
    changed_.notify_all();  // writers waiting for room
    lock.unlock();
    WriteBatch(batch);
    lock.lock();
    written_ += batch.size();
    changed_.notify_all();
  }
}

void LogWriter::WriteBatch(const std::deque<std::function<std::string()>>& lines) {
  const size_t max_bytes = static_cast<size_t>(options_.max_size_mb) * 1024 * 1024;
  for (const auto& make_line : lines) {
    const std::string line = make_line();
    if (max_bytes > 0 && file_ != stdout && file_size_ > 0 &&
        file_size_ + line.size() + 1 > max_bytes) {
      Rotate();
    }
    if (file_ == nullptr) return;
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fputc('\n', file_);
    file_size_ += line.size() + 1;
  }
  std::fflush(file_);
}

void LogWriter::Rotate() {
  std::fclose(file_);
  file_ = nullptr;
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H-%M-%S", &utc);
  const auto [base, extension] = SplitExtension(options_.path);
  const std::string backup = fmt::format("{}-{}.{:03}{}", base, stamp, millis, extension);
  if (std::rename(options_.path.c_str(), backup.c_str()) != 0) {
    KLOG_WARNING("audit log: renaming {} to {}: {}", options_.path, backup, std::strerror(errno));
  }
  if (auto status = OpenFile(); !status.ok()) {
    KLOG_ERROR("audit log: {}", status.error().message());
    return;
  }
  file_size_ = 0;
  RemoveOldBackups();
}

void LogWriter::RemoveOldBackups() {
  if (options_.max_backups <= 0 && options_.max_age_days <= 0) return;
  namespace fs = std::filesystem;
  const auto [base, extension] = SplitExtension(options_.path);
  const fs::path dir = fs::path(options_.path).parent_path().empty()
                           ? fs::path(".")
                           : fs::path(options_.path).parent_path();
  const std::string prefix = fs::path(base).filename().string() + "-";
  std::vector<fs::path> backups;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(dir, ignored)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(extension)) backups.push_back(entry.path());
  }
  // The time stamp in the name sorts as the time.
  std::sort(backups.begin(), backups.end());
  const auto cutoff =
      fs::file_time_type::clock::now() - std::chrono::hours(24) * options_.max_age_days;
  for (size_t i = 0; i < backups.size(); ++i) {
    const bool too_many =
        options_.max_backups > 0 && backups.size() - i > static_cast<size_t>(options_.max_backups);
    const bool too_old =
        options_.max_age_days > 0 && fs::last_write_time(backups[i], ignored) < cutoff;
    if (too_many || too_old) fs::remove(backups[i], ignored);
  }
}

}  // namespace kpp::apiserver::audit
