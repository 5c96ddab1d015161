// Upstream's scheduling framework: the extension points a plugin may implement, the Status
// they answer with, the per-cycle state they share, and the Handle that gives them the cluster
// snapshot and the API client.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/policy/v1/types.h"
#include "apimachinery/labels/selector.h"
#include "base/result.h"
#include "scheduler/cache/snapshot.h"
#include "scheduler/framework/types.h"

namespace kpp::client::rest {
class RestClient;
}

namespace kpp::scheduler {

enum class Code {
  kSuccess,
  kError,
  kUnschedulable,
  // Preemption cannot help: the node is ruled out whatever runs on it.
  kUnschedulableAndUnresolvable,
  kWait,
  kSkip,
};

class PluginStatus {
 public:
  PluginStatus() = default;
  PluginStatus(Code code, std::vector<std::string> reasons = {})
      : code_(code), reasons_(std::move(reasons)) {}
  static PluginStatus Error(std::string message) { return {Code::kError, {std::move(message)}}; }
  static PluginStatus Unschedulable(std::string reason) {
    return {Code::kUnschedulable, {std::move(reason)}};
  }
  static PluginStatus Unresolvable(std::string reason) {
    return {Code::kUnschedulableAndUnresolvable, {std::move(reason)}};
  }

  Code code() const { return code_; }
  bool IsSuccess() const { return code_ == Code::kSuccess; }
  bool IsSkip() const { return code_ == Code::kSkip; }
  bool IsRejected() const {
    return code_ == Code::kUnschedulable || code_ == Code::kUnschedulableAndUnresolvable;
  }
  const std::vector<std::string>& reasons() const { return reasons_; }
  std::string Message() const;
  const std::string& plugin() const { return plugin_; }
  PluginStatus& WithPlugin(std::string plugin) {
    plugin_ = std::move(plugin);
    return *this;
  }

 private:
  Code code_ = Code::kSuccess;
  std::vector<std::string> reasons_;
  std::string plugin_;
};

// Data a plugin computes in PreFilter/PreScore and reads in Filter/Score of the same cycle.
struct StateData {
  virtual ~StateData() = default;
};

class CycleState {
 public:
  // Written before the parallel phases, read during them: no lock needed for reads then.
  void Write(const std::string& key, std::shared_ptr<StateData> data) {
    data_[key] = std::move(data);
  }
  template <typename T>
  const T* Read(const std::string& key) const {
    auto it = data_.find(key);
    return it == data_.end() ? nullptr : dynamic_cast<const T*>(it->second.get());
  }
  // Plugins whose PreFilter/PreScore said Skip: their Filter/Score do not run.
  std::set<std::string> skip_filter_plugins;
  std::set<std::string> skip_score_plugins;
  // skip_filter_plugins by position in the framework's Filter list (set by RunPreFilter), so
  // that the per-node loop does not look names up.
  std::vector<char> skip_filter_index;

 private:
  std::map<std::string, std::shared_ptr<StateData>> data_;
};

// Cluster events that can make an unschedulable pod schedulable (upstream's ClusterEvent).
enum class EventResource { kNode, kPod, kAssignedPod, kUnscheduledPod, kWildcard };
enum ActionType : uint32_t {
  kAdd = 1,
  kDelete = 2,
  kUpdateNodeAllocatable = 4,
  kUpdateNodeLabel = 8,
  kUpdateNodeTaint = 16,
  kUpdateNodeCondition = 32,
  kUpdatePodLabel = 64,
  kUpdatePodScaleDown = 128,
  kUpdatePodTolerations = 256,
  kUpdatePodSchedulingGates = 512,
  kUpdateOther = 1024,
  kUpdate = kUpdateNodeAllocatable | kUpdateNodeLabel | kUpdateNodeTaint | kUpdateNodeCondition |
            kUpdatePodLabel | kUpdatePodScaleDown | kUpdatePodTolerations |
            kUpdatePodSchedulingGates | kUpdateOther,
  kAll = kAdd | kDelete | kUpdate,
};
struct ClusterEvent {
  EventResource resource = EventResource::kWildcard;
  uint32_t actions = kAll;
  std::string label;  // for logs and metrics, e.g. "NodeAdd"
  // Whether `registered` (what a plugin listens to) covers this event.
  bool MatchedBy(const ClusterEvent& registered) const;
};
inline const ClusterEvent kEventNodeAdd{EventResource::kNode, kAdd, "NodeAdd"};
inline const ClusterEvent kEventAssignedPodDelete{EventResource::kAssignedPod, kDelete,
                                                  "AssignedPodDelete"};
inline const ClusterEvent kEventUnschedulableTimeout{EventResource::kWildcard, kAll,
                                                     "UnschedulableTimeout"};

class Handle {
 public:
  virtual ~Handle() = default;
  // The snapshot of this scheduling cycle.
  virtual const Snapshot& snapshot() const = 0;
  // Null in unit tests.
  virtual std::shared_ptr<client::rest::RestClient> client() const = 0;
  // Runs the Filter plugins of the pod's profile on `node` (preemption tries nodes with
  // victims removed); success when none is configured.
  virtual PluginStatus RunFilters(const CycleState& state, const PodInfo& pod,
                                  const NodeInfo& node) const {
    (void)state, (void)pod, (void)node;
    return {};
  }
  // Records an event about `pod` (the preemption of a victim).
  virtual void RecordEvent(const Pod& pod, const std::string& type, const std::string& reason,
                           const std::string& message) {
    (void)pod, (void)type, (void)reason, (void)message;
  }
  // upstream's DefaultSelector for PodTopologySpread's system defaults: the selectors of the
  // Services selecting the pod and of its controlling ReplicationController, ReplicaSet or
  // StatefulSet, merged.
  // Nothing() when there are none.
  virtual labels::Selector DefaultSpreadSelector(const Pod& pod) const {
    (void)pod;
    return labels::Selector::Nothing();
  }
  // The PodDisruptionBudgets of the cluster (preemption prefers victims whose deletion violates
  // none); empty when unknown.
  virtual std::vector<std::shared_ptr<const api::policy::v1::PodDisruptionBudget>>
  PodDisruptionBudgets() const {
    return {};
  }
  // The labels of a namespace (for namespaceSelector); empty when unknown.
  virtual std::map<std::string, std::string> NamespaceLabels(const std::string& ns) const {
    (void)ns;
    return {};
  }
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string Name() const = 0;
  // The events after which a pod this plugin rejected may fit (EnqueueExtensions).
  virtual std::vector<ClusterEvent> EventsToRegister() const { return {}; }
};

class PreEnqueuePlugin : public virtual Plugin {
 public:
  virtual PluginStatus PreEnqueue(const Pod& pod) = 0;
};

class QueueSortPlugin : public virtual Plugin {
 public:
  struct QueuedPod {
    const Pod* pod;
    int64_t timestamp_ns;
  };
  virtual bool Less(const QueuedPod& a, const QueuedPod& b) const = 0;
};

// PreFilter may narrow the nodes to try (a set of names); nullopt means all nodes.
struct PreFilterResult {
  std::optional<std::set<std::string>> node_names;
};

class PreFilterPlugin : public virtual Plugin {
 public:
  virtual PluginStatus PreFilter(CycleState& state, const PodInfo& pod,
                                 PreFilterResult& result) = 0;
};

class FilterPlugin : public virtual Plugin {
 public:
  // Runs for many nodes at once: must only read `state`.
  virtual PluginStatus Filter(const CycleState& state, const PodInfo& pod,
                              const NodeInfo& node) = 0;
};

// Node name -> the status it was rejected with.
using NodeToStatus = std::map<std::string, PluginStatus>;

struct PostFilterResult {
  std::string nominated_node_name;
};

class PostFilterPlugin : public virtual Plugin {
 public:
  virtual PluginStatus PostFilter(CycleState& state, const PodInfo& pod,
                                  const NodeToStatus& statuses, PostFilterResult& result) = 0;
};

class PreScorePlugin : public virtual Plugin {
 public:
  virtual PluginStatus PreScore(CycleState& state, const PodInfo& pod,
                                const std::vector<NodeInfoPtr>& nodes) = 0;
};

struct NodeScore {
  // The NodeInfo's name: the cycle holds its node list, so the name outlives the scores (a
  // copy per node and plugin was a fifth of scoring's cost).
  std::string_view name;
  int64_t score = 0;
};

class ScorePlugin : public virtual Plugin {
 public:
  virtual PluginStatus Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node,
                             int64_t& score) = 0;
  // Maps the raw scores into [0, 100]; plugins whose scores already are there do nothing.
  virtual PluginStatus NormalizeScore(const CycleState&, const PodInfo&, std::vector<NodeScore>&) {
    return {};
  }
};

class ReservePlugin : public virtual Plugin {
 public:
  virtual PluginStatus Reserve(CycleState& state, const PodInfo& pod, const std::string& node) = 0;
  virtual void Unreserve(CycleState& state, const PodInfo& pod, const std::string& node) = 0;
};

class PermitPlugin : public virtual Plugin {
 public:
  // kWait is not supported yet (no in-tree plugin asks to wait): it is treated as a rejection.
  virtual PluginStatus Permit(CycleState& state, const PodInfo& pod, const std::string& node) = 0;
};

class PreBindPlugin : public virtual Plugin {
 public:
  virtual PluginStatus PreBind(CycleState& state, const PodInfo& pod, const std::string& node) = 0;
};

class BindPlugin : public virtual Plugin {
 public:
  // kSkip hands the pod to the next bind plugin.
  virtual PluginStatus Bind(CycleState& state, const PodInfo& pod, const std::string& node) = 0;
};

class PostBindPlugin : public virtual Plugin {
 public:
  virtual void PostBind(CycleState& state, const PodInfo& pod, const std::string& node) = 0;
};

// upstream's DefaultNormalizeScore: scales to [0, max] by the highest score; `reverse` turns
// the highest into the lowest.
void DefaultNormalizeScore(int64_t max_priority, bool reverse, std::vector<NodeScore>& scores);

}  // namespace kpp::scheduler
