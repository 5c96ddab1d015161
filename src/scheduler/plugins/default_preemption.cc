// DefaultPreemption (PostFilter): when no node fits, find nodes where evicting pods of lower
// priority would make room, keep as few victims as possible (the most important ones are
// reprieved first), pick the node by upstream's criteria (lowest highest victim priority, lowest
// priority sum, fewest victims, latest start), delete the victims (marking them with the
// DisruptionTarget condition and a Preempted event) and nominate the node.
// PodDisruptionBudgets as upstream's: victims whose deletion would take a budget below zero
// (disruptionsAllowed, less the budget's other victims on the node) are reprieved first and
// counted as violations; nodes with fewer violations come first; the search for candidates goes
// on past its bound until one node without violations is found.
// Not yet: PreFilter extensions (spread and affinity counts are not recomputed without the
// victims, which errs on not preempting), nominated pods in Filter.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <limits>
#include <random>

#include "base/log.h"
#include "client/rest/errors.h"
#include "client/rest/resource.h"
#include "client/rest/rest_client.h"
#include "scheduler/plugins/registry.h"
#include "scheduler/schedule_one.h"

namespace kpp::scheduler::plugins {
namespace {

constexpr char kNotHelpful[] = "Preemption is not helpful for scheduling";
constexpr char kNoVictims[] = "No preemption victims found for incoming pod";

int32_t PriorityOf(const Pod& pod) {
  return pod.spec.priority.value_or(0);
}

int64_t StartTimeOf(const Pod& pod) {
  if (pod.status.start_time) return pod.status.start_time->unix_seconds;
  return pod.metadata.creation_timestamp.unix_seconds;
}

// Higher priority first, then the one started earlier (upstream's MoreImportantPod).
bool MoreImportant(const PodInfoPtr& a, const PodInfoPtr& b) {
  const int32_t pa = PriorityOf(*a->pod);
  const int32_t pb = PriorityOf(*b->pod);
  if (pa != pb) return pa > pb;
  return StartTimeOf(*a->pod) < StartTimeOf(*b->pod);
}

struct Candidate {
  const NodeInfo* node = nullptr;
  std::vector<PodInfoPtr> victims;  // most important first
  int num_pdb_violations = 0;
};

using BudgetPtr = std::shared_ptr<const api::policy::v1::PodDisruptionBudget>;

// Splits `pods` (in order) into those whose deletion, together with the pods before them, would
// violate a budget and the others (upstream's filterPodsWithPDBViolation). A budget without a
// selector or with an empty one selects nothing here; pods already in a budget's disruptedPods
// do not count against it.
void SplitByBudgetViolation(const std::vector<PodInfoPtr>& pods,
                            const std::vector<BudgetPtr>& budgets,
                            std::vector<PodInfoPtr>& violating,
                            std::vector<PodInfoPtr>& non_violating) {
  std::vector<int64_t> allowed;
  std::vector<labels::Selector> selectors;
  for (const auto& budget : budgets) {
    allowed.push_back(budget->status.disruptions_allowed);
    selectors.push_back(SelectorOf(budget->spec.selector ? &*budget->spec.selector : nullptr));
  }
  for (const auto& info : pods) {
    const Pod& pod = *info->pod;
    bool violated = false;
    if (!pod.metadata.labels.empty()) {
      for (size_t i = 0; i < budgets.size(); ++i) {
        const auto& budget = *budgets[i];
        if (budget.metadata.namespace_ != pod.metadata.namespace_) continue;
        if (selectors[i].Empty() || selectors[i].MatchesNothing() ||
            !selectors[i].Matches(pod.metadata.labels)) {
          continue;
        }
        if (budget.status.disrupted_pods.contains(pod.metadata.name)) continue;
        if (--allowed[i] < 0) violated = true;
      }
    }
    (violated ? violating : non_violating).push_back(info);
  }
}

class DefaultPreemption final : public PostFilterPlugin {
 public:
  DefaultPreemption(Handle* handle, int32_t min_percentage, int32_t min_absolute)
      : handle_(handle), min_percentage_(min_percentage), min_absolute_(min_absolute) {}
  std::string Name() const override { return "DefaultPreemption"; }

  PluginStatus PostFilter(CycleState& state, const PodInfo& pod, const NodeToStatus& statuses,
                          PostFilterResult& result) override {
    if (pod.pod->spec.preemption_policy.value_or("PreemptLowerPriority") == "Never") {
      return PluginStatus::Unschedulable("preemption: not eligible due to preemptionPolicy=Never.");
    }
    const auto& snapshot = handle_->snapshot();
    // A pod that already preempted waits for its victims to go rather than preempting more.
    if (const NodeInfo* nominated = snapshot.Get(pod.pod->status.nominated_node_name)) {
      for (const auto& existing : nominated->pods) {
        if (existing->pod->metadata.deletion_timestamp &&
            PriorityOf(*existing->pod) < PriorityOf(*pod.pod)) {
          return PluginStatus::Unschedulable(
              "preemption: not eligible due to a terminating pod on the nominated node.");
        }
      }
    }
    FitError summary;
    summary.num_all_nodes = static_cast<int>(snapshot.nodes.size());
    std::vector<const NodeInfo*> potential;
    for (const auto& node : snapshot.nodes) {
      auto status = statuses.find(node->name());
      if (status != statuses.end() && status->second.code() == Code::kUnschedulable) {
        potential.push_back(node.get());
      } else {
        summary.diagnosis.node_to_status[node->name()] = PluginStatus::Unresolvable(kNotHelpful);
      }
    }
    std::vector<Candidate> candidates;
    const auto budgets = handle_->PodDisruptionBudgets();
    if (!potential.empty()) {
      // upstream's bound on the search: 10% of the nodes, at least 100, from a random offset.
      size_t wanted =
          std::max<size_t>(potential.size() * static_cast<size_t>(min_percentage_) / 100,
                           static_cast<size_t>(min_absolute_));
      wanted = std::min(wanted, potential.size());
      const size_t offset = std::uniform_int_distribution<size_t>(0, potential.size() - 1)(random_);
      // As upstream, the search stops once it has enough candidates and one of them violates
      // no budget.
      bool non_violating_found = false;
      for (size_t i = 0;
           i < potential.size() && (candidates.size() < wanted || !non_violating_found); ++i) {
        const NodeInfo* node = potential[(offset + i) % potential.size()];
        PluginStatus why;
        int violations = 0;
        auto victims = SelectVictims(state, pod, *node, budgets, violations, why);
        if (victims) {
          non_violating_found = non_violating_found || violations == 0;
          candidates.push_back({node, std::move(*victims), violations});
        } else {
          summary.diagnosis.node_to_status[node->name()] = why;
        }
      }
    }
    if (candidates.empty()) {
      return PluginStatus::Unschedulable("preemption: " + summary.Message());
    }
    const Candidate& best = PickCandidate(candidates);
    PrepareCandidate(pod, best);
    result.nominated_node_name = best.node->name();
    return {};
  }

 private:
  // The fewest lower-priority pods to remove from `node` for `pod` to fit; none when even
  // removing them all does not help.
  std::optional<std::vector<PodInfoPtr>> SelectVictims(const CycleState& state, const PodInfo& pod,
                                                       const NodeInfo& node,
                                                       const std::vector<BudgetPtr>& budgets,
                                                       int& num_pdb_violations, PluginStatus& why) {
    NodeInfo trial = node;
    std::vector<PodInfoPtr> lower;
    const int32_t priority = PriorityOf(*pod.pod);
    for (const auto& existing : node.pods) {
      if (PriorityOf(*existing->pod) < priority) lower.push_back(existing);
    }
    if (lower.empty()) {
      why = PluginStatus::Unresolvable(kNoVictims);
      return std::nullopt;
    }
    for (const auto& victim : lower)
      trial.RemovePod(victim->uid());
    if (auto status = handle_->RunFilters(state, pod, trial); !status.IsSuccess()) {
      why = status;
      return std::nullopt;
    }
    std::sort(lower.begin(), lower.end(), MoreImportant);
    // Reprieves the pods whose deletion would violate a budget first, then the others; each
    // group from the most important.
    std::vector<PodInfoPtr> violating;
    std::vector<PodInfoPtr> non_violating;
    SplitByBudgetViolation(lower, budgets, violating, non_violating);
    std::vector<PodInfoPtr> victims;
    num_pdb_violations = 0;
    auto reprieve = [&](const PodInfoPtr& candidate) {
      trial.AddPod(candidate);
      if (handle_->RunFilters(state, pod, trial).IsSuccess()) return true;
      trial.RemovePod(candidate->uid());
      victims.push_back(candidate);
      return false;
    };
    for (const auto& candidate : violating) {
      if (!reprieve(candidate)) ++num_pdb_violations;
    }
    for (const auto& candidate : non_violating)
      reprieve(candidate);
    std::sort(victims.begin(), victims.end(), MoreImportant);
    if (victims.empty()) {
      why = PluginStatus::Unresolvable(kNoVictims);
      return std::nullopt;
    }
    return victims;
  }

  static const Candidate& PickCandidate(const std::vector<Candidate>& candidates) {
    const Candidate* best = &candidates[0];
    auto highest = [](const Candidate& c) { return PriorityOf(*c.victims.front()->pod); };
    auto sum = [](const Candidate& c) {
      int64_t total = 0;
      // Offset so that negative priorities still add up to a smaller sum with fewer pods.
      for (const auto& v : c.victims) {
        total +=
            static_cast<int64_t>(PriorityOf(*v->pod)) + std::numeric_limits<int32_t>::max() + 1;
      }
      return total;
    };
    auto earliest_top_start = [&](const Candidate& c) {
      int64_t earliest = std::numeric_limits<int64_t>::max();
      const int32_t top = highest(c);
      for (const auto& v : c.victims) {
        if (PriorityOf(*v->pod) == top) earliest = std::min(earliest, StartTimeOf(*v->pod));
      }
      return earliest;
    };
    for (const auto& c : candidates) {
      if (&c == best) continue;
      auto key = [&](const Candidate& x) {
        return std::make_tuple(x.num_pdb_violations, highest(x), sum(x), x.victims.size(),
                               -earliest_top_start(x));
      };
      if (key(c) < key(*best)) best = &c;
    }
    return *best;
  }

  void PrepareCandidate(const PodInfo& pod, const Candidate& candidate) {
    auto client = handle_->client();
    const std::string node = candidate.node->name();
    for (const auto& victim : candidate.victims) {
      const Pod& v = *victim->pod;
      if (client) {
        client::DynamicResource pods(client, client::KindFor<Pod>(), v.metadata.namespace_);
        boost::json::object condition = {
            {"type", "DisruptionTarget"},
            {"status", "True"},
            {"reason", "PreemptionByScheduler"},
            {"message",
             fmt::format("{}: preempting to accommodate a higher priority pod",
                         pod.pod->spec.scheduler_name.empty() ? std::string(kDefaultSchedulerName)
                                                              : pod.pod->spec.scheduler_name)}};
        boost::json::object patch = {
            {"status", boost::json::object{{"conditions", boost::json::array{condition}}}}};
        auto patched = pods.Patch(v.metadata.name, client::PatchType::kStrategicMerge,
                                  boost::json::serialize(patch), {}, "status");
        if (!patched.ok() && !client::IsNotFound(patched.error())) {
          KLOG_WARNING("marking preemption victim {}/{}: {}", v.metadata.namespace_,
                       v.metadata.name, patched.error().message());
        }
        auto deleted = pods.Delete(v.metadata.name);
        if (!deleted.ok() && !client::IsNotFound(deleted.error())) {
          KLOG_WARNING("deleting preemption victim {}/{}: {}", v.metadata.namespace_,
                       v.metadata.name, deleted.error().message());
          continue;
        }
      }
      handle_->RecordEvent(v, "Normal", "Preempted",
                           fmt::format("Preempted by pod {} on node {}", pod.uid(), node));
    }
  }

  Handle* handle_;
  int32_t min_percentage_;
  int32_t min_absolute_;
  std::mt19937 random_{std::random_device{}()};
};

}  // namespace

Result<std::shared_ptr<Plugin>> NewDefaultPreemption(const boost::json::value* args,
                                                     Handle* handle) {
  int64_t percentage = 10;
  int64_t absolute = 100;
  if (args != nullptr && args->is_object()) {
    for (const auto& [key, value] : args->as_object()) {
      if (key == "apiVersion" || key == "kind") continue;
      if (key == "minCandidateNodesPercentage" && value.is_int64()) {
        percentage = value.as_int64();
        if (percentage < 0 || percentage > 100) {
          return InvalidError(
              fmt::format("minCandidateNodesPercentage: Invalid value: {}: not in "
                          "valid range [0, 100]",
                          percentage));
        }
        continue;
      }
      if (key == "minCandidateNodesAbsolute" && value.is_int64()) {
        absolute = value.as_int64();
        if (absolute < 0) {
          return InvalidError(fmt::format(
              "minCandidateNodesAbsolute: Invalid value: {}: not in valid range [0, inf)",
              absolute));
        }
        continue;
      }
      return InvalidError(
          fmt::format("strict decoding error: unknown field \"{}\"", std::string(key)));
    }
  }
  if (percentage == 0 && absolute == 0) {
    return InvalidError(
        "minCandidateNodesAbsolute: Invalid value: 0: cannot be zero at the same "
        "time as minCandidateNodesPercentage");
  }
  return std::shared_ptr<Plugin>(std::make_shared<DefaultPreemption>(
      handle, static_cast<int32_t>(percentage), static_cast<int32_t>(absolute)));
}

}  // namespace kpp::scheduler::plugins
