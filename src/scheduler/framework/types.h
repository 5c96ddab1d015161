// The scheduler's view of pods and nodes (upstream's framework types): the resources a pod
// asks for, computed once per pod, and per node what its pods use (requested resources, host
// ports, images). NodeInfo objects are shared between the cache and snapshots and copied only
// when the cache changes one that a snapshot still holds.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "api/core/v1/types.h"

namespace kpp::scheduler {

using api::core::v1::Node;
using api::core::v1::Pod;
using PodPtr = std::shared_ptr<const Pod>;
using NodePtr = std::shared_ptr<const Node>;

inline constexpr int64_t kMaxNodeScore = 100;
inline constexpr int64_t kMinNodeScore = 0;
// Requests assumed for containers that state none, when scoring (upstream's non-zero defaults).
inline constexpr int64_t kDefaultMilliCpuRequest = 100;
inline constexpr int64_t kDefaultMemoryRequest = 200 * 1024 * 1024;

inline constexpr char kResourceCpu[] = "cpu";
inline constexpr char kResourceMemory[] = "memory";
inline constexpr char kResourceEphemeralStorage[] = "ephemeral-storage";
inline constexpr char kResourcePods[] = "pods";

// Extended resources (example.com/gpu), hugepages-* and attachable-volumes-*: counted as
// integers, upstream's "scalar resources".
bool IsScalarResourceName(const std::string& name);

struct Resource {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  int64_t allowed_pod_number = 0;
  std::map<std::string, int64_t> scalar;

  // From a resource list (requests, allocatable): cpu in millicores, the rest in units.
  static Resource FromList(const std::map<std::string, api::Quantity>& list);
  void Add(const Resource& other);
  void Sub(const Resource& other);
  // Each member becomes the larger of the two.
  void SetMax(const Resource& other);
  int64_t Get(const std::string& name) const;
  bool IsZero() const;
  bool operator==(const Resource&) const = default;
};

// The pod's effective requests: the sum of its containers and sidecars (restartPolicy Always
// init containers), or more when an init container needs more while it runs, plus the pod's
// overhead. With `non_zero_defaults`, a container stating no cpu or memory request counts as
// 100m / 200Mi (upstream uses that for scoring only).
Resource PodRequests(const Pod& pod, bool non_zero_defaults = false);

struct HostPort {
  std::string ip;  // "0.0.0.0" when unset
  std::string protocol;
  int32_t port = 0;
  auto operator<=>(const HostPort&) const = default;
};
// The host ports a pod's containers (and init containers) ask for.
std::vector<HostPort> PodHostPorts(const Pod& pod);
bool HostPortsConflict(const HostPort& a, const HostPort& b);

bool PodHasAffinity(const Pod& pod);
bool PodHasRequiredAntiAffinity(const Pod& pod);

// A pod with what the scheduler computes from it once.
struct PodInfo {
  PodPtr pod;
  Resource requests;           // effective requests
  Resource non_zero_requests;  // with the non-zero defaults for cpu and memory
  std::vector<HostPort> host_ports;
  bool has_affinity = false;
  bool has_required_anti_affinity = false;

  explicit PodInfo(PodPtr pod);
  const std::string& uid() const { return pod->metadata.uid; }
};
using PodInfoPtr = std::shared_ptr<const PodInfo>;

struct NodeInfo {
  NodePtr node;  // null while the node is unknown but pods name it
  // node->spec.unschedulable, and whether node->spec.taints has any: the filters and scores that
  // run on every node of every cycle read these here, not in the (large) Node, which would be a
  // cache miss per node. First in the struct, on the cache line the filters read anyway (node,
  // pods' count).
  bool unschedulable = false;
  bool tainted = false;
  // node->metadata.name, for the loops over every node that want only the name (the scores of
  // each node): kept beside the flags, reading it costs no cache miss on the Node either.
  // Set with the node (SetNode, ClearNode); a copy of this NodeInfo holds the same Node.
  std::string_view name_view;
  std::vector<PodInfoPtr> pods;
  std::vector<PodInfoPtr> pods_with_affinity;
  std::vector<PodInfoPtr> pods_with_required_anti_affinity;
  std::vector<HostPort> used_ports;
  Resource requested;
  Resource non_zero_requested;
  Resource allocatable;
  // Normalized image name -> size in bytes.
  std::unordered_map<std::string, int64_t> images;
  int64_t generation = 0;

  const std::string& name() const;
  void SetNode(NodePtr node);
  // The node is gone while pods still name it: drops it and the flags SetNode read from it.
  void ClearNode();
  void AddPod(const PodInfoPtr& pod);
  // False when the pod was not on this node.
  bool RemovePod(const std::string& uid);
};
using NodeInfoPtr = std::shared_ptr<const NodeInfo>;

// "nginx" -> "nginx:latest": the tag the runtime pulls when none is given.
std::string NormalizedImageName(const std::string& name);

}  // namespace kpp::scheduler
