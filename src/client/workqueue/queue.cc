#include "client/workqueue/queue.h"

namespace kpp::client::workqueue {

Queue::~Queue() = default;

void Queue::Add(const std::string& item) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return;
  if (!dirty_.insert(item).second) return;
  if (processing_.contains(item)) return;
  queue_.push_back(item);
  changed_.notify_one();
}

std::optional<std::string> Queue::Get() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !queue_.empty() || shutting_down_; });
  if (queue_.empty()) return std::nullopt;
  std::string item = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(item);
  dirty_.erase(item);
  return item;
}

void Queue::Done(const std::string& item) {
  std::lock_guard lock(mutex_);
  processing_.erase(item);
  if (dirty_.contains(item)) {
    queue_.push_back(item);
    changed_.notify_one();
  } else if (processing_.empty()) {
    changed_.notify_all();  // a drain may be waiting
  }
}

int Queue::Len() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(queue_.size());
}

void Queue::ShutDown() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
  changed_.notify_all();
}

void Queue::ShutDownWithDrain() {
  std::unique_lock lock(mutex_);
  shutting_down_ = true;
  draining_ = true;
  changed_.notify_all();
  changed_.wait(lock, [&] { return queue_.empty() && processing_.empty(); });
}

bool Queue::ShuttingDown() const {
  std::lock_guard lock(mutex_);
  return shutting_down_;
}

DelayingQueue::DelayingQueue(Clock& clock) : clock_(clock), waiter_([this] { WaitLoop(); }) {}

DelayingQueue::~DelayingQueue() {
  StopWaiting();
}

void DelayingQueue::StopWaiting() {
  {
    std::lock_guard lock(waiting_mutex_);
    stop_waiting_ = true;
  }
  waiting_changed_.notify_all();
  if (waiter_.joinable() && waiter_.get_id() != std::this_thread::get_id()) waiter_.join();
}

void DelayingQueue::AddAfter(const std::string& item, Duration delay) {
  if (ShuttingDown()) return;
  if (delay <= Duration(0)) {
    Add(item);
    return;
  }
  const auto ready =
      clock_.Monotonic() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay);
  std::lock_guard lock(waiting_mutex_);
  const auto it = ready_at_.find(item);
  if (it != ready_at_.end() && it->second <= ready) return;
  // An earlier entry replaces the later one; the stale heap entry is skipped when it surfaces.
  ready_at_[item] = ready;
  waiting_.push({ready, item});
  waiting_changed_.notify_all();
}

void DelayingQueue::WaitLoop() {
  std::unique_lock lock(waiting_mutex_);
  while (!stop_waiting_) {
    const auto now = clock_.Monotonic();
    while (!waiting_.empty() && waiting_.top().ready <= now) {
      Waiter next = waiting_.top();
      waiting_.pop();
      const auto it = ready_at_.find(next.item);
      if (it == ready_at_.end() || it->second != next.ready) continue;  // superseded
      ready_at_.erase(it);
      lock.unlock();
      Add(next.item);
      lock.lock();
    }
    // The clock may be a FakeClock that moves without notifying us, so waits are bounded.
    auto wait = std::chrono::steady_clock::duration(std::chrono::milliseconds(20));
    if (!waiting_.empty()) wait = std::min(wait, waiting_.top().ready - now);
    waiting_changed_.wait_for(lock, wait);
  }
}

int DelayingQueue::Waiting() const {
  std::lock_guard lock(waiting_mutex_);
  return static_cast<int>(ready_at_.size());
}

void DelayingQueue::ShutDown() {
  Queue::ShutDown();
  StopWaiting();
}

void DelayingQueue::ShutDownWithDrain() {
  StopWaiting();
  Queue::ShutDownWithDrain();
}

RateLimitingQueue::RateLimitingQueue(std::unique_ptr<RateLimiter> limiter, Clock& clock)
    : DelayingQueue(clock), limiter_(std::move(limiter)) {}

void RateLimitingQueue::AddRateLimited(const std::string& item) {
  AddAfter(item, limiter_->When(item));
}

void RateLimitingQueue::Forget(const std::string& item) {
  limiter_->Forget(item);
}

int RateLimitingQueue::NumRequeues(const std::string& item) {
  return limiter_->NumRequeues(item);
}

}  // namespace kpp::client::workqueue
