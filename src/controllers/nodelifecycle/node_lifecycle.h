// The node lifecycle controller (upstream's pkg/controller/nodelifecycle) and the taint
// eviction controller (pkg/controller/tainteviction).
//
// Node health: a node whose kubelet neither renewed its Lease (kube-node-lease/<node>) nor
// posted a new Ready heartbeat for --node-monitor-grace-period gets its Ready, MemoryPressure,
// DiskPressure and PIDPressure conditions set to Unknown (reason NodeStatusUnknown, "Kubelet
// stopped posting node status."). From the Ready condition the node gets the taints
// node.kubernetes.io/unreachable (Unknown) or node.kubernetes.io/not-ready (False), NoSchedule
// and NoExecute, removed again when it is Ready. NoExecute taints are added at
// --node-eviction-rate per second per zone (zone: topology.kubernetes.io/zone); a zone whose
// nodes are all not ready is fully disrupted, one with more than 2 not ready and at least
// --unhealthy-zone-threshold of them partially (then --secondary-node-eviction-rate if it has
// more than --large-cluster-size-threshold nodes, else none); when every zone is fully
// disrupted no NoExecute taint is added and those present go (upstream's guard against a
// control-plane network cut).
//
// Taint eviction: a pod on a node with NoExecute taints it does not tolerate is deleted at once;
// one that tolerates them all for a while (the smallest tolerationSeconds) is deleted when that
// time has passed since it was first seen there. Before deleting it gets the DisruptionTarget
// condition (reason DeletionByTaintManager) and an event TaintManagerEviction.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/coordination.k8s.io/v1/codec.h"
#include "api/core/v1/codec.h"
#include "base/clock.h"
#include "base/result.h"
#include "client/informers/shared_informer.h"
#include "client/rest/rest_client.h"
#include "controllers/common/controller_utils.h"

namespace kpp::controllers {

using api::coordination_k8s_io::v1::Lease;
using api::core::v1::Node;

inline constexpr char kUnreachableTaint[] = "node.kubernetes.io/unreachable";
inline constexpr char kNotReadyTaint[] = "node.kubernetes.io/not-ready";
inline constexpr char kMemoryPressureTaint[] = "node.kubernetes.io/memory-pressure";
inline constexpr char kDiskPressureTaint[] = "node.kubernetes.io/disk-pressure";
inline constexpr char kPIDPressureTaint[] = "node.kubernetes.io/pid-pressure";
inline constexpr char kNetworkUnavailableTaint[] = "node.kubernetes.io/network-unavailable";
inline constexpr char kUnschedulableTaint[] = "node.kubernetes.io/unschedulable";
inline constexpr char kZoneLabel[] = "topology.kubernetes.io/zone";

class NodeLifecycleClient {
 public:
  virtual ~NodeLifecycleClient() = default;
  // Writes the node's status (conditions), guarded by its resourceVersion.
  virtual Status UpdateNodeStatus(const Node& node) = 0;
  // A JSON merge patch of the node (its taints).
  virtual Status PatchNode(const std::string& name, const std::string& patch) = 0;
  virtual Status PatchPodStatus(const std::string& ns, const std::string& name,
                                const std::string& patch) = 0;
  // Deletes the pod (its own grace period), on the condition that its uid is `uid`.
  virtual Status DeletePod(const std::string& ns, const std::string& name,
                           const std::string& uid) = 0;
};

class RestNodeLifecycleClient final : public NodeLifecycleClient {
 public:
  explicit RestNodeLifecycleClient(std::shared_ptr<client::rest::RestClient> client)
      : client_(std::move(client)) {}
  Status UpdateNodeStatus(const Node& node) override;
  Status PatchNode(const std::string& name, const std::string& patch) override;
  Status PatchPodStatus(const std::string& ns, const std::string& name,
                        const std::string& patch) override;
  Status DeletePod(const std::string& ns, const std::string& name, const std::string& uid) override;

 private:
  std::shared_ptr<client::rest::RestClient> client_;
};

struct NodeLifecycleOptions {
  std::chrono::milliseconds node_monitor_period{5'000};         // --node-monitor-period
  std::chrono::milliseconds node_monitor_grace_period{40'000};  // --node-monitor-grace-period
  std::chrono::milliseconds node_startup_grace_period{60'000};  // --node-startup-grace-period
  double node_eviction_rate = 0.1;                              // --node-eviction-rate
  double secondary_node_eviction_rate = 0.01;                   // --secondary-node-eviction-rate
  int large_cluster_size_threshold = 50;                        // --large-cluster-size-threshold
  double unhealthy_zone_threshold = 0.55;                       // --unhealthy-zone-threshold
};

enum class ZoneState { kNormal, kPartialDisruption, kFullDisruption };
// Upstream's ComputeZoneState from the Ready conditions of a zone's nodes.
ZoneState ComputeZoneState(int ready, int not_ready, double unhealthy_zone_threshold);

// Upstream's ToleratesTaint.
bool Tolerates(const api::core::v1::Toleration& toleration, const api::core::v1::Taint& taint);

using NodePtr = std::shared_ptr<const Node>;
using PodPtr = std::shared_ptr<const api::core::v1::Pod>;

// Upstream's MarkPodsNotReady decision: the pods bound to `node_name` that have a Ready
// condition not already False, each with the strategic merge patch of its status that turns
// that condition False (lastTransitionTime `now`; its reason and message stay as they were).
struct PodNotReadyMark {
  PodPtr pod;
  std::string patch;
};
std::vector<PodNotReadyMark> PodsToMarkNotReady(const std::vector<PodPtr>& pods,
                                                const std::string& node_name, api::Time now);

// Writes PodsToMarkNotReady's patches; each pod written (or gone) gets the Warning event
// NodeNotReady "Node is not ready". A pod already deleted is no error.
Status MarkPodsNotReady(NodeLifecycleClient& client, EventSink& events,
                        const std::vector<PodPtr>& pods, const std::string& node_name,
                        api::Time now);

// One pass of node health monitoring over snapshots of the nodes and their leases (by node
// name). Keeps between passes when it last saw each node's kubelet alive and the per-zone
// eviction tokens.
class NodeHealthSyncer {
 public:
  using PodsOfNode = std::function<std::vector<PodPtr>(const std::string& node_name)>;
  NodeHealthSyncer(NodeLifecycleClient& client, NodeLifecycleOptions options, Clock& clock,
                   EventSink* events = nullptr)
      : client_(client), options_(options), clock_(clock), events_(events) {}
  // With an event sink, as upstream's monitorNodeHealth: RegisteredNode / RemovingNode for
  // nodes first seen / gone, and for a node this pass turns from Ready True to Unknown the
  // event NodeNotReady and MarkPodsNotReady over `pods_of(node)` (retried on later passes
  // while it fails and the node stays not ready).
  Status Monitor(const std::vector<NodePtr>& nodes,
                 const std::map<std::string, std::shared_ptr<const Lease>>& leases,
                 const PodsOfNode& pods_of = {});

 private:
  struct Health {
    Clock::TimePoint probe;
    api::Time heartbeat;
    api::Time ready_transition;
    std::optional<api::MicroTime> renew;
  };
  struct Bucket {
    double tokens = 1;
    Clock::TimePoint refilled;
  };
  // `node` with its conditions set Unknown when the kubelet is overdue, or nullopt.
  std::optional<Node> CheckHealth(const Node& node, const Lease* lease);
  bool TakeEvictionToken(const std::string& zone, double rate);
  void RecordNodeEvent(const std::string& name, const std::string& uid, const std::string& reason,
                       const std::string& message);

  NodeLifecycleClient& client_;
  NodeLifecycleOptions options_;
  Clock& clock_;
  EventSink* events_;
  std::map<std::string, Health> health_;
  std::map<std::string, Bucket> buckets_;
  std::map<std::string, std::string> known_nodes_;  // name -> uid, for RemovingNode
  std::set<std::string> mark_retries_;              // nodes whose MarkPodsNotReady failed
};

// The node's taints as its conditions want them (upstream's TaintNodesByCondition: NoSchedule
// not-ready/unreachable from Ready False/Unknown, memory-, disk-, pid-pressure and
// network-unavailable from those conditions True, unschedulable from spec.unschedulable; and
// the not-ready/unreachable NoExecute taint), or nullopt when they are right. Other taints are
// kept; new ones get timeAdded `now`. `allow_no_execute` false removes the NoExecute taint.
std::optional<std::vector<api::core::v1::Taint>> DesiredConditionTaints(const Node& node,
                                                                        bool allow_no_execute,
                                                                        api::Time now);

// Upstream's doNoScheduleTaintingPass, run for each node added or updated: the NoSchedule
// taints DesiredConditionTaints wants, at once. A NoExecute taint is not added here (Monitor adds
// them at the eviction rate), but one no longer wanted goes and not-ready/unreachable swap.
Status SyncNoScheduleTaints(NodeLifecycleClient& client, const Node& node, api::Time now);

class TaintEvictionSyncer {
 public:
  TaintEvictionSyncer(NodeLifecycleClient& client, EventSink& events, Clock& clock)
      : client_(client), events_(events), clock_(clock) {}
  // `pods` are those bound to `nodes`; returns "<ns>/<name>" of the pods deleted.
  std::vector<std::string> Evict(const std::vector<NodePtr>& nodes,
                                 const std::vector<PodPtr>& pods);

 private:
  std::map<std::string, Clock::TimePoint> first_seen_;  // pod uid -> first seen on a tainted node
  std::set<std::string> evicted_;                       // uids
  NodeLifecycleClient& client_;
  EventSink& events_;
  Clock& clock_;
};

class NodeLifecycleController {
 public:
  NodeLifecycleController(client::informers::SharedInformerFactory& factory,
                          NodeLifecycleClient& client, EventSink& events,
                          NodeLifecycleOptions options = {});
  ~NodeLifecycleController();
  void Run();
  void Stop();

 private:
  void Loop(std::chrono::milliseconds period, const std::function<void()>& pass);
  void SyncChangedNodes();

  client::informers::SharedInformer& nodes_informer_;
  client::informers::SharedInformer& leases_informer_;
  client::informers::SharedInformer& pods_informer_;
  NodeLifecycleOptions options_;
  NodeHealthSyncer health_;
  NodeLifecycleClient& client_;
  TaintEvictionSyncer eviction_;
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::set<std::string> changed_nodes_;  // guarded by mutex_; woken through stop_
  std::vector<std::thread> threads_;
};

}  // namespace kpp::controllers
