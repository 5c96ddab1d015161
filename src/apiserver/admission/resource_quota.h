// ResourceQuota admission (upstream's plugin/pkg/admission/resourcequota): a write that adds
// usage to a quota of its namespace is refused when the quota's hard limit would be exceeded,
// and otherwise charged to status.used before it is admitted. The charge is one store
// transaction over every quota it touches, conditional on their revisions and retried on a
// conflict, so writers racing for the last unit never both get it. The ResourceQuota controller
// recalculates status.used (releasing what deleted objects held).
#pragma once

#include "apiserver/admission/admission.h"
#include "apiserver/admission/prefix_cache.h"

namespace kpp::apiserver::admission {

class ResourceQuota final : public Plugin {
 public:
  std::string_view Name() const override { return "ResourceQuota"; }
  // Only writes that Validate may charge: not subresources nor cluster-scoped objects, and only
  // in a namespace with a quota.
  bool NeedsObjectGiven(const Attributes& attributes, const Reader& reader) const override;
  std::optional<Rejection> Validate(const Attributes& attributes, Context& context) const override;

 private:
  // Every quota, so writes in namespaces without one cost no store read.
  LazyPrefixCache quotas_{"/registry/core/resourcequotas/"};
};

}  // namespace kpp::apiserver::admission
