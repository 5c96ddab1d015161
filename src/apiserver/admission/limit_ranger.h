// LimitRanger: the LimitRanges of a namespace default and bound what its pods and
// PersistentVolumeClaims ask for, as upstream's plugin. On pod creation every container without a
// request or limit for a resource gets its Container item's defaultRequest / default (recorded in
// the kubernetes.io/limit-ranger annotation); then containers (Container items), pods (Pod items:
// the containers summed, init containers at most) and claims (PersistentVolumeClaim items, their
// storage request) must respect min, max and maxLimitRequestRatio, or the write is refused (403)
// with upstream's messages.
#pragma once

#include "apiserver/admission/admission.h"

namespace kpp::apiserver::admission {

class LimitRanger final : public Plugin {
 public:
  std::string_view Name() const override { return "LimitRanger"; }
  bool NeedsObject(const Attributes& attributes) const override {
    return (attributes.Is("", "pods") || attributes.Is("", "persistentvolumeclaims")) &&
           attributes.subresource.empty();
  }
  std::optional<Rejection> Admit(Attributes& attributes, Context& context) const override;
  std::optional<Rejection> Validate(const Attributes& attributes, Context& context) const override;
};

}  // namespace kpp::apiserver::admission
