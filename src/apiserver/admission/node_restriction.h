// NodeRestriction: what a kubelet (user system:node:<name> in group system:nodes) may write, as
// upstream's plugin: only its own Node (without setting node-restriction.kubernetes.io/ labels or
// kubernetes.io / k8s.io labels outside the kubelet's own set, changing taints or a configSource),
// only mirror pods bound to itself and owned by its Node (referencing no service account,
// secrets, configmaps or claims), deletes, status updates and evictions of pods bound to itself,
// its own Lease in kube-node-lease and CSINode, PVC status only, and tokens only for pods bound
// to itself. Other users pass.
#pragma once

#include "apiserver/admission/admission.h"

namespace kpp::apiserver::admission {

class NodeRestriction final : public Plugin {
 public:
  std::string_view Name() const override { return "NodeRestriction"; }
  // Only requests of nodes are its business.
  bool NeedsObject(const Attributes& attributes) const override {
    return attributes.user.name.starts_with("system:node:");
  }
  std::optional<Rejection> Admit(Attributes& attributes, Context& context) const override;
};

// Whether a node may set (or change, or remove) label `key` on its Node.
bool NodeMayChangeLabel(std::string_view key);

}  // namespace kpp::apiserver::admission
