// Priority: a pod's priorityClassName resolves to its PriorityClass's value and preemption
// policy (the globalDefault class, or 0 and PreemptLowerPriority, when it names none); an unknown
// class, or a priority or preemption policy the pod sets differently, is refused (403) with
// upstream's messages; only one PriorityClass may be the global default.
#pragma once

#include "apiserver/admission/admission.h"

namespace kpp::apiserver::admission {

class Priority final : public Plugin {
 public:
  std::string_view Name() const override { return "Priority"; }
  bool NeedsObject(const Attributes& attributes) const override {
    return (attributes.Is("", "pods") && attributes.subresource.empty()) ||
           attributes.Is("scheduling.k8s.io", "priorityclasses");
  }
  std::optional<Rejection> Admit(Attributes& attributes, Context& context) const override;
  std::optional<Rejection> Validate(const Attributes& attributes, Context& context) const override;
};

// The PriorityClasses every cluster has (created at start): name, value, description.
struct SystemPriorityClass {
  std::string_view name;
  int64_t value;
  std::string_view description;
};
inline constexpr SystemPriorityClass kSystemPriorityClasses[] = {
    {"system-node-critical", 2000001000,
     "Used for system critical pods that must not be moved from their current node."},
    {"system-cluster-critical", 2000000000,
     "Used for system critical pods that must run in the cluster, but can be moved to another "
     "node if necessary."},
};

// DefaultTolerationSeconds: pods that do not tolerate the not-ready and unreachable NoExecute
// taints tolerate them for 300 s.
class DefaultTolerationSeconds final : public Plugin {
 public:
  std::string_view Name() const override { return "DefaultTolerationSeconds"; }
  bool NeedsObject(const Attributes& attributes) const override {
    return attributes.Is("", "pods") && attributes.subresource.empty();
  }
  std::optional<Rejection> Admit(Attributes& attributes, Context& context) const override;
};

// DefaultStorageClass: a new PersistentVolumeClaim without storageClassName gets the default
// StorageClass (annotated storageclass.kubernetes.io/is-default-class: "true"; the newest when
// several are).
class DefaultStorageClass final : public Plugin {
 public:
  std::string_view Name() const override { return "DefaultStorageClass"; }
  bool NeedsObject(const Attributes& attributes) const override {
    return attributes.Is("", "persistentvolumeclaims");
  }
  std::optional<Rejection> Admit(Attributes& attributes, Context& context) const override;
};

}  // namespace kpp::apiserver::admission
