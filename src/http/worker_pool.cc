#include "http/worker_pool.h"

#include <algorithm>

namespace kpp::http {

WorkerPool::WorkerPool(Options options) : options_(options) {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < options_.min_threads; ++i)
    StartThreadLocked();
}

WorkerPool::~WorkerPool() {
  Stop();
}

void WorkerPool::StartThreadLocked() {
  std::thread thread([this] { Run(); });
  const auto id = thread.get_id();
  threads_.emplace(id, std::move(thread));
}

void WorkerPool::Submit(std::function<void()> task) {
  if (has_finished_.load(std::memory_order_relaxed)) JoinFinished();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    tasks_.push_back(std::move(task));
    // Only start a thread when none is free to take the task: a blocked handler holds its
    // thread.
    if (idle_ < tasks_.size() && threads_.size() < std::max<size_t>(1, options_.max_threads)) {
      StartThreadLocked();
    }
  }
  // Outside the lock, so the woken thread does not at once block on it.
  wake_.notify_one();
}

void WorkerPool::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    ++idle_;
    const bool woken =
        wake_.wait_for(lock, options_.idle_exit, [this] { return stopping_ || !tasks_.empty(); });
    --idle_;
    if (tasks_.empty()) {
      if (stopping_ || (!woken && threads_.size() > options_.min_threads)) break;
      continue;
    }
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    ++busy_;
    lock.unlock();
    task();
    task = nullptr;  // whatever the task holds goes before the thread counts as idle
    lock.lock();
    --busy_;
  }
  if (!stopping_) {
    // Hand our own handle over to be joined by the next caller; joining ourselves is impossible.
    auto self = threads_.find(std::this_thread::get_id());
    finished_.push_back(std::move(self->second));
    threads_.erase(self);
    has_finished_.store(true, std::memory_order_relaxed);
  }
}

void WorkerPool::JoinFinished() {
  std::vector<std::thread> finished;
  {
    std::lock_guard lock(mutex_);
    finished.swap(finished_);
    has_finished_.store(false, std::memory_order_relaxed);
  }
  for (auto& thread : finished)
    thread.join();
}

void WorkerPool::Stop() {
  std::unordered_map<std::thread::id, std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    wake_.notify_all();
  }
  // Threads that see stopping_ stay in threads_; once set, nobody erases from it.
  {
    std::lock_guard lock(mutex_);
    threads.swap(threads_);
  }
  for (auto& [id, thread] : threads) {
    if (!thread.joinable()) continue;
    if (thread.get_id() == std::this_thread::get_id()) {
      thread.detach();  // Stop called from a task: this thread ends when the task returns
    } else {
      thread.join();
    }
  }
  JoinFinished();
}

size_t WorkerPool::threads() const {
  std::lock_guard lock(mutex_);
  return threads_.size();
}

size_t WorkerPool::busy() const {
  std::lock_guard lock(mutex_);
  return busy_;
}

}  // namespace kpp::http
