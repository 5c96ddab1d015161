// The ReplicaSet controller, also serving ReplicationControllers as upstream does (one
// implementation; a ReplicationController is converted to a ReplicaSet for the sync): it keeps
// spec.replicas active pods matching the selector, creating them from the template in slow-start
// batches and deleting the least valuable first, adopts orphans the selector matches and releases
// pods that stopped matching, and reports status.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/informers/shared_informer.h"
#include "client/workqueue/queue.h"
#include "controllers/common/controller_utils.h"
#include "controllers/common/queue_workers.h"

namespace kpp::controllers {

// Which of the two kinds a controller serves.
struct ReplicaSetKind {
  std::string api_version;
  std::string kind;
  std::string resource;
};
const ReplicaSetKind& ReplicaSetKindInfo();
const ReplicaSetKind& ReplicationControllerKindInfo();

ReplicaSet FromReplicationController(const api::core::v1::ReplicationController& rc);

inline constexpr int kBurstReplicas = 500;

// The pod a replica set creates: the template's labels, annotations, finalizers and spec,
// generateName "<owner>-", and the controller owner reference (upstream's GetPodFromTemplate).
Result<Pod> PodFromTemplate(const api::core::v1::PodTemplateSpec& pod_template,
                            const std::string& ns, const std::string& owner_name,
                            const api::meta::v1::OwnerReference& owner_ref);

struct SyncResult {
  Status status = Ok();
  // Sync again after this long (pods becoming available after minReadySeconds).
  std::optional<std::chrono::seconds> requeue_after;
};

// One sync of one replica set; everything it touches is injected.
class ReplicaSetSyncer {
 public:
  ReplicaSetSyncer(ReplicaSetKind kind, const ObjectLister<Pod>& pods, ControllerClient& client,
                   EventSink& events, Expectations& expectations, Clock& clock,
                   int burst_replicas = kBurstReplicas)
      : kind_(std::move(kind)),
        pods_(pods),
        client_(client),
        events_(events),
        expectations_(expectations),
        clock_(clock),
        burst_replicas_(burst_replicas) {}

  // `rs` is null when the object is gone.
  SyncResult Sync(const std::string& key, const ReplicaSet* rs);

 private:
  Result<std::vector<std::shared_ptr<const Pod>>> ClaimPods(const ReplicaSet& rs,
                                                            const labels::Selector& selector);
  Status ManageReplicas(const std::string& key, const std::vector<std::shared_ptr<const Pod>>& pods,
                        const ReplicaSet& rs);

  ReplicaSetKind kind_;
  const ObjectLister<Pod>& pods_;
  ControllerClient& client_;
  EventSink& events_;
  Expectations& expectations_;
  Clock& clock_;
  int burst_replicas_;
};

// Upstream's status computation, and the JSON merge patch that writes it (every field given,
// so zeros clear old values).
api::apps::v1::ReplicaSetStatus CalculateReplicaSetStatus(
    const ReplicaSet& rs, const std::vector<std::shared_ptr<const Pod>>& pods,
    const std::optional<Error>& manage_error, Clock::TimePoint now);
std::string ReplicaSetStatusPatch(const api::apps::v1::ReplicaSetStatus& status);

struct ReplicaSetControllerOptions {
  int workers = 5;  // --concurrent-replicaset-syncs
};

// The informer wiring and workers around ReplicaSetSyncer.
class ReplicaSetController {
 public:
  ReplicaSetController(ReplicaSetKind kind, client::informers::SharedInformerFactory& factory,
                       ControllerClient& client, EventSink& events,
                       ReplicaSetControllerOptions options = {}, Clock& clock = RealClock());
  ~ReplicaSetController();
  void Run();
  void Stop();

 private:
  void Enqueue(const api::meta::v1::ObjectMeta& metadata);
  void OnPodAdd(const Pod& pod);
  void OnPodUpdate(const Pod& old_pod, const Pod& new_pod);
  void OnPodDelete(const Pod& pod);
  // The replica set of our kind `pod`'s controller reference points to, or "".
  std::string OwnerKey(const Pod& pod) const;
  void EnqueueMatching(const Pod& pod);
  std::shared_ptr<const ReplicaSet> Lookup(const std::string& ns, const std::string& name) const;
  std::vector<std::shared_ptr<const ReplicaSet>> ListOwners(const std::string& ns) const;

  ReplicaSetKind kind_;
  client::informers::SharedInformer& owners_informer_;
  client::informers::SharedInformer& pods_informer_;
  InformerLister<Pod> pods_;
  ControllerClient& client_;
  EventSink& events_;
  ReplicaSetControllerOptions options_;
  Clock& clock_;
  Expectations expectations_;
  ReplicaSetSyncer syncer_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers
