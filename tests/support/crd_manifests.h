// CustomResourceDefinition manifests for e2e tests that need a custom kind and nothing special
// about its schema.
#pragma once

#include <string>

namespace kpp::testing {

struct CrdOptions {
  bool status = false;              // the status subresource
  bool scale = false;               // the scale subresource on .spec.replicas / .status.replicas
  std::string label_selector_path;  // the scale's labelSelectorPath, e.g. ".status.selector"
};

// A namespaced CRD `<plural>.<group>` of `kind` (singular: the kind in lower case) with one
// version, v1, served and stored, whose objects keep whatever fields they are given.
inline std::string CrdYaml(const std::string& group, const std::string& plural,
                           const std::string& kind, const CrdOptions& options = {}) {
  std::string singular = kind;
  for (char& c : singular)
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  std::string yaml = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n";
  yaml += "metadata:\n  name: " + plural + "." + group + "\n";
  yaml += "spec:\n  group: " + group + "\n  scope: Namespaced\n";
  yaml += "  names: {plural: " + plural + ", singular: " + singular + ", kind: " + kind + "}\n";
  yaml += "  versions:\n  - name: v1\n    served: true\n    storage: true\n";
  yaml +=
      "    schema:\n      openAPIV3Schema: {type: object, "
      "x-kubernetes-preserve-unknown-fields: true}\n";
  if (options.status || options.scale) yaml += "    subresources:\n";
  if (options.status) yaml += "      status: {}\n";
  if (options.scale) {
    yaml +=
        "      scale:\n        specReplicasPath: .spec.replicas\n"
        "        statusReplicasPath: .status.replicas\n";
    if (!options.label_selector_path.empty()) {
      yaml += "        labelSelectorPath: " + options.label_selector_path + "\n";
    }
  }
  return yaml;
}

}  // namespace kpp::testing
