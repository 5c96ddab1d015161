// Conversion of horizontal pod autoscalers between autoscaling/v1 and autoscaling/v2, with the
// results upstream gets by converting through its internal version.
//
// v1 has only a CPU utilization target. Everything else a v2 object holds travels in v1
// annotations, so that an object read and written back as v1 loses nothing:
//   autoscaling.alpha.kubernetes.io/metrics          spec.metrics other than the CPU target
//   autoscaling.alpha.kubernetes.io/current-metrics  status.currentMetrics
//   autoscaling.alpha.kubernetes.io/conditions       status.conditions
//   autoscaling.alpha.kubernetes.io/behavior         spec.behavior
// The first three hold JSON of the v1 annotation types (api/autoscaling/v1); the behavior holds
// upstream's internal type, whose JSON keys are Go's field names ("ScaleUp", "Policies").
// Annotations that do not parse are ignored, as upstream ignores them. Converting to v2 drops
// the four annotations; converting to v1 writes them afresh.
#pragma once

#include "api/autoscaling/v1/types.h"
#include "api/autoscaling/v2/types.h"

namespace kpp::api::conversion {

inline constexpr char kHpaMetricsAnnotation[] = "autoscaling.alpha.kubernetes.io/metrics";
inline constexpr char kHpaCurrentMetricsAnnotation[] =
    "autoscaling.alpha.kubernetes.io/current-metrics";
inline constexpr char kHpaConditionsAnnotation[] = "autoscaling.alpha.kubernetes.io/conditions";
inline constexpr char kHpaBehaviorAnnotation[] = "autoscaling.alpha.kubernetes.io/behavior";

// v1 -> v2. Without a CPU target and without other metrics, the result scales on 80% average
// CPU utilization, the default v1 always had.
autoscaling::v2::HorizontalPodAutoscaler ConvertToV2(
    const autoscaling::v1::HorizontalPodAutoscaler& in);

// v2 -> v1. The first CPU utilization metric becomes targetCPUUtilizationPercentage.
autoscaling::v1::HorizontalPodAutoscaler ConvertToV1(
    const autoscaling::v2::HorizontalPodAutoscaler& in);

}  // namespace kpp::api::conversion
