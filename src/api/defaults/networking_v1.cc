// Defaulting of network policies, as upstream's pkg/apis/networking/v1 does it. Field defaults
// named in api/networking.k8s.io/v1 (port protocol TCP, parameters scope Cluster) run first.
#include "api/networking.k8s.io/v1/codec.h"

namespace kpp::api::networking_k8s_io::v1 {

void DefaultNetworkPolicy(NetworkPolicy& obj) {
  // Every policy isolates ingress; one with egress rules isolates egress too. An egress-only
  // policy, or one that denies all egress, must say so in policyTypes.
  auto& types = obj.spec.policy_types;
  if (!types.empty()) return;
  types.push_back("Ingress");
  if (!obj.spec.egress.empty()) types.push_back("Egress");
}

}  // namespace kpp::api::networking_k8s_io::v1
