// PodSecurity: the Pod Security Standards (privileged, baseline, restricted) a namespace asks
// for with its pod-security.kubernetes.io/{enforce,warn,audit}[-version] labels, with upstream's
// checks and messages as of Kubernetes 1.32. Pods that violate the enforce level are refused;
// violations of the warn level become warnings; workload objects with pod templates (deployments,
// jobs, ...) only get warnings, as upstream. A `-version` label v1.N evaluates the checks as
// upstream's version 1.N had them (checks added later left out, older forms of changed ones);
// "latest" and versions newer than 1.32 are 1.32's checks.
//
// As upstream's, a pod (or pod template) that violates the audit level is admitted and its audit
// event gets `pod-security.kubernetes.io/audit-violations`; an evaluated pod's event names the
// enforced policy (`pod-security.kubernetes.io/enforce-policy`). The admission configuration
// file's PodSecurityConfiguration gives the levels of unlabelled namespaces and the exempt
// users, namespaces and runtime classes (`pod-security.kubernetes.io/exempt` says which).
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "apiserver/admission/admission.h"
#include "base/result.h"

namespace kpp::apiserver::admission {

enum class PodSecurityLevel { kPrivileged, kBaseline, kRestricted };

// The newest policy version this server knows (Kubernetes 1.32): "latest".
inline constexpr int kLatestPodSecurityMinor = 32;

// "reason (detail), reason (detail)" of every check of `level` at version 1.`minor` the pod
// fails, in upstream's order (baseline checks, then restricted ones, each group by check ID);
// empty when it passes.
std::string PodSecurityViolations(PodSecurityLevel level, const boost::json::object* pod_metadata,
                                  const boost::json::object* pod_spec,
                                  int minor = kLatestPodSecurityMinor);

// One mode's level and version ("latest" or "v1.N").
struct PodSecurityLevelVersion {
  PodSecurityLevel level = PodSecurityLevel::kPrivileged;
  std::string version = "latest";
};

// Upstream's PodSecurityConfiguration (pod-security.admission.config.k8s.io/v1).
struct PodSecurityConfig {
  PodSecurityLevelVersion enforce, audit, warn;  // of namespaces without labels
  std::vector<std::string> exempt_usernames;
  std::vector<std::string> exempt_runtime_classes;
  std::vector<std::string> exempt_namespaces;
};

// A PodSecurityConfiguration object (v1, v1beta1 or v1alpha1), validated as upstream; the error
// names the field ("defaults.enforce: Invalid value: ...").
Result<PodSecurityConfig> ParsePodSecurityConfig(const boost::json::value& configuration);

class PodSecurity final : public Plugin {
 public:
  explicit PodSecurity(PodSecurityConfig config = {}) : config_(std::move(config)) {}
  std::string_view Name() const override { return "PodSecurity"; }
  // Pods, namespaces and the workload kinds with pod templates.
  bool NeedsObject(const Attributes& attributes) const override;
  std::optional<Rejection> Validate(const Attributes& attributes, Context& context) const override;

 private:
  PodSecurityConfig config_;
};

}  // namespace kpp::apiserver::admission
