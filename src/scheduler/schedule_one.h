// The scheduling algorithm of one cycle (upstream's schedulePod): PreFilter, Filter over the
// nodes in parallel starting where the last cycle stopped and stopping once enough feasible
// nodes were found (percentageOfNodesToScore), then PreScore/Score and the highest total,
// ties broken at random. Knows nothing of the API server, so tests run it on a snapshot.
#pragma once

#include <optional>
#include <random>
#include <set>
#include <string>

#include "scheduler/framework/framework.h"

namespace kpp::scheduler {

inline constexpr int32_t kMinFeasibleNodesToFind = 100;
inline constexpr int32_t kMinFeasibleNodesPercentageToFind = 5;

struct Diagnosis {
  NodeToStatus node_to_status;
  std::set<std::string> unschedulable_plugins;
  std::string pre_filter_msg;
  std::string post_filter_msg;
};

struct FitError {
  int num_all_nodes = 0;
  Diagnosis diagnosis;
  // upstream's form: "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2
  // Insufficient cpu. preemption: ..."
  std::string Message() const;
};

struct ScheduleResult {
  std::string suggested_host;
  int evaluated_nodes = 0;
  int feasible_nodes = 0;
};

enum class ScheduleOutcome { kScheduled, kUnschedulable, kError };

inline constexpr char kNoNodesAvailableMessage[] = "no nodes available to schedule pods";

class ScheduleAlgorithm {
 public:
  // `percentage_of_nodes_to_score`: the global setting (0: adaptive).
  ScheduleAlgorithm(Parallelizer& parallelizer, int32_t percentage_of_nodes_to_score = 0,
                    uint32_t seed = std::random_device{}())
      : parallelizer_(parallelizer), percentage_(percentage_of_nodes_to_score), random_(seed) {}

  // On kUnschedulable `fit_error` says why; on kError `error` does.
  ScheduleOutcome SchedulePod(const Framework& framework, CycleState& state, const PodInfo& pod,
                              const Snapshot& snapshot, ScheduleResult& result, FitError& fit_error,
                              std::string& error);

  int32_t NumFeasibleNodesToFind(std::optional<int32_t> profile_percentage,
                                 int32_t num_all_nodes) const;
  size_t next_start_node_index() const { return next_start_node_index_; }

 private:
  Parallelizer& parallelizer_;
  int32_t percentage_;
  size_t next_start_node_index_ = 0;
  std::mt19937 random_;
};

}  // namespace kpp::scheduler
