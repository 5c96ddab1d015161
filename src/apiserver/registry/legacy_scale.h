// The Scale bodies of the old workload versions: apps/v1beta1, apps/v1beta2 and
// extensions/v1beta1 served their scale subresources with a Scale of their own version, whose
// status carries the selector twice: as a map (only when it is made of equalities) and as the
// string form (targetSelector). The scale handler works on autoscaling/v1's Scale and converts at
// the edges, as upstream converts its internal Scale to the version of the request.
#pragma once

#include <string_view>

#include "api/apps/v1beta1/codec.h"
#include "api/apps/v1beta2/codec.h"
#include "api/autoscaling/v1/codec.h"
#include "api/extensions/v1beta1/codec.h"
#include "api/runtime/kinds.h"
#include "apimachinery/labels/selector.h"

namespace kpp::apiserver {

enum class LegacyScale { kNone, kAppsV1beta1, kAppsV1beta2, kExtensionsV1beta1 };

// Which Scale the scale subresource of `kind` serves: kNone for autoscaling/v1's.
inline LegacyScale LegacyScaleOf(const api::KindInfo& kind) {
  if (kind.group == "apps" && kind.version == "v1beta1") return LegacyScale::kAppsV1beta1;
  if (kind.group == "apps" && kind.version == "v1beta2") return LegacyScale::kAppsV1beta2;
  if (kind.group == "extensions" && kind.version == "v1beta1") {
    return LegacyScale::kExtensionsV1beta1;
  }
  return LegacyScale::kNone;
}

// Calls `visit` with a default-constructed Scale of `which` (not kNone): the one place that maps
// the enum to the three generated types.
template <typename Visit>
auto VisitLegacyScale(LegacyScale which, Visit&& visit) {
  switch (which) {
    case LegacyScale::kAppsV1beta2: return visit(api::apps::v1beta2::Scale{});
    case LegacyScale::kExtensionsV1beta1: return visit(api::extensions::v1beta1::Scale{});
    default: return visit(api::apps::v1beta1::Scale{});
  }
}

// autoscaling/v1's Scale as `LegacyScaleType`, apiVersion `api_version`.
template <typename LegacyScaleType>
LegacyScaleType ToLegacyScale(const api::autoscaling::v1::Scale& scale,
                              std::string_view api_version) {
  LegacyScaleType legacy;
  legacy.kind = "Scale";
  legacy.api_version = std::string(api_version);
  legacy.metadata = scale.metadata;
  legacy.spec.replicas = scale.spec.replicas;
  legacy.status.replicas = scale.status.replicas;
  legacy.status.target_selector = scale.status.selector;
  // Upstream parses the string back and keeps the map only when it holds every requirement.
  auto parsed = labels::ParseToLabelSelector(scale.status.selector);
  if (parsed.ok() && parsed->match_expressions.empty()) {
    for (const auto& [key, value] : parsed->match_labels)
      legacy.status.selector[key] = value;
  }
  return legacy;
}

// A legacy Scale as autoscaling/v1's: the string selector, else the map's.
template <typename LegacyScaleType>
api::autoscaling::v1::Scale FromLegacyScale(const LegacyScaleType& legacy) {
  api::autoscaling::v1::Scale scale;
  scale.kind = "Scale";
  scale.api_version = "autoscaling/v1";
  scale.metadata = legacy.metadata;
  scale.spec.replicas = legacy.spec.replicas;
  scale.status.replicas = legacy.status.replicas;
  if (!legacy.status.target_selector.empty()) {
    scale.status.selector = legacy.status.target_selector;
  } else if (!legacy.status.selector.empty()) {
    labels::LabelSelector from_map;
    for (const auto& [key, value] : legacy.status.selector)
      from_map.match_labels[key] = value;
    auto selector = labels::LabelSelectorAsSelector(&from_map);
    if (selector.ok()) scale.status.selector = selector->String();
  }
  return scale;
}

}  // namespace kpp::apiserver
