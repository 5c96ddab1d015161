// Upstream's HPA replica calculation (pkg/controller/podautoscaler/replica_calculator.go) for
// resource metrics: the pods' usage against their requests (utilization) or against an average
// value, with a tolerance, and upstream's handling of pods without metrics, unready pods and
// pods still starting. Pure functions over snapshots, so tests drive them table-style.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/core/v1/types.h"
#include "api/metrics.k8s.io/v1beta1/types.h"
#include "base/clock.h"
#include "base/result.h"

namespace kpp::controllers::podautoscaler {

// One pod's usage of one resource, in thousandths (millicores for cpu; memory bytes x 1000), as
// upstream's metrics client reads it with MilliValue.
struct PodMetric {
  int64_t value = 0;
  Clock::TimePoint timestamp{};
  std::chrono::milliseconds window{0};
};
using PodMetricsInfo = std::map<std::string, PodMetric>;  // by pod name

// The usage of `resource` per pod from a metrics.k8s.io PodMetricsList: the sum over the pod's
// containers (only `container` when not empty); a pod with a container lacking the resource is
// left out, as upstream's metrics client does.
PodMetricsInfo ResourceMetricsFrom(const api::metrics_k8s_io::v1beta1::PodMetricsList& list,
                                   const std::string& resource, const std::string& container);

struct ReplicaCalculatorOptions {
  double tolerance = 0.1;  // --horizontal-pod-autoscaler-tolerance
  // --horizontal-pod-autoscaler-cpu-initialization-period
  std::chrono::seconds cpu_initialization_period{300};
  // --horizontal-pod-autoscaler-initial-readiness-delay
  std::chrono::seconds delay_of_initial_readiness_status{30};
};

struct ResourceReplicas {
  int32_t replicas = 0;
  int32_t utilization = 0;  // percent of the requests (utilization targets only)
  int64_t raw_average = 0;  // average usage per pod, in thousandths
  Clock::TimePoint timestamp{};
};

using PodList = std::vector<std::shared_ptr<const api::core::v1::Pod>>;

// Replicas for a utilization target (percent of the pods' requests of `resource`).
Result<ResourceReplicas> GetResourceReplicas(int32_t current_replicas, int32_t target_utilization,
                                             const std::string& resource,
                                             const std::string& container, PodMetricsInfo metrics,
                                             const PodList& pods, Clock::TimePoint now,
                                             const ReplicaCalculatorOptions& options = {});

// Replicas for an average value target (`target_usage` in thousandths per pod).
Result<ResourceReplicas> GetRawResourceReplicas(int32_t current_replicas, int64_t target_usage,
                                                const std::string& resource,
                                                const std::string& container,
                                                PodMetricsInfo metrics, const PodList& pods,
                                                Clock::TimePoint now,
                                                const ReplicaCalculatorOptions& options = {});

}  // namespace kpp::controllers::podautoscaler
