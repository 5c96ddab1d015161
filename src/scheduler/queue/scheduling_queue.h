// Upstream's PriorityQueue: pods waiting to be scheduled, in three parts.
// - activeQ: pods ready to be tried, ordered by the profile's QueueSort plugin.
// - backoffQ: pods that failed and wait out their back-off (initial * 2^(attempts-1), capped),
//   ordered by when it ends; moved to activeQ once it has.
// - unschedulable: pods no node fitted; a cluster event that one of the plugins that rejected
//   the pod listens to (node added, pod deleted, ...) moves them back (to backoffQ while their
//   back-off lasts), and every pod waiting longer than 5 minutes is moved anyway.
// PreEnqueue plugins (scheduling gates) keep a pod out of activeQ: it waits as unschedulable.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "scheduler/framework/interface.h"

namespace kpp::scheduler {

using TimePoint = Clock::TimePoint;

struct QueuedPodInfo {
  PodInfoPtr pod_info;
  TimePoint timestamp;          // when it last entered the queue
  TimePoint initial_attempt{};  // first Pop, for the scheduling SLI
  bool attempted = false;
  int attempts = 0;
  // The plugins that rejected it in its last attempt (empty after an error: any event moves it).
  std::set<std::string> unschedulable_plugins;
  bool gated = false;  // a PreEnqueue plugin holds it back
  const Pod& pod() const { return *pod_info->pod; }
  const std::string& uid() const { return pod_info->uid(); }
};
using QueuedPodInfoPtr = std::shared_ptr<QueuedPodInfo>;

struct QueueOptions {
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds max_unschedulable_duration{5 * 60 * 1000};
  // How often the back-off and unschedulable leftovers are checked by Run's thread.
  std::chrono::milliseconds flush_period{1000};
  std::chrono::milliseconds unschedulable_flush_period{30000};
  Clock* clock = &RealClock();
};

class SchedulingQueue {
 public:
  using LessFunction = std::function<bool(const QueuedPodInfo&, const QueuedPodInfo&)>;
  // PreEnqueue of the pod's profile; false keeps the pod gated.
  using PreEnqueueFunction = std::function<bool(const Pod&)>;
  // The events each plugin listens to, for moving unschedulable pods.
  using PluginEvents = std::map<std::string, std::vector<ClusterEvent>>;

  SchedulingQueue(LessFunction less, QueueOptions options = {},
                  PreEnqueueFunction pre_enqueue = nullptr, PluginEvents plugin_events = {});
  ~SchedulingQueue();

  void Add(PodPtr pod);
  void Update(const PodPtr& old_pod, PodPtr new_pod);
  void Delete(const std::string& uid);
  // A change that cannot make the pod schedulable (its status): the queued copy is replaced
  // where it is.
  void Refresh(PodPtr pod);
  // A pod that failed this cycle (`cycle` is the cycle it was popped in): to backoffQ when a
  // move request arrived since, otherwise to unschedulable (or backoffQ on an error).
  void AddUnschedulableIfNotPresent(QueuedPodInfoPtr pod, int64_t cycle);
  // Blocks until a pod is in activeQ; null once closed. Starts a new scheduling cycle.
  QueuedPodInfoPtr Pop();
  // The pod popped last is no longer being scheduled (bound or requeued).
  void Done(const std::string& uid);
  void MoveAllToActiveOrBackoffQueue(const ClusterEvent& event);
  int64_t SchedulingCycle() const;

  // Moves back-off pods whose time is over, and unschedulable pods that waited too long.
  void FlushBackoffCompleted();
  void FlushUnschedulableLeftover();
  // A thread that calls the two flushes periodically; Close ends it and wakes Pop.
  void Run();
  void Close();

  struct Counts {
    size_t active = 0, backoff = 0, unschedulable = 0, gated = 0;
  };
  Counts PendingCounts() const;
  bool Contains(const std::string& uid) const;

 private:
  TimePoint BackoffExpiry(const QueuedPodInfo& pod) const;
  bool IsBackingOff(const QueuedPodInfo& pod) const;
  // Puts a pod into activeQ unless PreEnqueue gates it (then unschedulable). Locked.
  void MoveToActiveLocked(QueuedPodInfoPtr pod);
  void PushActiveLocked(QueuedPodInfoPtr pod);
  bool EventMovesPod(const ClusterEvent& event, const QueuedPodInfo& pod) const;
  void RemoveFromAllLocked(const std::string& uid);

  LessFunction less_;
  QueueOptions options_;
  PreEnqueueFunction pre_enqueue_;
  PluginEvents plugin_events_;

  mutable std::mutex mutex_;
  std::condition_variable cond_;          // Pop waits on it
  std::condition_variable flusher_cond_;  // the flush thread waits on it
  // activeQ as a heap over `active_` (kept in sync with `active_uids_`).
  std::vector<QueuedPodInfoPtr> active_;
  std::multimap<TimePoint, QueuedPodInfoPtr> backoff_;
  std::unordered_map<std::string, QueuedPodInfoPtr> unschedulable_;
  std::unordered_map<std::string, QueuedPodInfoPtr> in_flight_;
  // Where each queued pod is: 'a' active, 'b' backoff, 'u' unschedulable.
  std::unordered_map<std::string, char> where_;
  int64_t scheduling_cycle_ = 0;
  int64_t move_request_cycle_ = -1;
  bool closed_ = false;
  std::thread flusher_;
};

}  // namespace kpp::scheduler
