#include "apiserver/registry/lifecycle.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/core/v1/types.h"
#include "apiextensions/custom_resources.h"
#include "apiserver/registry/strategy.h"
#include "base/log.h"

namespace kpp::apiserver {
namespace {

bool InList(std::string_view list, std::string_view item) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (list.substr(0, comma) == item) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

boost::json::object AsJson(const api::Object& object) {
  auto value = boost::json::parse(object.ToJson());
  return value.is_object() ? std::move(value.as_object()) : boost::json::object();
}

// Puts `json` back into `object`; the JSON came from an object of the same kind, so it always
// decodes.
void Assign(api::Object& object, const boost::json::object& json) {
  if (auto status = object.AssignJson(boost::json::serialize(json)); !status.ok()) {
    KLOG_ERROR("re-decoding an object failed: {}", status.error().message());
  }
}

bool IsOwnField(std::string_view key) {
  return key == "metadata" || key == "status" || key == "apiVersion" || key == "kind";
}

}  // namespace

bool HasSubresource(const api::KindInfo& kind, std::string_view subresource) {
  return InList(kind.subresources, subresource);
}

bool TracksGeneration(const api::KindInfo& kind) {
  struct GroupKind {
    std::string_view group;
    std::string_view kind;
  };
  static constexpr GroupKind kTracked[] = {
      {"apps", "Deployment"},
      {"apps", "ReplicaSet"},
      {"apps", "StatefulSet"},
      {"apps", "DaemonSet"},
      {"", "ReplicationController"},
      {"batch", "Job"},
      {"batch", "CronJob"},
      {"autoscaling", "HorizontalPodAutoscaler"},
      {"policy", "PodDisruptionBudget"},
      {"networking.k8s.io", "Ingress"},
      {"networking.k8s.io", "NetworkPolicy"},
      {"apiextensions.k8s.io", "CustomResourceDefinition"},
      {"admissionregistration.k8s.io", "ValidatingAdmissionPolicy"},
      {"flowcontrol.apiserver.k8s.io", "FlowSchema"},
      {"flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"},
  };
  // Custom resources track it, as upstream's custom resource strategy.
  if (apiextensions::CustomResourceOf(kind) != nullptr) return true;
  const api::KindInfo& stored = api::StorageKind(kind);
  return std::any_of(std::begin(kTracked), std::end(kTracked), [&](const GroupKind& tracked) {
    return tracked.group == stored.group && tracked.kind == stored.kind;
  });
}

bool SpecChanged(const api::Object& object, const api::Object& old) {
  auto a = AsJson(object);
  auto b = AsJson(old);
  for (auto* json : {&a, &b}) {
    for (std::string_view key : {"metadata", "status", "apiVersion", "kind"})
      json->erase(key);
  }
  return a != b;
}

void CopyStatus(api::Object& object, const api::Object& from) {
  auto json = AsJson(object);
  const auto source = AsJson(from);
  if (const auto* status = source.if_contains("status")) {
    json["status"] = *status;
  } else {
    json.erase("status");
  }
  Assign(object, json);
}

void CopyAllButMetadataAndStatus(api::Object& object, const api::Object& from) {
  auto json = AsJson(object);
  const auto source = AsJson(from);
  boost::json::object result;
  for (const auto& [key, value] : source) {
    if (!IsOwnField(key)) result[key] = value;
  }
  for (const auto& [key, value] : json) {
    if (IsOwnField(key)) result[key] = value;
  }
  Assign(object, result);
}

bool OrphanByDefault(const api::KindInfo& kind) {
  const std::string_view group = kind.group;
  const std::string_view version = kind.version;
  if (group.empty()) return version == "v1" && kind.kind == "ReplicationController";
  if (group == "batch") {
    return (version == "v1" && kind.kind == "Job") ||
           (version == "v1beta1" && kind.kind == "CronJob");
  }
  const bool workload = kind.kind == "Deployment" || kind.kind == "ReplicaSet" ||
                        kind.kind == "StatefulSet" || kind.kind == "DaemonSet";
  if (group == "extensions") return workload;
  if (group == "apps") return workload && (version == "v1beta1" || version == "v1beta2");
  return false;
}

bool FinalizersDone(const api::Object& updated, const api::Object& old) {
  const auto& grace = old.metadata().deletion_grace_period_seconds;
  if (const auto* ns = dynamic_cast<const api::TypedObject<api::core::v1::Namespace>*>(&updated)) {
    return updated.metadata().deletion_timestamp.has_value() &&
           updated.metadata().finalizers.empty() && ns->value().spec.finalizers.empty() &&
           (!grace.has_value() || *grace == 0);
  }
  return updated.metadata().deletion_timestamp.has_value() &&
         updated.metadata().finalizers.empty() && grace.has_value() && *grace == 0;
}

void PrepareUpdate(const api::KindInfo& kind, std::string_view subresource, api::Object& object,
                   const api::Object& old) {
  const Strategy& strategy = StrategyFor(api::StorageKind(kind));
  if (subresource.empty() || subresource == "scale") {
    strategy.PrepareForUpdate(kind, object, old);
  } else if (subresource == "status") {
    strategy.PrepareForStatusUpdate(kind, object, old);
  } else if (subresource == "finalize") {
    CopyStatus(object, old);
  } else {
    strategy.PrepareForSubresourceUpdate(subresource, kind, object, old);
  }
}

Result<DeleteAction> PlanDelete(const api::KindInfo& kind, api::Object& object,
                                api::meta::v1::DeleteOptions& options, int64_t now) {
  auto& metadata = object.metadata();
  if (options.orphan_dependents.has_value() && options.propagation_policy.has_value()) {
    return Error(
        ErrorCode::kInvalid,
        "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Invalid value: "
        "\"" +
            *options.propagation_policy +
            "\": orphanDependents and deletionPropagation cannot be both set",
        {{"FieldValueInvalid", "orphanDependents and deletionPropagation cannot be both set",
          "propagationPolicy"}});
  }
  // Negative periods count as one second, as upstream treats them.
  if (options.grace_period_seconds && *options.grace_period_seconds < 0) {
    options.grace_period_seconds = 1;
  }
  const Strategy& strategy = StrategyFor(api::StorageKind(kind));
  const bool graceful_kind = strategy.GracePeriod(object, std::nullopt).has_value();
  bool graceful = false;
  int64_t grace = 0;
  if (graceful_kind && metadata.deletion_timestamp) {
    const auto& current = metadata.deletion_grace_period_seconds;
    if (current && *current > 0) {
      // Already being deleted: a delete may only shorten the grace period.
      if (!options.grace_period_seconds || *options.grace_period_seconds >= *current) {
        return DeleteAction::kPending;
      }
      metadata.deletion_timestamp = api::Time::FromUnixSeconds(
          metadata.deletion_timestamp->unix_seconds - *current + *options.grace_period_seconds);
      metadata.deletion_grace_period_seconds = *options.grace_period_seconds;
      graceful = true;
      grace = *options.grace_period_seconds;
    }
  } else if (graceful_kind) {
    grace = *strategy.GracePeriod(object, options.grace_period_seconds);
    metadata.deletion_timestamp = api::Time::FromUnixSeconds(now + grace);
    metadata.deletion_grace_period_seconds = grace;
    if (metadata.generation > 0) ++metadata.generation;
    graceful = true;
  }

  // The garbage collector's finalizers, as the options (or the object, or the kind) ask.
  bool orphan = false;
  bool foreground = false;
  if (options.orphan_dependents) {
    orphan = *options.orphan_dependents;
  } else if (options.propagation_policy) {
    orphan = *options.propagation_policy == "Orphan";
    foreground = *options.propagation_policy == "Foreground";
  } else {
    const auto has = [&](std::string_view finalizer) {
      return std::find(metadata.finalizers.begin(), metadata.finalizers.end(), finalizer) !=
             metadata.finalizers.end();
    };
    if (has(kOrphanFinalizer)) {
      orphan = true;
    } else if (has(kForegroundFinalizer)) {
      foreground = true;
    } else {
      orphan = OrphanByDefault(kind);
    }
  }
  std::vector<std::string> finalizers;
  for (const auto& finalizer : metadata.finalizers) {
    if (finalizer != kOrphanFinalizer && finalizer != kForegroundFinalizer) {
      finalizers.push_back(finalizer);
    }
  }
  if (orphan) finalizers.emplace_back(kOrphanFinalizer);
  if (foreground) finalizers.emplace_back(kForegroundFinalizer);
  metadata.finalizers = std::move(finalizers);

  if (!metadata.finalizers.empty()) {
    if (!graceful) {
      // Marked as being deleted (grace 0) and kept until its finalizers are gone.
      if (!metadata.deletion_timestamp && metadata.generation > 0) ++metadata.generation;
      if (!metadata.deletion_timestamp || metadata.deletion_timestamp->unix_seconds > now) {
        metadata.deletion_timestamp = api::Time::FromUnixSeconds(now);
      }
      metadata.deletion_grace_period_seconds = 0;
    }
    return DeleteAction::kUpdate;
  }
  if (graceful && grace > 0) return DeleteAction::kUpdate;
  return DeleteAction::kDeleteNow;
}

Result<bool> BeginNamespaceTermination(const api::KindInfo& kind, api::Object& object,
                                       const api::meta::v1::DeleteOptions& options, int64_t now) {
  auto& ns = static_cast<api::TypedObject<api::core::v1::Namespace>&>(object).value();
  if (ns.metadata.deletion_timestamp) {
    if (ns.spec.finalizers.empty()) return false;
    return Error(ErrorCode::kConflict,
                 fmt::format("Operation cannot be fulfilled on {} \"{}\": The system is ensuring "
                             "all content is removed from this namespace.  Upon completion, this "
                             "namespace will automatically be purged by the system.",
                             kind.plural, ns.metadata.name));
  }
  ns.metadata.deletion_timestamp = api::Time::FromUnixSeconds(now);
  ns.status.phase = "Terminating";
  auto& finalizers = ns.metadata.finalizers;
  const auto has = [&](std::string_view finalizer) {
    return std::find(finalizers.begin(), finalizers.end(), finalizer) != finalizers.end();
  };
  bool orphan = has(kOrphanFinalizer);
  bool foreground = has(kForegroundFinalizer);
  if (options.orphan_dependents) {
    orphan = *options.orphan_dependents;
    foreground = false;
  } else if (options.propagation_policy) {
    orphan = *options.propagation_policy == "Orphan";
    foreground = *options.propagation_policy == "Foreground";
  }
  std::erase_if(finalizers, [](const std::string& finalizer) {
    return finalizer == kOrphanFinalizer || finalizer == kForegroundFinalizer;
  });
  if (orphan) finalizers.emplace_back(kOrphanFinalizer);
  if (foreground) finalizers.emplace_back(kForegroundFinalizer);
  return !ns.spec.finalizers.empty();
}

}  // namespace kpp::apiserver
