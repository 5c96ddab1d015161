// The DaemonSet controller (upstream's pkg/controller/daemon): one pod per eligible node. A node
// is eligible when the template's nodeSelector and required node affinity match it and its
// NoSchedule/NoExecute taints are tolerated (with the tolerations upstream adds to every daemon
// pod). Pods are created unbound with a required node affinity on metadata.name (matchFields)
// naming their node, for the scheduler to bind. Template changes roll out with RollingUpdate
// (maxUnavailable, maxSurge) or OnDelete; revisions are ControllerRevisions (controllers/history),
// pods carry the revision's hash in controller-revision-hash.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "client/informers/shared_informer.h"
#include "client/workqueue/queue.h"
#include "controllers/common/controller_utils.h"
#include "controllers/common/queue_workers.h"
#include "controllers/history/history.h"
#include "controllers/replicaset/replica_set.h"

namespace kpp::controllers {

using api::apps::v1::DaemonSet;
using api::core::v1::Node;

// The template's pod spec with upstream's automatic daemon tolerations added.
api::core::v1::PodSpec WithDaemonTolerations(api::core::v1::PodSpec spec);
// Whether `required` (nodeSelectorTerms, ORed) matches `node` (labels and metadata.name).
bool NodeSelectorMatches(const api::core::v1::NodeSelector& required, const Node& node);
// Whether a pod of `spec` should run on `node` (selector, affinity, tolerated NoSchedule and
// NoExecute taints), and whether one already there may stay (only NoExecute evicts).
struct NodeFit {
  bool should_run = false;
  bool should_continue_running = false;
};
NodeFit DaemonPodFits(const api::core::v1::PodSpec& spec, const Node& node);
// The node a daemon pod is for: spec.nodeName, else the node its matchFields affinity names.
std::string TargetNodeOf(const Pod& pod);
// The pod a daemon set creates for `node_name`.
Pod NewDaemonPod(const DaemonSet& ds, const std::string& hash, const std::string& node_name);

std::string DaemonSetStatusPatch(const api::apps::v1::DaemonSetStatus& status);

class DaemonSetSyncer {
 public:
  DaemonSetSyncer(const ObjectLister<Pod>& pods, const ObjectLister<Node>& nodes,
                  const ObjectLister<ControllerRevision>& revisions, WorkloadClient& client,
                  EventSink& events, Clock& clock)
      : pods_(pods),
        nodes_(nodes),
        revisions_(revisions),
        client_(client),
        events_(events),
        clock_(clock) {}
  SyncResult Sync(const std::string& key, const DaemonSet* ds);

 private:
  const ObjectLister<Pod>& pods_;
  const ObjectLister<Node>& nodes_;
  const ObjectLister<ControllerRevision>& revisions_;
  WorkloadClient& client_;
  EventSink& events_;
  Clock& clock_;
};

class DaemonSetController {
 public:
  DaemonSetController(client::informers::SharedInformerFactory& factory, WorkloadClient& client,
                      EventSink& events, int workers = 2, Clock& clock = RealClock());
  ~DaemonSetController();
  void Run();
  void Stop();

 private:
  void EnqueueAll();

  client::informers::SharedInformer& sets_informer_;
  client::informers::SharedInformer& pods_informer_;
  client::informers::SharedInformer& nodes_informer_;
  client::informers::SharedInformer& revisions_informer_;
  InformerLister<Pod> pods_;
  InformerLister<Node> nodes_;
  InformerLister<ControllerRevision> revisions_;
  int workers_count_;
  DaemonSetSyncer syncer_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers
