// NamespaceLifecycle: no new objects in a namespace that does not exist (404) or is being
// terminated (403 with a NamespaceTerminating cause), and the namespaces every cluster needs
// (default, kube-system, kube-public) may not be deleted, as upstream's plugin.
#pragma once

#include "apiserver/admission/admission.h"

namespace kpp::apiserver::admission {

class NamespaceLifecycle final : public Plugin {
 public:
  std::string_view Name() const override { return "NamespaceLifecycle"; }
  bool NeedsObject(const Attributes&) const override { return false; }
  std::optional<Rejection> Admit(Attributes& attributes, Context& context) const override;
};

}  // namespace kpp::apiserver::admission
