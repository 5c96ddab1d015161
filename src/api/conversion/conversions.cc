#include "api/conversion/conversions.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "api/autoscaling/v1/codec.h"
#include "api/autoscaling/v2/codec.h"
#include "api/conversion/autoscaling.h"

namespace kpp::api::conversion {
namespace {

// Adapts a typed conversion function to the table's signature.
template <typename From, typename To, To (*kConvert)(const From&)>
ObjectPtr Typed(const Object& object) {
  const auto* typed = dynamic_cast<const TypedObject<From>*>(&object);
  if (typed == nullptr) return nullptr;
  return std::make_unique<TypedObject<To>>(kConvert(typed->value()));
}

namespace hpa {
using V1 = autoscaling::v1::HorizontalPodAutoscaler;
using V2 = autoscaling::v2::HorizontalPodAutoscaler;
}  // namespace hpa

constexpr Registration kRegistrations[] = {
    {"HorizontalPodAutoscaler", "autoscaling/v1", "autoscaling/v2",
     &Typed<hpa::V1, hpa::V2, &ConvertToV2>},
    {"HorizontalPodAutoscaler", "autoscaling/v2", "autoscaling/v1",
     &Typed<hpa::V2, hpa::V1, &ConvertToV1>},
};

std::string GroupVersion(const KindInfo& kind) {
  return kind.group.empty() ? std::string(kind.version)
                            : fmt::format("{}/{}", kind.group, kind.version);
}

const Registration* Find(const KindInfo& from, const KindInfo& to) {
  if (from.kind != to.kind) return nullptr;
  const std::string from_version = GroupVersion(from);
  const std::string to_version = GroupVersion(to);
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
                                       GroupVersion(from), GroupVersion(to)));
    }
    converted = registration->convert(object);
    if (converted == nullptr) {
      return InternalError(
          fmt::format("the object to convert is not a {} of {}", from.kind, GroupVersion(from)));
    }
  }
  converted->api_version() = GroupVersion(to);
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
