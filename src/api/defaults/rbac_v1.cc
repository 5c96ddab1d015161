// Defaulting of RBAC subjects, as upstream's pkg/apis/rbac/v1 does it.
#include "api/rbac.authorization.k8s.io/v1/codec.h"

namespace kpp::api::rbac_authorization_k8s_io::v1 {

void DefaultSubject(Subject& obj) {
  // Users and groups live in the RBAC group; service accounts in the core group.
  if (obj.api_group.empty() && (obj.kind == "User" || obj.kind == "Group")) {
    obj.api_group = "rbac.authorization.k8s.io";
  }
}

}  // namespace kpp::api::rbac_authorization_k8s_io::v1
