// Defaulting of custom resource definitions, as upstream's apiextensions/v1 does it. The field
// default of a webhook service's port (443) is in api/apiextensions.k8s.io/v1.
#include <algorithm>
#include <cctype>

#include "api/apiextensions.k8s.io/v1/codec.h"

namespace kpp::api::apiextensions_k8s_io::v1 {

void DefaultCustomResourceDefinition(CustomResourceDefinition& obj) {
  CustomResourceDefinitionNames& names = obj.spec.names;
  if (names.singular.empty()) {
    names.singular = names.kind;
    std::transform(names.singular.begin(), names.singular.end(), names.singular.begin(),
                   [](unsigned char c) { return std::tolower(c); });
  }
  if (names.list_kind.empty() && !names.kind.empty()) names.list_kind = names.kind + "List";
  if (!obj.spec.conversion) obj.spec.conversion = CustomResourceConversion{.strategy = "None"};
  // A new definition has stored objects in its storage version only.
  if (obj.status.stored_versions.empty()) {
    for (const auto& version : obj.spec.versions) {
      if (version.storage) {
        obj.status.stored_versions.push_back(version.name);
        break;
      }
    }
  }
}

}  // namespace kpp::api::apiextensions_k8s_io::v1
