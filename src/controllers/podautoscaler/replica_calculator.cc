#include "controllers/podautoscaler/replica_calculator.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "apimachinery/intstr/duration.h"
#include "apimachinery/resource/quantity.h"

namespace kpp::controllers::podautoscaler {
namespace {

namespace v1 = api::core::v1;

int64_t MilliValue(const api::Quantity& quantity) {
  auto parsed = resource::Quantity::Parse(quantity.text);
  return parsed.ok() ? parsed->MilliValue() : 0;
}

Clock::TimePoint TimeOf(const api::Time& time) {
  return Clock::TimePoint(std::chrono::seconds(time.unix_seconds));
}

struct PodGroups {
  int ready = 0;
  std::set<std::string> unready;
  std::set<std::string> missing;
  std::set<std::string> ignored;
};

// Upstream's groupPods: deleted and failed pods are ignored; pending ones and (for cpu) pods whose
// readiness or first samples cannot be trusted yet count as unready; the rest is ready or missing.
PodGroups GroupPods(const PodList& pods, const PodMetricsInfo& metrics, const std::string& resource,
                    Clock::TimePoint now, const ReplicaCalculatorOptions& options) {
  PodGroups groups;
  for (const auto& pod : pods) {
    const std::string& name = pod->metadata.name;
    if (pod->metadata.deletion_timestamp || pod->status.phase == "Failed") {
      groups.ignored.insert(name);
      continue;
    }
    if (pod->status.phase == "Pending") {
      groups.unready.insert(name);
      continue;
    }
    auto metric = metrics.find(name);
    if (metric == metrics.end()) {
      groups.missing.insert(name);
      continue;
    }
    if (resource == "cpu") {
      const v1::PodCondition* ready = nullptr;
      for (const auto& condition : pod->status.conditions) {
        if (condition.type == "Ready") ready = &condition;
      }
      bool unready = false;
      if (ready == nullptr || !pod->status.start_time) {
        unready = true;
      } else {
        const Clock::TimePoint started = TimeOf(*pod->status.start_time);
        const Clock::TimePoint transition = TimeOf(ready->last_transition_time);
        if (started + options.cpu_initialization_period > now) {
          // Still starting: a sample must cover a whole window after the last transition.
          unready = ready->status == "False" ||
                    metric->second.timestamp < transition + metric->second.window;
        } else {
          // Never ready since it started.
          unready = ready->status == "False" &&
                    started + options.delay_of_initial_readiness_status > transition;
        }
      }
      if (unready) {
        groups.unready.insert(name);
        continue;
      }
    }
    ++groups.ready;
  }
  return groups;
}

void RemoveMetrics(PodMetricsInfo& metrics, const std::set<std::string>& pods) {
  for (const auto& name : pods)
    metrics.erase(name);
}

// Requests of `resource` per pod (containers and sidecars), in thousandths.
Result<std::map<std::string, int64_t>> PodRequests(const PodList& pods,
                                                   const std::string& container,
                                                   const std::string& resource) {
  std::map<std::string, int64_t> requests;
  for (const auto& pod : pods) {
    int64_t sum = 0;
    std::vector<const v1::Container*> containers;
    for (const auto& c : pod->spec.containers)
      containers.push_back(&c);
    for (const auto& c : pod->spec.init_containers) {
      if (c.restart_policy && *c.restart_policy == "Always") containers.push_back(&c);
    }
    for (const v1::Container* c : containers) {
      if (!container.empty() && c->name != container) continue;
      auto request = c->resources.requests.find(resource);
      if (request == c->resources.requests.end()) {
        return InvalidError(fmt::format("missing request for {} in container {} of Pod {}",
                                        resource, c->name, pod->metadata.name));
      }
      sum += MilliValue(request->second);
    }
    requests[pod->metadata.name] = sum;
  }
  return requests;
}

struct UtilizationRatio {
  double ratio = 0;
  int32_t utilization = 0;
  int64_t raw_average = 0;
};

Result<UtilizationRatio> ResourceUtilizationRatio(const PodMetricsInfo& metrics,
                                                  const std::map<std::string, int64_t>& requests,
                                                  int32_t target_utilization) {
  int64_t metrics_total = 0;
  int64_t requests_total = 0;
  int64_t entities = 0;
  for (const auto& [name, metric] : metrics) {
    auto request = requests.find(name);
    if (request == requests.end()) continue;  // a pod that is gone from the lister
    metrics_total += metric.value;
    requests_total += request->second;
    ++entities;
  }
  if (requests_total == 0) return InvalidError("no metrics returned matched known pods");
  const auto utilization = static_cast<int32_t>(metrics_total * 100 / requests_total);
  return UtilizationRatio{static_cast<double>(utilization) / target_utilization, utilization,
                          metrics_total / entities};
}

std::pair<double, int64_t> MetricUsageRatio(const PodMetricsInfo& metrics, int64_t target_usage) {
  int64_t total = 0;
  for (const auto& [name, metric] : metrics)
    total += metric.value;
  const int64_t usage = total / static_cast<int64_t>(metrics.size());
  return {static_cast<double>(usage) / static_cast<double>(target_usage), usage};
}

Clock::TimePoint OldestTimestamp(const PodMetricsInfo& metrics) {
  Clock::TimePoint oldest = Clock::TimePoint::max();
  for (const auto& [name, metric] : metrics)
    oldest = std::min(oldest, metric.timestamp);
  return oldest == Clock::TimePoint::max() ? Clock::TimePoint{} : oldest;
}

int32_t CeilTimes(double ratio, size_t count) {
  return static_cast<int32_t>(std::ceil(ratio * static_cast<double>(count)));
}

}  // namespace

PodMetricsInfo ResourceMetricsFrom(const api::metrics_k8s_io::v1beta1::PodMetricsList& list,
                                   const std::string& resource, const std::string& container) {
  PodMetricsInfo metrics;
  for (const auto& pod : list.items) {
    int64_t sum = 0;
    bool missing = pod.containers.empty();
    bool found_container = container.empty();
    for (const auto& c : pod.containers) {
      if (!container.empty() && c.name != container) continue;
      found_container = true;
      auto usage = c.usage.find(resource);
      if (usage == c.usage.end()) {
        missing = true;
        break;
      }
      sum += MilliValue(usage->second);
    }
    if (missing || !found_container) continue;
    PodMetric metric;
    metric.value = sum;
    metric.timestamp = TimeOf(pod.timestamp);
    if (auto window = intstr::ParseDuration(pod.window); window.ok()) {
      metric.window = std::chrono::duration_cast<std::chrono::milliseconds>(*window);
    }
    metrics[pod.metadata.name] = metric;
  }
  return metrics;
}

namespace {

// The first steps of both calculations: the pods in their groups, and `metrics` left with the
// ready pods' only; an error when that leaves nothing to go on.
Result<PodGroups> ReadyPodMetrics(PodMetricsInfo& metrics, const PodList& pods,
                                  const std::string& resource, Clock::TimePoint now,
                                  const ReplicaCalculatorOptions& options) {
  if (metrics.empty()) {
    return InvalidError(fmt::format(
        "unable to get metrics for resource {}: no metrics returned from resource metrics API",
        resource));
  }
  if (pods.empty()) {
    return InvalidError("no pods returned by selector while calculating replica count");
  }
  PodGroups groups = GroupPods(pods, metrics, resource, now, options);
  RemoveMetrics(metrics, groups.ignored);
  RemoveMetrics(metrics, groups.unready);
  if (metrics.empty()) {
    return InvalidError("did not receive metrics for targeted pods (pods might be unready)");
  }
  return groups;
}

}  // namespace

Result<ResourceReplicas> GetResourceReplicas(int32_t current_replicas, int32_t target_utilization,
                                             const std::string& resource,
                                             const std::string& container, PodMetricsInfo metrics,
                                             const PodList& pods, Clock::TimePoint now,
                                             const ReplicaCalculatorOptions& options) {
  KPP_ASSIGN_OR_RETURN(const PodGroups groups,
                       ReadyPodMetrics(metrics, pods, resource, now, options));
  KPP_ASSIGN_OR_RETURN(auto requests, PodRequests(pods, container, resource));
  KPP_ASSIGN_OR_RETURN(UtilizationRatio usage,
                       ResourceUtilizationRatio(metrics, requests, target_utilization));
  ResourceReplicas result{current_replicas, usage.utilization, usage.raw_average,
                          OldestTimestamp(metrics)};
  const bool scale_up_with_unready = !groups.unready.empty() && usage.ratio > 1.0;
  if (!scale_up_with_unready && groups.missing.empty()) {
    if (std::abs(1.0 - usage.ratio) <= options.tolerance) return result;
    result.replicas = CeilTimes(usage.ratio, static_cast<size_t>(groups.ready));
    return result;
  }
  if (!groups.missing.empty()) {
    if (usage.ratio < 1.0) {
      // Scaling down: a pod without metrics counts as using its whole request (or the target,
      // when that is above 100%).
      const int64_t fallback = std::max<int64_t>(100, target_utilization);
      for (const auto& name : groups.missing)
        metrics[name] = PodMetric{requests[name] * fallback / 100, {}, {}};
    } else if (usage.ratio > 1.0) {
      for (const auto& name : groups.missing)
        metrics[name] = PodMetric{0, {}, {}};
    }
  }
  if (scale_up_with_unready) {
    for (const auto& name : groups.unready)
      metrics[name] = PodMetric{0, {}, {}};
  }
  KPP_ASSIGN_OR_RETURN(UtilizationRatio adjusted,
                       ResourceUtilizationRatio(metrics, requests, target_utilization));
  if (std::abs(1.0 - adjusted.ratio) <= options.tolerance ||
      (usage.ratio < 1.0 && adjusted.ratio > 1.0) || (usage.ratio > 1.0 && adjusted.ratio < 1.0)) {
    return result;  // the assumptions changed the direction, or within tolerance
  }
  const int32_t replicas = CeilTimes(adjusted.ratio, metrics.size());
  if ((adjusted.ratio < 1.0 && replicas > current_replicas) ||
      (adjusted.ratio > 1.0 && replicas < current_replicas)) {
    return result;
  }
  result.replicas = replicas;
  return result;
}

Result<ResourceReplicas> GetRawResourceReplicas(int32_t current_replicas, int64_t target_usage,
                                                const std::string& resource,
                                                const std::string& container,
                                                PodMetricsInfo metrics, const PodList& pods,
                                                Clock::TimePoint now,
                                                const ReplicaCalculatorOptions& options) {
  (void)container;
  if (target_usage <= 0) return InvalidError("the target average value must be positive");
  KPP_ASSIGN_OR_RETURN(const PodGroups groups,
                       ReadyPodMetrics(metrics, pods, resource, now, options));
  const auto [ratio, usage] = MetricUsageRatio(metrics, target_usage);
  ResourceReplicas result{current_replicas, 0, usage, OldestTimestamp(metrics)};
  const bool scale_up_with_unready = !groups.unready.empty() && ratio > 1.0;
  if (!scale_up_with_unready && groups.missing.empty()) {
    if (std::abs(1.0 - ratio) <= options.tolerance) return result;
    result.replicas = CeilTimes(ratio, static_cast<size_t>(groups.ready));
    return result;
  }
  if (!groups.missing.empty()) {
    for (const auto& name : groups.missing)
      metrics[name] = PodMetric{ratio < 1.0 ? target_usage : 0, {}, {}};
  }
  if (scale_up_with_unready) {
    for (const auto& name : groups.unready)
      metrics[name] = PodMetric{0, {}, {}};
  }
  const double adjusted = MetricUsageRatio(metrics, target_usage).first;
  if (std::abs(1.0 - adjusted) <= options.tolerance || (ratio < 1.0 && adjusted > 1.0) ||
      (ratio > 1.0 && adjusted < 1.0)) {
    return result;
  }
  const int32_t replicas = CeilTimes(adjusted, metrics.size());
  if ((adjusted < 1.0 && replicas > current_replicas) ||
      (adjusted > 1.0 && replicas < current_replicas)) {
    return result;
  }
  result.replicas = replicas;
  return result;
}

}  // namespace kpp::controllers::podautoscaler
