// The disruption controller (upstream's pkg/controller/disruption): keeps each
// PodDisruptionBudget's status up to date so that the eviction subresource can honour it:
// expectedPods (the pods selected, or for maxUnavailable and percentage minAvailable the sum of
// the scales of the pods' controllers: ReplicationControllers, Deployments through their
// ReplicaSets, ReplicaSets, StatefulSets, and anything else with a /scale subresource),
// currentHealthy (ready pods not being deleted nor recently evicted), desiredHealthy,
// disruptionsAllowed, observedGeneration, the DisruptionAllowed condition (SufficientPods,
// InsufficientPods, or SyncFailed with disruptionsAllowed 0 when the sync fails) and the
// disruptedPods map, whose entries (written by the eviction subresource) expire after 2 minutes.
// It also resets to False a pod's DisruptionTarget condition left True for 2 minutes while the
// pod was not deleted (an eviction or preemption that did not happen).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/policy/v1/codec.h"
#include "client/discovery/cached_discovery.h"
#include "client/informers/shared_informer.h"
#include "client/rest/rest_client.h"
#include "client/workqueue/queue.h"
#include "controllers/common/controller_utils.h"
#include "controllers/common/queue_workers.h"

namespace kpp::controllers {

using api::policy::v1::PodDisruptionBudget;

// How long an eviction's entry in disruptedPods keeps the pod out of currentHealthy while the
// pod is not seen deleted (upstream's DeletionTimeout).
inline constexpr std::chrono::seconds kDisruptionDeletionTimeout{120};
// How often every budget is synced again (upstream's resync of its budget informer), which also
// catches changes of the controllers' scale.
inline constexpr std::chrono::seconds kDisruptionResyncPeriod{30};
// How long a DisruptionTarget condition may stay True on a pod not being deleted.
inline constexpr std::chrono::seconds kStalePodDisruptionTimeout{120};

inline constexpr char kDisruptionAllowedCondition[] = "DisruptionAllowed";
inline constexpr char kSufficientPodsReason[] = "SufficientPods";
inline constexpr char kInsufficientPodsReason[] = "InsufficientPods";
inline constexpr char kSyncFailedReason[] = "SyncFailed";

// A controller of pods and how many pods it wants.
struct ControllerScale {
  std::string uid;
  int32_t replicas = 0;
};

// The requests the disruption controller makes.
class DisruptionClient {
 public:
  virtual ~DisruptionClient() = default;
  // PUT of the budget's status subresource (a conflict is an error, the sync is retried).
  virtual Status UpdateStatus(const PodDisruptionBudget& pdb) = 0;
  // The scale subresource of the object `ref` names in `ns`: empty when the object is not found,
  // an error when its kind is unknown or has no scale subresource.
  virtual Result<std::optional<ControllerScale>> GetScale(const api::meta::v1::OwnerReference& ref,
                                                          const std::string& ns) = 0;
  // Sets the pod's DisruptionTarget condition to False at `now` (server-side apply of
  // pods/status by field manager DisruptionController, forced, as upstream).
  virtual Status ResetDisruptionTarget(const std::string& ns, const std::string& name,
                                       api::Time now) = 0;
};

// The /scale of other kinds is found through `discovery`, shared with other controllers.
class RestDisruptionClient final : public DisruptionClient {
 public:
  RestDisruptionClient(std::shared_ptr<client::rest::RestClient> client,
                       client::discovery::CachedDiscovery& discovery)
      : client_(std::move(client)), discovery_(discovery) {}
  Status UpdateStatus(const PodDisruptionBudget& pdb) override;
  Result<std::optional<ControllerScale>> GetScale(const api::meta::v1::OwnerReference& ref,
                                                  const std::string& ns) override;
  Status ResetDisruptionTarget(const std::string& ns, const std::string& name,
                               api::Time now) override;

 private:
  std::shared_ptr<client::rest::RestClient> client_;
  client::discovery::CachedDiscovery& discovery_;
};

// The caches a sync reads.
struct DisruptionListers {
  const ObjectLister<Pod>& pods;
  const ObjectLister<ReplicaSet>& replica_sets;
  const ObjectLister<Deployment>& deployments;
  const ObjectLister<api::apps::v1::StatefulSet>& stateful_sets;
  const ObjectLister<api::core::v1::ReplicationController>& replication_controllers;
};

struct DisruptionSyncResult {
  Status status = Ok();
  // Sync again after this long: the earliest disruptedPods entry that has not expired yet.
  std::optional<std::chrono::seconds> requeue_after;
};

// Sets the DisruptionAllowed condition from status.disruptionsAllowed (upstream's
// UpdateDisruptionAllowedCondition); the eviction subresource uses the same rule.
void UpdateDisruptionAllowedCondition(PodDisruptionBudget& pdb, api::Time now);

// How long until `pod`'s DisruptionTarget condition is stale (zero: it is); empty when it has
// none that can be: not True, set by the kubelet (TerminationByKubelet), or the pod is being
// deleted or has finished.
std::optional<std::chrono::seconds> StaleDisruptionWait(const Pod& pod, api::Time now);

// One sync of one budget; everything it touches is injected.
class DisruptionSyncer {
 public:
  DisruptionSyncer(DisruptionListers listers, DisruptionClient& client, EventSink& events,
                   Clock& clock)
      : listers_(listers), client_(client), events_(events), clock_(clock) {}

  DisruptionSyncResult Sync(const PodDisruptionBudget& pdb);
  // Resets `pod`'s DisruptionTarget condition once stale; requeue_after when not yet.
  DisruptionSyncResult SyncStalePodDisruption(const Pod& pod);

  // The pods `pdb` selects (a budget without a selector selects none, an empty one all).
  Result<std::vector<std::shared_ptr<const Pod>>> PodsFor(const PodDisruptionBudget& pdb) const;

 private:
  DisruptionSyncResult TrySync(const PodDisruptionBudget& pdb);
  // expectedPods and desiredHealthy; the names of selected pods without a controller.
  Status ExpectedPodCount(const PodDisruptionBudget& pdb,
                          const std::vector<std::shared_ptr<const Pod>>& pods, int32_t& expected,
                          int32_t& desired_healthy, std::vector<std::string>& unmanaged);
  Status ExpectedScale(const std::vector<std::shared_ptr<const Pod>>& pods, int32_t& expected,
                       std::vector<std::string>& unmanaged);
  Result<std::optional<ControllerScale>> FindController(const api::meta::v1::OwnerReference& ref,
                                                        const std::string& ns);
  Status FailSafe(const PodDisruptionBudget& pdb, const Error& error);

  DisruptionListers listers_;
  DisruptionClient& client_;
  EventSink& events_;
  Clock& clock_;
};

struct DisruptionControllerOptions {
  int workers = 1;
  std::chrono::nanoseconds resync_period = kDisruptionResyncPeriod;
};

// The informer wiring and workers around DisruptionSyncer.
class DisruptionController {
 public:
  DisruptionController(client::informers::SharedInformerFactory& factory, DisruptionClient& client,
                       EventSink& events, DisruptionControllerOptions options = {},
                       Clock& clock = RealClock());
  ~DisruptionController();
  void Run();
  void Stop();

 private:
  void EnqueueForPod(const Pod& pod);
  void EnqueueIfDisruptionTarget(const Pod& pod);

  client::informers::SharedInformer& pdbs_informer_;
  client::informers::SharedInformer& pods_informer_;
  InformerLister<Pod> pods_;
  InformerLister<ReplicaSet> replica_sets_;
  InformerLister<Deployment> deployments_;
  InformerLister<api::apps::v1::StatefulSet> stateful_sets_;
  InformerLister<api::core::v1::ReplicationController> replication_controllers_;
  DisruptionControllerOptions options_;
  Clock& clock_;
  DisruptionSyncer syncer_;
  client::workqueue::RateLimitingQueue queue_;
  client::workqueue::RateLimitingQueue stale_pods_queue_;
  QueueWorkers workers_;
  QueueWorkers stale_pod_workers_;
};

}  // namespace kpp::controllers
