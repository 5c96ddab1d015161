// Threads for request handlers, which may block (in the store, for a commit). The pool grows on
// demand up to a maximum, so that many handlers can wait in one storage commit group at once,
// and shrinks back after a quiet spell, so an idle server keeps few threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace kpp::http {

class WorkerPool {
 public:
  struct Options {
    size_t min_threads = 2;                       // kept even when idle
    size_t max_threads = 64;                      // more tasks than this wait in the queue
    std::chrono::milliseconds idle_exit{10'000};  // a thread above the minimum idle this long ends
  };

  explicit WorkerPool(Options options);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `task` on a pool thread. After Stop, tasks are dropped.
  void Submit(std::function<void()> task);
  // Runs the tasks already queued, then joins every thread. Idempotent.
  void Stop();

  size_t threads() const;
  size_t busy() const;

 private:
  void Run();
  void StartThreadLocked();
  void JoinFinished();

  const Options options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::unordered_map<std::thread::id, std::thread> threads_;
  std::vector<std::thread> finished_;      // threads that ended and wait to be joined
  std::atomic<bool> has_finished_{false};  // finished_ is not empty; read without the lock
  size_t idle_ = 0;
  size_t busy_ = 0;
  bool stopping_ = false;
};

}  // namespace kpp::http
