#include "apiserver/admission/namespace_lifecycle.h"

#include <fmt/format.h>

#include "apiserver/admission/json_access.h"

namespace kpp::apiserver::admission {

std::optional<Rejection> NamespaceLifecycle::Admit(Attributes& attributes, Context& context) const {
  if (attributes.operation == Operation::kDelete && attributes.Is("", "namespaces") &&
      attributes.subresource.empty() &&
      (attributes.name == "default" || attributes.name == "kube-system" ||
       attributes.name == "kube-public")) {
    return Forbidden(attributes, attributes.name, "this namespace may not be deleted");
  }
  if (attributes.operation != Operation::kCreate || attributes.namespace_.empty() ||
      attributes.Is("", "namespaces")) {
    return std::nullopt;
  }
  // Access reviews only ask a question; upstream lets them through.
  if (attributes.Is("authorization.k8s.io", "localsubjectaccessreviews")) return std::nullopt;
  auto namespace_ = context.reader.Get("", "namespaces", "", attributes.namespace_);
  if (!namespace_.ok()) return Rejection{namespace_.error(), {}};
  if (!namespace_->has_value()) return NotFound("", "namespaces", attributes.namespace_);
  const auto* metadata = json::Object(&**namespace_, "metadata");
  const bool terminating =
      json::Has(metadata, "deletionTimestamp") ||
      json::String(json::Object(&**namespace_, "status"), "phase") == "Terminating";
  if (!terminating) return std::nullopt;
  Rejection rejection = AdmissionForbidden(
      attributes, fmt::format("unable to create new content in namespace {} because it is being "
                              "terminated",
                              attributes.namespace_));
  rejection.error = Error(rejection.error.code(), rejection.error.message(),
                          {{"NamespaceTerminating",
                            fmt::format("namespace {} is being terminated", attributes.namespace_),
                            "metadata.namespace"}});
  return rejection;
}

}  // namespace kpp::apiserver::admission
