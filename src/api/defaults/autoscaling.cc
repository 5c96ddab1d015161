// Defaulting of autoscaling/v2 horizontal pod autoscalers that depends on other fields, as
// upstream's SetDefaults_HorizontalPodAutoscaler applies it. (autoscaling/v1 has only the
// minReplicas field default; its CPU target default is applied by the conversion to v2.)
#include <utility>
#include <vector>

#include "api/autoscaling/v2/codec.h"

namespace kpp::api::autoscaling::v2 {
namespace {

HPAScalingPolicy Policy(std::string type, int32_t value, int32_t period_seconds) {
  return HPAScalingPolicy{
      .type = std::move(type), .value = value, .period_seconds = period_seconds};
}

// Fills the unset parts of `rules` from `defaults`, field by field, as upstream does.
void FillRules(std::optional<HPAScalingRules>& rules, HPAScalingRules defaults) {
  if (rules) {
    if (rules->stabilization_window_seconds) {
      defaults.stabilization_window_seconds = rules->stabilization_window_seconds;
    }
    if (rules->select_policy) defaults.select_policy = rules->select_policy;
    // Upstream keeps an explicit empty list (which validation then rejects); both are empty here.
    if (!rules->policies.empty()) defaults.policies = std::move(rules->policies);
  }
  rules = std::move(defaults);
}

}  // namespace

void DefaultHorizontalPodAutoscalerSpec(HorizontalPodAutoscalerSpec& obj) {
  if (!obj.metrics.empty()) return;
  MetricSpec cpu{.type = "Resource"};
  cpu.resource.emplace();
  cpu.resource->name = "cpu";
  cpu.resource->target.type = "Utilization";
  cpu.resource->target.average_utilization = 80;
  obj.metrics.push_back(std::move(cpu));
}

void DefaultHorizontalPodAutoscalerBehavior(HorizontalPodAutoscalerBehavior& obj) {
  // Up: no stabilization; the larger of 4 pods or 100% per 15 seconds.
  FillRules(obj.scale_up,
            HPAScalingRules{.stabilization_window_seconds = 0,
                            .select_policy = "Max",
                            .policies = {Policy("Pods", 4, 15), Policy("Percent", 100, 15)}});
  // Down: 100% per 15 seconds; the stabilization window is left to the controller's flag.
  FillRules(obj.scale_down, HPAScalingRules{.stabilization_window_seconds = std::nullopt,
                                            .select_policy = "Max",
                                            .policies = {Policy("Percent", 100, 15)}});
}

}  // namespace kpp::api::autoscaling::v2
