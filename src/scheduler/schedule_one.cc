#include "scheduler/schedule_one.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

namespace kpp::scheduler {

std::string FitError::Message() const {
  std::string message = fmt::format("0/{} nodes are available:", num_all_nodes);
  if (!diagnosis.pre_filter_msg.empty()) {
    message += fmt::format(" {}.", diagnosis.pre_filter_msg);
  } else {
    std::map<std::string, int> reasons;
    for (const auto& [node, status] : diagnosis.node_to_status) {
      for (const auto& reason : status.reasons())
        ++reasons[reason];
    }
    std::vector<std::string> histogram;
    for (const auto& [reason, count] : reasons)
      histogram.push_back(fmt::format("{} {}", count, reason));
    std::sort(histogram.begin(), histogram.end());
    if (!histogram.empty()) {
      std::string joined;
      for (const auto& entry : histogram)
        joined += (joined.empty() ? "" : ", ") + entry;
      message += fmt::format(" {}.", joined);
    }
  }
  if (!diagnosis.post_filter_msg.empty()) message += fmt::format(" {}.", diagnosis.post_filter_msg);
  return message;
}

int32_t ScheduleAlgorithm::NumFeasibleNodesToFind(std::optional<int32_t> profile_percentage,
                                                  int32_t num_all_nodes) const {
  if (num_all_nodes < kMinFeasibleNodesToFind) return num_all_nodes;
  int32_t percentage = profile_percentage.value_or(percentage_);
  if (percentage == 0) {
    percentage = 50 - num_all_nodes / 125;
    if (percentage < kMinFeasibleNodesPercentageToFind) {
      percentage = kMinFeasibleNodesPercentageToFind;
    }
  }
  const int32_t num_nodes =
      static_cast<int32_t>(static_cast<int64_t>(num_all_nodes) * percentage / 100);
  return std::max(num_nodes, kMinFeasibleNodesToFind);
}

ScheduleOutcome ScheduleAlgorithm::SchedulePod(const Framework& framework, CycleState& state,
                                               const PodInfo& pod, const Snapshot& snapshot,
                                               ScheduleResult& result, FitError& fit_error,
                                               std::string& error) {
  const auto& all_nodes = snapshot.nodes;
  if (all_nodes.empty()) {
    error = kNoNodesAvailableMessage;
    return ScheduleOutcome::kError;
  }
  fit_error = FitError{};
  fit_error.num_all_nodes = static_cast<int>(all_nodes.size());
  auto& diagnosis = fit_error.diagnosis;

  PreFilterResult pre_filter;
  auto status = framework.RunPreFilter(state, pod, pre_filter);
  if (!status.IsSuccess()) {
    if (!status.IsRejected()) {
      error = fmt::format("running PreFilter plugin \"{}\": {}", status.plugin(), status.Message());
      return ScheduleOutcome::kError;
    }
    for (const auto& node : all_nodes)
      diagnosis.node_to_status[node->name()] = status;
    diagnosis.pre_filter_msg = status.Message();
    diagnosis.unschedulable_plugins.insert(status.plugin());
    return ScheduleOutcome::kUnschedulable;
  }

  // The nodes to try: all, or those PreFilter narrowed them to.
  std::vector<NodeInfoPtr> narrowed;
  const std::vector<NodeInfoPtr>* nodes = &all_nodes;
  if (pre_filter.node_names) {
    for (const auto& name : *pre_filter.node_names) {
      auto at = snapshot.index.find(name);
      if (at != snapshot.index.end()) narrowed.push_back(all_nodes[at->second]);
    }
    for (const auto& node : all_nodes) {
      if (!pre_filter.node_names->contains(node->name())) {
        diagnosis.node_to_status[node->name()] =
            PluginStatus::Unresolvable("node(s) didn't satisfy plugin(s) [NodeAffinity]");
      }
    }
    nodes = &narrowed;
  }
  const size_t n = nodes->size();
  const int32_t to_find = NumFeasibleNodesToFind(framework.config().percentage_of_nodes_to_score,
                                                 static_cast<int32_t>(n));
  std::vector<NodeInfoPtr> feasible(static_cast<size_t>(to_find));
  std::atomic<int32_t> found = 0;
  // Rejections are collected under a lock: the usual cycle has few, and a per-node array
  // would be cleared for every pod.
  std::vector<std::pair<size_t, PluginStatus>> rejected;
  std::mutex rejected_mutex;
  std::atomic<bool> failed = false;
  std::atomic<bool> stop = false;
  std::string failure;
  std::mutex failure_mutex;
  const size_t start = n == 0 ? 0 : next_start_node_index_ % n;
  if (n > 0) {
    parallelizer_.Until(
        n,
        [&](size_t i) {
          if (found.load(std::memory_order_relaxed) >= to_find || failed.load()) {
            stop = true;
            return;
          }
          const size_t at = (start + i) % n;
          const NodeInfo& node = *(*nodes)[at];
          auto node_status = framework.RunFilter(state, pod, node);
          if (node_status.IsSuccess()) {
            const int32_t slot = found.fetch_add(1);
            if (slot < to_find) {
              feasible[static_cast<size_t>(slot)] = (*nodes)[at];
            } else {
              found.fetch_sub(1);
            }
          } else if (node_status.IsRejected()) {
            std::lock_guard lock(rejected_mutex);
            rejected.emplace_back(at, std::move(node_status));
          } else {
            std::lock_guard lock(failure_mutex);
            failed = true;
            failure = fmt::format("running \"{}\" filter plugin: {}", node_status.plugin(),
                                  node_status.Message());
          }
        },
        &stop);
  }
  if (failed) {
    error = failure;
    return ScheduleOutcome::kError;
  }
  const int32_t feasible_count = std::min(found.load(), to_find);
  feasible.resize(static_cast<size_t>(feasible_count));
  size_t processed = static_cast<size_t>(feasible_count);
  for (auto& [at, rejection] : rejected) {
    ++processed;
    diagnosis.unschedulable_plugins.insert(rejection.plugin());
    diagnosis.node_to_status[(*nodes)[at]->name()] = std::move(rejection);
  }
  if (n > 0) next_start_node_index_ = (start + processed) % n;
  result.evaluated_nodes = static_cast<int>(processed);
  result.feasible_nodes = feasible_count;

  if (feasible.empty()) return ScheduleOutcome::kUnschedulable;
  if (feasible.size() == 1 || !framework.HasScore()) {
    result.suggested_host = feasible[0]->name();
    return ScheduleOutcome::kScheduled;
  }

  status = framework.RunPreScore(state, pod, feasible);
  if (!status.IsSuccess()) {
    error = fmt::format("running PreScore plugin \"{}\": {}", status.plugin(), status.Message());
    return ScheduleOutcome::kError;
  }
  auto scores = framework.RunScore(state, pod, feasible, parallelizer_);
  if (!scores.ok()) {
    error = scores.error().message();
    return ScheduleOutcome::kError;
  }
  // The highest score; among equals each is picked with the same chance (reservoir sampling).
  int64_t best = -1;
  int ties = 0;
  size_t chosen = 0;
  for (size_t i = 0; i < feasible.size(); ++i) {
    const int64_t score = (*scores)[i];
    if (score > best) {
      best = score;
      ties = 1;
      chosen = i;
    } else if (score == best) {
      ++ties;
      if (std::uniform_int_distribution<int>(0, ties - 1)(random_) == 0) chosen = i;
    }
  }
  result.suggested_host = feasible[chosen]->name();
  return ScheduleOutcome::kScheduled;
}

}  // namespace kpp::scheduler
