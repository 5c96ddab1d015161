// The StatefulSet controller (upstream's pkg/controller/statefulset): pods named
// "<set>-<ordinal>" with stable hostnames under the set's service, one PersistentVolumeClaim per
// volumeClaimTemplate and ordinal ("<claim>-<set>-<ordinal>", kept on scale-down unless the
// retention policy says Delete), created in order and one at a time (OrderedReady) or all at once
// (Parallel), removed from the highest ordinal down, and replaced on a template change from the
// highest ordinal down to the partition (RollingUpdate) or only when deleted (OnDelete). The
// template of every revision is kept in a ControllerRevision (see controllers/history).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/informers/shared_informer.h"
#include "client/workqueue/queue.h"
#include "controllers/common/controller_utils.h"
#include "controllers/common/queue_workers.h"
#include "controllers/history/history.h"
#include "controllers/replicaset/replica_set.h"

namespace kpp::controllers {

using api::apps::v1::StatefulSet;
using api::core::v1::PersistentVolumeClaim;

inline constexpr char kStatefulSetPodNameLabel[] = "statefulset.kubernetes.io/pod-name";
inline constexpr char kPodIndexLabel[] = "apps.kubernetes.io/pod-index";

// The ordinal of `pod_name` if it is "<set_name>-<digits>", else -1.
int ParseOrdinal(const std::string& set_name, const std::string& pod_name);
std::string ClaimName(const std::string& claim_template, const std::string& set_name, int ordinal);

// The pod of `ordinal` built from `pod_template` (revision `revision_name`): identity labels,
// hostname and subdomain, claims in place of the volumes the templates name, controller ref.
Pod NewStatefulSetPod(const StatefulSet& set, const api::core::v1::PodTemplateSpec& pod_template,
                      const std::string& revision_name, int ordinal);
// The claims the pod of `ordinal` mounts.
std::vector<PersistentVolumeClaim> ClaimsFor(const StatefulSet& set, int ordinal);

// The JSON merge patch writing `status` (every field, so zeros clear).
std::string StatefulSetStatusPatch(const api::apps::v1::StatefulSetStatus& status);

// One sync of one stateful set; everything it touches is injected.
class StatefulSetSyncer {
 public:
  StatefulSetSyncer(const ObjectLister<Pod>& pods,
                    const ObjectLister<PersistentVolumeClaim>& claims,
                    const ObjectLister<ControllerRevision>& revisions, WorkloadClient& client,
                    EventSink& events, Clock& clock)
      : pods_(pods),
        claims_(claims),
        revisions_(revisions),
        client_(client),
        events_(events),
        clock_(clock) {}
  // `set` is null when it is gone.
  SyncResult Sync(const std::string& key, const StatefulSet* set);

 private:
  struct Context;
  Status UpdatePods(Context& context);
  Status CreatePod(Context& context, int ordinal);
  Status DeletePod(Context& context, const Pod& pod, bool scaled_down);
  Status WriteStatus(Context& context);

  const ObjectLister<Pod>& pods_;
  const ObjectLister<PersistentVolumeClaim>& claims_;
  const ObjectLister<ControllerRevision>& revisions_;
  WorkloadClient& client_;
  EventSink& events_;
  Clock& clock_;
};

struct StatefulSetControllerOptions {
  int workers = 5;  // --concurrent-statefulset-syncs
};

class StatefulSetController {
 public:
  StatefulSetController(client::informers::SharedInformerFactory& factory, WorkloadClient& client,
                        EventSink& events, StatefulSetControllerOptions options = {},
                        Clock& clock = RealClock());
  ~StatefulSetController();
  void Run();
  void Stop();

 private:
  void EnqueuePodOwner(const Pod& pod);

  client::informers::SharedInformer& sets_informer_;
  client::informers::SharedInformer& pods_informer_;
  client::informers::SharedInformer& claims_informer_;
  client::informers::SharedInformer& revisions_informer_;
  InformerLister<Pod> pods_;
  InformerLister<PersistentVolumeClaim> claims_;
  InformerLister<ControllerRevision> revisions_;
  StatefulSetControllerOptions options_;
  StatefulSetSyncer syncer_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers
