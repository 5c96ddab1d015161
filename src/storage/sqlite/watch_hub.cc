#include "storage/sqlite/watch_hub.h"

#include <fmt/format.h>

#include <algorithm>

namespace kpp::storage::sqlite {
namespace {

// Revisions read from the database per catch-up query, to bound the memory of one step.
constexpr Revision kCatchUpChunk = 1000;

Event ForWatcher(const Event& event, bool prev_kv) {
  Event copy;
  copy.type = event.type;
  copy.kv = event.kv;
  if (prev_kv) copy.prev_kv = event.prev_kv;
  return copy;
}

// Queues the events of one publication for `queue`, all or none, so a consumer never sees part
// of a revision. Returns false when the watcher was cut off.
bool Deliver(WatcherQueue& queue, const std::vector<Event>& events) {
  bool delivered = true;
  {
    std::lock_guard lock(queue.mutex);
    if (queue.error) return false;
    std::vector<const Event*> matching;
    for (const Event& event : events) {
      if (event.kv.mod_revision >= queue.min_revision &&
          KeyInRange(event.kv.key, queue.key, queue.range_end))
        matching.push_back(&event);
    }
    if (matching.empty()) return true;
    // An empty queue takes a publication of any size, so one big revision cannot cut a watcher
    // off.
    if (!queue.events.empty() &&
        queue.events.size() + matching.size() > queue.max_buffered_events) {
      const Revision resume_at = queue.events.back().kv.mod_revision + 1;
      queue.error = Error(ErrorCode::kTooManyRequests,
                          fmt::format("watch cancelled: the consumer fell more than {} events "
                                      "behind; re-watch from revision {}",
                                      queue.max_buffered_events, resume_at));
      delivered = false;
    } else {
      for (const Event* event : matching)
        queue.events.push_back(ForWatcher(*event, queue.prev_kv));
    }
  }
  // Woken after the lock is released, the consumer does not block on it at once.
  queue.changed.notify_all();
  return delivered;
}

class HubWatcher final : public Watcher {
 public:
  HubWatcher(std::shared_ptr<void> owner, WatchHub* hub, HistorySource* history,
             const WatchRequest& request, Revision start_revision, std::size_t max_events)
      : owner_(std::move(owner)),
        hub_(hub),
        history_(history),
        queue_(std::make_shared<WatcherQueue>(request, max_events)),
        next_revision_(start_revision) {}

  ~HubWatcher() override {
    if (live_) hub_->Remove(queue_);
  }

  Result<std::vector<Event>> Next(std::chrono::milliseconds timeout) override {
    if (terminal_error_) return *terminal_error_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!live_) {
      auto events = CatchUp();
      if (!events.ok()) {
        terminal_error_ = events.error();
        return std::move(events).error();
      }
      if (!events->empty() || std::chrono::steady_clock::now() >= deadline) return events;
    }
    std::unique_lock lock(queue_->mutex);
    queue_->changed.wait_until(lock, deadline,
                               [&] { return !queue_->events.empty() || queue_->error; });
    if (!queue_->events.empty()) {
      std::vector<Event> events(std::make_move_iterator(queue_->events.begin()),
                                std::make_move_iterator(queue_->events.end()));
      queue_->events.clear();
      return events;
    }
    if (queue_->error) {
      terminal_error_ = *queue_->error;
      return *terminal_error_;
    }
    return std::vector<Event>{};
  }

 private:
  // One step of catch-up: either goes live or reads the next chunk of history.
  Result<std::vector<Event>> CatchUp() {
    Revision published = 0;
    KPP_ASSIGN_OR_RETURN(live_, hub_->GoLiveIfCaughtUp(queue_, next_revision_, &published));
    if (live_) return std::vector<Event>{};
    const Revision to = std::min(published, next_revision_ + kCatchUpChunk - 1);
    KPP_ASSIGN_OR_RETURN(auto events, history_->ReadHistory(next_revision_, to, queue_->key,
                                                            queue_->range_end, queue_->prev_kv));
    next_revision_ = to + 1;
    return events;
  }

  std::shared_ptr<void> owner_;
  WatchHub* hub_;
  HistorySource* history_;
  std::shared_ptr<WatcherQueue> queue_;
  Revision next_revision_;
  bool live_ = false;
  std::optional<Error> terminal_error_;
};

}  // namespace

void WatchHub::Publish(const std::vector<Event>& events, Revision revision) {
  std::lock_guard lock(mutex_);
  published_ = std::max(published_, revision);
  if (events.empty()) return;
  std::erase_if(
      live_, [&](const std::shared_ptr<WatcherQueue>& queue) { return !Deliver(*queue, events); });
}

Result<bool> WatchHub::GoLiveIfCaughtUp(const std::shared_ptr<WatcherQueue>& queue,
                                        Revision next_revision, Revision* published) {
  std::lock_guard lock(mutex_);
  if (closed_) return *closed_;
  *published = published_;
  if (next_revision <= published_) return false;
  {
    std::lock_guard queue_lock(queue->mutex);
    queue->min_revision = next_revision;
  }
  live_.push_back(queue);
  return true;
}

void WatchHub::Remove(const std::shared_ptr<WatcherQueue>& queue) {
  std::lock_guard lock(mutex_);
  std::erase(live_, queue);
}

void WatchHub::Close(const Error& error) {
  std::lock_guard lock(mutex_);
  if (!closed_) closed_ = error;
  for (const auto& queue : live_) {
    std::lock_guard queue_lock(queue->mutex);
    if (!queue->error) queue->error = error;
    queue->changed.notify_all();
  }
  live_.clear();
}

Revision WatchHub::published() const {
  std::lock_guard lock(mutex_);
  return published_;
}

std::unique_ptr<Watcher> NewWatcher(std::shared_ptr<void> owner, WatchHub* hub,
                                    HistorySource* history, const WatchRequest& request,
                                    Revision start_revision, std::size_t max_buffered_events) {
  return std::make_unique<HubWatcher>(std::move(owner), hub, history, request, start_revision,
                                      max_buffered_events);
}

}  // namespace kpp::storage::sqlite
