// The Deployment controller (upstream's pkg/controller/deployment): one ReplicaSet per pod
// template, named "<deployment>-<pod-template-hash>", rolled out with the RollingUpdate
// (maxSurge/maxUnavailable) or Recreate strategy; revisions in the
// deployment.kubernetes.io/revision annotation (which `kubectl rollout history|undo` read);
// proportional scaling of the replica sets during a rollout; old replica sets cleaned up beyond
// revisionHistoryLimit; the Progressing and Available conditions with upstream's reasons and
// messages; paused deployments only scale.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/informers/shared_informer.h"
#include "client/workqueue/queue.h"
#include "controllers/common/controller_utils.h"
#include "controllers/common/queue_workers.h"
#include "controllers/replicaset/replica_set.h"

namespace kpp::controllers {

inline constexpr char kRevisionAnnotation[] = "deployment.kubernetes.io/revision";
inline constexpr char kRevisionHistoryAnnotation[] = "deployment.kubernetes.io/revision-history";
inline constexpr char kDesiredReplicasAnnotation[] = "deployment.kubernetes.io/desired-replicas";
inline constexpr char kMaxReplicasAnnotation[] = "deployment.kubernetes.io/max-replicas";
inline constexpr char kPodTemplateHashLabel[] = "pod-template-hash";

// The pod-template-hash of `pod_template`. Upstream hashes Go's printed form of the struct with
// FNV-32a, which C++ cannot reproduce; kpp hashes the template's JSON (as the API writes it)
// with FNV-32a, then the collision count as upstream does, and encodes the decimal number with
// upstream's SafeEncodeString alphabet, so names look alike but differ from upstream's.
std::string ComputePodTemplateHash(const api::core::v1::PodTemplateSpec& pod_template,
                                   std::optional<int32_t> collision_count);
// upstream's SafeEncodeString: each byte mapped into "bcdfghjklmnpqrstvwxz2456789".
std::string SafeEncodeString(std::string_view text);

// maxSurge (rounded up) and maxUnavailable (rounded down) for `desired` replicas; both 0 makes
// maxUnavailable 1 (upstream's ResolveFenceposts).
Result<std::pair<int32_t, int32_t>> ResolveFenceposts(
    const std::optional<api::IntOrString>& max_surge,
    const std::optional<api::IntOrString>& max_unavailable, int32_t desired);
int32_t MaxSurge(const Deployment& deployment);
int32_t MaxUnavailable(const Deployment& deployment);
// The replicas a new replica set should have now (upstream's NewRSNewReplicas).
int32_t NewRSNewReplicas(const Deployment& deployment,
                         const std::vector<const ReplicaSet*>& all_replica_sets,
                         const ReplicaSet& new_rs);
// Whether a deployment's rollout is finished (upstream's DeploymentComplete).
bool DeploymentComplete(const Deployment& deployment,
                        const api::apps::v1::DeploymentStatus& status);
// The JSON merge patch writing `status` (every field given).
std::string DeploymentStatusPatch(const api::apps::v1::DeploymentStatus& status);

// One sync of one deployment; everything it touches is injected.
class DeploymentSyncer {
 public:
  DeploymentSyncer(const ObjectLister<ReplicaSet>& replica_sets, const ObjectLister<Pod>& pods,
                   ControllerClient& client, EventSink& events, Clock& clock)
      : replica_sets_(replica_sets), pods_(pods), client_(client), events_(events), clock_(clock) {}
  // `deployment` is null when it is gone.
  SyncResult Sync(const std::string& key, const Deployment* deployment);

 private:
  struct Context;
  Status Claim(Context& context, const labels::Selector& selector);
  Status GetAllReplicaSetsAndSyncRevision(Context& context, bool create);
  Status GetNewReplicaSet(Context& context, bool create);
  Status RolloutRolling(Context& context);
  Status RolloutRecreate(Context& context);
  Status SyncScaleOnly(Context& context);
  Result<bool> ScaleReplicaSet(Context& context, ReplicaSet& rs, int32_t new_scale);
  Result<bool> ReconcileNewReplicaSet(Context& context);
  Result<bool> ReconcileOldReplicaSets(Context& context);
  Status Scale(Context& context);
  Status CleanupDeployment(Context& context);
  Status SyncRolloutStatus(Context& context);
  Status WriteStatus(Context& context, const api::apps::v1::DeploymentStatus& status);
  api::apps::v1::DeploymentStatus CalculateStatus(const Context& context) const;
  bool IsScalingEvent(Context& context);

  const ObjectLister<ReplicaSet>& replica_sets_;
  const ObjectLister<Pod>& pods_;
  ControllerClient& client_;
  EventSink& events_;
  Clock& clock_;
};

struct DeploymentControllerOptions {
  int workers = 5;  // --concurrent-deployment-syncs
};

class DeploymentController {
 public:
  DeploymentController(client::informers::SharedInformerFactory& factory, ControllerClient& client,
                       EventSink& events, DeploymentControllerOptions options = {},
                       Clock& clock = RealClock());
  ~DeploymentController();
  void Run();
  void Stop();

 private:
  void EnqueueOwnerOf(const api::meta::v1::ObjectMeta& metadata);
  void EnqueueForReplicaSet(const ReplicaSet& rs);

  client::informers::SharedInformer& deployments_informer_;
  client::informers::SharedInformer& replica_sets_informer_;
  client::informers::SharedInformer& pods_informer_;
  InformerLister<Deployment> deployments_;
  InformerLister<ReplicaSet> replica_sets_;
  InformerLister<Pod> pods_;
  DeploymentControllerOptions options_;
  DeploymentSyncer syncer_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers
