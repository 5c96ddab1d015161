// PodTopologySpread: hard constraints (DoNotSchedule) filter nodes whose domain would exceed
// maxSkew over the least-loaded domain (treated as 0 while fewer than minDomains domains exist);
// soft ones (ScheduleAnyway) score domains with fewer matching pods higher. Node inclusion
// policies (nodeAffinityPolicy Honor by default, nodeTaintsPolicy Ignore by default) and
// matchLabelKeys as upstream. Pods without constraints that a Service or controller selects get
// upstream's system defaults (soft spread over hosts and zones); custom defaultConstraints
// (defaultingType List) are not supported yet.
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "apimachinery/labels/selector.h"
#include "base/error.h"
#include "scheduler/plugins/registry.h"

namespace kpp::scheduler::plugins {
namespace {

constexpr char kReasonConstraintsNotMatch[] =
    "node(s) didn't match pod topology spread constraints";
constexpr char kReasonNodeLabelNotMatch[] =
    "node(s) didn't match pod topology spread constraints (missing required label)";
constexpr char kHostnameLabel[] = "kubernetes.io/hostname";
constexpr char kPreFilterKey[] = "PreFilterPodTopologySpread";
constexpr char kPreScoreKey[] = "PreScorePodTopologySpread";

struct Constraint {
  int32_t max_skew = 1;
  std::string topology_key;
  labels::Selector selector;
  int32_t min_domains = 1;
  bool honor_node_affinity = true;
  bool honor_node_taints = false;
};

// upstream's system default constraints, for pods without constraints of their own that a
// Service or controller selects: spread over hosts (maxSkew 3) and zones (maxSkew 5), softly.
std::vector<Constraint> SystemDefaultConstraints(const Pod& pod, const Handle& handle) {
  if (!pod.spec.topology_spread_constraints.empty()) return {};
  labels::Selector selector = handle.DefaultSpreadSelector(pod);
  if (selector.MatchesNothing() || selector.Empty()) return {};
  Constraint host;
  host.max_skew = 3;
  host.topology_key = "kubernetes.io/hostname";
  host.selector = selector;
  Constraint zone;
  zone.max_skew = 5;
  zone.topology_key = "topology.kubernetes.io/zone";
  zone.selector = selector;
  return {host, zone};
}

std::vector<Constraint> ConstraintsOf(const Pod& pod, const std::string& when) {
  std::vector<Constraint> out;
  for (const auto& c : pod.spec.topology_spread_constraints) {
    if (c.when_unsatisfiable != when) continue;
    Constraint constraint;
    constraint.max_skew = c.max_skew;
    constraint.topology_key = c.topology_key;
    constraint.selector = SelectorOf(c.label_selector ? &*c.label_selector : nullptr);
    // matchLabelKeys: the pod's own values of those keys join the selector.
    std::vector<labels::Requirement> more;
    for (const auto& key : c.match_label_keys) {
      auto value = pod.metadata.labels.find(key);
      if (value == pod.metadata.labels.end()) continue;
      auto requirement = labels::Requirement::Create(key, labels::Operator::kIn, {value->second});
      if (requirement.ok()) more.push_back(*requirement);
    }
    if (!more.empty() && !constraint.selector.MatchesNothing()) {
      constraint.selector = constraint.selector.Add(std::move(more));
    }
    constraint.min_domains = c.min_domains.value_or(1);
    constraint.honor_node_affinity = c.node_affinity_policy.value_or("Honor") == "Honor";
    constraint.honor_node_taints = c.node_taints_policy.value_or("Ignore") == "Honor";
    out.push_back(std::move(constraint));
  }
  return out;
}

bool NodeHasAllKeys(const Node& node, const std::vector<Constraint>& constraints) {
  for (const auto& c : constraints) {
    if (!node.metadata.labels.contains(c.topology_key)) return false;
  }
  return true;
}

bool NodeIncluded(const Constraint& c, const Pod& pod, const Node& node) {
  if (c.honor_node_affinity && !PodMatchesNodeSelectorAndAffinityTerms(pod, node)) return false;
  if (c.honor_node_taints && FindUntoleratedTaint(node.spec.taints, pod.spec.tolerations,
                                                  {"NoSchedule", "NoExecute"}) != nullptr) {
    return false;
  }
  return true;
}

int CountMatching(const NodeInfo& node, const labels::Selector& selector, const std::string& ns) {
  int count = 0;
  for (const auto& pod : node.pods) {
    const auto& meta = pod->pod->metadata;
    if (meta.deletion_timestamp || meta.namespace_ != ns) continue;
    if (selector.Matches(meta.labels)) ++count;
  }
  return count;
}

using Pair = std::pair<std::string, std::string>;  // topology key, value

struct FilterState : StateData {
  std::vector<Constraint> constraints;
  std::map<Pair, int> pair_to_match;
  std::map<std::string, int> key_to_domains;
  std::map<std::string, int> key_to_min_match;
};

struct ScoreState : StateData {
  std::vector<Constraint> constraints;
  // System defaults do not require nodes to carry every topology key.
  bool require_all_topologies = true;
  std::set<std::string, std::less<>> ignored_nodes;
  std::map<Pair, int64_t> pair_to_count;
  std::vector<double> weights;
};

class PodTopologySpread final : public PreFilterPlugin,
                                public FilterPlugin,
                                public PreScorePlugin,
                                public ScorePlugin {
 public:
  PodTopologySpread(Handle* handle, bool system_defaulting)
      : handle_(handle), system_defaulting_(system_defaulting) {}
  std::string Name() const override { return "PodTopologySpread"; }

  PluginStatus PreFilter(CycleState& state, const PodInfo& pod, PreFilterResult&) override {
    auto s = std::make_shared<FilterState>();
    s->constraints = ConstraintsOf(*pod.pod, "DoNotSchedule");
    if (s->constraints.empty()) return PluginStatus(Code::kSkip);
    for (const auto& node : handle_->snapshot().nodes) {
      if (!NodeHasAllKeys(*node->node, s->constraints)) continue;
      for (const auto& c : s->constraints) {
        if (!NodeIncluded(c, *pod.pod, *node->node)) continue;
        const Pair pair{c.topology_key, node->node->metadata.labels.at(c.topology_key)};
        auto [it, inserted] = s->pair_to_match.emplace(pair, 0);
        if (inserted) ++s->key_to_domains[c.topology_key];
        it->second += CountMatching(*node, c.selector, pod.pod->metadata.namespace_);
      }
    }
    for (const auto& [pair, count] : s->pair_to_match) {
      auto [it, inserted] = s->key_to_min_match.emplace(pair.first, count);
      if (!inserted) it->second = std::min(it->second, count);
    }
    state.Write(kPreFilterKey, s);
    return {};
  }

  PluginStatus Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) override {
    const auto* s = state.Read<FilterState>(kPreFilterKey);
    if (s == nullptr) return PluginStatus::Error("PreFilter state of PodTopologySpread missing");
    const auto& node_labels = node.node->metadata.labels;
    for (const auto& c : s->constraints) {
      auto value = node_labels.find(c.topology_key);
      if (value == node_labels.end()) return PluginStatus::Unresolvable(kReasonNodeLabelNotMatch);
      int min_match = 0;
      if (auto it = s->key_to_min_match.find(c.topology_key); it != s->key_to_min_match.end()) {
        min_match = it->second;
      }
      auto domains = s->key_to_domains.find(c.topology_key);
      if (domains == s->key_to_domains.end() || domains->second < c.min_domains) min_match = 0;
      const int self_match = c.selector.Matches(pod.pod->metadata.labels) ? 1 : 0;
      int match = 0;
      if (auto it = s->pair_to_match.find({c.topology_key, value->second});
          it != s->pair_to_match.end()) {
        match = it->second;
      }
      if (match + self_match - min_match > c.max_skew) {
        return PluginStatus::Unschedulable(kReasonConstraintsNotMatch);
      }
    }
    return {};
  }

  PluginStatus PreScore(CycleState& state, const PodInfo& pod,
                        const std::vector<NodeInfoPtr>& nodes) override {
    auto s = std::make_shared<ScoreState>();
    s->constraints = ConstraintsOf(*pod.pod, "ScheduleAnyway");
    if (s->constraints.empty() && system_defaulting_) {
      s->constraints = SystemDefaultConstraints(*pod.pod, *handle_);
      s->require_all_topologies = false;
    }
    if (s->constraints.empty()) return PluginStatus(Code::kSkip);
    std::vector<int> sizes(s->constraints.size(), 0);
    for (const auto& node : nodes) {
      if (s->require_all_topologies && !NodeHasAllKeys(*node->node, s->constraints)) {
        s->ignored_nodes.insert(node->name());
        continue;
      }
      for (size_t i = 0; i < s->constraints.size(); ++i) {
        const auto& c = s->constraints[i];
        if (c.topology_key == kHostnameLabel) continue;
        auto value = node->node->metadata.labels.find(c.topology_key);
        if (value == node->node->metadata.labels.end()) continue;
        if (s->pair_to_count.emplace(Pair{c.topology_key, value->second}, 0).second) ++sizes[i];
      }
    }
    const int scored = static_cast<int>(nodes.size() - s->ignored_nodes.size());
    for (size_t i = 0; i < s->constraints.size(); ++i) {
      const int size = s->constraints[i].topology_key == kHostnameLabel ? scored : sizes[i];
      s->weights.push_back(std::log(static_cast<double>(size + 2)));
    }
    for (const auto& node : handle_->snapshot().nodes) {
      if (s->require_all_topologies && !NodeHasAllKeys(*node->node, s->constraints)) continue;
      for (const auto& c : s->constraints) {
        if (!NodeIncluded(c, *pod.pod, *node->node)) continue;
        auto value = node->node->metadata.labels.find(c.topology_key);
        if (value == node->node->metadata.labels.end()) continue;
        auto it = s->pair_to_count.find({c.topology_key, value->second});
        if (it == s->pair_to_count.end()) continue;
        it->second += CountMatching(*node, c.selector, pod.pod->metadata.namespace_);
      }
    }
    state.Write(kPreScoreKey, s);
    return {};
  }

  PluginStatus Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node,
                     int64_t& score) override {
    const auto* s = state.Read<ScoreState>(kPreScoreKey);
    if (s == nullptr) return PluginStatus::Error("PreScore state of PodTopologySpread missing");
    double total = 0;
    if (s->ignored_nodes.contains(node.name())) {
      score = 0;
      return {};
    }
    for (size_t i = 0; i < s->constraints.size(); ++i) {
      const auto& c = s->constraints[i];
      auto value = node.node->metadata.labels.find(c.topology_key);
      if (value == node.node->metadata.labels.end()) continue;
      int64_t count = 0;
      if (c.topology_key == kHostnameLabel) {
        count = CountMatching(node, c.selector, pod.pod->metadata.namespace_);
      } else if (auto it = s->pair_to_count.find({c.topology_key, value->second});
                 it != s->pair_to_count.end()) {
        count = it->second;
      }
      total += static_cast<double>(count) * s->weights[i] + static_cast<double>(c.max_skew - 1);
    }
    score = static_cast<int64_t>(std::llround(total));
    return {};
  }

  PluginStatus NormalizeScore(const CycleState& state, const PodInfo&,
                              std::vector<NodeScore>& scores) override {
    const auto* s = state.Read<ScoreState>(kPreScoreKey);
    if (s == nullptr) return {};
    int64_t min_score = std::numeric_limits<int64_t>::max();
    int64_t max_score = 0;
    for (const auto& score : scores) {
      if (s->ignored_nodes.contains(score.name)) continue;
      min_score = std::min(min_score, score.score);
      max_score = std::max(max_score, score.score);
    }
    for (auto& score : scores) {
      if (s->ignored_nodes.contains(score.name)) {
        score.score = 0;
      } else if (max_score == 0) {
        score.score = kMaxNodeScore;
      } else {
        score.score = kMaxNodeScore * (max_score + min_score - score.score) / max_score;
      }
    }
    return {};
  }

  std::vector<ClusterEvent> EventsToRegister() const override {
    return {{EventResource::kPod, kAll, "Pod"},
            {EventResource::kNode, kAdd | kDelete | kUpdateNodeLabel | kUpdateNodeTaint, "Node"}};
  }

 private:
  Handle* handle_;
  bool system_defaulting_;
};

}  // namespace

labels::Selector SelectorOf(const api::meta::v1::LabelSelector* selector) {
  if (selector == nullptr) return labels::Selector::Nothing();
  labels::LabelSelector converted;
  converted.match_labels = selector->match_labels;
  for (const auto& e : selector->match_expressions) {
    converted.match_expressions.push_back({e.key, e.operator_, e.values});
  }
  auto out = labels::LabelSelectorAsSelector(&converted);
  return out.ok() ? *out : labels::Selector::Nothing();
}

Result<std::shared_ptr<Plugin>> NewPodTopologySpread(const boost::json::value* args,
                                                     Handle* handle) {
  bool system_defaulting = true;
  if (args != nullptr && args->is_object()) {
    for (const auto& [key, value] : args->as_object()) {
      if (key == "apiVersion" || key == "kind") continue;
      if (key == "defaultingType") {
        if (!value.is_string() || (value.as_string() != "System" && value.as_string() != "List")) {
          return InvalidError(
              "defaultingType: Unsupported value: supported values: \"List\", \"System\"");
        }
        system_defaulting = value.as_string() == "System";
        continue;
      }
      if (key == "defaultConstraints") {
        if (value.is_array() && !value.as_array().empty()) {
          return InvalidError("defaultConstraints: Forbidden: not supported by kpp yet");
        }
        continue;
      }
      return InvalidError(
          fmt::format("strict decoding error: unknown field \"{}\"", std::string(key)));
    }
  }
  return std::shared_ptr<Plugin>(std::make_shared<PodTopologySpread>(handle, system_defaulting));
}

}  // namespace kpp::scheduler::plugins
