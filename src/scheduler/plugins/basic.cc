// PrioritySort, SchedulingGates, NodeUnschedulable, NodeName, NodePorts, TaintToleration,
// NodeAffinity, ImageLocality and DefaultBinder.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "api/core/v1/codec.h"
#include "base/error.h"
#include "client/rest/resource.h"
#include "client/rest/rest_client.h"
#include "scheduler/plugins/registry.h"

namespace kpp::scheduler::plugins {
namespace {

using api::core::v1::Taint;
using api::core::v1::Toleration;

Status NoArgs(const boost::json::value* args, const std::string& plugin) {
  if (args == nullptr || args->is_null()) return Ok();
  if (args->is_object()) {
    for (const auto& [key, value] : args->as_object()) {
      if (key != "apiVersion" && key != "kind") {
        return InvalidError(
            fmt::format("strict decoding error: unknown field \"{}\"", std::string(key)));
      }
    }
    return Ok();
  }
  return InvalidError(plugin + " takes no args");
}

int32_t PriorityOf(const Pod& pod) {
  return pod.spec.priority.value_or(0);
}

class PrioritySort final : public QueueSortPlugin {
 public:
  std::string Name() const override { return "PrioritySort"; }
  bool Less(const QueuedPod& a, const QueuedPod& b) const override {
    const int32_t pa = PriorityOf(*a.pod);
    const int32_t pb = PriorityOf(*b.pod);
    return pa > pb || (pa == pb && a.timestamp_ns < b.timestamp_ns);
  }
};

class SchedulingGates final : public PreEnqueuePlugin {
 public:
  std::string Name() const override { return "SchedulingGates"; }
  PluginStatus PreEnqueue(const Pod& pod) override {
    if (pod.spec.scheduling_gates.empty()) return {};
    std::string gates;
    for (const auto& gate : pod.spec.scheduling_gates) {
      gates += (gates.empty() ? "" : " ") + gate.name;
    }
    return PluginStatus::Unresolvable("waiting for scheduling gates: [" + gates + "]");
  }
  std::vector<ClusterEvent> EventsToRegister() const override {
    return {{EventResource::kUnscheduledPod, kUpdatePodSchedulingGates, "PodUpdate"}};
  }
};

class NodeUnschedulable final : public FilterPlugin {
 public:
  std::string Name() const override { return "NodeUnschedulable"; }
  PluginStatus Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) override {
    if (!node.unschedulable) return {};
    Taint taint;
    taint.key = "node.kubernetes.io/unschedulable";
    taint.effect = "NoSchedule";
    for (const auto& toleration : pod.pod->spec.tolerations) {
      if (TolerationToleratesTaint(toleration, taint)) return {};
    }
    return PluginStatus::Unresolvable("node(s) were unschedulable");
  }
  std::vector<ClusterEvent> EventsToRegister() const override {
    return {{EventResource::kNode, kAdd | kUpdateNodeTaint, "Node"}};
  }
};

class NodeName final : public FilterPlugin {
 public:
  std::string Name() const override { return "NodeName"; }
  PluginStatus Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) override {
    const auto& wanted = pod.pod->spec.node_name;
    if (wanted.empty() || wanted == node.name()) return {};
    return PluginStatus::Unresolvable("node(s) didn't match the requested node name");
  }
  std::vector<ClusterEvent> EventsToRegister() const override {
    return {{EventResource::kNode, kAdd | kUpdate, "Node"}};
  }
};

class NodePorts final : public FilterPlugin {
 public:
  std::string Name() const override { return "NodePorts"; }
  PluginStatus Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) override {
    for (const auto& wanted : pod.host_ports) {
      for (const auto& used : node.used_ports) {
        if (HostPortsConflict(wanted, used)) {
          return PluginStatus::Unschedulable(
              "node(s) didn't have free ports for the requested pod ports");
        }
      }
    }
    return {};
  }
  std::vector<ClusterEvent> EventsToRegister() const override {
    return {{EventResource::kAssignedPod, kDelete, "AssignedPodDelete"},
            {EventResource::kNode, kAdd | kUpdate, "Node"}};
  }
};

class TaintToleration final : public FilterPlugin, public ScorePlugin {
 public:
  std::string Name() const override { return "TaintToleration"; }
  PluginStatus Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) override {
    if (!node.tainted) return {};
    const Taint* taint = FindUntoleratedTaint(node.node->spec.taints, pod.pod->spec.tolerations,
                                              {"NoSchedule", "NoExecute"});
    if (taint == nullptr) return {};
    return PluginStatus::Unresolvable(
        fmt::format("node(s) had untolerated taint {{{}: {}}}", taint->key, taint->value));
  }
  PluginStatus Score(const CycleState&, const PodInfo& pod, const NodeInfo& node,
                     int64_t& score) override {
    score = 0;
    if (!node.tainted) return {};
    for (const auto& taint : node.node->spec.taints) {
      if (taint.effect != "PreferNoSchedule") continue;
      // Only tolerations that can apply to PreferNoSchedule count.
      const auto& tolerations = pod.pod->spec.tolerations;
      const bool tolerated =
          std::any_of(tolerations.begin(), tolerations.end(), [&](const auto& t) {
            return (t.effect.empty() || t.effect == "PreferNoSchedule") &&
                   TolerationToleratesTaint(t, taint);
          });
      if (!tolerated) ++score;
    }
    return {};
  }
  PluginStatus NormalizeScore(const CycleState&, const PodInfo&,
                              std::vector<NodeScore>& scores) override {
    DefaultNormalizeScore(kMaxNodeScore, /*reverse=*/true, scores);
    return {};
  }
  std::vector<ClusterEvent> EventsToRegister() const override {
    return {{EventResource::kNode, kAdd | kUpdateNodeTaint, "Node"},
            {EventResource::kUnscheduledPod, kUpdatePodTolerations, "PodUpdate"}};
  }
};

std::optional<int64_t> ParseInt(const std::string& text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool RequirementMatches(const api::core::v1::NodeSelectorRequirement& requirement,
                        const std::map<std::string, std::string>& labels) {
  auto label = labels.find(requirement.key);
  const bool has = label != labels.end();
  const auto& values = requirement.values;
  const auto& op = requirement.operator_;
  if (op == "In") {
    return has && std::find(values.begin(), values.end(), label->second) != values.end();
  }
  if (op == "NotIn") {
    return !has || std::find(values.begin(), values.end(), label->second) == values.end();
  }
  if (op == "Exists") return has;
  if (op == "DoesNotExist") return !has;
  if (op == "Gt" || op == "Lt") {
    if (!has || values.size() != 1) return false;
    auto mine = ParseInt(label->second);
    auto theirs = ParseInt(values[0]);
    if (!mine || !theirs) return false;
    return op == "Gt" ? *mine > *theirs : *mine < *theirs;
  }
  return false;
}

class NodeAffinity final : public PreFilterPlugin, public FilterPlugin, public ScorePlugin {
 public:
  // `added`: NodeAffinityArgs.addedAffinity, applied to every pod of the profile.
  explicit NodeAffinity(std::optional<api::core::v1::NodeAffinity> added)
      : added_(std::move(added)) {}
  std::string Name() const override { return "NodeAffinity"; }
  PluginStatus PreFilter(CycleState&, const PodInfo& pod, PreFilterResult& result) override {
    const auto& affinity = pod.pod->spec.affinity;
    if (!AddedRequired() && pod.pod->spec.node_selector.empty() &&
        (!affinity || !affinity->node_affinity ||
         !affinity->node_affinity->required_during_scheduling_ignored_during_execution)) {
      return PluginStatus(Code::kSkip);
    }
    // Terms that all pin metadata.name with In narrow the nodes to those names.
    if (affinity && affinity->node_affinity &&
        affinity->node_affinity->required_during_scheduling_ignored_during_execution) {
      const auto& terms =
          affinity->node_affinity->required_during_scheduling_ignored_during_execution
              ->node_selector_terms;
      std::set<std::string> names;
      for (const auto& term : terms) {
        bool pinned = false;
        for (const auto& field : term.match_fields) {
          if (field.key == "metadata.name" && field.operator_ == "In") {
            names.insert(field.values.begin(), field.values.end());
            pinned = true;
          }
        }
        if (!pinned) return {};
      }
      if (names.empty()) {
        return PluginStatus::Unresolvable("node(s) didn't match Pod's node affinity/selector");
      }
      result.node_names = std::move(names);
    }
    return {};
  }
  PluginStatus Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) override {
    if (const auto* added = AddedRequired()) {
      const bool matched =
          std::any_of(added->node_selector_terms.begin(), added->node_selector_terms.end(),
                      [&](const auto& term) { return NodeSelectorTermMatches(term, *node.node); });
      if (!matched) {
        return PluginStatus::Unresolvable("node(s) didn't match scheduler-enforced node affinity");
      }
    }
    if (PodMatchesNodeSelectorAndAffinityTerms(*pod.pod, *node.node)) return {};
    return PluginStatus::Unresolvable("node(s) didn't match Pod's node affinity/selector");
  }
  PluginStatus Score(const CycleState&, const PodInfo& pod, const NodeInfo& node,
                     int64_t& score) override {
    score = 0;
    if (added_) {
      for (const auto& term : added_->preferred_during_scheduling_ignored_during_execution) {
        if (term.weight != 0 && NodeSelectorTermMatches(term.preference, *node.node)) {
          score += term.weight;
        }
      }
    }
    const auto& affinity = pod.pod->spec.affinity;
    if (!affinity || !affinity->node_affinity) return {};
    for (const auto& term :
         affinity->node_affinity->preferred_during_scheduling_ignored_during_execution) {
      if (term.weight != 0 && NodeSelectorTermMatches(term.preference, *node.node)) {
        score += term.weight;
      }
    }
    return {};
  }
  PluginStatus NormalizeScore(const CycleState&, const PodInfo&,
                              std::vector<NodeScore>& scores) override {
    DefaultNormalizeScore(kMaxNodeScore, /*reverse=*/false, scores);
    return {};
  }
  std::vector<ClusterEvent> EventsToRegister() const override {
    return {{EventResource::kNode, kAdd | kUpdateNodeLabel, "Node"}};
  }

 private:
  const api::core::v1::NodeSelector* AddedRequired() const {
    if (!added_ || !added_->required_during_scheduling_ignored_during_execution) return nullptr;
    return &*added_->required_during_scheduling_ignored_during_execution;
  }

  std::optional<api::core::v1::NodeAffinity> added_;
};

class ImageLocality final : public ScorePlugin {
 public:
  explicit ImageLocality(Handle* handle) : handle_(handle) {}
  std::string Name() const override { return "ImageLocality"; }
  PluginStatus Score(const CycleState&, const PodInfo& pod, const NodeInfo& node,
                     int64_t& score) override {
    constexpr int64_t kMb = 1024 * 1024;
    constexpr int64_t kMinThreshold = 23 * kMb;
    constexpr int64_t kMaxContainerThreshold = 1000 * kMb;
    // A node that reports no images scores the floor, 0: no name of the pod's images need be
    // normalized and looked up for it (that was 1.4% of a busy server's samples).
    if (node.images.empty()) {
      score = 0;
      return {};
    }
    const auto& snapshot = handle_->snapshot();
    const double total_nodes = static_cast<double>(snapshot.nodes.size());
    int64_t sum = 0;
    auto add = [&](const std::vector<api::core::v1::Container>& containers) {
      for (const auto& container : containers) {
        const std::string image = NormalizedImageName(container.image);
        auto it = node.images.find(image);
        if (it == node.images.end() || total_nodes == 0) continue;
        // Spread: an image on few nodes counts less, to avoid piling pods onto them.
        const double spread = snapshot.NodesWithImage(image) / total_nodes;
        sum += static_cast<int64_t>(static_cast<double>(it->second) * spread);
      }
    };
    add(pod.pod->spec.init_containers);
    add(pod.pod->spec.containers);
    const int64_t containers = static_cast<int64_t>(pod.pod->spec.init_containers.size() +
                                                    pod.pod->spec.containers.size());
    const int64_t max_threshold = kMaxContainerThreshold * std::max<int64_t>(containers, 1);
    sum = std::clamp(sum, kMinThreshold, max_threshold);
    score = kMaxNodeScore * (sum - kMinThreshold) / (max_threshold - kMinThreshold);
    return {};
  }

 private:
  Handle* handle_;
};

class DefaultBinder final : public BindPlugin {
 public:
  explicit DefaultBinder(Handle* handle) : handle_(handle) {}
  std::string Name() const override { return "DefaultBinder"; }
  PluginStatus Bind(CycleState&, const PodInfo& pod, const std::string& node) override {
    auto client = handle_->client();
    if (!client) return PluginStatus::Error("no API client to bind with");
    api::core::v1::Binding binding;
    binding.api_version = "v1";
    binding.kind = "Binding";
    binding.metadata.namespace_ = pod.pod->metadata.namespace_;
    binding.metadata.name = pod.pod->metadata.name;
    binding.metadata.uid = pod.pod->metadata.uid;
    binding.target.kind = "Node";
    binding.target.name = node;
    client::DynamicResource pods(client, client::KindFor<Pod>(), pod.pod->metadata.namespace_);
    auto written =
        pods.WriteJson("POST", pod.pod->metadata.name, "binding", api::ToJson(binding), {});
    if (!written.ok()) return PluginStatus::Error(written.error().message());
    return {};
  }

 private:
  Handle* handle_;
};

template <typename T>
PluginFactory Simple() {
  return [](const boost::json::value* args, Handle*) -> Result<std::shared_ptr<Plugin>> {
    auto plugin = std::make_shared<T>();
    KPP_RETURN_IF_ERROR(NoArgs(args, plugin->Name()));
    return std::shared_ptr<Plugin>(plugin);
  };
}

}  // namespace

bool TolerationToleratesTaint(const Toleration& toleration, const Taint& taint) {
  if (!toleration.effect.empty() && toleration.effect != taint.effect) return false;
  if (!toleration.key.empty() && toleration.key != taint.key) return false;
  if (toleration.operator_.empty() || toleration.operator_ == "Equal") {
    return toleration.value == taint.value;
  }
  return toleration.operator_ == "Exists";
}

const Taint* FindUntoleratedTaint(const std::vector<Taint>& taints,
                                  const std::vector<Toleration>& tolerations,
                                  const std::vector<std::string>& effects) {
  for (const auto& taint : taints) {
    if (std::find(effects.begin(), effects.end(), taint.effect) == effects.end()) continue;
    const bool tolerated = std::any_of(tolerations.begin(), tolerations.end(), [&](const auto& t) {
      return TolerationToleratesTaint(t, taint);
    });
    if (!tolerated) return &taint;
  }
  return nullptr;
}

bool NodeSelectorTermMatches(const api::core::v1::NodeSelectorTerm& term, const Node& node) {
  // An empty term selects nothing.
  if (term.match_expressions.empty() && term.match_fields.empty()) return false;
  for (const auto& requirement : term.match_expressions) {
    if (!RequirementMatches(requirement, node.metadata.labels)) return false;
  }
  if (!term.match_fields.empty()) {
    const std::map<std::string, std::string> fields = {{"metadata.name", node.metadata.name}};
    for (const auto& requirement : term.match_fields) {
      // Only metadata.name with In / NotIn is valid for fields.
      if (requirement.key != "metadata.name" ||
          (requirement.operator_ != "In" && requirement.operator_ != "NotIn")) {
        return false;
      }
      if (!RequirementMatches(requirement, fields)) return false;
    }
  }
  return true;
}

bool PodMatchesNodeSelectorAndAffinityTerms(const Pod& pod, const Node& node) {
  for (const auto& [key, value] : pod.spec.node_selector) {
    auto label = node.metadata.labels.find(key);
    if (label == node.metadata.labels.end() || label->second != value) return false;
  }
  const auto& affinity = pod.spec.affinity;
  if (!affinity || !affinity->node_affinity ||
      !affinity->node_affinity->required_during_scheduling_ignored_during_execution) {
    return true;
  }
  const auto& terms = affinity->node_affinity->required_during_scheduling_ignored_during_execution
                          ->node_selector_terms;
  return std::any_of(terms.begin(), terms.end(),
                     [&](const auto& term) { return NodeSelectorTermMatches(term, node); });
}

Result<std::shared_ptr<Plugin>> NewPrioritySort(const boost::json::value* args, Handle* h) {
  return Simple<PrioritySort>()(args, h);
}
Result<std::shared_ptr<Plugin>> NewSchedulingGates(const boost::json::value* args, Handle* h) {
  return Simple<SchedulingGates>()(args, h);
}
Result<std::shared_ptr<Plugin>> NewNodeUnschedulable(const boost::json::value* args, Handle* h) {
  return Simple<NodeUnschedulable>()(args, h);
}
Result<std::shared_ptr<Plugin>> NewNodeName(const boost::json::value* args, Handle* h) {
  return Simple<NodeName>()(args, h);
}
Result<std::shared_ptr<Plugin>> NewNodePorts(const boost::json::value* args, Handle* h) {
  return Simple<NodePorts>()(args, h);
}
Result<std::shared_ptr<Plugin>> NewTaintToleration(const boost::json::value* args, Handle* h) {
  return Simple<TaintToleration>()(args, h);
}
Result<std::shared_ptr<Plugin>> NewNodeAffinity(const boost::json::value* args, Handle*) {
  std::optional<api::core::v1::NodeAffinity> added;
  if (args != nullptr && args->is_object()) {
    for (const auto& [key, value] : args->as_object()) {
      if (key == "apiVersion" || key == "kind") continue;
      if (key == "addedAffinity") {
        if (value.is_null()) continue;
        api::runtime::DecodeContext context;
        api::core::v1::NodeAffinity decoded;
        api::core::v1::Decode(value, decoded, context);
        if (context.failed()) {
          return InvalidError("addedAffinity: " + context.error()->message());
        }
        if (!context.unknown_fields().empty()) {
          return InvalidError(
              fmt::format("strict decoding error: unknown field \"addedAffinity.{}\"",
                          context.unknown_fields().front()));
        }
        added = std::move(decoded);
        continue;
      }
      return InvalidError(
          fmt::format("strict decoding error: unknown field \"{}\"", std::string(key)));
    }
  }
  return std::shared_ptr<Plugin>(std::make_shared<NodeAffinity>(std::move(added)));
}
Result<std::shared_ptr<Plugin>> NewImageLocality(const boost::json::value* args, Handle* handle) {
  KPP_RETURN_IF_ERROR(NoArgs(args, "ImageLocality"));
  return std::shared_ptr<Plugin>(std::make_shared<ImageLocality>(handle));
}
Result<std::shared_ptr<Plugin>> NewDefaultBinder(const boost::json::value* args, Handle* handle) {
  KPP_RETURN_IF_ERROR(NoArgs(args, "DefaultBinder"));
  return std::shared_ptr<Plugin>(std::make_shared<DefaultBinder>(handle));
}

Registry InTreeRegistry() {
  return {
      {"PrioritySort", NewPrioritySort},
      {"SchedulingGates", NewSchedulingGates},
      {"NodeUnschedulable", NewNodeUnschedulable},
      {"NodeName", NewNodeName},
      {"NodePorts", NewNodePorts},
      {"TaintToleration", NewTaintToleration},
      {"NodeAffinity", NewNodeAffinity},
      {"NodeResourcesFit", NewNodeResourcesFit},
      {"NodeResourcesBalancedAllocation", NewBalancedAllocation},
      {"ImageLocality", NewImageLocality},
      {"DefaultBinder", NewDefaultBinder},
      {"PodTopologySpread", NewPodTopologySpread},
      {"InterPodAffinity", NewInterPodAffinity},
      {"DefaultPreemption", NewDefaultPreemption},
  };
}

}  // namespace kpp::scheduler::plugins
