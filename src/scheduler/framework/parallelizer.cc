#include "scheduler/framework/parallelizer.h"

#include <algorithm>
#include <cmath>

namespace kpp::scheduler {

Parallelizer::Parallelizer(int workers) {
  if (workers < 0) {
    workers = std::max(0, static_cast<int>(std::thread::hardware_concurrency()) - 1);
  }
  for (int i = 0; i < workers; ++i)
    threads_.emplace_back([this] { WorkerLoop(); });
}

Parallelizer::~Parallelizer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (auto& thread : threads_)
    thread.join();
}

void Parallelizer::RunChunks(const std::function<void(size_t)>& body, size_t n, size_t chunk,
                             const std::atomic<bool>* stop) {
  while (stop == nullptr || !stop->load(std::memory_order_relaxed)) {
    const size_t start = next_.fetch_add(chunk);
    if (start >= n) return;
    const size_t end = std::min(n, start + chunk);
    for (size_t i = start; i < end; ++i)
      body(i);
  }
}

void Parallelizer::WorkerLoop() {
  uint64_t seen = 0;
  std::unique_lock lock(mutex_);
  while (true) {
    // A worker that wakes after its round ended finds no body and waits for the next.
    work_ready_.wait(lock, [&] { return stopping_ || (round_ != seen && body_ != nullptr); });
    if (stopping_) return;
    seen = round_;
    const auto* body = body_;
    const size_t n = n_;
    const size_t chunk = chunk_;
    const auto* stop = stop_;
    ++active_;
    lock.unlock();
    RunChunks(*body, n, chunk, stop);
    lock.lock();
    if (--active_ == 0) work_done_.notify_all();
  }
}

void Parallelizer::Until(size_t n, const std::function<void(size_t)>& body,
                         const std::atomic<bool>* stop) {
  if (n == 0) return;
  std::lock_guard until_lock(until_mutex_);
  if (threads_.empty() || n == 1) {
    for (size_t i = 0; i < n && (stop == nullptr || !stop->load()); ++i)
      body(i);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    body_ = &body;
    n_ = n;
    // upstream's chunk size: about sqrt(n), at least 1
    chunk_ = std::max<size_t>(1, static_cast<size_t>(std::sqrt(static_cast<double>(n))));
    next_ = 0;
    stop_ = stop;
    ++round_;
  }
  work_ready_.notify_all();
  RunChunks(body, n, chunk_, stop);
  std::unique_lock lock(mutex_);
  work_done_.wait(lock, [&] { return active_ == 0; });
  body_ = nullptr;
}

}  // namespace kpp::scheduler
