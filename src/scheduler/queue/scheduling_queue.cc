#include "scheduler/queue/scheduling_queue.h"

#include <algorithm>

namespace kpp::scheduler {

SchedulingQueue::SchedulingQueue(LessFunction less, QueueOptions options,
                                 PreEnqueueFunction pre_enqueue, PluginEvents plugin_events)
    : less_(std::move(less)),
      options_(options),
      pre_enqueue_(std::move(pre_enqueue)),
      plugin_events_(std::move(plugin_events)) {}

SchedulingQueue::~SchedulingQueue() {
  Close();
}

TimePoint SchedulingQueue::BackoffExpiry(const QueuedPodInfo& pod) const {
  auto duration = std::chrono::duration_cast<Clock::Duration>(options_.initial_backoff);
  const auto max = std::chrono::duration_cast<Clock::Duration>(options_.max_backoff);
  for (int i = 1; i < pod.attempts; ++i) {
    duration *= 2;
    if (duration > max) {
      duration = max;
      break;
    }
  }
  if (pod.attempts == 0) duration = Clock::Duration(0);
  return pod.timestamp + duration;
}

bool SchedulingQueue::IsBackingOff(const QueuedPodInfo& pod) const {
  return BackoffExpiry(pod) > options_.clock->Now();
}

void SchedulingQueue::PushActiveLocked(QueuedPodInfoPtr pod) {
  where_[pod->uid()] = 'a';
  active_.push_back(std::move(pod));
  std::push_heap(active_.begin(), active_.end(),
                 [this](const auto& a, const auto& b) { return less_(*b, *a); });
  cond_.notify_one();
}

void SchedulingQueue::MoveToActiveLocked(QueuedPodInfoPtr pod) {
  pod->gated = pre_enqueue_ && !pre_enqueue_(pod->pod());
  if (pod->gated) {
    where_[pod->uid()] = 'u';
    unschedulable_[pod->uid()] = std::move(pod);
    return;
  }
  PushActiveLocked(std::move(pod));
}

void SchedulingQueue::RemoveFromAllLocked(const std::string& uid) {
  auto it = where_.find(uid);
  if (it == where_.end()) return;
  switch (it->second) {
    case 'a': {
      auto at = std::find_if(active_.begin(), active_.end(),
                             [&](const auto& p) { return p->uid() == uid; });
      if (at != active_.end()) {
        active_.erase(at);
        std::make_heap(active_.begin(), active_.end(),
                       [this](const auto& a, const auto& b) { return less_(*b, *a); });
      }
      break;
    }
    case 'b':
      for (auto at = backoff_.begin(); at != backoff_.end(); ++at) {
        if (at->second->uid() == uid) {
          backoff_.erase(at);
          break;
        }
      }
      break;
    case 'u': unschedulable_.erase(uid); break;
  }
  where_.erase(it);
}

void SchedulingQueue::Add(PodPtr pod) {
  auto queued = std::make_shared<QueuedPodInfo>();
  queued->pod_info = std::make_shared<const PodInfo>(std::move(pod));
  queued->timestamp = options_.clock->Now();
  std::lock_guard lock(mutex_);
  RemoveFromAllLocked(queued->uid());
  MoveToActiveLocked(std::move(queued));
}

void SchedulingQueue::Update(const PodPtr& old_pod, PodPtr new_pod) {
  std::lock_guard lock(mutex_);
  const std::string uid = new_pod->metadata.uid;
  auto where = where_.find(uid);
  if (where == where_.end()) {
    if (in_flight_.contains(uid)) return;  // being scheduled: its outcome decides
    auto queued = std::make_shared<QueuedPodInfo>();
    queued->pod_info = std::make_shared<const PodInfo>(std::move(new_pod));
    queued->timestamp = options_.clock->Now();
    MoveToActiveLocked(std::move(queued));
    return;
  }
  QueuedPodInfoPtr existing;
  if (where->second == 'a') {
    for (auto& p : active_) {
      if (p->uid() == uid) existing = p;
    }
  } else if (where->second == 'b') {
    for (auto& [at, p] : backoff_) {
      if (p->uid() == uid) existing = p;
    }
  } else {
    existing = unschedulable_[uid];
  }
  if (!existing) return;
  const bool spec_changed = !old_pod || old_pod->spec != new_pod->spec ||
                            old_pod->metadata.labels != new_pod->metadata.labels;
  auto updated = std::make_shared<QueuedPodInfo>(*existing);
  updated->pod_info = std::make_shared<const PodInfo>(std::move(new_pod));
  RemoveFromAllLocked(uid);
  if (existing->gated || (spec_changed && existing->attempts > 0)) {
    // An update may make an unschedulable pod fit (upstream moves it on most spec changes).
    if (IsBackingOff(*updated) && !updated->gated) {
      where_[uid] = 'b';
      backoff_.emplace(BackoffExpiry(*updated), std::move(updated));
    } else {
      MoveToActiveLocked(std::move(updated));
    }
    return;
  }
  if (existing->attempts == 0 || existing->unschedulable_plugins.empty()) {
    MoveToActiveLocked(std::move(updated));
  } else {
    where_[uid] = 'u';
    unschedulable_[uid] = std::move(updated);
  }
}

void SchedulingQueue::Refresh(PodPtr pod) {
  std::lock_guard lock(mutex_);
  const std::string uid = pod->metadata.uid;
  auto where = where_.find(uid);
  if (where == where_.end()) return;
  auto info = std::make_shared<const PodInfo>(std::move(pod));
  auto replace = [&](QueuedPodInfoPtr& queued) {
    if (queued->uid() == uid) queued->pod_info = info;
  };
  if (where->second == 'a') {
    for (auto& p : active_)
      replace(p);
  } else if (where->second == 'b') {
    for (auto& [at, p] : backoff_)
      replace(p);
  } else if (auto it = unschedulable_.find(uid); it != unschedulable_.end()) {
    replace(it->second);
  }
}

void SchedulingQueue::Delete(const std::string& uid) {
  std::lock_guard lock(mutex_);
  RemoveFromAllLocked(uid);
}

void SchedulingQueue::AddUnschedulableIfNotPresent(QueuedPodInfoPtr pod, int64_t cycle) {
  std::lock_guard lock(mutex_);
  const std::string uid = pod->uid();
  in_flight_.erase(uid);
  if (where_.contains(uid)) return;
  pod->timestamp = options_.clock->Now();
  // A move request during this pod's cycle may have made it schedulable: retry after back-off.
  // So does an error, which no cluster event would resolve.
  if (move_request_cycle_ >= cycle || pod->unschedulable_plugins.empty()) {
    where_[uid] = 'b';
    backoff_.emplace(BackoffExpiry(*pod), std::move(pod));
    return;
  }
  where_[uid] = 'u';
  unschedulable_[uid] = std::move(pod);
}

QueuedPodInfoPtr SchedulingQueue::Pop() {
  std::unique_lock lock(mutex_);
  cond_.wait(lock, [&] { return closed_ || !active_.empty(); });
  if (closed_) return nullptr;
  std::pop_heap(active_.begin(), active_.end(),
                [this](const auto& a, const auto& b) { return less_(*b, *a); });
  QueuedPodInfoPtr pod = std::move(active_.back());
  active_.pop_back();
  where_.erase(pod->uid());
  ++scheduling_cycle_;
  ++pod->attempts;
  if (!pod->attempted) {
    pod->attempted = true;
    pod->initial_attempt = options_.clock->Now();
  }
  in_flight_[pod->uid()] = pod;
  return pod;
}

void SchedulingQueue::Done(const std::string& uid) {
  std::lock_guard lock(mutex_);
  in_flight_.erase(uid);
}

int64_t SchedulingQueue::SchedulingCycle() const {
  std::lock_guard lock(mutex_);
  return scheduling_cycle_;
}

bool SchedulingQueue::EventMovesPod(const ClusterEvent& event, const QueuedPodInfo& pod) const {
  if (event.label == kEventUnschedulableTimeout.label) return true;
  if (pod.unschedulable_plugins.empty()) return true;
  for (const auto& plugin : pod.unschedulable_plugins) {
    auto events = plugin_events_.find(plugin);
    if (events == plugin_events_.end()) return true;  // a plugin without registrations: any
    for (const auto& registered : events->second) {
      if (event.MatchedBy(registered)) return true;
    }
  }
  return false;
}

void SchedulingQueue::MoveAllToActiveOrBackoffQueue(const ClusterEvent& event) {
  std::lock_guard lock(mutex_);
  std::vector<QueuedPodInfoPtr> moving;
  for (auto& [uid, pod] : unschedulable_) {
    if (pod->gated) {
      // A gated pod is re-checked on any event; PreEnqueue decides.
      if (pre_enqueue_ && !pre_enqueue_(pod->pod())) continue;
      moving.push_back(pod);
      continue;
    }
    if (EventMovesPod(event, *pod)) moving.push_back(pod);
  }
  for (auto& pod : moving) {
    unschedulable_.erase(pod->uid());
    if (!pod->gated && IsBackingOff(*pod)) {
      where_[pod->uid()] = 'b';
      backoff_.emplace(BackoffExpiry(*pod), pod);
    } else {
      where_.erase(pod->uid());
      MoveToActiveLocked(pod);
    }
  }
  move_request_cycle_ = scheduling_cycle_;
}

void SchedulingQueue::FlushBackoffCompleted() {
  std::lock_guard lock(mutex_);
  const auto now = options_.clock->Now();
  while (!backoff_.empty() && backoff_.begin()->first <= now) {
    QueuedPodInfoPtr pod = std::move(backoff_.begin()->second);
    backoff_.erase(backoff_.begin());
    where_.erase(pod->uid());
    MoveToActiveLocked(std::move(pod));
  }
}

void SchedulingQueue::FlushUnschedulableLeftover() {
  std::vector<QueuedPodInfoPtr> moving;
  {
    std::lock_guard lock(mutex_);
    const auto now = options_.clock->Now();
    for (auto& [uid, pod] : unschedulable_) {
      if (!pod->gated && now - pod->timestamp > options_.max_unschedulable_duration) {
        moving.push_back(pod);
      }
    }
    for (auto& pod : moving) {
      unschedulable_.erase(pod->uid());
      if (IsBackingOff(*pod)) {
        where_[pod->uid()] = 'b';
        backoff_.emplace(BackoffExpiry(*pod), pod);
      } else {
        where_.erase(pod->uid());
        MoveToActiveLocked(pod);
      }
    }
  }
}

void SchedulingQueue::Run() {
  flusher_ = std::thread([this] {
    auto last_unschedulable_flush = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex_);
    while (!closed_) {
      flusher_cond_.wait_for(lock, options_.flush_period, [&] { return closed_; });
      if (closed_) break;
      lock.unlock();
      FlushBackoffCompleted();
      if (std::chrono::steady_clock::now() - last_unschedulable_flush >=
          options_.unschedulable_flush_period) {
        FlushUnschedulableLeftover();
        last_unschedulable_flush = std::chrono::steady_clock::now();
      }
      lock.lock();
    }
  });
}

void SchedulingQueue::Close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  cond_.notify_all();
  flusher_cond_.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

SchedulingQueue::Counts SchedulingQueue::PendingCounts() const {
  std::lock_guard lock(mutex_);
  Counts counts;
  counts.active = active_.size();
  counts.backoff = backoff_.size();
  for (const auto& [uid, pod] : unschedulable_) {
    (pod->gated ? counts.gated : counts.unschedulable)++;
  }
  return counts;
}

bool SchedulingQueue::Contains(const std::string& uid) const {
  std::lock_guard lock(mutex_);
  return where_.contains(uid);
}

}  // namespace kpp::scheduler
