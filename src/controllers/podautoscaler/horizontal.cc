#include "controllers/podautoscaler/horizontal.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <set>

#include "api/autoscaling/v1/codec.h"
#include "api/autoscaling/v2/codec.h"
#include "api/metrics.k8s.io/v1beta1/codec.h"
#include "api/runtime/kinds.h"
#include "apimachinery/labels/selector.h"
#include "apimachinery/resource/quantity.h"
#include "base/log.h"
#include "client/rest/resource.h"

namespace kpp::controllers::podautoscaler {
namespace {

using autoscaling::HorizontalPodAutoscaler;
using autoscaling::HPAScalingRules;

constexpr char kAbleToScale[] = "AbleToScale";
constexpr char kScalingActive[] = "ScalingActive";
constexpr char kScalingLimited[] = "ScalingLimited";

api::Time TimeAt(Clock::TimePoint when) {
  return api::Time::FromUnixSeconds(
      std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count());
}

int32_t ReplicasChangePerPeriod(int32_t period_seconds, const std::vector<ScaleEvent>& events,
                                Clock::TimePoint now) {
  const auto cutoff = now - std::chrono::seconds(period_seconds);
  int32_t replicas = 0;
  for (const auto& event : events) {
    if (event.timestamp > cutoff) replicas += event.replica_change;
  }
  return replicas;
}

int64_t MilliValue(const api::Quantity& quantity) {
  auto parsed = resource::Quantity::Parse(quantity.text);
  return parsed.ok() ? parsed->MilliValue() : 0;
}

api::Quantity MilliQuantity(int64_t milli) {
  return api::Quantity{resource::Quantity::FromMilli(milli).String()};
}

// Upstream's fixed limit without behavior: at most double, at least 4.
int32_t ScaleUpLimitWithoutBehavior(int32_t current_replicas) {
  return static_cast<int32_t>(std::max(2.0 * current_replicas, 4.0));
}

// The replica count `rules` allow going up (or down) now: each policy's from the count at the
// start of its period, combined by selectPolicy (Max: the biggest change, Min: the smallest).
int32_t LimitByPolicies(int32_t current_replicas, const std::vector<ScaleEvent>& up_events,
                        const std::vector<ScaleEvent>& down_events, const HPAScalingRules& rules,
                        Clock::TimePoint now, bool scale_up) {
  const std::string select = rules.select_policy.value_or("Max");
  if (select == "Disabled") return current_replicas;
  const bool highest = scale_up == (select != "Min");
  int32_t result = highest ? INT32_MIN : INT32_MAX;
  for (const auto& policy : rules.policies) {
    const int32_t added = ReplicasChangePerPeriod(policy.period_seconds, up_events, now);
    const int32_t deleted = ReplicasChangePerPeriod(policy.period_seconds, down_events, now);
    const int32_t period_start = current_replicas - added + deleted;
    int32_t proposed = period_start;
    if (policy.type == "Pods") {
      proposed = scale_up ? period_start + policy.value : period_start - policy.value;
    } else if (policy.type == "Percent") {
      const double scaled =
          static_cast<double>(period_start) * (1 + (scale_up ? 1 : -1) * policy.value / 100.0);
      // Up rounds up: a small percentage of a few replicas must still allow one more.
      proposed = static_cast<int32_t>(scale_up ? std::ceil(scaled) : scaled);
    }
    result = highest ? std::max(result, proposed) : std::min(result, proposed);
  }
  return result;
}

}  // namespace

int32_t ScaleUpLimit(int32_t current_replicas, const std::vector<ScaleEvent>& up_events,
                     const std::vector<ScaleEvent>& down_events, const HPAScalingRules& rules,
                     Clock::TimePoint now) {
  return LimitByPolicies(current_replicas, up_events, down_events, rules, now, true);
}

int32_t ScaleDownLimit(int32_t current_replicas, const std::vector<ScaleEvent>& up_events,
                       const std::vector<ScaleEvent>& down_events, const HPAScalingRules& rules,
                       Clock::TimePoint now) {
  return LimitByPolicies(current_replicas, up_events, down_events, rules, now, false);
}

void SetCondition(HorizontalPodAutoscaler& hpa, const std::string& type, const std::string& status,
                  const std::string& reason, const std::string& message, Clock::TimePoint now) {
  for (auto& condition : hpa.status.conditions) {
    if (condition.type != type) continue;
    if (condition.status != status) condition.last_transition_time = TimeAt(now);
    condition.status = status;
    condition.reason = reason;
    condition.message = message;
    return;
  }
  autoscaling::HorizontalPodAutoscalerCondition condition;
  condition.type = type;
  condition.status = status;
  condition.reason = reason;
  condition.message = message;
  condition.last_transition_time = TimeAt(now);
  hpa.status.conditions.push_back(std::move(condition));
}

// ---- the syncer --------------------------------------------------------------------------------

namespace {

// Keeps `desired` in place of a recommendation no window looks at any longer (`found_old`, at
// `old_index`), else beside the others.
void Remember(std::vector<TimestampedRecommendation>& recommendations, bool found_old,
              size_t old_index, int32_t desired, Clock::TimePoint now) {
  if (found_old) {
    recommendations[old_index] = {desired, now};
  } else {
    recommendations.push_back({desired, now});
  }
}

// AbleToScale after stabilization: whether a recent recommendation held the change back, and
// whether it held back a scale-up (a lower one applied) rather than a scale-down.
void SetStabilizedCondition(HorizontalPodAutoscaler& hpa, bool stabilized, bool held_up,
                            Clock::TimePoint now) {
  if (!stabilized) {
    SetCondition(hpa, kAbleToScale, "True", "ReadyForNewScale",
                 "recommended size matches current size", now);
  } else if (held_up) {
    SetCondition(hpa, kAbleToScale, "True", "ScaleUpStabilized",
                 "recent recommendations were lower than current one, applying the lowest "
                 "recent recommendation",
                 now);
  } else {
    SetCondition(hpa, kAbleToScale, "True", "ScaleDownStabilized",
                 "recent recommendations were higher than current one, applying the highest "
                 "recent recommendation",
                 now);
  }
}

}  // namespace

void HorizontalSyncer::Event(const HorizontalPodAutoscaler& hpa, const std::string& type,
                             const std::string& reason, const std::string& message) {
  events_.Event(ReferenceOf("autoscaling/v2", "HorizontalPodAutoscaler", hpa.metadata), type,
                reason, message);
}

Status HorizontalSyncer::Sync(const std::string& key, const HorizontalPodAutoscaler* hpa) {
  if (hpa == nullptr) {
    std::lock_guard lock(mutex_);
    history_.erase(key);
    selectors_.erase(key);
    return Ok();
  }
  return Reconcile(key, *hpa);
}

Status HorizontalSyncer::Reconcile(const std::string& key, HorizontalPodAutoscaler hpa) {
  const autoscaling::HorizontalPodAutoscalerStatus original = hpa.status;
  const auto& target = hpa.spec.scale_target_ref;
  const std::string reference =
      fmt::format("{}/{}/{}", target.kind, hpa.metadata.namespace_, target.name);
  const auto now = clock_.Now();

  auto scale = client_.GetScale(hpa.metadata.namespace_, target);
  if (!scale.ok()) {
    Event(hpa, "Warning", "FailedGetScale", scale.error().message());
    SetCondition(hpa, kAbleToScale, "False", "FailedGetScale",
                 "the HPA controller was unable to get the target's current scale: " +
                     scale.error().message(),
                 now);
    if (auto status = UpdateStatusIfNeeded(original, hpa); !status.ok()) return status;
    return InternalError(fmt::format("failed to query scale subresource for {}: {}", reference,
                                     scale.error().message()));
  }
  SetCondition(hpa, kAbleToScale, "True", "SucceededGetScale",
               "the HPA controller was able to get the target's current scale", now);
  const int32_t current_replicas = scale->spec.replicas;

  // The queue hands a key to one worker at a time, and std::map keeps references stable, so
  // the lock guards only the lookup.
  History& history = [&]() -> History& {
    std::lock_guard lock(mutex_);
    return history_[key];
  }();
  if (history.recommendations.empty()) {
    history.recommendations.push_back({current_replicas, now});
  }

  const int32_t min_replicas = hpa.spec.min_replicas.value_or(1);
  int32_t desired_replicas = 0;
  std::string rescale_reason;
  bool rescale = true;
  // Null unless the metrics were computed, as upstream writes it.
  std::optional<std::vector<autoscaling::MetricStatus>> statuses;
  std::optional<Error> metrics_error;
  if (scale->spec.replicas == 0 && min_replicas != 0) {
    desired_replicas = 0;
    rescale = false;
    SetCondition(hpa, kScalingActive, "False", "ScalingDisabled",
                 "scaling is disabled since the replica count of the target is zero", now);
  } else if (current_replicas > hpa.spec.max_replicas) {
    rescale_reason = "Current number of replicas above Spec.MaxReplicas";
    desired_replicas = hpa.spec.max_replicas;
  } else if (current_replicas < min_replicas) {
    rescale_reason = "Current number of replicas below Spec.MinReplicas";
    desired_replicas = min_replicas;
  } else {
    MetricsResult metrics = ComputeReplicasForMetrics(key, hpa, *scale);
    statuses = std::move(metrics.statuses);
    if (metrics.error && metrics.replicas == -1) {
      hpa.status.current_replicas = current_replicas;
      hpa.status.current_metrics = statuses;
      if (auto status = UpdateStatusIfNeeded(original, hpa); !status.ok()) return status;
      Event(hpa, "Warning", "FailedComputeMetricsReplicas", metrics.error->message());
      return InternalError(fmt::format(
          "failed to compute desired number of replicas based on listed metrics for {}: {}",
          reference, metrics.error->message()));
    }
    metrics_error = metrics.error;
    std::string rescale_metric;
    if (metrics.replicas > desired_replicas) {
      desired_replicas = metrics.replicas;
      rescale_metric = metrics.metric_name;
    }
    if (desired_replicas > current_replicas) rescale_reason = rescale_metric + " above target";
    if (desired_replicas < current_replicas) rescale_reason = "All metrics below target";
    desired_replicas = hpa.spec.behavior
                           ? NormalizeDesiredReplicasWithBehaviors(hpa, history, current_replicas,
                                                                   desired_replicas, min_replicas)
                           : NormalizeDesiredReplicas(hpa, history, current_replicas,
                                                      desired_replicas, min_replicas);
    rescale = desired_replicas != current_replicas;
  }

  if (rescale) {
    Scale updated = *scale;
    updated.spec.replicas = desired_replicas;
    if (auto status = client_.UpdateScale(hpa.metadata.namespace_, target, updated); !status.ok()) {
      Event(hpa, "Warning", "FailedRescale",
            fmt::format("New size: {}; reason: {}; error: {}", desired_replicas, rescale_reason,
                        status.error().message()));
      SetCondition(
          hpa, kAbleToScale, "False", "FailedUpdateScale",
          "the HPA controller was unable to update the target scale: " + status.error().message(),
          now);
      hpa.status.current_replicas = current_replicas;
      hpa.status.current_metrics = statuses;
      if (auto written = UpdateStatusIfNeeded(original, hpa); !written.ok()) return written;
      return InternalError(
          fmt::format("failed to rescale {}: {}", reference, status.error().message()));
    }
    SetCondition(hpa, kAbleToScale, "True", "SucceededRescale",
                 fmt::format("the HPA controller was able to update the target scale to {}",
                             desired_replicas),
                 now);
    Event(hpa, "Normal", "SuccessfulRescale",
          fmt::format("New size: {}; reason: {}", desired_replicas, rescale_reason));
    StoreScaleEvent(hpa, history, current_replicas, desired_replicas);
    KLOG_INFO("Successful rescale of {}, old size: {}, new size: {}, reason: {}", hpa.metadata.name,
              current_replicas, desired_replicas, rescale_reason);
  } else {
    KLOG_V(4, "decided not to scale {} to {}", reference, desired_replicas);
    desired_replicas = current_replicas;
  }
  hpa.status.current_replicas = current_replicas;
  hpa.status.desired_replicas = desired_replicas;
  hpa.status.current_metrics = statuses;
  if (rescale) hpa.status.last_scale_time = TimeAt(now);
  if (auto status = UpdateStatusIfNeeded(original, hpa); !status.ok()) return status;
  if (metrics_error) return *metrics_error;
  return Ok();
}

HorizontalSyncer::MetricsResult HorizontalSyncer::ComputeReplicasForMetrics(
    const std::string& key, HorizontalPodAutoscaler& hpa, const Scale& scale) {
  MetricsResult result;
  const auto now = clock_.Now();
  if (scale.status.selector.empty()) {
    Event(hpa, "Warning", "SelectorRequired", "selector is required");
    SetCondition(hpa, kScalingActive, "False", "InvalidSelector",
                 "the HPA target's scale is missing a selector", now);
    result.error = InvalidError("selector is required");
    return result;
  }
  auto selector = labels::Selector::Parse(scale.status.selector);
  if (!selector.ok()) {
    const std::string message =
        "couldn't convert selector into a corresponding internal selector object: " +
        selector.error().message();
    Event(hpa, "Warning", "InvalidSelector", message);
    SetCondition(hpa, kScalingActive, "False", "InvalidSelector", message, now);
    result.error = InvalidError(message);
    return result;
  }
  {
    // Upstream's check for pods that more than one autoscaler would scale.
    std::lock_guard lock(mutex_);
    selectors_.insert_or_assign(key, *selector);
    std::set<std::string> selecting;
    const std::string prefix = hpa.metadata.namespace_ + "/";
    for (const auto& pod : pods_.List(hpa.metadata.namespace_)) {
      if (!selector->Matches(pod->metadata.labels)) continue;
      for (const auto& [other, other_selector] : selectors_) {
        if (other.starts_with(prefix) && other_selector.Matches(pod->metadata.labels)) {
          selecting.insert(other);
        }
      }
    }
    if (selecting.size() > 1) {
      std::string names;
      for (const auto& name : selecting)
        names += (names.empty() ? "" : " ") + name;
      const std::string message = fmt::format(
          "pods by selector {} are controlled by multiple HPAs: [{}]", selector->String(), names);
      Event(hpa, "Warning", "AmbiguousSelector", message);
      SetCondition(hpa, kScalingActive, "False", "AmbiguousSelector", message, now);
      result.error = InvalidError(message);
      return result;
    }
  }
  const auto& specs = hpa.spec.metrics;
  result.statuses.resize(specs.size());
  int invalid = 0;
  std::optional<Error> first_error;
  autoscaling::HorizontalPodAutoscalerCondition first_condition;
  int32_t replicas = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    autoscaling::HorizontalPodAutoscalerCondition condition;
    auto proposal = ComputeReplicasForMetric(hpa, specs[i], scale.spec.replicas, *selector,
                                             scale.status.selector, result.statuses[i], condition);
    if (!proposal.ok()) {
      if (invalid == 0) {
        first_condition = condition;
        first_error = proposal.error();
      }
      ++invalid;
      continue;
    }
    if (replicas == 0 || proposal->first > replicas) {
      replicas = proposal->first;
      result.metric_name = proposal->second;
    }
  }
  if (first_error) {
    first_error =
        InternalError(fmt::format("invalid metrics ({} invalid out of {}), first error is: {}",
                                  invalid, specs.size(), first_error->message()));
  }
  // Every metric failed, or some did and the rest would scale down: no decision on partial data.
  if (invalid >= static_cast<int>(specs.size()) ||
      (invalid > 0 && replicas < scale.spec.replicas)) {
    SetCondition(hpa, first_condition.type, first_condition.status, first_condition.reason,
                 first_condition.message, now);
    result.replicas = -1;
    result.metric_name.clear();
    result.error = first_error;
    return result;
  }
  SetCondition(
      hpa, kScalingActive, "True", "ValidMetricFound",
      "the HPA was able to successfully calculate a replica count from " + result.metric_name, now);
  result.replicas = replicas;
  result.error = first_error;
  return result;
}

Result<std::pair<int32_t, std::string>> HorizontalSyncer::ComputeReplicasForMetric(
    HorizontalPodAutoscaler& hpa, const autoscaling::MetricSpec& spec, int32_t spec_replicas,
    const labels::Selector& selector, const std::string& selector_text,
    autoscaling::MetricStatus& status, autoscaling::HorizontalPodAutoscalerCondition& condition) {
  const auto now = clock_.Now();
  auto unable = [&](const std::string& reason, const std::string& message) {
    Event(hpa, "Warning", reason, message);
    condition.type = kScalingActive;
    condition.status = "False";
    condition.reason = reason;
    condition.message = "the HPA was unable to compute the replica count: " + message;
  };
  const bool container = spec.type == "ContainerResource";
  if ((spec.type == "Resource" && spec.resource) || (container && spec.container_resource)) {
    const std::string& name = container ? spec.container_resource->name : spec.resource->name;
    const std::string container_name = container ? spec.container_resource->container : "";
    const auto& target = container ? spec.container_resource->target : spec.resource->target;
    const std::string reason =
        container ? "FailedGetContainerResourceMetric" : "FailedGetResourceMetric";
    const std::string outer = container
                                  ? fmt::format("failed to get {} container metric value: ", name)
                                  : fmt::format("failed to get {} resource metric value: ", name);
    auto fail = [&](const std::string& message) -> Error {
      unable(reason, message);
      return InternalError(outer + message);
    };
    const bool average_value = target.average_value.has_value();
    if (!average_value && !target.average_utilization) {
      return fail(
          "invalid resource metric source: neither an average utilization target nor an average "
          "value (usage) target was set");
    }
    const std::string what =
        fmt::format("failed to get {} {}: ", name, average_value ? "usage" : "utilization");
    auto listed = client_.ListPodMetrics(hpa.metadata.namespace_, selector_text);
    if (!listed.ok()) {
      return fail(what + fmt::format("unable to get metrics for resource {}: unable to fetch "
                                     "metrics from resource metrics API: {}",
                                     name, listed.error().message()));
    }
    PodMetricsInfo metrics = ResourceMetricsFrom(*listed, name, container_name);
    PodList pods;
    for (auto& pod : pods_.List(hpa.metadata.namespace_)) {
      if (selector.Matches(pod->metadata.labels)) pods.push_back(std::move(pod));
    }
    autoscaling::MetricValueStatus current;
    std::string metric_name;
    Result<ResourceReplicas> proposal = InternalError("");
    if (average_value) {
      proposal = GetRawResourceReplicas(spec_replicas, MilliValue(*target.average_value), name,
                                        container_name, std::move(metrics), pods, now,
                                        options_.calculator);
      if (!proposal.ok()) return fail(what + proposal.error().message());
      current.average_value = MilliQuantity(proposal->raw_average);
      metric_name = fmt::format("{} resource", name);
    } else {
      proposal =
          GetResourceReplicas(spec_replicas, *target.average_utilization, name, container_name,
                              std::move(metrics), pods, now, options_.calculator);
      if (!proposal.ok()) return fail(what + proposal.error().message());
      current.average_utilization = proposal->utilization;
      current.average_value = MilliQuantity(proposal->raw_average);
      metric_name = fmt::format("{} resource utilization (percentage of request)", name);
    }
    if (container) {
      metric_name = fmt::format("{} container resource utilization (percentage of request)", name);
      if (average_value) metric_name = fmt::format("{} container resource", name);
      status.type = "ContainerResource";
      status.container_resource.emplace();
      status.container_resource->name = name;
      status.container_resource->container = container_name;
      status.container_resource->current = current;
    } else {
      status.type = "Resource";
      status.resource.emplace();
      status.resource->name = name;
      status.resource->current = current;
    }
    return std::make_pair(proposal->replicas, metric_name);
  }
  // kpp serves only the resource metrics API; custom and external metrics have no source.
  std::string reason = "FailedGetObjectMetric";
  std::string api = "custom.metrics.k8s.io";
  if (spec.type == "Pods") reason = "FailedGetPodsMetric";
  if (spec.type == "External") {
    reason = "FailedGetExternalMetric";
    api = "external.metrics.k8s.io";
  }
  if (spec.type != "Pods" && spec.type != "Object" && spec.type != "External") {
    const std::string message = "unknown metric source type \"" + spec.type + "\"";
    unable("InvalidMetricSourceType", message);
    return InternalError(message);
  }
  const std::string message =
      fmt::format("unable to fetch metrics from {} API: no {} API registered",
                  spec.type == "External" ? "external" : "custom", api);
  unable(reason, message);
  return InternalError(message);
}

int32_t HorizontalSyncer::NormalizeDesiredReplicas(HorizontalPodAutoscaler& hpa, History& history,
                                                   int32_t current_replicas, int32_t desired,
                                                   int32_t min_replicas) {
  const auto now = clock_.Now();
  // Upstream's stabilizeRecommendation: the highest recommendation within the window.
  int32_t stabilized = desired;
  const auto cutoff = now - options_.downscale_stabilization_window;
  bool found_old = false;
  size_t old_index = 0;
  for (size_t i = 0; i < history.recommendations.size(); ++i) {
    const auto& recommendation = history.recommendations[i];
    if (recommendation.timestamp < cutoff) {
      found_old = true;
      old_index = i;
    } else if (recommendation.recommendation > stabilized) {
      stabilized = recommendation.recommendation;
    }
  }
  Remember(history.recommendations, found_old, old_index, desired, now);
  SetStabilizedCondition(hpa, stabilized != desired, false, now);
  // Upstream's convertDesiredReplicasWithRules.
  const int32_t scale_up_limit = ScaleUpLimitWithoutBehavior(current_replicas);
  int32_t maximum = hpa.spec.max_replicas;
  std::string reason = "TooManyReplicas";
  std::string message = "the desired replica count is more than the maximum replica count";
  if (hpa.spec.max_replicas > scale_up_limit) {
    maximum = scale_up_limit;
    reason = "ScaleUpLimit";
    message = "the desired replica count is increasing faster than the maximum scale rate";
  }
  int32_t result = stabilized;
  if (stabilized < min_replicas) {
    result = min_replicas;
    reason = "TooFewReplicas";
    message = "the desired replica count is less than the minimum replica count";
  } else if (stabilized > maximum) {
    result = maximum;
  } else {
    reason = "DesiredWithinRange";
    message = "the desired count is within the acceptable range";
  }
  SetCondition(hpa, kScalingLimited, result == stabilized ? "False" : "True", reason, message, now);
  return result;
}

int32_t HorizontalSyncer::NormalizeDesiredReplicasWithBehaviors(HorizontalPodAutoscaler& hpa,
                                                                History& history,
                                                                int32_t current_replicas,
                                                                int32_t desired,
                                                                int32_t min_replicas) {
  const auto now = clock_.Now();
  auto& behavior = *hpa.spec.behavior;
  // Defaulting fills both rules; an object built in memory may lack them.
  if (!behavior.scale_up) behavior.scale_up.emplace();
  if (!behavior.scale_down) behavior.scale_down.emplace();
  const HPAScalingRules& up = *behavior.scale_up;
  const HPAScalingRules& down = *behavior.scale_down;
  const auto up_window = std::chrono::seconds(up.stabilization_window_seconds.value_or(0));
  const auto down_window = down.stabilization_window_seconds
                               ? std::chrono::seconds(*down.stabilization_window_seconds)
                               : options_.downscale_stabilization_window;

  // Upstream's stabilizeRecommendationWithBehaviors.
  int32_t up_recommendation = desired;
  int32_t down_recommendation = desired;
  const auto up_cutoff = now - up_window;
  const auto down_cutoff = now - down_window;
  bool found_old = false;
  size_t old_index = 0;
  for (size_t i = 0; i < history.recommendations.size(); ++i) {
    const auto& recommendation = history.recommendations[i];
    if (recommendation.timestamp > up_cutoff) {
      up_recommendation = std::min(recommendation.recommendation, up_recommendation);
    }
    if (recommendation.timestamp > down_cutoff) {
      down_recommendation = std::max(recommendation.recommendation, down_recommendation);
    }
    if (recommendation.timestamp < up_cutoff && recommendation.timestamp < down_cutoff) {
      found_old = true;
      old_index = i;
    }
  }
  int32_t stabilized = current_replicas;
  if (stabilized < up_recommendation) stabilized = up_recommendation;
  if (stabilized > down_recommendation) stabilized = down_recommendation;
  Remember(history.recommendations, found_old, old_index, desired, now);
  SetStabilizedCondition(hpa, stabilized != desired, desired >= current_replicas, now);

  // Upstream's convertDesiredReplicasWithBehaviorRate.
  int32_t result = stabilized;
  std::string reason = "DesiredWithinRange";
  std::string message = "the desired count is within the acceptable range";
  if (stabilized > current_replicas) {
    int32_t limit = ScaleUpLimit(current_replicas, history.up_events, history.down_events, up, now);
    limit = std::max(limit, current_replicas);
    int32_t maximum = hpa.spec.max_replicas;
    std::string limit_reason = "TooManyReplicas";
    std::string limit_message = "the desired replica count is more than the maximum replica count";
    if (maximum > limit) {
      maximum = limit;
      limit_reason = "ScaleUpLimit";
      limit_message = "the desired replica count is increasing faster than the maximum scale rate";
    }
    if (stabilized > maximum) {
      result = maximum;
      reason = limit_reason;
      message = limit_message;
    }
  } else if (stabilized < current_replicas) {
    int32_t limit =
        ScaleDownLimit(current_replicas, history.up_events, history.down_events, down, now);
    limit = std::min(limit, current_replicas);
    int32_t minimum = min_replicas;
    std::string limit_reason = "TooFewReplicas";
    std::string limit_message = "the desired replica count is less than the minimum replica count";
    if (minimum < limit) {
      minimum = limit;
      limit_reason = "ScaleDownLimit";
      limit_message = "the desired replica count is decreasing faster than the maximum scale rate";
    }
    if (stabilized < minimum) {
      result = minimum;
      reason = limit_reason;
      message = limit_message;
    }
  }
  SetCondition(hpa, kScalingLimited, result == stabilized ? "False" : "True", reason, message, now);
  return result;
}

void HorizontalSyncer::StoreScaleEvent(const HorizontalPodAutoscaler& hpa, History& history,
                                       int32_t previous, int32_t replicas) {
  if (!hpa.spec.behavior) return;  // only the policies read them
  const auto now = clock_.Now();
  const bool up = replicas > previous;
  const auto& rules = up ? hpa.spec.behavior->scale_up : hpa.spec.behavior->scale_down;
  int32_t longest = 0;
  if (rules) {
    for (const auto& policy : rules->policies)
      longest = std::max(longest, policy.period_seconds);
  }
  auto& events = up ? history.up_events : history.down_events;
  const auto cutoff = now - std::chrono::seconds(longest);
  for (auto& event : events) {
    if (event.timestamp < cutoff) event.outdated = true;
  }
  ScaleEvent event{up ? replicas - previous : previous - replicas, now, false};
  for (auto& existing : events) {
    if (existing.outdated) {
      existing = event;
      return;
    }
  }
  events.push_back(event);
}

Status HorizontalSyncer::UpdateStatusIfNeeded(
    const autoscaling::HorizontalPodAutoscalerStatus& original,
    const HorizontalPodAutoscaler& hpa) {
  if (original == hpa.status) return Ok();
  if (auto status = client_.UpdateStatus(hpa); !status.ok()) {
    Event(hpa, "Warning", "FailedUpdateStatus", status.error().message());
    return InternalError(fmt::format("failed to update status for {}: {}", hpa.metadata.name,
                                     status.error().message()));
  }
  return Ok();
}

}  // namespace kpp::controllers::podautoscaler
