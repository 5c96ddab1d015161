// The scheduler component: informers on pods and nodes feed the cache and the queue; one
// thread takes a pod at a time, runs its profile's framework on a snapshot, assumes the chosen
// node in the cache and hands the binding (PreBind, Bind through pods/binding, PostBind) to
// binding threads, so the next cycle starts at once. Pods that fit nowhere get upstream's
// PodScheduled=False condition and FailedScheduling event and wait in the queue.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "client/informers/shared_informer.h"
#include "client/record/event_recorder.h"
#include "scheduler/cache/cache.h"
#include "scheduler/framework/framework.h"
#include "scheduler/metrics.h"
#include "scheduler/queue/scheduling_queue.h"
#include "scheduler/schedule_one.h"

namespace kpp::scheduler {

struct SchedulerOptions {
  std::vector<ProfileConfig> profiles = {ProfileConfig{}};
  int32_t percentage_of_nodes_to_score = 0;
  int parallelism = 0;  // Filter/Score threads; 0: one per core
  int binding_threads = 16;
  std::chrono::milliseconds pod_initial_backoff{1000};
  std::chrono::milliseconds pod_max_backoff{10000};
  std::string identity = "kpp-scheduler";  // events' reportingInstance
};

class Scheduler final : public Handle {
 public:
  static Result<std::unique_ptr<Scheduler>> Create(std::shared_ptr<client::rest::RestClient> client,
                                                   SchedulerOptions options,
                                                   SchedulerMetrics* metrics);
  ~Scheduler() override;

  // Starts the informers (if not yet) and the scheduling loop.
  void Start();
  void Stop();
  bool WaitForCacheSync(std::chrono::milliseconds timeout);

  const Snapshot& snapshot() const override { return snapshot_; }
  std::shared_ptr<client::rest::RestClient> client() const override { return client_; }
  std::map<std::string, std::string> NamespaceLabels(const std::string& ns) const override;
  std::vector<std::shared_ptr<const api::policy::v1::PodDisruptionBudget>> PodDisruptionBudgets()
      const override;
  labels::Selector DefaultSpreadSelector(const Pod& pod) const override;
  PluginStatus RunFilters(const CycleState& state, const PodInfo& pod,
                          const NodeInfo& node) const override;
  void RecordEvent(const Pod& pod, const std::string& type, const std::string& reason,
                   const std::string& message) override;
  SchedulingQueue& queue() { return *queue_; }
  Cache& cache() { return cache_; }

 private:
  Scheduler(std::shared_ptr<client::rest::RestClient> client, SchedulerOptions options,
            SchedulerMetrics* metrics);
  const Framework* FrameworkFor(const Pod& pod) const;
  void RegisterHandlers();
  void OnPodAdd(const PodPtr& pod);
  void OnPodUpdate(const PodPtr& old_pod, const PodPtr& new_pod);
  void OnPodDelete(const PodPtr& pod);
  void OnNodeUpdate(const NodePtr& old_node, const NodePtr& new_node);
  void Loop();
  void ScheduleOne(QueuedPodInfoPtr queued);
  void Bind(const Framework* framework, QueuedPodInfoPtr queued, PodInfoPtr assumed,
            std::shared_ptr<CycleState> state, std::string node,
            std::chrono::steady_clock::time_point started);
  // Records why the pod was not placed and puts it back into the queue.
  void HandleFailure(const Framework& framework, const QueuedPodInfoPtr& queued,
                     const std::string& reason, const std::string& message,
                     std::set<std::string> unschedulable_plugins, int64_t cycle,
                     const std::string& nominated_node = "");
  void UpdatePodScheduledCondition(const Pod& pod, const std::string& reason,
                                   const std::string& message, const std::string& nominated_node);
  void SubmitBinding(std::function<void()> work);
  void BindingLoop();

  std::shared_ptr<client::rest::RestClient> client_;
  SchedulerOptions options_;
  SchedulerMetrics* metrics_;
  std::vector<std::unique_ptr<Framework>> frameworks_;
  std::map<std::string, const Framework*> by_name_;
  Cache cache_;
  Snapshot snapshot_;
  std::unique_ptr<SchedulingQueue> queue_;
  std::unique_ptr<Parallelizer> parallelizer_;
  std::unique_ptr<ScheduleAlgorithm> algorithm_;
  std::unique_ptr<client::informers::SharedInformerFactory> informers_;
  const client::informers::SharedInformer* namespaces_ = nullptr;
  const client::informers::SharedInformer* pod_disruption_budgets_ = nullptr;  // for preemption
  // For PodTopologySpread's system defaults.
  const client::informers::SharedInformer* services_ = nullptr;
  const client::informers::SharedInformer* replication_controllers_ = nullptr;
  const client::informers::SharedInformer* replica_sets_ = nullptr;
  const client::informers::SharedInformer* stateful_sets_ = nullptr;
  std::unique_ptr<client::record::EventRecorder> recorder_;
  std::thread loop_;
  std::atomic<bool> stopping_ = false;
  bool started_ = false;

  std::mutex binding_mutex_;
  std::condition_variable binding_ready_;
  std::deque<std::function<void()>> binding_work_;
  std::vector<std::thread> binding_threads_;
};

}  // namespace kpp::scheduler
