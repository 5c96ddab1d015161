// InterPodAffinity: required pod affinity and anti-affinity of the incoming pod, the required
// anti-affinity of pods already placed (symmetry), and scoring of preferred terms both ways
// plus existing pods' required affinity (hardPodAffinityWeight), per topology domain.
// Terms select pods in `namespaces`, or by `namespaceSelector`, or the pod's own namespace.
#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <cmath>
#include <limits>

#include "base/error.h"
#include "scheduler/plugins/registry.h"

namespace kpp::scheduler::plugins {
namespace {

using api::core::v1::PodAffinityTerm;
using Labels = std::map<std::string, std::string>;

constexpr char kReasonAffinity[] = "node(s) didn't match pod affinity rules";
constexpr char kReasonAntiAffinity[] = "node(s) didn't match pod anti-affinity rules";
constexpr char kReasonExistingAntiAffinity[] =
    "node(s) didn't satisfy existing pods anti-affinity rules";
constexpr char kPreFilterKey[] = "PreFilterInterPodAffinity";
constexpr char kPreScoreKey[] = "PreScoreInterPodAffinity";

// One term, resolved against the pod that carries it.
struct Term {
  labels::Selector selector;
  std::string topology_key;
  std::set<std::string> namespaces;
  std::optional<labels::Selector> namespace_selector;
  int32_t weight = 0;

  // Whether `pod` (whose namespace has `ns_labels`) is selected by this term.
  bool Matches(const Pod& pod, const Labels& ns_labels) const {
    const bool in_namespace = namespaces.contains(pod.metadata.namespace_) ||
                              (namespace_selector && namespace_selector->Matches(ns_labels));
    return in_namespace && selector.Matches(pod.metadata.labels);
  }
};

Term Resolve(const PodAffinityTerm& term, const Pod& owner, int32_t weight = 0) {
  Term out;
  out.selector = SelectorOf(term.label_selector ? &*term.label_selector : nullptr);
  // matchLabelKeys / mismatchLabelKeys: the owner's values join the selector.
  std::vector<labels::Requirement> more;
  auto add = [&](const std::vector<std::string>& keys, labels::Operator op) {
    for (const auto& key : keys) {
      auto value = owner.metadata.labels.find(key);
      if (value == owner.metadata.labels.end()) continue;
      auto requirement = labels::Requirement::Create(key, op, {value->second});
      if (requirement.ok()) more.push_back(*requirement);
    }
  };
  add(term.match_label_keys, labels::Operator::kIn);
  add(term.mismatch_label_keys, labels::Operator::kNotIn);
  if (!more.empty() && !out.selector.MatchesNothing())
    out.selector = out.selector.Add(std::move(more));
  out.topology_key = term.topology_key;
  out.namespaces.insert(term.namespaces.begin(), term.namespaces.end());
  if (term.namespace_selector) {
    out.namespace_selector = SelectorOf(&*term.namespace_selector);
  } else if (out.namespaces.empty()) {
    out.namespaces.insert(owner.metadata.namespace_);
  }
  out.weight = weight;
  return out;
}

struct PodTerms {
  std::vector<Term> required_affinity, required_anti_affinity;
  std::vector<Term> preferred_affinity, preferred_anti_affinity;
};

PodTerms TermsOf(const Pod& pod) {
  PodTerms out;
  const auto& affinity = pod.spec.affinity;
  if (!affinity) return out;
  if (affinity->pod_affinity) {
    for (const auto& t :
         affinity->pod_affinity->required_during_scheduling_ignored_during_execution) {
      out.required_affinity.push_back(Resolve(t, pod));
    }
    for (const auto& t :
         affinity->pod_affinity->preferred_during_scheduling_ignored_during_execution) {
      out.preferred_affinity.push_back(Resolve(t.pod_affinity_term, pod, t.weight));
    }
  }
  if (affinity->pod_anti_affinity) {
    for (const auto& t :
         affinity->pod_anti_affinity->required_during_scheduling_ignored_during_execution) {
      out.required_anti_affinity.push_back(Resolve(t, pod));
    }
    for (const auto& t :
         affinity->pod_anti_affinity->preferred_during_scheduling_ignored_during_execution) {
      out.preferred_anti_affinity.push_back(Resolve(t.pod_affinity_term, pod, t.weight));
    }
  }
  return out;
}

using Pair = std::pair<std::string, std::string>;

struct FilterState : StateData {
  PodTerms terms;
  std::map<Pair, int64_t> existing_anti_affinity;
  std::map<Pair, int64_t> affinity;
  std::map<Pair, int64_t> anti_affinity;
  bool matches_own_affinity = false;
};

struct ScoreState : StateData {
  std::map<Pair, int64_t> scores;
};

bool MatchesAll(const std::vector<Term>& terms, const Pod& pod, const Labels& ns_labels) {
  if (terms.empty()) return false;
  for (const auto& t : terms) {
    if (!t.Matches(pod, ns_labels)) return false;
  }
  return true;
}

class InterPodAffinity final : public PreFilterPlugin,
                               public FilterPlugin,
                               public PreScorePlugin,
                               public ScorePlugin {
 public:
  InterPodAffinity(Handle* handle, int32_t hard_weight, bool ignore_existing_preferred)
      : handle_(handle),
        hard_weight_(hard_weight),
        ignore_existing_preferred_(ignore_existing_preferred) {}
  std::string Name() const override { return "InterPodAffinity"; }

  PluginStatus PreFilter(CycleState& state, const PodInfo& pod, PreFilterResult&) override {
    const auto& snapshot = handle_->snapshot();
    auto s = std::make_shared<FilterState>();
    s->terms = TermsOf(*pod.pod);
    if (s->terms.required_affinity.empty() && s->terms.required_anti_affinity.empty() &&
        snapshot.nodes_with_required_anti_affinity_pods.empty()) {
      return PluginStatus(Code::kSkip);
    }
    const Labels own_ns = handle_->NamespaceLabels(pod.pod->metadata.namespace_);
    // Existing pods whose required anti-affinity rejects the incoming pod.
    for (const auto& node : snapshot.nodes_with_required_anti_affinity_pods) {
      for (const auto& existing : node->pods_with_required_anti_affinity) {
        for (const auto& term : TermsOf(*existing->pod).required_anti_affinity) {
          if (!term.Matches(*pod.pod, own_ns)) continue;
          auto value = node->node->metadata.labels.find(term.topology_key);
          if (value != node->node->metadata.labels.end()) {
            ++s->existing_anti_affinity[{term.topology_key, value->second}];
          }
        }
      }
    }
    if (!s->terms.required_affinity.empty() || !s->terms.required_anti_affinity.empty()) {
      std::map<std::string, Labels> ns_labels;
      auto labels_of = [&](const std::string& ns) -> const Labels& {
        auto it = ns_labels.find(ns);
        if (it == ns_labels.end()) it = ns_labels.emplace(ns, handle_->NamespaceLabels(ns)).first;
        return it->second;
      };
      for (const auto& node : snapshot.nodes) {
        const auto& node_labels = node->node->metadata.labels;
        for (const auto& existing : node->pods) {
          const Labels& existing_ns = labels_of(existing->pod->metadata.namespace_);
          if (MatchesAll(s->terms.required_affinity, *existing->pod, existing_ns)) {
            for (const auto& term : s->terms.required_affinity) {
              auto value = node_labels.find(term.topology_key);
              if (value != node_labels.end()) ++s->affinity[{term.topology_key, value->second}];
            }
          }
          for (const auto& term : s->terms.required_anti_affinity) {
            if (!term.Matches(*existing->pod, existing_ns)) continue;
            auto value = node_labels.find(term.topology_key);
            if (value != node_labels.end()) ++s->anti_affinity[{term.topology_key, value->second}];
          }
        }
      }
      s->matches_own_affinity = MatchesAll(s->terms.required_affinity, *pod.pod, own_ns);
    }
    state.Write(kPreFilterKey, s);
    return {};
  }

  PluginStatus Filter(const CycleState& state, const PodInfo&, const NodeInfo& node) override {
    const auto* s = state.Read<FilterState>(kPreFilterKey);
    if (s == nullptr) return PluginStatus::Error("PreFilter state of InterPodAffinity missing");
    const auto& node_labels = node.node->metadata.labels;
    if (!s->terms.required_affinity.empty()) {
      bool pods_exist = true;
      for (const auto& term : s->terms.required_affinity) {
        auto value = node_labels.find(term.topology_key);
        if (value == node_labels.end()) return PluginStatus::Unresolvable(kReasonAffinity);
        auto count = s->affinity.find({term.topology_key, value->second});
        if (count == s->affinity.end() || count->second <= 0) pods_exist = false;
      }
      // The first pod of a group with affinity to itself may go anywhere its terms allow.
      if (!pods_exist && !(s->affinity.empty() && s->matches_own_affinity)) {
        return PluginStatus::Unresolvable(kReasonAffinity);
      }
    }
    for (const auto& term : s->terms.required_anti_affinity) {
      auto value = node_labels.find(term.topology_key);
      if (value == node_labels.end()) continue;
      auto count = s->anti_affinity.find({term.topology_key, value->second});
      if (count != s->anti_affinity.end() && count->second > 0) {
        return PluginStatus::Unschedulable(kReasonAntiAffinity);
      }
    }
    for (const auto& [key, value] : node_labels) {
      auto count = s->existing_anti_affinity.find({key, value});
      if (count != s->existing_anti_affinity.end() && count->second > 0) {
        return PluginStatus::Unschedulable(kReasonExistingAntiAffinity);
      }
    }
    return {};
  }

  PluginStatus PreScore(CycleState& state, const PodInfo& pod,
                        const std::vector<NodeInfoPtr>&) override {
    const auto& snapshot = handle_->snapshot();
    const PodTerms terms = TermsOf(*pod.pod);
    const bool has_preferred =
        !terms.preferred_affinity.empty() || !terms.preferred_anti_affinity.empty();
    if (!has_preferred && snapshot.nodes_with_affinity_pods.empty())
      return PluginStatus(Code::kSkip);
    auto s = std::make_shared<ScoreState>();
    const Labels own_ns = handle_->NamespaceLabels(pod.pod->metadata.namespace_);
    std::map<std::string, Labels> ns_labels;
    auto labels_of = [&](const std::string& ns) -> const Labels& {
      auto it = ns_labels.find(ns);
      if (it == ns_labels.end()) it = ns_labels.emplace(ns, handle_->NamespaceLabels(ns)).first;
      return it->second;
    };
    auto process = [&](const std::vector<Term>& list, const Pod& target, const Labels& target_ns,
                       const Node& node, int64_t multiplier, std::optional<int32_t> weight) {
      for (const auto& term : list) {
        if (!term.Matches(target, target_ns)) continue;
        auto value = node.metadata.labels.find(term.topology_key);
        if (value == node.metadata.labels.end()) continue;
        s->scores[{term.topology_key, value->second}] += weight.value_or(term.weight) * multiplier;
      }
    };
    const auto& nodes = has_preferred ? snapshot.nodes : snapshot.nodes_with_affinity_pods;
    for (const auto& node : nodes) {
      if (node->node->metadata.labels.empty()) continue;
      const auto& pods = has_preferred ? node->pods : node->pods_with_affinity;
      for (const auto& existing : pods) {
        const Pod& other = *existing->pod;
        const Labels& other_ns = labels_of(other.metadata.namespace_);
        process(terms.preferred_affinity, other, other_ns, *node->node, 1, std::nullopt);
        process(terms.preferred_anti_affinity, other, other_ns, *node->node, -1, std::nullopt);
        if (!existing->has_affinity) continue;
        const PodTerms theirs = TermsOf(other);
        if (hard_weight_ > 0) {
          process(theirs.required_affinity, *pod.pod, own_ns, *node->node, 1, hard_weight_);
        }
        if (!ignore_existing_preferred_) {
          process(theirs.preferred_affinity, *pod.pod, own_ns, *node->node, 1, std::nullopt);
          process(theirs.preferred_anti_affinity, *pod.pod, own_ns, *node->node, -1, std::nullopt);
        }
      }
    }
    state.Write(kPreScoreKey, s);
    return {};
  }

  PluginStatus Score(const CycleState& state, const PodInfo&, const NodeInfo& node,
                     int64_t& score) override {
    const auto* s = state.Read<ScoreState>(kPreScoreKey);
    score = 0;
    if (s == nullptr) return {};
    for (const auto& [key, value] : node.node->metadata.labels) {
      auto it = s->scores.find({key, value});
      if (it != s->scores.end()) score += it->second;
    }
    return {};
  }

  PluginStatus NormalizeScore(const CycleState& state, const PodInfo&,
                              std::vector<NodeScore>& scores) override {
    if (state.Read<ScoreState>(kPreScoreKey) == nullptr) return {};
    int64_t min_count = std::numeric_limits<int64_t>::max();
    int64_t max_count = std::numeric_limits<int64_t>::min();
    for (const auto& score : scores) {
      min_count = std::min(min_count, score.score);
      max_count = std::max(max_count, score.score);
    }
    const int64_t diff = max_count - min_count;
    for (auto& score : scores) {
      double value = 0;
      if (diff > 0) {
        value = static_cast<double>(kMaxNodeScore) *
                (static_cast<double>(score.score - min_count) / static_cast<double>(diff));
      }
      score.score = static_cast<int64_t>(value);
    }
    return {};
  }

  std::vector<ClusterEvent> EventsToRegister() const override {
    return {{EventResource::kPod, kAll, "Pod"},
            {EventResource::kNode, kAdd | kUpdateNodeLabel, "Node"}};
  }

 private:
  Handle* handle_;
  int32_t hard_weight_;
  bool ignore_existing_preferred_;
};

}  // namespace

Result<std::shared_ptr<Plugin>> NewInterPodAffinity(const boost::json::value* args,
                                                    Handle* handle) {
  int64_t hard_weight = 1;
  bool ignore = false;
  if (args != nullptr && args->is_object()) {
    for (const auto& [key, value] : args->as_object()) {
      if (key == "apiVersion" || key == "kind") continue;
      if (key == "hardPodAffinityWeight") {
        if (!value.is_int64() || value.as_int64() < 0 || value.as_int64() > 100) {
          return InvalidError(
              fmt::format("hardPodAffinityWeight: Invalid value: {}: not in valid "
                          "range [0-100]",
                          boost::json::serialize(value)));
        }
        hard_weight = value.as_int64();
        continue;
      }
      if (key == "ignorePreferredTermsOfExistingPods") {
        if (!value.is_bool())
          return InvalidError("ignorePreferredTermsOfExistingPods: must be a boolean");
        ignore = value.as_bool();
        continue;
      }
      return InvalidError(
          fmt::format("strict decoding error: unknown field \"{}\"", std::string(key)));
    }
  }
  return std::shared_ptr<Plugin>(
      std::make_shared<InterPodAffinity>(handle, static_cast<int32_t>(hard_weight), ignore));
}

}  // namespace kpp::scheduler::plugins
