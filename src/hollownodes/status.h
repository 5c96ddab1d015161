// What a hollow node writes, built without side effects so tests can check it field by field:
// the Node it registers (as upstream's kubelet builds it), its Lease in kube-node-lease, and the
// status of a pod it "runs" (Running and Ready, finished, or killed), plus the address plans
// (node IPs, per-node pod ranges) those need.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/coordination.k8s.io/v1/types.h"
#include "api/core/v1/types.h"
#include "base/result.h"

namespace kpp::hollownodes {

// An IPv4 network: address (host order) and prefix length.
struct Ipv4Cidr {
  uint32_t base = 0;
  int prefix = 0;

  static Result<Ipv4Cidr> Parse(std::string_view text);
  uint64_t Size() const { return uint64_t{1} << (32 - prefix); }
  std::string ToString() const;
};
std::string Ipv4ToString(uint32_t address);

// What every hollow node of one process shares (the command line).
struct NodeTemplate {
  std::string name_prefix = "hollow-";
  std::string cpu = "4";
  std::string memory = "16Gi";
  std::string pods = "110";
  std::string ephemeral_storage = "100Gi";
  std::map<std::string, std::string> labels;  // beyond the kubelet's own
  std::vector<api::core::v1::Taint> taints;   // registered with the node (--register-with-taints)
  // Pod ranges: node i gets the i-th /node_cidr_prefix of this network.
  std::string pod_cidr_base = "10.128.0.0/9";
  int node_cidr_prefix = 24;
  // Node addresses: node i gets base + 1 + i.
  std::string node_ip_base = "172.16.0.0/12";
  std::string kernel_version;  // empty: this machine's
};

// One hollow node's fixed facts, derived from its index.
struct NodeIdentity {
  int index = 0;
  std::string name;
  std::string internal_ip;
  Ipv4Cidr pod_cidr;
};

// Checks the template (quantities, ranges large enough for `count` nodes, label and taint
// syntax) and returns the identity of each node.
Result<std::vector<NodeIdentity>> PlanNodes(const NodeTemplate& node_template, int count);

// "k=v,k2=v2" (validated as label keys and values).
Result<std::map<std::string, std::string>> ParseLabels(std::string_view text);
// "k=v:Effect,k:Effect" as kubelet's --register-with-taints.
Result<std::vector<api::core::v1::Taint>> ParseTaints(std::string_view text);

inline constexpr int32_t kKubeletPort = 10250;
inline constexpr int32_t kNodeLeaseDurationSeconds = 40;
inline constexpr char kNodeLeaseNamespace[] = "kube-node-lease";

// The conditions a healthy kubelet reports, with upstream's reasons and messages, heartbeat
// `now` and transition times kept from `previous` when the status did not change.
std::vector<api::core::v1::NodeCondition> HealthyNodeConditions(
    api::Time now, const std::vector<api::core::v1::NodeCondition>& previous = {});

// The Node as the kubelet registers it: labels, taints, podCIDR(s), capacity, allocatable
// (capacity less the default hard eviction thresholds: memory 100Mi, 10% of ephemeral storage),
// addresses, daemon endpoints, nodeInfo and conditions.
Result<api::core::v1::Node> BuildNode(const NodeTemplate& node_template,
                                      const NodeIdentity& identity, api::Time now);

// The node's Lease: holder = node name, 40 s, renewed `now`, owned by the Node (uid may be empty
// before the node is known, then no owner reference).
api::coordination_k8s_io::v1::Lease BuildLease(const std::string& node_name,
                                               const std::string& node_uid, api::MicroTime now);

// A fake but stable container runtime id ("containerd://<64 hex>") and image digest for a
// container of a pod.
std::string FakeContainerId(std::string_view pod_uid, std::string_view container_name);
std::string FakeImageId(std::string_view image);

// The status of a pod whose containers all started at `started` and are ready: phase Running,
// the kubelet's conditions, IPs, init containers terminated Completed (restartable init
// containers running), containers running. Conditions kept from `pod.status` keep their
// transition time when their status did not change; qosClass and other fields the kubelet does
// not own are kept.
api::core::v1::PodStatus BuildRunningPodStatus(const api::core::v1::Pod& pod,
                                               const std::string& host_ip,
                                               const std::string& pod_ip, api::Time started,
                                               api::Time now);

// The status of a pod whose containers all exited 0 at `now` (reason Completed): phase
// Succeeded, Ready and ContainersReady False with reason PodCompleted, sandbox gone.
api::core::v1::PodStatus BuildSucceededPodStatus(const api::core::v1::Pod& pod, api::Time now);

// The part of a pod a hollow node reads (identity, deletion, node, restart policy, containers'
// names and images, readiness gates, status): what its informer keeps, a fraction of the pod.
api::core::v1::Pod TrimPod(const api::core::v1::Pod& pod);

// A JSON merge patch of pods/status that writes `status` (fields it leaves empty that a pod
// could hold: reason, message, nominatedNodeName are cleared), conditional on the pod's uid and
// resourceVersion, as the kubelet's status manager conditions its patches on the uid.
std::string PodStatusPatch(const api::core::v1::Pod& pod, const api::core::v1::PodStatus& status);

}  // namespace kpp::hollownodes
