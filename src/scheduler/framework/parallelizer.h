// Runs a loop body over many indexes on a small pool of threads (upstream's parallelize with
// 16 workers; here one per core). The calling thread works too, so a pool of 0 runs inline.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kpp::scheduler {

class Parallelizer {
 public:
  // `workers` threads besides the caller; negative: one per core minus the caller; 0: inline.
  explicit Parallelizer(int workers = -1);
  ~Parallelizer();
  Parallelizer(const Parallelizer&) = delete;
  Parallelizer& operator=(const Parallelizer&) = delete;

  // Calls body(i) for every i in [0, n), in chunks, returning when all calls have returned.
  // Bodies run concurrently and must not share unguarded writes.
  // Once `stop` (if given) turns true, no further chunks start.
  void Until(size_t n, const std::function<void(size_t)>& body,
             const std::atomic<bool>* stop = nullptr);
  int workers() const { return static_cast<int>(threads_.size()); }

 private:
  void WorkerLoop();
  void RunChunks(const std::function<void(size_t)>& body, size_t n, size_t chunk,
                 const std::atomic<bool>* stop);

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  const std::function<void(size_t)>* body_ = nullptr;
  size_t n_ = 0;
  size_t chunk_ = 1;
  const std::atomic<bool>* stop_ = nullptr;
  std::atomic<size_t> next_{0};
  int active_ = 0;
  uint64_t round_ = 0;
  bool stopping_ = false;
  std::mutex until_mutex_;  // one Until at a time
};

}  // namespace kpp::scheduler
