#include "api/conversion/conversions.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <string>

#include "api/apps/v1/codec.h"
#include "api/apps/v1beta1/codec.h"
#include "api/apps/v1beta2/codec.h"
#include "api/autoscaling/v1/codec.h"
#include "api/autoscaling/v2/codec.h"
#include "api/batch/v1/codec.h"
#include "api/batch/v1beta1/codec.h"
#include "api/conversion/autoscaling.h"
#include "api/conversion/events.h"
#include "api/core/v1/codec.h"
#include "api/events.k8s.io/v1/codec.h"
#include "api/conversion/legacy.h"
#include "api/extensions/v1beta1/codec.h"
#include "api/networking.k8s.io/v1/codec.h"
#include "api/runtime/codec.h"
#include "api/scheduling.k8s.io/v1/codec.h"
#include "api/scheduling.k8s.io/v1alpha1/codec.h"
#include "api/scheduling.k8s.io/v1beta1/codec.h"

namespace kpp::api::conversion {
namespace {

// Adapts a typed conversion function to the table's signature.
template <typename From, typename To, To (*kConvert)(const From&)>
Result<ObjectPtr> Typed(const Object& object) {
  const auto* typed = dynamic_cast<const TypedObject<From>*>(&object);
  if (typed == nullptr) return ObjectPtr();
  return ObjectPtr(std::make_unique<TypedObject<To>>(kConvert(typed->value())));
}

using JsonFixup = void (*)(boost::json::object&);

// Converts between versions whose JSON is the same but for what `kFixup` reshapes: encodes
// `object`, fixes the JSON up and decodes it as `To`. A field `To` does not know would be lost,
// so it is an error (the schemas disagree).
template <typename From, typename To, JsonFixup kFixup = nullptr>
Result<ObjectPtr> ViaJson(const Object& object) {
  const auto* typed = dynamic_cast<const TypedObject<From>*>(&object);
  if (typed == nullptr) return ObjectPtr();
  boost::json::value json = boost::json::parse(ToJson(typed->value()));
  if constexpr (kFixup != nullptr) kFixup(json.as_object());
  runtime::DecodeContext context;
  To converted;
  Decode(json, converted, context);
  if (context.failed()) return InternalError("conversion: " + context.error()->message());
  if (!context.unknown_fields().empty()) {
    return InternalError(fmt::format("conversion to {} loses fields: {}", converted.api_version,
                                     fmt::join(context.unknown_fields(), ", ")));
  }
  return ObjectPtr(std::make_unique<TypedObject<To>>(std::move(converted)));
}

namespace hpa {
using V1 = autoscaling::v1::HorizontalPodAutoscaler;
using V2 = autoscaling::v2::HorizontalPodAutoscaler;
}  // namespace hpa

namespace apps1 = apps::v1;
namespace beta1 = apps::v1beta1;
namespace beta2 = apps::v1beta2;
namespace ext = extensions::v1beta1;
namespace net = networking_k8s_io::v1;
namespace scheduling = scheduling_k8s_io;

constexpr Registration kRegistrations[] = {
    {"HorizontalPodAutoscaler", "autoscaling/v1", "autoscaling/v2",
     &Typed<hpa::V1, hpa::V2, &ConvertToV2>},
    {"HorizontalPodAutoscaler", "autoscaling/v2", "autoscaling/v1",
     &Typed<hpa::V2, hpa::V1, &ConvertToV1>},

    // The removed versions served for old manifests (legacy.h).
    {"Deployment", "apps/v1beta1", "apps/v1",
     &ViaJson<beta1::Deployment, apps1::Deployment, &DeploymentRollbackToAnnotation>},
    {"Deployment", "apps/v1", "apps/v1beta1",
     &ViaJson<apps1::Deployment, beta1::Deployment, &DeploymentRollbackToField>},
    {"StatefulSet", "apps/v1beta1", "apps/v1", &ViaJson<beta1::StatefulSet, apps1::StatefulSet>},
    {"StatefulSet", "apps/v1", "apps/v1beta1", &ViaJson<apps1::StatefulSet, beta1::StatefulSet>},

    {"Deployment", "apps/v1beta2", "apps/v1", &ViaJson<beta2::Deployment, apps1::Deployment>},
    {"Deployment", "apps/v1", "apps/v1beta2", &ViaJson<apps1::Deployment, beta2::Deployment>},
    {"ReplicaSet", "apps/v1beta2", "apps/v1", &ViaJson<beta2::ReplicaSet, apps1::ReplicaSet>},
    {"ReplicaSet", "apps/v1", "apps/v1beta2", &ViaJson<apps1::ReplicaSet, beta2::ReplicaSet>},
    {"StatefulSet", "apps/v1beta2", "apps/v1", &ViaJson<beta2::StatefulSet, apps1::StatefulSet>},
    {"StatefulSet", "apps/v1", "apps/v1beta2", &ViaJson<apps1::StatefulSet, beta2::StatefulSet>},
    {"DaemonSet", "apps/v1beta2", "apps/v1", &ViaJson<beta2::DaemonSet, apps1::DaemonSet>},
    {"DaemonSet", "apps/v1", "apps/v1beta2", &ViaJson<apps1::DaemonSet, beta2::DaemonSet>},

    {"Deployment", "extensions/v1beta1", "apps/v1",
     &ViaJson<ext::Deployment, apps1::Deployment, &DeploymentRollbackToAnnotation>},
    {"Deployment", "apps/v1", "extensions/v1beta1",
     &ViaJson<apps1::Deployment, ext::Deployment, &DeploymentRollbackToField>},
    {"ReplicaSet", "extensions/v1beta1", "apps/v1", &ViaJson<ext::ReplicaSet, apps1::ReplicaSet>},
    {"ReplicaSet", "apps/v1", "extensions/v1beta1", &ViaJson<apps1::ReplicaSet, ext::ReplicaSet>},
    {"DaemonSet", "extensions/v1beta1", "apps/v1",
     &ViaJson<ext::DaemonSet, apps1::DaemonSet, &DaemonSetTemplateGenerationToAnnotation>},
    {"DaemonSet", "apps/v1", "extensions/v1beta1",
     &ViaJson<apps1::DaemonSet, ext::DaemonSet, &DaemonSetTemplateGenerationToField>},
    {"Ingress", "extensions/v1beta1", "networking.k8s.io/v1",
     &ViaJson<ext::Ingress, net::Ingress, &IngressToNetworkingV1>},
    {"Ingress", "networking.k8s.io/v1", "extensions/v1beta1",
     &ViaJson<net::Ingress, ext::Ingress, &IngressToExtensionsV1beta1>},

    {"CronJob", "batch/v1beta1", "batch/v1", &ViaJson<batch::v1beta1::CronJob, batch::v1::CronJob>},
    {"CronJob", "batch/v1", "batch/v1beta1", &ViaJson<batch::v1::CronJob, batch::v1beta1::CronJob>},
    {"PriorityClass", "scheduling.k8s.io/v1beta1", "scheduling.k8s.io/v1",
     &ViaJson<scheduling::v1beta1::PriorityClass, scheduling::v1::PriorityClass>},
    {"PriorityClass", "scheduling.k8s.io/v1", "scheduling.k8s.io/v1beta1",
     &ViaJson<scheduling::v1::PriorityClass, scheduling::v1beta1::PriorityClass>},
    {"PriorityClass", "scheduling.k8s.io/v1alpha1", "scheduling.k8s.io/v1",
     &ViaJson<scheduling::v1alpha1::PriorityClass, scheduling::v1::PriorityClass>},
    {"PriorityClass", "scheduling.k8s.io/v1", "scheduling.k8s.io/v1alpha1",
     &ViaJson<scheduling::v1::PriorityClass, scheduling::v1alpha1::PriorityClass>},

    {"Event", "events.k8s.io/v1", "v1",
     &Typed<events_k8s_io::v1::Event, core::v1::Event, &ConvertToCoreEvent>},
    {"Event", "v1", "events.k8s.io/v1",
     &Typed<core::v1::Event, events_k8s_io::v1::Event, &ConvertToEventsV1>},
};

const Registration* Find(const KindInfo& from, const KindInfo& to) {
  if (from.kind != to.kind) return nullptr;
  const std::string from_version = GroupVersionOf(from);
  const std::string to_version = GroupVersionOf(to);
  const auto* found = std::find_if(
      std::begin(kRegistrations), std::end(kRegistrations), [&](const Registration& registration) {
        return registration.kind == from.kind && registration.from == from_version &&
               registration.to == to_version;
      });
  return found == std::end(kRegistrations) ? nullptr : found;
}

}  // namespace

std::span<const Registration> Registrations() {
  return kRegistrations;
}

bool CanConvert(const KindInfo& from, const KindInfo& to) {
  return &from == &to || Find(from, to) != nullptr;
}

Result<ObjectPtr> Convert(const Object& object, const KindInfo& from, const KindInfo& to) {
  ObjectPtr converted;
  if (&from == &to) {
    converted = object.Clone();
  } else {
    const Registration* registration = Find(from, to);
    if (registration == nullptr) {
      return InternalError(fmt::format("no conversion of {} from {} to {}", from.kind,
                                       GroupVersionOf(from), GroupVersionOf(to)));
    }
    KPP_ASSIGN_OR_RETURN(converted, registration->convert(object));
    if (converted == nullptr) {
      return InternalError(
          fmt::format("the object to convert is not a {} of {}", from.kind, GroupVersionOf(from)));
    }
  }
  converted->api_version() = GroupVersionOf(to);
  converted->kind() = std::string(to.kind);
  return converted;
}

Result<ObjectPtr> ToStorageVersion(const KindInfo& kind, ObjectPtr object) {
  const KindInfo& storage = StorageKind(kind);
  if (&storage == &kind) return object;
  KPP_ASSIGN_OR_RETURN(ObjectPtr converted, Convert(*object, kind, storage));
  converted->SetDefaults();
  return converted;
}

Result<ObjectPtr> FromStorageVersion(const KindInfo& kind, ObjectPtr object) {
  const KindInfo& storage = StorageKind(kind);
  if (&storage == &kind) return object;
  object->SetDefaults();
  return Convert(*object, storage, kind);
}

}  // namespace kpp::api::conversion
