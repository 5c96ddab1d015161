// ServiceAccount: a pod without spec.serviceAccountName runs as "default"; its service account
// must exist (upstream looks the default one up for up to about a second, since the service
// account controller creates it in new namespaces); unless automountServiceAccountToken is false
// (on the pod, else on the service account) the pod gets the projected kube-api-access-<random>
// volume (a bound token of 3607 s, the kube-root-ca.crt ConfigMap's ca.crt, the namespace) mounted
// read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container that mounts
// nothing there; and the service account's imagePullSecrets when the pod names none.
#pragma once

#include <chrono>

#include "apiserver/admission/admission.h"

namespace kpp::apiserver::admission {

inline constexpr std::string_view kServiceAccountTokenMountPath =
    "/var/run/secrets/kubernetes.io/serviceaccount";

class ServiceAccount final : public Plugin {
 public:
  // `default_lookups`: how often a missing "default" service account is looked for before the
  // pod is refused (upstream: 10, 100-200 ms apart).
  explicit ServiceAccount(int default_lookups = 10) : default_lookups_(default_lookups) {}
  std::string_view Name() const override { return "ServiceAccount"; }
  bool NeedsObject(const Attributes& attributes) const override {
    return attributes.Is("", "pods") && attributes.subresource.empty();
  }
  std::optional<Rejection> Admit(Attributes& attributes, Context& context) const override;

 private:
  int default_lookups_;
};

}  // namespace kpp::apiserver::admission
