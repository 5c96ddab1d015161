// Work queues for controllers, with client-go's semantics: a key added many times before it is
// processed is handed out once (dirty set); a key being processed is never handed out to a second
// worker (processing set): added meanwhile, it is handed out again after Done(). The delaying
// queue adds AddAfter; the rate-limiting queue adds per-item back-off (AddRateLimited, Forget,
// NumRequeues). All are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/clock.h"
#include "client/workqueue/rate_limiters.h"

namespace kpp::client::workqueue {

class Queue {
 public:
  Queue() = default;
  virtual ~Queue();
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  void Add(const std::string& item);
  // Blocks until an item is available; nullopt once the queue is shut down and empty.
  std::optional<std::string> Get();
  // Marks `item` processed; if it was added while being processed, it is queued again.
  void Done(const std::string& item);
  int Len() const;
  // No more adds; Get() returns nullopt once the queue is empty.
  virtual void ShutDown();
  // ShutDown, then wait until every item handed out has been Done.
  virtual void ShutDownWithDrain();
  bool ShuttingDown() const;

 protected:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;
  std::unordered_set<std::string> processing_;
  bool shutting_down_ = false;
  bool draining_ = false;
};

class DelayingQueue : public Queue {
 public:
  explicit DelayingQueue(Clock& clock = RealClock());
  ~DelayingQueue() override;
  // Adds `item` once `delay` has passed (at once when it is not positive). A later AddAfter of
  // an item already waiting only moves it earlier.
  void AddAfter(const std::string& item, Duration delay);
  void ShutDown() override;
  void ShutDownWithDrain() override;
  // Items waiting for their time.
  int Waiting() const;

 private:
  struct Waiter {
    std::chrono::steady_clock::time_point ready;
    std::string item;
    bool operator>(const Waiter& other) const { return ready > other.ready; }
  };
  void WaitLoop();
  void StopWaiting();

  Clock& clock_;
  mutable std::mutex waiting_mutex_;
  std::condition_variable waiting_changed_;
  std::priority_queue<Waiter, std::vector<Waiter>, std::greater<>> waiting_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> ready_at_;
  bool stop_waiting_ = false;
  std::thread waiter_;
};

class RateLimitingQueue : public DelayingQueue {
 public:
  explicit RateLimitingQueue(std::unique_ptr<RateLimiter> limiter = DefaultControllerRateLimiter(),
                             Clock& clock = RealClock());
  // AddAfter with the limiter's delay for `item`.
  void AddRateLimited(const std::string& item);
  // Stops the back-off of `item` (it was processed successfully).
  void Forget(const std::string& item);
  int NumRequeues(const std::string& item);

 private:
  std::unique_ptr<RateLimiter> limiter_;
};

}  // namespace kpp::client::workqueue
